//! Globs over window labels and command/event names. Neither is a path, so `*` matches
//! `/` too: a deny of `fs*` must cover `fs/read` as well as `fs.read`.

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::config::{ConfigErrorKind, ConfigErrors};

/// A compiled list of globs. globset's matching first builds a path-normalised candidate
/// from the text, which was the larger part of checking a message's window label and
/// name; so the common patterns skip it: `*` matches every text, and a pattern without
/// glob syntax matches only itself (a string comparison).
pub(crate) struct Globs {
    set: GlobSet,
    literals: Vec<String>,
    any: bool,
}

impl Globs {
    pub(crate) fn is_match(&self, text: &str) -> bool {
        self.any
            || self.literals.iter().any(|l| l == text)
            || (!self.set.is_empty() && self.set.is_match(text))
    }
}

pub(super) fn globs(patterns: &[String], at: &str, errors: &mut ConfigErrors) -> Globs {
    let mut set = GlobSetBuilder::new();
    let mut literals = Vec::new();
    for (j, p) in patterns.iter().enumerate() {
        if !p.is_empty() && !p.contains(['*', '?', '[', ']', '{', '}', '\\']) {
            literals.push(p.clone());
            continue;
        }
        match GlobBuilder::new(p).literal_separator(false).build() {
            Ok(g) => {
                set.add(g);
            }
            Err(e) => errors.push(
                format!("{at}[{j}]"),
                ConfigErrorKind::Glob,
                format!("invalid glob: {e}"),
            ),
        }
    }
    let set = set.build().unwrap_or_else(|e| {
        errors.push(at, ConfigErrorKind::Glob, e.to_string());
        GlobSet::empty()
    });
    Globs {
        set,
        literals,
        any: patterns.iter().any(|p| p == "*"),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use crate::error::ErrorCode;
    use crate::policy::tests::{caller, cmd, code, policy};

    #[test]
    fn capabilities_for_a_window_match_like_requests() {
        let p = policy(json!([{
            "identifier": "viewers", "windows": ["viewer-[0-9]"], "origins": ["app://localhost"]
        }, {
            "identifier": "any", "windows": ["*"], "origins": ["app://localhost"]
        }]));
        assert_eq!(p.capabilities_for_window("viewer-1"), ["viewers", "any"]);
        assert_eq!(p.capabilities_for_window("viewer-10"), ["any"]);
    }

    #[test]
    fn literal_and_star_patterns_match_like_globs() {
        // Literal patterns and `*` skip globset; they must match exactly what the glob
        // would: a literal only itself (no prefix, no case folding), `*` everything.
        let p = policy(json!([{
            "identifier": "c", "windows": ["main", "w?n"], "origins": ["app://localhost"],
            "commands": {"allow": ["ok", "admin.x"], "deny": ["admin.x"]}
        }, {
            "identifier": "any", "windows": ["*"], "origins": ["app://other"],
            "commands": {"allow": ["ok"]}
        }]));
        let ok = |label: &str, origin: &str, name: &str| {
            p.admit_for_tests(caller(label, origin), cmd(name, json!({})))
                .is_ok()
        };
        assert!(ok("main", "app://localhost", "ok"));
        assert!(ok("win", "app://localhost", "ok"));
        for label in ["mai", "main2", "Main", "xmain", "main/"] {
            assert_eq!(
                code(&p, caller(label, "app://localhost"), cmd("ok", json!({}))),
                ErrorCode::NotAllowed,
                "{label}"
            );
        }
        // A literal name in a deny list denies only itself.
        assert_eq!(
            code(
                &p,
                caller("main", "app://localhost"),
                cmd("admin.xy", json!({}))
            ),
            ErrorCode::NotAllowed
        );
        assert_eq!(
            code(
                &p,
                caller("main", "app://localhost"),
                cmd("admin.x", json!({}))
            ),
            ErrorCode::Denied
        );
        for label in ["main", "a/b", "x-y.z", "anything"] {
            assert!(ok(label, "app://other", "ok"), "{label}");
        }
    }
}
