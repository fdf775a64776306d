//! `attacks` (`web/scenarios/attacks.js`): attacks from a compromised main frame, each
//! failing with its code; from the frontend directory and from a dev server. The page
//! calls the canary and the probe (the sentinels every run has) and plain commands.

use super::app;
use crate::{DEFAULTS, Scenario, Source};

pub const ATTACKS: Scenario = Scenario {
    name: "attacks",
    audit_codes: &["E_TAMPERED", "E_UNKNOWN_SESSION", "E_REPLAY", "E_UNSEALED"],
    ipc_codes: &["E_REPLAY", "E_UNSEALED"],
    min_checks: 17,
    routes: &[app::echo, app::slow],
    ..DEFAULTS
};

// The refusals again, with the pages from a dev server.
pub const DEV_SERVER: Scenario = Scenario {
    name: "attacks_dev_server",
    module: Some("attacks"),
    frontend: Source::DevServer,
    ..ATTACKS
};
