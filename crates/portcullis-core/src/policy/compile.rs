//! Compiling a config's capabilities into the [`Policy`]: window globs, origins,
//! argument schemas (compiled once, here, at load), scopes and path arguments. Every
//! error names its JSON path.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::Value;

use super::Policy;
use super::capability::{CompiledCapability, CompiledRule, CompiledRules};
use super::globs::globs;
use super::grants::Grants;
use crate::FastMap;
use crate::config::{Config, ConfigErrorKind, ConfigErrors, Rules};
use crate::json::tree::TreeJson;
use crate::origin::Origin;
use crate::scope::{CompiledScope, ScopeVars};

impl Policy {
    /// Validates `config` and compiles its capabilities: window globs, origins, schemas,
    /// scopes. Every error names its JSON path.
    pub fn compile(config: &Config, vars: &ScopeVars) -> Result<Policy, ConfigErrors> {
        let mut errors = ConfigErrors(Vec::new());
        config.check(&mut errors);
        errors.into_result()?;
        Policy::compile_checked(config, vars)
    }

    /// Compiles a config that [`Config::check`] has passed. Only tests call it on one that
    /// has not, to reach the run-time refusals that back the check.
    pub(super) fn compile_checked(
        config: &Config,
        vars: &ScopeVars,
    ) -> Result<Policy, ConfigErrors> {
        let mut errors = ConfigErrors(Vec::new());
        let mut capabilities = Vec::new();
        for (i, cap) in config.app.security.capabilities.iter().enumerate() {
            let at = format!("app.security.capabilities[{i}]");
            let windows = globs(&cap.windows, &format!("{at}.windows"), &mut errors);
            let origins = cap
                .origins
                .iter()
                .filter_map(|o| Origin::parse(o).ok())
                .collect();
            let mut scope_index = HashMap::new();
            let mut scopes = Vec::new();
            let mut scope_names = Vec::new();
            for (name, scope) in &cap.scopes {
                match CompiledScope::compile(scope, vars) {
                    Ok(s) => {
                        scope_index.insert(name.clone(), Some(scopes.len()));
                        scopes.push(s);
                        scope_names.push(name.clone());
                    }
                    Err((kind, e)) => {
                        // Reported once, here: the rules naming it are not blamed again.
                        scope_index.insert(name.clone(), None);
                        errors.push(format!("{at}.scopes.{name}"), kind, e);
                    }
                }
            }
            let commands = rules(
                &cap.commands,
                &format!("{at}.commands"),
                &scope_index,
                &mut errors,
            );
            let events = rules(
                &cap.events,
                &format!("{at}.events"),
                &scope_index,
                &mut errors,
            );
            let streams = rules(
                &cap.streams,
                &format!("{at}.streams"),
                &scope_index,
                &mut errors,
            );
            capabilities.push(CompiledCapability {
                identifier: Arc::from(cap.identifier.as_str()),
                windows,
                origins,
                runtime: cap.runtime_grant,
                commands,
                events,
                streams,
                scopes,
                scope_names,
            });
        }
        errors.into_result()?;
        let reads_grants = capabilities.iter().any(|c| {
            c.runtime
                || [&c.commands, &c.events, &c.streams]
                    .iter()
                    .any(|r| r.allow.values().any(|rule| !rule.paths.is_empty()))
        });
        let capabilities: Arc<[CompiledCapability]> = capabilities.into();
        Ok(Policy {
            grants: Grants::new(Arc::clone(&capabilities)),
            capabilities,
            reads_grants,
        })
    }
}

/// Argument schemas are compiled with format validation on (`"format": "email"` and the
/// like are checked, not just annotations).
pub(super) fn compile_schema(
    schema: &Value,
) -> Result<jsonschema::Validator<TreeJson>, jsonschema::ValidationError<'static>> {
    jsonschema::options_for::<TreeJson>()
        .should_validate_formats(true)
        .build(schema)
}

