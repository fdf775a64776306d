//! `hostile` (`web/scenarios/hostile.js`): popups, navigating away, data:/blob: frames,
//! wry's IPC entry points hooked, the transport flooded. The page posts to the probe (a
//! sentinel every run has) from frames it injects.

use super::app;
use crate::{DEFAULTS, Scenario};

pub const HOSTILE: Scenario = Scenario {
    name: "hostile",
    audit_codes: &["E_UNSEALED"],
    min_checks: 7,
    routes: &[app::echo],
    ..DEFAULTS
};
