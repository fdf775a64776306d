//! `reload` (`web/scenarios/reload.js`): a reload starts a new session; the old page
//! load's messages are dead.

use super::app;
use crate::{DEFAULTS, Scenario};

pub const RELOAD: Scenario = Scenario {
    name: "reload",
    reloads: 1,
    audit_codes: &["E_SESSION_REVOKED"],
    min_checks: 3,
    routes: &[app::echo],
    ..DEFAULTS
};
