//! `portcullis check`: everything that can be known about a config without running the
//! app. Errors make the command fail; warnings do not.

use std::path::{Path, PathBuf};

use anstyle::{AnsiColor, Style};
use portcullis_core::config::{ConfigError, ConfigErrorKind, Pattern};
use portcullis_core::manifest::Manifest;
use portcullis_core::{Config, Policy};
use portcullis_wry::csp;
use portcullis_wry::engine::{Engine, Served};
use portcullis_wry::hook::{self, HookError, HookSource};
use serde::Serialize;

use crate::app::scope_vars;
use crate::findings::finding;
pub use crate::findings::{Finding, Severity};

/// Checks the config at `path`; with the app's command `manifest`, its rules against
/// the handlers too. Returns the findings and the config as compiled (handler schemas
/// filled in), when it loaded.
pub fn run(
    path: &Path,
    vars: &[(String, PathBuf)],
    windows: &[String],
    manifest: Option<&Manifest>,
) -> (Vec<Finding>, Option<Config>) {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            let found = finding(
                Severity::Error,
                path.display().to_string(),
                e.to_string(),
                "pass the path of the app's config file (JSON)",
            );
            return (vec![found], None);
        }
    };
    let mut config = match Config::from_json(&text) {
        Ok(c) => c,
        Err(errors) => {
            let mut findings: Vec<Finding> = errors.0.into_iter().map(from_config_error).collect();
            findings.extend(other_structural_errors(&text, &findings));
            return (findings, None);
        }
    };
    let mut findings = Vec::new();
    if let Some(manifest) = manifest
        && let Err(errors) = config.take_handler_schemas(manifest)
    {
        findings.extend(errors.0.into_iter().map(from_config_error));
    }
    let policy = match Policy::compile(&config, &scope_vars(vars)) {
        Ok(policy) => Some(policy),
        Err(errors) => {
            findings.extend(errors.0.into_iter().map(from_config_error));
            None
        }
    };
    let base = path.parent().unwrap_or(Path::new("."));
    check_isolation(&config, base, &mut findings);
    check_build(&config, base, &mut findings);
    check_csp(&config, &mut findings);
    if let Some(policy) = &policy {
        check_windows(&config, policy, windows, &mut findings);
    }
    if let Some(manifest) = manifest {
        findings.extend(crate::handlers::drift(&config, manifest));
    }
    (findings, Some(config))
}

/// Loading stops at the first structural error (serde reads one value at a time); the
/// config's JSON Schema, checked with the `jsonschema` crate, finds the others, so one
/// run of `check` shows every mistake. Paths `already` has are left out.
fn other_structural_errors(text: &str, already: &[Finding]) -> Vec<Finding> {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else {
        return Vec::new();
    };
    let Ok(validator) = jsonschema::validator_for(&portcullis_core::config::json_schema()) else {
        return Vec::new();
    };
    let mut out: Vec<Finding> = Vec::new();
    for error in validator.iter_errors(&value) {
        let path = dotted(&error.instance_path().to_string());
        // Already said, at this path or one it lies inside.
        let covered = already.iter().chain(out.iter()).any(|f| {
            path == f.path
                || path.starts_with(&format!("{}.", f.path))
                || path.starts_with(&format!("{}[", f.path))
        });
        if covered {
            continue;
        }
        let keyword = error.kind().keyword();
        let kind = match keyword {
            "additionalProperties" => ConfigErrorKind::UnknownField,
            "enum" | "const" => ConfigErrorKind::UnknownVariant,
            _ => ConfigErrorKind::Shape,
        };
        // jsonschema's words for a union quote the whole value and name the keyword;
        // say what it means instead.
        let message = match keyword {
            "oneOf" | "anyOf" => {
                "matches none of the forms this member may take (see the schema)".to_owned()
            }
            _ => error.to_string(),
        };
        out.push(finding(Severity::Error, path, message, hint_for(kind)));
    }
    out
}

/// A JSON pointer (`/app/security/capabilities/0/windows`) as the paths of config
/// errors read (`app.security.capabilities[0].windows`).
fn dotted(pointer: &str) -> String {
    let mut out = String::new();
    for token in pointer.split('/').skip(1) {
        let token = token.replace("~1", "/").replace("~0", "~");
        if !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{token}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&token);
        }
    }
    if out.is_empty() { ".".to_owned() } else { out }
}

