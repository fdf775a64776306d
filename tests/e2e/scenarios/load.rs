//! `load` (`web/scenarios/load.js`): many pipelined calls, failing hooks and panicking
//! handlers among them; none lost or duplicated.

use super::app;
use crate::{DEFAULTS, Scenario};

pub const LOAD: Scenario = Scenario {
    name: "load",
    min_checks: 3,
    routes: &[app::echo, app::failing],
    ..DEFAULTS
};
