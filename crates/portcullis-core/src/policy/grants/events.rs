//! The audit of grant changes: every change is one event, to `tracing` (INFO, target
//! `portcullis::audit`) and to the app's grant sink.
//!
//! The invariant: an event is reported only for a change that was made, after the
//! snapshot with it is published and the tokens it ended are gone, in the order the
//! changes were made (`writer.rs` reports them under the writers' lock).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::snapshot::Added;
use crate::policy::capability::CompiledCapability;

/// What changed, for the audit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GrantChange {
    /// A capability was granted to a window.
    Granted,
    /// A capability's grant was revoked from a window.
    Revoked,
    /// A path was added to one window's scope.
    PathAllowed,
    /// An added path was forgotten.
    PathForgotten,
    /// The window closed: every grant and added path of it ended.
    WindowForgotten,
}

/// One change of the grants, as the app's grant sink receives it.
#[derive(Clone, Debug, Serialize)]
pub struct GrantEvent<'a> {
    /// What changed.
    pub change: GrantChange,
    /// The webview label.
    pub webview: &'a str,
    /// The capability (`None` for [`GrantChange::WindowForgotten`]).
    pub capability: Option<&'a str>,
    /// The scope, for path changes.
    pub scope: Option<&'a str>,
    /// The path as it was added (symlinks resolved), for path changes.
    pub path: Option<&'a Path>,
}

/// The app's sink for grant changes.
pub type GrantSink = Arc<dyn Fn(&GrantEvent<'_>) + Send + Sync>;

/// An event being built, owned (the snapshot copy is borrowed while it is made).
pub(super) struct Event {
    change: GrantChange,
    webview: String,
    capability: Option<String>,
    scope: Option<String>,
    path: Option<PathBuf>,
}

impl Event {
    /// A change of `capability`'s grant for `webview`.
    pub(super) fn grant(change: GrantChange, webview: &str, capability: &str) -> Event {
        Event {
            change,
            webview: webview.to_owned(),
            capability: Some(capability.to_owned()),
            scope: None,
            path: None,
        }
    }

    /// A change of one added path.
    pub(super) fn path(
        change: GrantChange,
        webview: &str,
        caps: &[CompiledCapability],
        a: &Added,
    ) -> Event {
        let cap = &caps[a.cap];
        Event {
            change,
            webview: webview.to_owned(),
            capability: Some(cap.identifier.to_string()),
            scope: Some(cap.scope_names[a.scope].clone()),
            path: Some(a.resolved.clone()),
        }
    }

    /// Window `webview` was forgotten whole.
    pub(super) fn window(webview: &str) -> Event {
        Event {
            change: GrantChange::WindowForgotten,
            webview: webview.to_owned(),
            capability: None,
            scope: None,
            path: None,
        }
    }

    /// Reports the change to `tracing` and to the app's sink.
    pub(super) fn report(&self, sink: Option<&GrantSink>) {
        let event = GrantEvent {
            change: self.change,
            webview: &self.webview,
            capability: self.capability.as_deref(),
            scope: self.scope.as_deref(),
            path: self.path.as_deref(),
        };
        tracing::info!(
            target: "portcullis::audit",
            change = ?event.change,
            webview = %crate::audit::escape(event.webview),
            capability = event.capability,
            scope = event.scope,
            path = event.path.map(|p| p.display().to_string()),
            "grants changed"
        );
        if let Some(sink) = sink {
            sink(&event);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::error::ErrorCode;
    use crate::policy::grants::snapshot::Reach;
    use crate::policy::grants::tokens::Held;

    /// What the sink got, as JSON (the form an app's sink usually logs).
    fn reported(events: &[Event]) -> Vec<serde_json::Value> {
        let got = Arc::new(Mutex::new(Vec::new()));
        let sink: GrantSink = {
            let got = Arc::clone(&got);
            Arc::new(move |e: &GrantEvent<'_>| {
                got.lock().unwrap().push(serde_json::to_value(e).unwrap())
            })
        };
        for e in events {
            e.report(Some(&sink));
            // No sink: tracing only.
            e.report(None);
        }
        got.lock().unwrap().clone()
    }

    #[test]
    fn each_event_reaches_the_sink_as_it_was_made() {
        let caps = super::super::fixture::caps();
        let added = Added {
            cap: 1,
            scope: 0,
            lexical: "/home/u/link".into(),
            resolved: "/home/u/real".into(),
            reach: Reach::File,
            held: Held::new(ErrorCode::OutOfScope, Arc::from("export")),
        };
        let got = reported(&[
            Event::grant(GrantChange::Granted, "main", "export"),
            Event::path(GrantChange::PathAllowed, "main", &caps, &added),
            Event::window("main"),
        ]);
        assert_eq!(
            got,
            [
                serde_json::json!({"change": "granted", "webview": "main",
                    "capability": "export", "scope": null, "path": null}),
                serde_json::json!({"change": "path-allowed", "webview": "main",
                    "capability": "export", "scope": "files", "path": "/home/u/real"}),
                serde_json::json!({"change": "window-forgotten", "webview": "main",
                    "capability": null, "scope": null, "path": null}),
            ]
        );
    }
}
