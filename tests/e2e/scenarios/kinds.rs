//! The `kinds_*` scenarios (`web/scenarios/kinds_*.js`, sharing `kinds-checks.js`):
//! hooks of every style against stream opens (issue 30): a hook is shown only the kinds
//! it declares. One config (which allows the canary stream, a sentinel every run has)
//! behind one hook each.

use super::{app, streams};
use crate::{DEFAULTS, KINDS_CONFIG, Scenario};

/// What every kinds page calls.
const KINDS: Scenario = Scenario {
    config: KINDS_CONFIG,
    routes: &[app::echo, app::ping, streams::collecting],
    ..DEFAULTS
};

pub const LEGACY: Scenario = Scenario {
    name: "kinds_legacy",
    isolation: Some("legacy"),
    min_checks: 9,
    audit_names: &[
        ("E_HOOK_REJECTED", "stream.collect"),
        ("E_HOOK_REJECTED", "secret.stream"),
    ],
    ..KINDS
};

pub const DECLARED: Scenario = Scenario {
    name: "kinds_declared",
    isolation: Some("declared"),
    min_checks: 8,
    audit_names: &[
        ("E_HOOK_REJECTED", "secret.stream"),
        ("E_HOOK_REJECTED", "stream.false"),
    ],
    ..KINDS
};

pub const HELPERS_STREAMS: Scenario = Scenario {
    name: "kinds_helpers_streams",
    isolation: Some("helpers_streams"),
    min_checks: 6,
    audit_names: &[
        ("E_HOOK_REJECTED", "secret.stream"),
        ("E_HOOK_REJECTED", "ping"),
    ],
    ..KINDS
};

pub const TAURI_STREAMS: Scenario = Scenario {
    name: "kinds_tauri_streams",
    isolation: Some("tauri_streams"),
    min_checks: 5,
    audit_names: &[
        ("E_HOOK_REJECTED", "secret.stream"),
        ("E_HOOK_REJECTED", "ping"),
    ],
    ..KINDS
};

// A `kinds` declaration that is not an array of kind names: the hook does not load, and
// every call is refused (reported through the title, as no call reaches the core).
pub const MALFORMED: Scenario = Scenario {
    name: "kinds_malformed",
    isolation: Some("malformed"),
    url: Some("app://localhost/hookfail.html?why=kinds"),
    audit_names: &[
        ("E_HOOK_REJECTED", "echo"),
        ("E_HOOK_REJECTED", "stream.collect"),
    ],
    min_checks: 6,
    ..KINDS
};