fn from_config_error(e: ConfigError) -> Finding {
    let hint = hint_for(e.kind);
    finding(Severity::Error, e.path, e.message, hint)
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
                "use {\"use\": \"isolation\", \"options\": {\"dir\": \"isolation\"}} in production",
            ));
            return;
        }
    };
    let dir: PathBuf = base.join(&options.dir);
    match hook::resolve(&portcullis_wry::Files::Directory(dir.clone()), options.hook.as_deref()) {
        Ok(HookSource::File(_)) => {}
        Ok(HookSource::BuiltinNamesOnly) => findings.push(finding(
            Severity::Warning,
            format!("{at}.options.hook"),
            "the built-in hook checks only that a call has a name: the app has no validation of its own",
            HOOKS_HINT,
        )),
        Err(e) => {
            let path = match &e {
                HookError::NoDirectory(_) | HookError::Missing(_) => format!("{at}.options.dir"),
                HookError::UnknownBuiltin(_) => format!("{at}.options.hook"),
                _ => dir.join(hook::HOOK_FILE).display().to_string(),
            };
            findings.push(finding(Severity::Error, path, e.to_string(), HOOKS_HINT));
        }
    }
}

/// The frontend the `build` section names: a `frontendDist` that is not there yet cannot
/// be embedded, and a debug build refuses to start without it.
fn check_build(config: &Config, base: &Path, findings: &mut Vec<Finding>) {
    let Some(build) = &config.build else {
        findings.push(finding(
            Severity::Warning,
            "build",
            "no build section: the app must hand its frontend to the builder itself (embedded_frontend or frontend_dir)",
            "add \"build\": {\"frontendDist\": \"dist\"} (and \"devUrl\" for a dev server); see docs/EMBEDDING.md",
        ));
        return;
    };
    if let Some(dist) = &build.frontend_dist {
        let dir = base.join(dist);
        if !dir.join("index.html").is_file() {
            findings.push(finding(
                Severity::Warning,
                "build.frontendDist",
                format!(
                    "{} has no index.html (yet): build the frontend before the app; an app built before it embeds no start page and refuses to start",
                    dir.display()
                ),
                "run the frontend's build (e.g. npm run build) so that frontendDist holds index.html",
            ));
        }
    }
}

fn check_csp(config: &Config, findings: &mut Vec<Finding>) {
    let Some(csp) = &config.app.security.csp else {
        return;
    };
    let at = "app.security.csp";
    check_csp_grammar(csp, at, findings);
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
            CSP_HINT,
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
                    CSP_HINT,
                ));
            }
            if sources.iter().any(|s| s == "'unsafe-eval'") {
                findings.push(finding(
                    Severity::Error,
                    at,
                    "'unsafe-eval' lets injected strings run as code",
                    CSP_HINT,
                ));
            }
            if sources.iter().any(|s| s == "'unsafe-inline'") {
                findings.push(finding(
                    Severity::Warning,
                    at,
                    "'unsafe-inline' lets injected inline scripts run",
                    CSP_HINT,
                ));
            }
        }
    }
}

/// Capabilities that match none of the app's windows, matched by the core's own globs.
fn check_windows(
    config: &Config,
    policy: &Policy,
    windows: &[String],
    findings: &mut Vec<Finding>,
) {
    if windows.is_empty() {
        return;
    }
    let matched: std::collections::HashSet<&str> = windows
        .iter()
        .flat_map(|w| policy.capabilities_for_window(w))
        .collect();
    for (i, cap) in config.app.security.capabilities.iter().enumerate() {
        if !matched.contains(cap.identifier.as_str()) {
            findings.push(finding(
                Severity::Warning,
                format!("app.security.capabilities[{i}].windows"),
                format!("matches none of the app's windows ({})", windows.join(", ")),
                "name the webview labels the app creates, or globs over them",
            ));
        }
    }
}

/// The directives of CSP Level 3 (and the two older ones browsers still read).
const CSP_DIRECTIVES: &[&str] = &[
    "default-src",
    "script-src",
    "script-src-elem",
    "script-src-attr",
    "style-src",
    "style-src-elem",
    "style-src-attr",
    "img-src",
    "font-src",
    "connect-src",
    "media-src",
    "object-src",
    "frame-src",
    "child-src",
    "worker-src",
    "manifest-src",
    "base-uri",
    "form-action",
    "frame-ancestors",
    "sandbox",
    "report-uri",
    "report-to",
    "require-trusted-types-for",
    "trusted-types",
    "upgrade-insecure-requests",
    "block-all-mixed-content",
    "webrtc",
];

