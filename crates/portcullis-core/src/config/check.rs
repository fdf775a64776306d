//! The checks after a config parsed: what serde's types cannot say (non-empty lists,
//! unique identifiers, valid origins and names, scopes that are absolute, `paths`
//! pointers that name required strings of their rule's schema, limits in range). Every
//! problem is collected, each with its JSON path.

use super::paths::check_paths;
use super::{BuildConfig, Config, ConfigErrorKind, ConfigErrors, Limits, Pattern};
use crate::json::MAX_DEPTH_LIMIT;
use crate::name::{NAME_RULE, is_valid_name};
use crate::origin::Origin;
use crate::replay::ReplayWindow;

/// The longest a command may be given to run: a day, in ms.
pub const MAX_CALL_TIMEOUT_MS: u32 = 86_400_000;

impl BuildConfig {
    fn check(&self, errors: &mut ConfigErrors) {
        if self.frontend_dist.is_none() && self.dev_url.is_none() {
            errors.push(
                "build",
                ConfigErrorKind::Build,
                "names no frontend: give \"frontendDist\" (the built files), \"devUrl\" (a dev server), or both",
            );
        }
        if self
            .frontend_dist
            .as_ref()
            .is_some_and(|d| d.as_os_str().is_empty())
        {
            errors.push(
                "build.frontendDist",
                ConfigErrorKind::Build,
                "must name a directory (relative to the config file)",
            );
        }
        if let Some(url) = &self.dev_url
            && let Err(why) = dev_server(url)
        {
            errors.push("build.devUrl", ConfigErrorKind::Build, why);
        }
    }
}