fn rules(
    rules: &Rules,
    at: &str,
    scope_index: &HashMap<String, Option<usize>>,
    errors: &mut ConfigErrors,
) -> CompiledRules {
    let deny = globs(&rules.deny, &format!("{at}.deny"), errors);
    let mut allow = FastMap::default();
    for (j, rule) in rules.allow.iter().enumerate() {
        let rp = format!("{at}.allow[{j}]");
        if crate::config::is_handler_schema(rule.schema.as_ref()) {
            errors.push(
                format!("{rp}.schema"),
                ConfigErrorKind::Schema,
                "takes its schema from its handler, which was never filled in: Portcullis::build fills it from the router, portcullis check needs --manifest",
            );
            continue;
        }
        let schema = rule.schema.as_ref().and_then(|s| {
            compile_schema(s)
                .map_err(|e| {
                    errors.push(
                        format!("{rp}.schema"),
                        ConfigErrorKind::Schema,
                        format!("invalid JSON Schema: {e}"),
                    )
                })
                .ok()
        });
        let mut paths = Vec::new();
        for (pointer, scope) in &rule.paths {
            match scope_index.get(scope) {
                Some(&Some(i)) if pointer.is_empty() || pointer.starts_with('/') => {
                    paths.push((pointer.clone(), i));
                }
                // A scope that failed to compile: its own error says why, and the policy
                // does not compile, so nothing is lost by not repeating it here.
                Some(None) if pointer.is_empty() || pointer.starts_with('/') => {}
                // Refused here as well as in `Config::check`: a policy compiled without
                // that check must not lose a path check silently.
                _ => errors.push(
                    format!("{rp}.paths.{pointer}"),
                    ConfigErrorKind::Paths,
                    format!("{pointer:?} → {scope:?}: needs a JSON pointer and a scope defined in this capability"),
                ),
            }
        }
        if allow
            .insert(
                rule.name.clone(),
                CompiledRule {
                    schema,
                    bytes: rule.bytes,
                    paths,
                    timeout_ms: rule.timeout_ms,
                    max_bytes: rule.max_bytes,
                },
            )
            .is_some()
        {
            errors.push(
                format!("{rp}.name"),
                ConfigErrorKind::Duplicate,
                format!("{:?} is allowed twice in this list", rule.name),
            );
        }
    }
    CompiledRules { allow, deny }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn compile_validates_configs_built_without_from_json() {
        let config: Config = serde_json::from_value(json!({"app": {"security": {
            "pattern": {"use": "brownfield"},
            "capabilities": [{"identifier": "c", "windows": ["main"], "origins": ["app://localhost"],
                "commands": {"allow": [{"name": "fs.read", "paths": {"/path": "missing"}}]}}]
        }}})).unwrap();
        let errs = Policy::compile(&config, &ScopeVars::new()).unwrap_err().0;
        let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "app.security.capabilities[0].commands.allow[0].paths",
                "app.security.capabilities[0].commands.allow[0].paths./path",
            ]
        );
    }

    #[test]
    fn bad_schema_and_glob_are_config_errors_with_paths() {
        let text = json!({"app": {"security": {"pattern": {"use": "brownfield"}, "capabilities": [{
            "identifier": "x", "windows": ["a[", "ok"], "origins": ["app://localhost"],
            "commands": {"allow": [{"name": "c", "schema": {"type": "nope"}}]}
        }]}}});
        let config = Config::from_json(&text.to_string()).unwrap();
        let errs = Policy::compile(&config, &ScopeVars::new()).unwrap_err().0;
        let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "app.security.capabilities[0].windows[0]",
                "app.security.capabilities[0].commands.allow[0].schema"
            ]
        );
    }

    #[test]
    fn a_scope_that_cannot_compile_is_reported_once() {
        let text = json!({"app": {"security": {"pattern": {"use": "brownfield"}, "capabilities": [{
            "identifier": "c", "windows": ["main"], "origins": ["app://localhost"],
            "commands": {"allow": [{"name": "fs.read", "paths": {"/path": "docs"},
                "schema": {"type": "object", "required": ["path"],
                    "properties": {"path": {"type": "string"}}}}]},
            "scopes": {"docs": {"allow": ["$DOCS/**"]}}
        }]}}});
        let config = Config::from_json(&text.to_string()).unwrap();
        let errs = Policy::compile(&config, &ScopeVars::new()).unwrap_err().0;
        let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(paths, ["app.security.capabilities[0].scopes.docs"]);
        assert_eq!(errs[0].kind, ConfigErrorKind::MissingVariable);
        // The twin: with the variable, it compiles.
        let vars = ScopeVars::new().with("DOCS", std::env::temp_dir());
        assert!(Policy::compile(&config, &vars).is_ok());
    }
}
