//! `hookfail` (`web/hookfail.html`, no page module): a hook that fails to load; every call
//! is refused, and the page reports through its title, as no call reaches the core.

use super::{app, streams};
use crate::{DEFAULTS, Scenario};

pub const HOOKFAIL: Scenario = Scenario {
    name: "hookfail",
    config: "hookfail/portcullis.json",
    url: Some("app://localhost/hookfail.html"),
    audit_names: &[
        ("E_HOOK_REJECTED", "echo"),
        ("E_HOOK_REJECTED", "secret.read"),
    ],
    min_checks: 5,
    // What the page tries (all refused before the core).
    routes: &[app::echo, app::ping, streams::collecting],
    ..DEFAULTS
};
