//! Run-time grants under test: the grants and revokes a run made (at its start, per
//! `--grants`, and when an attack asked with `ctx.grant` / `ctx.revoke`), and the rule
//! the audit judges with them, on the Rust side:
//!
//! **A call that only a run-time capability allows must not start while that capability
//! is not granted to its window.** The core promises that after a revoke returns nothing
//! it revoked starts, and that nothing ungranted is admitted. So a recorded call whose
//! handler started after every grant change of its capabilities had ended, with the last
//! one a revoke (or with none at all: never granted), is a breach. A call that started
//! while a change was in progress could have been admitted either way and is not judged.
//!
//! The residual window: the core's last look at a grant comes just before a handler is
//! called, and the recording handler notes its start as its first act. A revoke that
//! both began and returned between those two instants would be reported as a breach (a
//! false alarm, never a missed breach); it needs the handler's thread to be held up for
//! the whole of a revoke right there.

use std::sync::Mutex;
use std::time::Instant;

use portcullis_core::router::RESERVED_PREFIX;
use portcullis_core::{Config, GrantError, Grants, Origin};

use super::CANARY;
use super::expect::{Admitted, Kind};
use super::generate::glob_matches;

/// One grant change that took effect.
#[derive(Clone, Debug)]
struct Change {
    webview: String,
    capability: String,
    granted: bool,
    /// When the call to the core began, and when it returned.
    began: Instant,
    ended: Instant,
}

/// The grant changes of one run, in the order they were made.
#[derive(Default)]
pub struct GrantLog(Mutex<Vec<Change>>);

/// Whether a change grants or revokes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// `Grants::grant`.
    Grant,
    /// `Grants::revoke`.
    Revoke,
}

impl GrantLog {
    /// Grants or revokes `capability` for `webview` through `grants`, and logs it; the
    /// core's refusal (not a run-time capability, a window it does not name, ...) is
    /// returned and changes nothing.
    pub fn change(
        &self,
        grants: &Grants,
        webview: &str,
        capability: &str,
        op: Op,
    ) -> Result<(), GrantError> {
        let began = Instant::now();
        let result = match op {
            Op::Grant => grants.grant(webview, capability),
            Op::Revoke => grants.revoke(webview, capability).map(|_| ()),
        };
        let ended = Instant::now();
        result?;
        if let Ok(mut log) = self.0.lock() {
            log.push(Change {
                webview: webview.to_owned(),
                capability: capability.to_owned(),
                granted: op == Op::Grant,
                began,
                ended,
            });
        }
        Ok(())
    }

    /// Whether `capability` may have been granted to `webview` at `at`: a change was in
    /// progress then, or the last one that had ended was a grant.
    fn may_hold(&self, webview: &str, capability: &str, at: Instant) -> bool {
        let Ok(log) = self.0.lock() else {
            // Nothing known: not judged.
            return true;
        };
        let mine = log
            .iter()
            .filter(|c| c.webview == webview && c.capability == capability);
        let mut last: Option<&Change> = None;
        for change in mine {
            if change.began <= at && at <= change.ended {
                return true;
            }
            if change.ended < at && last.is_none_or(|l| l.ended <= change.ended) {
                last = Some(change);
            }
        }
        last.is_some_and(|c| c.granted)
    }

