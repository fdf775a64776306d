//! The capabilities the grants' unit tests run against (test builds only): compiled
//! here by hand, so the tests need nothing of the policy beyond what grants import.

use std::sync::Arc;

use crate::FastMap;
use crate::config::{ConfigErrors, Scope};
use crate::policy::capability::{CompiledCapability, CompiledRules};
use crate::policy::globs::globs;
use crate::scope::{CompiledScope, ScopeVars};

/// `base` (always applies, every window, scope `docs`), `export` (run-time, windows
/// `main` and `note-*`, scope `files`) and `admin` (run-time, window `main`, no scope).
/// Every scope denies `/denied/**`.
pub(super) fn caps() -> Arc<[CompiledCapability]> {
    vec![
        cap("base", false, &["*"], &["docs"]),
        cap("export", true, &["main", "note-*"], &["files"]),
        cap("admin", true, &["main"], &[]),
    ]
    .into()
}

fn cap(identifier: &str, runtime: bool, windows: &[&str], scopes: &[&str]) -> CompiledCapability {
    let mut errors = ConfigErrors(Vec::new());
    let windows: Vec<String> = windows.iter().map(|w| w.to_string()).collect();
    let mut rules = || CompiledRules {
        allow: FastMap::default(),
        deny: globs(&[], "deny", &mut errors),
    };
    let scope = Scope {
        allow: Vec::new(),
        deny: vec!["/denied/**".into()],
    };
    CompiledCapability {
        identifier: Arc::from(identifier),
        runtime,
        commands: rules(),
        events: rules(),
        streams: rules(),
        windows: globs(&windows, "windows", &mut errors),
        origins: Vec::new(),
        scopes: scopes
            .iter()
            .map(|_| CompiledScope::compile(&scope, &ScopeVars::new()).unwrap())
            .collect(),
        scope_names: scopes.iter().map(|s| s.to_string()).collect(),
    }
}