/// A dev server's address, split into its origin (`http://localhost:5173`) and its base
/// path (`/`, or `/app/` for a server that serves under one), or why Portcullis will not
/// use it: plain `http` on a loopback host only (anything else would let another machine,
/// or anyone who can answer there, serve the app's code).
pub fn dev_server(url: &str) -> Result<(Origin, String), String> {
    let Some(rest) = url.strip_prefix("http://") else {
        return Err(format!(
            "{url:?} is not an http:// address: the dev server must be plain http on this machine, e.g. \"http://localhost:5173\""
        ));
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if path.contains(['?', '#']) {
        return Err(format!(
            "{url:?} has a query or fragment: give the server's address only"
        ));
    }
    let origin = Origin::parse(&format!("http://{authority}"))
        .map_err(|e| format!("{url:?} is not an address Portcullis can serve from: {e}"))?;
    if !matches!(origin.host(), "localhost" | "127.0.0.1") {
        return Err(format!(
            "{url:?} is not on this machine: the dev server must listen on localhost or 127.0.0.1"
        ));
    }
    let base = if path.ends_with('/') {
        path.to_owned()
    } else {
        format!("{path}/")
    };
    Ok((origin, base))
}

impl Config {
    pub(crate) fn check(&self, errors: &mut ConfigErrors) {
        let sec = &self.app.security;
        if let Pattern::Isolation { options } = &sec.pattern {
            let p = "app.security.pattern.options.dir";
            if options.dir.as_os_str().is_empty() {
                errors.push(
                    p,
                    ConfigErrorKind::IsolationDir,
                    "must name the isolation app directory (relative to the config file)",
                );
            }
        }
        if let Some(build) = &self.build {
            build.check(errors);
        }
        sec.limits.check(errors);
        let mut seen = std::collections::HashSet::new();
        for (i, cap) in sec.capabilities.iter().enumerate() {
            let at = format!("app.security.capabilities[{i}]");
            if cap.identifier.trim().is_empty() {
                errors.push(
                    format!("{at}.identifier"),
                    ConfigErrorKind::Empty,
                    "must not be empty",
                );
            } else if !seen.insert(cap.identifier.as_str()) {
                errors.push(
                    format!("{at}.identifier"),
                    ConfigErrorKind::Duplicate,
                    format!("{:?} is used by an earlier capability", cap.identifier),
                );
            }
            if cap.windows.is_empty() {
                errors.push(
                    format!("{at}.windows"),
                    ConfigErrorKind::Empty,
                    "must list at least one window label or glob",
                );
            }
            if cap.origins.is_empty() {
                errors.push(
                    format!("{at}.origins"),
                    ConfigErrorKind::Empty,
                    "must list at least one origin, e.g. \"app://localhost\"",
                );
            }
            for (j, o) in cap.origins.iter().enumerate() {
                if let Err(e) = Origin::parse(o) {
                    errors.push(
                        format!("{at}.origins[{j}]"),
                        ConfigErrorKind::Origin,
                        e.to_string(),
                    );
                }
            }
            for (kind, rules) in [
                ("commands", &cap.commands),
                ("events", &cap.events),
                ("streams", &cap.streams),
            ] {
                for (j, rule) in rules.allow.iter().enumerate() {
                    let rp = format!("{at}.{kind}.allow[{j}]");
                    if !is_valid_name(&rule.name) {
                        errors.push(
                            format!("{rp}.name"),
                            ConfigErrorKind::Name,
                            format!(
                                "{:?} is not a name: {NAME_RULE} (allow lists take exact names, no globs)",
                                rule.name
                            ),
                        );
                    }
                    // A handler's schema is filled in later, and its paths checked then.
                    if !super::is_handler_schema(rule.schema.as_ref()) {
                        check_paths(rule, cap, &rp, errors);
                    }
                    match rule.timeout_ms {
                        Some(_) if kind == "events" => errors.push(
                            format!("{rp}.timeoutMs"),
                            ConfigErrorKind::Limit,
                            "an event has no reply to wait for: timeoutMs is for commands",
                        ),
                        Some(ms) if !(1..=MAX_CALL_TIMEOUT_MS).contains(&ms) => errors.push(
                            format!("{rp}.timeoutMs"),
                            ConfigErrorKind::Limit,
                            format!("must be between 1 and {MAX_CALL_TIMEOUT_MS}"),
                        ),
                        _ => {}
                    }
                    if rule.max_bytes.is_some() && kind != "streams" {
                        errors.push(
                            format!("{rp}.maxBytes"),
                            ConfigErrorKind::Limit,
                            format!("maxBytes limits a stream's total bytes: it has no meaning for {kind} (limits.maxMessageBytes bounds each message)"),
                        );
                    }
                    if rule.max_bytes == Some(0) {
                        errors.push(
                            format!("{rp}.maxBytes"),
                            ConfigErrorKind::Limit,
                            "must be at least 1 (leave it out for no limit)",
                        );
                    }
                    if rule.bytes && kind == "streams" {
                        errors.push(
                            format!("{rp}.bytes"),
                            ConfigErrorKind::Limit,
                            "a stream's metadata is JSON, and its chunks are bytes already: bytes is for commands and events",
                        );
                    }
                }
            }
            for (name, scope) in &cap.scopes {
                let sp = format!("{at}.scopes.{name}");
                for (list, patterns) in [("allow", &scope.allow), ("deny", &scope.deny)] {
                    for (j, pat) in patterns.iter().enumerate() {
                        if !(pat.starts_with('/') || pat.starts_with('$')) {
                            errors.push(
                                format!("{sp}.{list}[{j}]"),
                                ConfigErrorKind::Scope,
                                format!("{pat:?} must be absolute or start with a variable like \"$APPDATA/\""),
                            );
                        }
                        if pat.split('/').any(|c| c == "..") {
                            errors.push(
                                format!("{sp}.{list}[{j}]"),
                                ConfigErrorKind::Scope,
                                "must not contain '..'",
                            );
                        }
                    }
                }
            }
        }
    }
}

impl Limits {
    fn check(&self, errors: &mut ConfigErrors) {
        let p = "app.security.limits";
        if !(1024..=256 << 20).contains(&self.max_message_bytes) {
            errors.push(
                format!("{p}.maxMessageBytes"),
                ConfigErrorKind::Limit,
                "must be between 1024 and 268435456",
            );
        }
        if !(1..=MAX_DEPTH_LIMIT).contains(&self.max_depth) {
            errors.push(
                format!("{p}.maxDepth"),
                ConfigErrorKind::Limit,
                format!("must be between 1 and {MAX_DEPTH_LIMIT}"),
            );
        }
        if !(1..=600_000).contains(&self.hook_timeout_ms) {
            errors.push(
                format!("{p}.hookTimeoutMs"),
                ConfigErrorKind::Limit,
                "must be between 1 and 600000",
            );
        }
        if !(1..=MAX_CALL_TIMEOUT_MS).contains(&self.call_timeout_ms) {
            errors.push(
                format!("{p}.callTimeoutMs"),
                ConfigErrorKind::Limit,
                format!("must be between 1 and {MAX_CALL_TIMEOUT_MS}"),
            );
        }
        if !(self.max_message_bytes..=4 << 30).contains(&self.max_buffered_stream_bytes) {
            errors.push(
                format!("{p}.maxBufferedStreamBytes"),
                ConfigErrorKind::Limit,
                format!(
                    "must be between maxMessageBytes ({}) and 4294967296: a stream chunk of the largest size must fit",
                    self.max_message_bytes
                ),
            );
        }
        let (min, max) = (ReplayWindow::MIN_SIZE, ReplayWindow::MAX_SIZE);
        if !(min..=max).contains(&self.replay_window) {
            errors.push(
                format!("{p}.replayWindow"),
                ConfigErrorKind::Limit,
                format!("must be between {min} and {max}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {

    use crate::config::Config;

    #[test]
    fn semantic_errors_are_all_reported() {
        let text = r#"{"app":{"security":{"pattern":{"use":"brownfield"},
            "limits":{"maxDepth":0},
            "capabilities":[{"identifier":"","windows":[],"origins":["app://x/y"]}]}}}"#;
        let errs = Config::from_json(text).unwrap_err().0;
        let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "app.security.limits.maxDepth",
                "app.security.capabilities[0].identifier",
                "app.security.capabilities[0].windows",
                "app.security.capabilities[0].origins[0]",
            ]
        );
    }

    #[test]
    fn call_timeouts_are_for_commands_and_in_range() {
        let with = |limits: &str, command: &str, event: &str| {
            format!(
                r#"{{"app":{{"security":{{"pattern":{{"use":"brownfield"}},"limits":{{{limits}}},
                "capabilities":[{{"identifier":"c","windows":["*"],"origins":["app://localhost"],
                "commands":{{"allow":[{command}]}},"events":{{"allow":[{event}]}}}}]}}}}}}"#
            )
        };
        let bad = with(
            r#""callTimeoutMs":0"#,
            r#"{"name":"a","timeoutMs":86400001}"#,
            r#"{"name":"e","timeoutMs":5}"#,
        );
        let errs = Config::from_json(&bad).unwrap_err().0;
        let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "app.security.limits.callTimeoutMs",
                "app.security.capabilities[0].commands.allow[0].timeoutMs",
                "app.security.capabilities[0].events.allow[0].timeoutMs",
            ]
        );
        assert!(
            errs[2].message.contains("for commands"),
            "{}",
            errs[2].message
        );
        // Twin: in range, on a command.
        let good = with(
            r#""callTimeoutMs":1"#,
            r#"{"name":"a","timeoutMs":86400000}"#,
            r#""e""#,
        );
        let config = Config::from_json(&good).unwrap();
        assert_eq!(config.app.security.limits.call_timeout_ms, 1);
        assert_eq!(
            config.app.security.capabilities[0].commands.allow[0].timeout_ms,
            Some(86_400_000)
        );
        // Tools write configs back (the audit's child reads what it was given): the
        // written form reads back the same.
        let written = serde_json::to_string(&config).unwrap();
        assert!(written.contains(r#""timeoutMs":86400000"#), "{written}");
        assert_eq!(Config::from_json(&written).unwrap(), config);
    }
}