    /// The recorded calls that started while nothing allowed them: each allowed to its
    /// window only by run-time capabilities, none of which may have been granted then.
    pub fn breaches(&self, config: &Config, calls: &[Admitted], started: Instant) -> Vec<String> {
        let mut found = Vec::new();
        for call in calls {
            if call.name == CANARY || call.name.starts_with(RESERVED_PREFIX) {
                continue;
            }
            let allowing: Vec<_> = config
                .app
                .security
                .capabilities
                .iter()
                .filter(|c| c.windows.iter().any(|w| glob_matches(w, &call.webview)))
                // Only a capability for the call's page origin allows it (as in the
                // gate): a static one for another origin must not hide a breach.
                .filter(|c| {
                    call.origin.as_ref().is_none_or(|origin| {
                        c.origins
                            .iter()
                            .any(|o| Origin::parse(o).is_ok_and(|o| &o == origin))
                    })
                })
                .filter(|c| {
                    let rules = match call.kind {
                        Kind::Event => &c.events,
                        Kind::Stream => &c.streams,
                        _ => &c.commands,
                    };
                    rules.allow.iter().any(|r| r.name == call.name)
                })
                .collect();
            if allowing.is_empty() || allowing.iter().any(|c| !c.runtime_grant) {
                continue;
            }
            if allowing
                .iter()
                .any(|c| self.may_hold(&call.webview, &c.identifier, call.at))
            {
                continue;
            }
            let names: Vec<&str> = allowing.iter().map(|c| c.identifier.as_str()).collect();
            found.push(format!(
                "{} {:?} started in window {:?} at +{} ms while its run-time capabilities {names:?} were not granted to it",
                call.kind.as_str(),
                call.name,
                call.webview,
                call.at.saturating_duration_since(started).as_millis()
            ));
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn config() -> Config {
        let text = serde_json::json!({"app": {"security": {
        "pattern": {"use": "brownfield"},
        "capabilities": [
            {"identifier": "export", "runtimeGrant": true, "windows": ["main"],
             "origins": ["app://localhost"], "commands": {"allow": ["notes.export", "notes.list"]}},
            {"identifier": "base", "windows": ["main"], "origins": ["app://localhost"],
             "commands": {"allow": ["notes.list"]}}
        ]}}});
        Config::from_json(&text.to_string()).unwrap()
    }

    fn call(name: &str, at: Instant) -> Admitted {
        Admitted {
            kind: Kind::Command,
            name: name.into(),
            args: None,
            webview: "main".into(),
            origin: None,
            at,
            bytes: None,
            channels: 0,
        }
    }

    fn log(changes: &[(bool, Instant, Instant)]) -> GrantLog {
        let log = GrantLog::default();
        for &(granted, began, ended) in changes {
            log.0.lock().unwrap().push(Change {
                webview: "main".into(),
                capability: "export".into(),
                granted,
                began,
                ended,
            });
        }
        log
    }

    #[test]
    fn each_edge_of_a_revoke() {
        let t0 = Instant::now();
        let at = |ms| t0 + Duration::from_millis(ms);
        // Granted 0-1, revoked 10-12, granted again 20-21.
        let log = log(&[
            (true, at(0), at(1)),
            (false, at(10), at(12)),
            (true, at(20), at(21)),
        ]);
        let c = config();
        let judged = |ms| log.breaches(&c, &[call("notes.export", at(ms))], t0).len();
        assert_eq!(judged(5), 0, "granted");
        assert_eq!(judged(10), 0, "the revoke began: either way");
        assert_eq!(judged(12), 0, "the revoke returning: either way");
        assert_eq!(judged(13), 1, "after the revoke returned");
        assert_eq!(judged(20), 0, "granted again: either way");
        assert_eq!(judged(22), 0, "granted again");
    }

    #[test]
    fn never_granted_is_a_breach_and_a_static_capability_is_never_one() {
        let t0 = Instant::now();
        let empty = GrantLog::default();
        let c = config();
        assert_eq!(empty.breaches(&c, &[call("notes.export", t0)], t0).len(), 1);
        // notes.list is also allowed by a static capability.
        assert!(empty.breaches(&c, &[call("notes.list", t0)], t0).is_empty());
        // The canary and names the config does not allow here are not this rule's.
        assert!(
            empty
                .breaches(&c, &[call(CANARY, t0), call("other", t0)], t0)
                .is_empty()
        );
        let mut elsewhere = call("notes.export", t0);
        elsewhere.webview = "settings".into();
        assert!(empty.breaches(&c, &[elsewhere], t0).is_empty());
        // A static capability for another origin does not allow the call, so it hides
        // no breach; the twin from the origin it names is allowed.
        let other_origin = Config::from_json(
            &serde_json::json!({"app": {"security": {
            "pattern": {"use": "brownfield"},
            "capabilities": [
                {"identifier": "export", "runtimeGrant": true, "windows": ["main"],
                 "origins": ["app://localhost"], "commands": {"allow": ["notes.export"]}},
                {"identifier": "dev", "windows": ["main"], "origins": ["http://localhost:5173"],
                 "commands": {"allow": ["notes.export"]}}
            ]}}})
            .to_string(),
        )
        .unwrap();
        let from = |origin: &str| Admitted {
            origin: Some(Origin::parse(origin).unwrap()),
            ..call("notes.export", t0)
        };
        assert_eq!(
            empty
                .breaches(&other_origin, &[from("app://localhost")], t0)
                .len(),
            1
        );
        assert!(
            empty
                .breaches(&other_origin, &[from("http://localhost:5173")], t0)
                .is_empty()
        );
    }
}
