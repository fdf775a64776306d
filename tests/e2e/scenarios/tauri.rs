//! `tauri` (`web/scenarios/tauri.js`): a hook written for Tauri
//! (`tests/e2e/tauri/isolation/hook.js`); what it returns is what is sealed. The commands
//! it refuses by renaming them are sentinels every run has.

use super::{app, streams};
use crate::{DEFAULTS, Scenario};

pub const TAURI: Scenario = Scenario {
    name: "tauri",
    config: "tauri/portcullis.json",
    min_checks: 11,
    audit_names: &[
        ("E_NOT_ALLOWED", "tauri.refused"),
        ("E_HOOK_REJECTED", "tauri.throw"),
        ("E_HOOK_REJECTED", "tauri.false"),
    ],
    routes: &[app::echo, streams::collecting],
    ..DEFAULTS
};
