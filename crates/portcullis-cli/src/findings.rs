//! What `portcullis check` reports: findings, each with its severity, the JSON path or
//! file it is about, what is wrong and how to fix it. Made by the config checks
//! (`check.rs`) and the handler-drift checks (`handlers.rs`) alike.

use serde::Serialize;

/// How bad a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The config cannot be used.
    Error,
    /// It can, but probably not as meant.
    Warning,
}

/// One problem.
#[derive(Debug, Serialize)]
pub struct Finding {
    /// Error or warning.
    pub severity: Severity,
    /// JSON path in the config, or a file.
    pub path: String,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

pub(crate) fn finding(
    severity: Severity,
    path: impl Into<String>,
    message: impl Into<String>,
    hint: &str,
) -> Finding {
    Finding {
        severity,
        path: path.into(),
        message: message.into(),
        hint: hint.to_owned(),
    }
}
