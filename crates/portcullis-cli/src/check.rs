//! `portcullis check`: everything that can be known about a config without running the
//! app. Errors make the command fail; warnings do not.

use std::path::{Path, PathBuf};

use anstyle::{AnsiColor, Style};
use portcullis_core::config::{ConfigError, Pattern};
use portcullis_core::{Config, Policy};
use portcullis_wry::hook::{self, HookError, HookSource};
use serde::Serialize;

use crate::app::scope_vars;

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

fn finding(severity: Severity, path: impl Into<String>, message: impl Into<String>) -> Finding {
    let (path, message) = (path.into(), message.into());
    let hint = hint_for(&path, &message);
    Finding {
        severity,
        path,
        message,
        hint,
    }
}

/// Checks the config at `path`.
pub fn run(path: &Path, vars: &[(String, PathBuf)], windows: &[String]) -> Vec<Finding> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            return vec![finding(
                Severity::Error,
                path.display().to_string(),
                e.to_string(),
            )];
        }
    };
    let config = match Config::from_json(&text) {
        Ok(c) => c,
        Err(errors) => return errors.0.into_iter().map(from_config_error).collect(),
    };
    let mut findings = Vec::new();
    if let Err(errors) = Policy::compile(&config, &scope_vars(vars)) {
        findings.extend(errors.0.into_iter().map(from_config_error));
    }
    let base = path.parent().unwrap_or(Path::new("."));
    check_isolation(&config, base, &mut findings);
    check_csp(&config, &mut findings);
    check_windows(&config, windows, &mut findings);
    findings
}

fn from_config_error(e: ConfigError) -> Finding {
    finding(Severity::Error, e.path, e.message)
}

/// The isolation app, judged exactly as `Portcullis::build` judges it (the same function),
/// so `check` and the library never disagree about whether an app starts.
fn check_isolation(config: &Config, base: &Path, findings: &mut Vec<Finding>) {
    let at = "app.security.pattern";
    let options = match &config.app.security.pattern {
        Pattern::Isolation { options } => options,
        Pattern::Brownfield => {
            findings.push(finding(
                Severity::Warning,
                format!("{at}.use"),
                "\"brownfield\" turns isolation off: messages are neither sealed nor validated by a hook",
            ));
            return;
        }
    };
    let dir: PathBuf = base.join(&options.dir);
    match hook::resolve(&dir, options.hook.as_deref()) {
        Ok(HookSource::File(_)) => {}
        Ok(HookSource::BuiltinNamesOnly) => findings.push(finding(
            Severity::Warning,
            format!("{at}.options.hook"),
            "the built-in hook checks only that a call has a name: the app has no validation of its own",
        )),
        Err(e) => {
            let path = match &e {
                HookError::NoDirectory(_) | HookError::Missing(_) => format!("{at}.options.dir"),
                HookError::UnknownBuiltin(_) => format!("{at}.options.hook"),
                _ => dir.join(hook::HOOK_FILE).display().to_string(),
            };
            findings.push(finding(Severity::Error, path, e.to_string()));
        }
    }
}

