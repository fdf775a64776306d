//! `windows` (`web/scenarios/windows.js`): two webviews, each with its own session; a
//! message sealed in one is refused from the other.

use super::app;
use crate::{DEFAULTS, Scenario};

pub const WINDOWS: Scenario = Scenario {
    name: "windows",
    windows: &["main", "second"],
    audit_codes: &["E_WRONG_WEBVIEW"],
    min_checks: 1,
    routes: &[app::echo],
    ..DEFAULTS
};
