//! `removed` (`web/scenarios/removed.js`): a page script removes the isolation frame; the
//! call in flight and every later one fail at once with `E_ISOLATION_UNAVAILABLE`.

use super::app;
use crate::{DEFAULTS, Scenario};

pub const REMOVED: Scenario = Scenario {
    name: "removed",
    min_checks: 8,
    routes: &[app::echo, app::slow, app::ping],
    ..DEFAULTS
};