fn check_csp(config: &Config, findings: &mut Vec<Finding>) {
    let Some(csp) = &config.app.security.csp else {
        return;
    };
    let at = "app.security.csp";
    let directive = |name: &str| {
        csp.split(';')
            .map(str::trim)
            .find(|d| {
                d.split_whitespace()
                    .next()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })
            .map(|d| {
                d.split_whitespace()
                    .skip(1)
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
    };
    let scripts = directive("script-src").or_else(|| directive("default-src"));
    match scripts {
        None => findings.push(finding(
            Severity::Error,
            at,
            "has neither script-src nor default-src: any script may run",
        )),
        Some(sources) => {
            if sources
                .iter()
                .any(|s| s == "*" || s == "http:" || s == "https:" || s == "data:")
            {
                findings.push(finding(
                    Severity::Error,
                    at,
                    "scripts may load from anywhere (*, http:, https: or data:)",
                ));
            }
            if sources.iter().any(|s| s == "'unsafe-eval'") {
                findings.push(finding(
                    Severity::Error,
                    at,
                    "'unsafe-eval' lets injected strings run as code",
                ));
            }
            if sources.iter().any(|s| s == "'unsafe-inline'") {
                findings.push(finding(
                    Severity::Warning,
                    at,
                    "'unsafe-inline' lets injected inline scripts run",
                ));
            }
        }
    }
}

fn check_windows(config: &Config, windows: &[String], findings: &mut Vec<Finding>) {
    if windows.is_empty() {
        return;
    }
    for (i, cap) in config.app.security.capabilities.iter().enumerate() {
        let matches = cap.windows.iter().any(|pattern| {
            windows.iter().any(|w| {
                // A literal label or a simple glob; full glob syntax is checked at load.
                pattern == w
                    || pattern == "*"
                    || pattern.strip_suffix('*').is_some_and(|prefix| {
                        !prefix.contains(['*', '?', '[']) && w.starts_with(prefix)
                    })
            })
        });
        if !matches {
            findings.push(finding(
                Severity::Warning,
                format!("app.security.capabilities[{i}].windows"),
                format!("matches none of the app's windows ({})", windows.join(", ")),
            ));
        }
    }
}

/// A hint for the kinds of problems people make most.
fn hint_for(path: &str, message: &str) -> String {
    let hint = if message.contains("unknown field") {
        "check the spelling against schema/portcullis.config.schema.json (name it with \"$schema\" for editor completion)"
    } else if message.contains("unknown variant") {
        "pattern.use is \"isolation\" (secure) or \"brownfield\" (isolation off)"
    } else if message.contains("is not an origin") {
        "write scheme://host[:port] with no path, e.g. \"app://localhost\""
    } else if message.contains("is not provided by the app") {
        "pass the directory: portcullis check --var NAME=/some/dir (the app passes it with ScopeVars)"
    } else if message.contains("invalid JSON Schema") {
        "the rule's \"schema\" must be a valid JSON Schema (draft 2020-12)"
    } else if message.contains("no globs") || message.contains("is not a name") {
        "allow lists take exact names; put globs in \"deny\""
    } else if message.contains("duplicate key") {
        "remove one of the two keys: duplicates are ambiguous"
    } else if message.contains("invalid JSON") {
        "fix the JSON syntax at the position given"
    } else if message.contains("must list at least one") {
        "capabilities apply to named windows at exact origins; list them"
    } else if message.contains("scope") && path.contains(".paths") {
        "define the scope under this capability's \"scopes\""
    } else if path.starts_with("app.security.limits") {
        "see docs/CAPABILITIES.md, Limits"
    } else if path.starts_with("app.security.csp") {
        "a strict policy: default-src 'self'; script-src 'self'"
    } else if message.contains("hook") || message.contains("JavaScript module") {
        "see docs/HOOKS.md"
    } else if message.contains("brownfield") {
        "use {\"use\": \"isolation\", \"options\": {\"dir\": \"isolation\"}} in production"
    } else {
        "see docs/CAPABILITIES.md"
    };
    hint.to_owned()
}

/// Prints the findings for a person: colour on a terminal only (anstream strips it).
pub fn print(config: &Path, findings: &[Finding]) {
    let red = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
    let yellow = Style::new().fg_color(Some(AnsiColor::Yellow.into())).bold();
    let green = Style::new().fg_color(Some(AnsiColor::Green.into())).bold();
    let dim = Style::new().dimmed();
    for f in findings {
        let (style, word) = match f.severity {
            Severity::Error => (red, "error"),
            Severity::Warning => (yellow, "warning"),
        };
        anstream::println!("{style}{word}{style:#} {}: {}", f.path, f.message);
        anstream::println!("  {dim}hint: {}{dim:#}", f.hint);
    }
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    if errors == 0 {
        anstream::println!(
            "{green}ok{green:#} {}: {warnings} warning(s)",
            config.display()
        );
    } else {
        anstream::println!(
            "{red}failed{red:#} {}: {errors} error(s), {warnings} warning(s)",
            config.display()
        );
    }
}