/// The policy's shape (CSP3 §2.2: directives separated by `;`, each a name and its
/// values): an unknown directive is ignored by the engine, and a directive name among
/// another's values means a `;` is missing, so the directive after it does not exist.
fn check_csp_grammar(csp: &str, at: &str, findings: &mut Vec<Finding>) {
    let mut seen = std::collections::HashSet::new();
    for part in csp.split(';') {
        let mut tokens = part.split_ascii_whitespace();
        let Some(name) = tokens.next() else { continue };
        let name = name.to_ascii_lowercase();
        if !CSP_DIRECTIVES.contains(&name.as_str()) {
            findings.push(finding(
                Severity::Error,
                at,
                format!("{name:?} is not a CSP directive: the engine ignores it"),
                CSP_HINT,
            ));
        } else if !seen.insert(name.clone()) {
            findings.push(finding(
                Severity::Error,
                at,
                format!("{name} appears twice: the engine keeps only the first"),
                CSP_HINT,
            ));
        }
        for value in tokens {
            if CSP_DIRECTIVES.contains(&value.to_ascii_lowercase().as_str()) {
                findings.push(finding(
                    Severity::Error,
                    at,
                    format!(
                        "{value:?} stands among the values of {name}: a ';' is missing before it, so the engine reads it as a source, not a directive"
                    ),
                    CSP_HINT,
                ));
            }
        }
    }
}

const HOOKS_HINT: &str = "see docs/HOOKS.md";
const CSP_HINT: &str = "a strict policy: default-src 'self'; script-src 'self'";

/// What to do about each kind of config problem.
fn hint_for(kind: ConfigErrorKind) -> &'static str {
    match kind {
        ConfigErrorKind::UnknownField => {
            "check the spelling against schema/portcullis.config.schema.json (name it with \"$schema\" for editor completion)"
        }
        ConfigErrorKind::UnknownVariant => {
            "pattern.use is \"isolation\" (secure) or \"brownfield\" (isolation off)"
        }
        ConfigErrorKind::Origin => {
            "write scheme://host[:port] with no path, e.g. \"app://localhost\""
        }
        ConfigErrorKind::MissingVariable => {
            "pass the directory: portcullis check --var NAME=/some/dir (the app passes it with ScopeVars)"
        }
        ConfigErrorKind::Schema => {
            "the rule's \"schema\" must be a valid JSON Schema (draft 2020-12)"
        }
        ConfigErrorKind::Name => "allow lists take exact names; put globs in \"deny\"",
        ConfigErrorKind::DuplicateKey => "remove one of the two keys: duplicates are ambiguous",
        ConfigErrorKind::Syntax | ConfigErrorKind::TooDeep => {
            "fix the JSON syntax at the position given"
        }
        ConfigErrorKind::Empty => "capabilities apply to named windows at exact origins; list them",
        ConfigErrorKind::Paths => {
            "each path argument needs a scope in this capability's \"scopes\" and a schema that requires it as a string (docs/CAPABILITIES.md)"
        }
        ConfigErrorKind::Limit => "see docs/CAPABILITIES.md, Limits",
        ConfigErrorKind::IsolationDir => HOOKS_HINT,
        ConfigErrorKind::Build => {
            "\"frontendDist\" is the built frontend (relative to the config), \"devUrl\" a dev server at http://localhost:PORT; see docs/EMBEDDING.md"
        }
        _ => "see docs/CAPABILITIES.md",
    }
}

/// A platform `--platform` names, and the engine wry drives there.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Platform {
    /// WebKitGTK.
    Linux,
    /// WebView2, with the `https://` form Portcullis asks wry for.
    Windows,
    /// WKWebView.
    Macos,
}

impl Platform {
    /// The engine on this platform, as Portcullis sets it up.
    pub fn engine(self) -> Engine {
        match self {
            Platform::Linux => Engine::WebKitGtk,
            Platform::Windows => Engine::WebView2 { https: true },
            Platform::Macos => Engine::WkWebView,
        }
    }
}

