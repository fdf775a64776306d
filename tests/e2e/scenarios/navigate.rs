//! `navigate` (`web/scenarios/navigate.js`): the main frame sends the isolation frame
//! elsewhere; every later call fails with `E_ISOLATION_UNAVAILABLE`.

use super::app;
use crate::{DEFAULTS, Scenario};

pub const NAVIGATE: Scenario = Scenario {
    name: "navigate",
    min_checks: 3,
    routes: &[app::echo],
    ..DEFAULTS
};
