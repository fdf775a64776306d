//! The user's own expectations: calls that must never be admitted, declared in a file
//! beside the attacks (`expectations.json`, or `--expect FILE`), judged on the Rust side.
//!
//! ```json
//! { "never": [
//!   { "command": "notes.export",
//!     "args": { "type": "object", "required": ["path"],
//!               "properties": { "path": { "type": "string", "pattern": "\\.\\." } } },
//!     "why": "no path with .. may reach the export handler" } ] }
//! ```
//!
//! `command` (or `event`, or `stream`) is a glob over names (`*` matches any run of
//! characters, `.` included); `args` is a JSON Schema the call's arguments (a stream's
//! metadata) must match for the expectation to apply (left out: any arguments). During
//! each run the audit records every call the gate admitted (it registers a recording
//! handler for every command, event and stream the allowlist allows); an admitted call
//! that matches an expectation is a breach.

use std::path::Path;

use globset::{GlobBuilder, GlobMatcher};
use serde::Deserialize;
use serde_json::Value;

/// The file, as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(rename = "$schema", default)]
    _schema: Option<String>,
    never: Vec<Entry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    command: Option<String>,
    event: Option<String>,
    stream: Option<String>,
    args: Option<Value>,
    why: String,
}

pub use portcullis_core::Kind;

/// One call the gate admitted during a run, as its recording handler saw it.
#[derive(Clone, Debug)]
pub struct Admitted {
    /// Command, event or stream open.
    pub kind: Kind,
    /// Its name.
    pub name: String,
    /// Its JSON arguments, or a stream's metadata (`None` for a bytes call).
    pub args: Option<Value>,
    /// The webview label it came from.
    pub webview: String,
    /// The page origin it came from.
    pub origin: Option<portcullis_core::Origin>,
    /// When its handler (or listener) started.
    pub at: std::time::Instant,
    /// For a stream: the bytes its handler took so far.
    pub bytes: Option<u64>,
    /// For a command: how many channels its arguments carried that it took.
    pub channels: usize,
}

struct Expectation {
    kind: Kind,
    glob: GlobMatcher,
    pattern: String,
    args: Option<jsonschema::Validator>,
    why: String,
}

/// The compiled expectations.
#[derive(Default)]
pub struct Expectations(Vec<Expectation>);