/// What a config becomes on one platform's engine: the origins pages report, the URLs
/// loaded, and the CSPs served, from the same functions `portcullis-wry` uses.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Effective {
    /// The engine's name.
    pub engine: &'static str,
    /// Each served scheme: its origin in the config and on this engine.
    pub origins: Vec<EffectiveOrigin>,
    /// The start page.
    pub start_url: String,
    /// The isolation document (isolation on only).
    pub isolation_url: Option<String>,
    /// Where sealed messages are posted.
    pub ipc_url: String,
    /// The app frontend's CSP.
    pub app_csp: String,
    /// The isolation document's CSP (isolation on only).
    pub isolation_csp: Option<String>,
}

/// One served scheme's origin, as written and as the engine reports it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EffectiveOrigin {
    /// The config's form (`app://localhost`).
    pub config: &'static str,
    /// The engine's form (`https://app.localhost` on WebView2).
    pub engine: String,
}

/// The effective origins, URLs and CSPs of the config at `path` on `platform`; `None`
/// when the config cannot be read (the findings say why).
pub fn effective(path: &Path, platform: Platform) -> Option<Effective> {
    let config = Config::from_json(&std::fs::read_to_string(path).ok()?).ok()?;
    let engine = platform.engine();
    let isolation = matches!(config.app.security.pattern, Pattern::Isolation { .. });
    Some(Effective {
        engine: engine.name(),
        origins: Served::ALL
            .into_iter()
            .map(|served| EffectiveOrigin {
                config: served.config_origin(),
                engine: engine.origin(served),
            })
            .collect(),
        start_url: engine.url(Served::App, "/index.html"),
        isolation_url: isolation.then(|| engine.url(Served::Isolation, "/")),
        ipc_url: engine.url(Served::Ipc, "/"),
        app_csp: csp::app_on(engine, config.app.security.csp.as_deref(), isolation),
        isolation_csp: isolation.then(|| csp::isolation_on(engine)),
    })
}

/// Prints what [`effective`] found, for a person.
pub fn print_effective(platform: Platform, effective: &Effective) {
    let bold = Style::new().bold();
    anstream::println!(
        "{bold}{:?}{bold:#} ({}): the config's origins as this engine reports them",
        platform,
        effective.engine
    );
    for o in &effective.origins {
        anstream::println!("  origin {} -> {}", o.config, o.engine);
    }
    anstream::println!("  start URL      {}", effective.start_url);
    if let Some(url) = &effective.isolation_url {
        anstream::println!("  isolation URL  {url}");
    }
    anstream::println!("  ipc URL        {}", effective.ipc_url);
    anstream::println!("  app CSP        {}", effective.app_csp);
    if let Some(csp) = &effective.isolation_csp {
        anstream::println!("  isolation CSP  {csp}");
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Hints follow the kind the core gives, never the wording of its message.
    #[test]
    fn hints_are_chosen_by_kind() {
        let typo =
            Config::from_json(r#"{"app":{"security":{"pattern":{"use":"brownfield"},"csq":"x"}}}"#)
                .unwrap_err()
                .0
                .remove(0);
        assert_eq!(typo.kind, ConfigErrorKind::UnknownField);
        assert!(from_config_error(typo).hint.contains("spelling"));
        let mut reworded = ConfigError {
            path: "app.security.capabilities[0].origins[0]".into(),
            kind: ConfigErrorKind::Origin,
            message: "something else entirely".into(),
        };
        assert!(
            from_config_error(reworded.clone())
                .hint
                .contains("scheme://host")
        );
        reworded.kind = ConfigErrorKind::MissingVariable;
        assert!(from_config_error(reworded).hint.contains("--var"));
    }

    #[test]
    fn the_csp_is_read_as_the_engine_reads_it() {
        let problems = |csp: &str| {
            let mut findings = Vec::new();
            check_csp_grammar(csp, "app.security.csp", &mut findings);
            findings.into_iter().map(|f| f.message).collect::<Vec<_>>()
        };
        // A missing ';': script-src would be a source of default-src.
        let missing = problems("default-src 'self' script-src 'self'");
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert!(missing[0].contains("a ';' is missing"), "{missing:?}");
        assert!(
            problems("default-src 'self'; scirpt-src 'self'")[0].contains("not a CSP directive")
        );
        assert!(problems("script-src 'self'; script-src *")[0].contains("twice"));
        // The twin: a well-formed strict policy, trailing ';' and all.
        assert!(problems("default-src 'self'; script-src 'self'; frame-src 'none';").is_empty());
    }
}
