//! `midflight` (`web/scenarios/midflight.js`): the isolation frame and the page reloaded
//! with calls in flight.

use super::app;
use crate::{DEFAULTS, Scenario};

pub const MIDFLIGHT: Scenario = Scenario {
    name: "midflight",
    min_checks: 3,
    routes: &[app::echo, app::slow],
    ..DEFAULTS
};