impl Expectations {
    /// Reads and compiles `path`; every problem is an error naming the entry.
    pub fn load(path: &Path) -> Result<Expectations, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let file: File =
            serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut out = Vec::new();
        for (i, entry) in file.never.into_iter().enumerate() {
            let at = format!("{}: never[{i}]", path.display());
            let (kind, pattern) = match (entry.command, entry.event, entry.stream) {
                (Some(c), None, None) => (Kind::Command, c),
                (None, Some(e), None) => (Kind::Event, e),
                (None, None, Some(s)) => (Kind::Stream, s),
                _ => {
                    return Err(format!(
                        "{at}: give exactly one of \"command\", \"event\" and \"stream\""
                    ));
                }
            };
            let glob = GlobBuilder::new(&pattern)
                .literal_separator(false)
                .build()
                .map_err(|e| format!("{at}.{}: {e}", kind.as_str()))?
                .compile_matcher();
            let args = entry
                .args
                .map(|schema| {
                    jsonschema::validator_for(&schema)
                        .map_err(|e| format!("{at}.args: not a valid JSON Schema: {e}"))
                })
                .transpose()?;
            if entry.why.trim().is_empty() {
                return Err(format!("{at}.why: say why it must never be admitted"));
            }
            out.push(Expectation {
                kind,
                glob,
                pattern,
                args,
                why: entry.why,
            });
        }
        Ok(Expectations(out))
    }

    /// The expectations file of an attacks directory, if it has one.
    pub fn beside(dir: &Path) -> Option<std::path::PathBuf> {
        let path = dir.join("expectations.json");
        path.is_file().then_some(path)
    }

    /// How many expectations there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The admitted calls that match an expectation, each as a sentence for the report.
    pub fn violations(&self, admitted: &[Admitted]) -> Vec<String> {
        let mut found = Vec::new();
        for call in admitted {
            for e in &self.0 {
                let args_match = match (&e.args, &call.args) {
                    (None, _) => true,
                    (Some(schema), Some(args)) => schema.is_valid(args),
                    // A schema speaks of JSON arguments; a bytes call never matches one.
                    (Some(_), None) => false,
                };
                if e.kind == call.kind && e.glob.is_match(&call.name) && args_match {
                    found.push(format!(
                        "{} {:?} was admitted although it matches the expectation for {:?}: {}",
                        call.kind.as_str(),
                        call.name,
                        e.pattern,
                        e.why
                    ));
                }
            }
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn write(name: &str, value: Value) -> std::path::PathBuf {
        let path =
            std::env::temp_dir().join(format!("pc-expect-{name}-{}.json", std::process::id()));
        std::fs::write(&path, value.to_string()).unwrap();
        path
    }

    fn call(name: &str, args: Value) -> Admitted {
        Admitted {
            kind: Kind::Command,
            name: name.to_owned(),
            args: Some(args),
            webview: "main".to_owned(),
            origin: None,
            at: std::time::Instant::now(),
            bytes: None,
            channels: 0,
        }
    }

    #[test]
    fn a_matching_admitted_call_is_a_violation_and_others_are_not() {
        let path = write(
            "match",
            json!({"never": [{"command": "notes.*", "why": "no traversal",
                "args": {"type": "object", "required": ["path"], "properties": {"path": {"type": "string", "pattern": "\\.\\."}}}}]}),
        );
        let e = Expectations::load(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(e.len(), 1);
        let bad = call("notes.export", json!({"path": "/x/../etc/passwd"}));
        assert_eq!(e.violations(&[bad]).len(), 1);
        // Twins: a clean path, another command, the same name as an event.
        assert!(
            e.violations(&[call("notes.export", json!({"path": "/x/a.txt"}))])
                .is_empty()
        );
        assert!(
            e.violations(&[call("files.export", json!({"path": "../a"}))])
                .is_empty()
        );
        let event = Admitted {
            kind: Kind::Event,
            ..call("notes.export", json!({"path": "../a"}))
        };
        assert!(e.violations(&[event]).is_empty());
    }

    #[test]
    fn a_stream_expectation_judges_stream_opens_and_their_metadata_only() {
        let path = write(
            "stream",
            json!({"never": [{"stream": "uploads.*", "why": "no upload named .exe",
                "args": {"type": "object", "required": ["name"], "properties": {"name": {"pattern": "\\.exe$"}}}}]}),
        );
        let e = Expectations::load(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        let open = |kind, name: &str| Admitted {
            kind,
            ..call(name, json!({"name": "setup.exe"}))
        };
        assert_eq!(e.violations(&[open(Kind::Stream, "uploads.file")]).len(), 1);
        // Twins: the same name and metadata as a command; another name; other metadata.
        assert!(
            e.violations(&[open(Kind::Command, "uploads.file")])
                .is_empty()
        );
        assert!(e.violations(&[open(Kind::Stream, "files.put")]).is_empty());
        let clean = Admitted {
            kind: Kind::Stream,
            ..call("uploads.file", json!({"name": "notes.txt"}))
        };
        assert!(e.violations(&[clean]).is_empty());
    }

    #[test]
    fn mistakes_in_the_file_are_errors() {
        for (name, value, want) in [
            (
                "both",
                json!({"never": [{"command": "a", "event": "b", "why": "x"}]}),
                "exactly one",
            ),
            (
                "stream-and-command",
                json!({"never": [{"command": "a", "stream": "b", "why": "x"}]}),
                "exactly one",
            ),
            ("neither", json!({"never": [{"why": "x"}]}), "exactly one"),
            (
                "schema",
                json!({"never": [{"command": "a", "args": {"type": 5}, "why": "x"}]}),
                "not a valid JSON Schema",
            ),
            (
                "glob",
                json!({"never": [{"command": "a[", "why": "x"}]}),
                "never[0].command",
            ),
            (
                "why",
                json!({"never": [{"command": "a", "why": " "}]}),
                "why",
            ),
            ("typo", json!({"nevr": []}), "unknown field"),
        ] {
            let path = write(name, value);
            let err = Expectations::load(&path).err().unwrap_or_default();
            let _ = std::fs::remove_file(&path);
            assert!(err.contains(want), "{name}: {err}");
        }
    }
}
