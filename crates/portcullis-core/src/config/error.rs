//! What a config load reports: each problem with the JSON path it is about, its kind and
//! a message for a person.
//!
//! The invariant: a failed load returns [`ConfigErrors`] holding at least one
//! [`ConfigError`], and callers branch on [`ConfigErrorKind`], never on a message's
//! text. This file depends on nothing else in `config`.

use std::fmt;

use serde::Serialize;

/// One problem in a config: where, what kind, and what exactly.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigError {
    /// JSON path, e.g. `app.security.capabilities[0].windows[1]` (`.` for the root).
    pub path: String,
    /// What kind of problem, for callers that branch on it (tools giving hints).
    pub kind: ConfigErrorKind,
    /// What is wrong there, for a person.
    pub message: String,
}

/// The kinds of config problem.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ConfigErrorKind {
    /// Not JSON: a syntax error, trailing data, not UTF-8.
    Syntax,
    /// The same key twice in one object.
    DuplicateKey,
    /// Nested deeper than a config may be.
    TooDeep,
    /// A member the format does not have (often a typo).
    UnknownField,
    /// A value outside a fixed set (e.g. `pattern.use`).
    UnknownVariant,
    /// A member of the wrong type or shape, or one that is missing.
    Shape,
    /// A list or text that must not be empty is.
    Empty,
    /// An identifier or name given twice where it must be unique.
    Duplicate,
    /// Not an origin (`scheme://host[:port]`).
    Origin,
    /// Not a command or event name.
    Name,
    /// An invalid glob.
    Glob,
    /// An invalid JSON Schema.
    Schema,
    /// A scope pattern that is not absolute, climbs with `..`, or does not compile.
    Scope,
    /// A scope names a `$VARIABLE` the app does not provide.
    MissingVariable,
    /// A rule's `paths` that cannot be enforced (no schema, bytes, an unknown scope, a
    /// pointer that is not a required string).
    Paths,
    /// A limit out of range.
    Limit,
    /// The isolation pattern without its directory.
    IsolationDir,
    /// A `build` section that names no frontend, or a `devUrl` Portcullis cannot serve.
    Build,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Every problem found in a config (at least one).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl ConfigErrors {
    pub(crate) fn push(
        &mut self,
        path: impl Into<String>,
        kind: ConfigErrorKind,
        message: impl Into<String>,
    ) {
        self.0.push(ConfigError {
            path: path.into(),
            kind,
            message: message.into(),
        });
    }

    pub(crate) fn into_result(self) -> Result<(), ConfigErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}
