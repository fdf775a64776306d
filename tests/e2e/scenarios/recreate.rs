//! `recreate` (`web/scenarios/recreate.js`): the isolation frame re-created without its
//! sandbox, as a signing oracle; it gets no key. The page calls the canary (a sentinel
//! every run has) and `echo`.

use super::app;
use crate::{DEFAULTS, Scenario};

pub const RECREATE: Scenario = Scenario {
    name: "recreate",
    min_checks: 4,
    routes: &[app::echo],
    ..DEFAULTS
};
