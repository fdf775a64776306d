//! The app's security configuration, read from JSON into typed structs.
//!
//! ```json
//! { "app": { "security": {
//!     "pattern": { "use": "isolation", "options": { "dir": "isolation-app" } },
//!     "capabilities": [ {
//!         "identifier": "main-window",
//!         "windows": ["main"],
//!         "origins": ["app://localhost"],
//!         "commands": { "allow": ["notes.list", { "name": "notes.add", "schema": { ... } }],
//!                       "deny": ["notes.purge"] },
//!         "events": { "allow": [{ "name": "note-opened", "schema": { ... } }] },
//!         "scopes": { "notes": { "allow": ["$NOTES/**"] } }
//!     } ],
//!     "limits": { "maxMessageBytes": 8388608, "maxDepth": 32, "hookTimeoutMs": 5000, "replayWindow": 1024 }
//! } } }
//! ```
//!
//! Loading is strict: unknown fields and duplicate keys are errors, and every error names
//! the JSON path it is about (`app.security.capabilities[0].origins[1]`) and what is
//! wrong. Structural errors stop at the first (serde); the checks after that collect
//! every problem. Schemas and globs are compiled by [`crate::policy::Policy::compile`],
//! which reports its errors the same way.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::json::JsonError;
use crate::origin::Origin;
use crate::request::{MAX_NAME_LEN, is_valid_name};

/// One problem in a config: where, and what.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ConfigError {
    /// JSON path, e.g. `app.security.capabilities[0].windows[1]` (`.` for the root).
    pub path: String,
    /// What is wrong there.
    pub message: String,
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
    pub(crate) fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigError {
            path: path.into(),
            message: message.into(),
        });
    }

    pub(crate) fn into_result(self) -> Result<(), ConfigErrors> {
        if self.0.is_empty() { Ok(()) } else { Err(self) }
    }
}

/// The whole config file.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Optional JSON Schema reference for editors.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The app section.
    pub app: AppConfig,
}

/// `app`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AppConfig {
    /// `app.security`.
    pub security: SecurityConfig,
}

/// `app.security`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct SecurityConfig {
    /// Isolation on or off.
    pub pattern: Pattern,
    /// Content-Security-Policy for the app frontend's documents.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub csp: Option<String>,
    /// The allowlist. Empty means nothing is allowed.
    #[serde(default)]
    pub capabilities: Vec<Capability>,
    /// Size, depth and time limits.
    #[serde(default)]
    pub limits: Limits,
}

/// `app.security.pattern`, in the shape Tauri uses.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(tag = "use", rename_all = "lowercase", deny_unknown_fields)]
pub enum Pattern {
    /// Every message passes the isolation frame and is sealed. The secure mode.
    Isolation {
        /// Where the isolation app lives.
        options: IsolationOptions,
    },
    /// Isolation off: messages go straight to the core unsealed. INSECURE; exists only
    /// to measure the cost of isolation and to migrate. The allowlist still applies.
    Brownfield,
}

/// `app.security.pattern.options`.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IsolationOptions {
    /// Directory of the isolation app (its `hook.js`), relative to the config file.
    /// The config is the app developer's own, trusted file, so `..` is fine here (Tauri
    /// projects use `"../dist-isolation"`).
    pub dir: PathBuf,
    /// Which hook the isolation frame runs. Leave it out to use `hook.js` from `dir`
    /// (Portcullis refuses to start when that file is missing or does not parse). The
    /// one other value, `"builtin:names-only"`, asks by name for the built-in hook, which
    /// checks only that a call has a name: no validation of the app's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hook: Option<String>,
}

/// One capability: which windows at which origins may use which commands and events.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Capability {
    /// Unique name, used in audit events.
    pub identifier: String,
    /// What it is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Webview labels or globs over labels (`"note-*"`). Must not be empty.
    pub windows: Vec<String>,
    /// Exact page origins (`"app://localhost"`). Must not be empty.
    pub origins: Vec<String>,
    /// Commands.
    #[serde(default)]
    pub commands: Rules,
    /// Frontend-to-core events.
    #[serde(default)]
    pub events: Rules,
    /// Named path scopes, referenced by rules' `paths`.
    #[serde(default)]
    pub scopes: BTreeMap<String, Scope>,
}

/// Allow and deny lists.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rules {
    /// Allowed names (exact), each with an optional schema.
    #[serde(default)]
    pub allow: Vec<Rule>,
    /// Denied names or globs; a deny wins over any allow.
    #[serde(default)]
    pub deny: Vec<String>,
}

/// One allowed command or event. In JSON either a plain name or an object.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    /// The exact name.
    pub name: String,
    /// JSON Schema the arguments (payload) must satisfy. Absent: any JSON, no bytes.
    pub schema: Option<Value>,
    /// Whether a raw bytes body is allowed instead of JSON.
    pub bytes: bool,
    /// Path arguments: JSON pointer into the arguments → scope name. Each pointer must
    /// name a required string property of `schema`.
    pub paths: BTreeMap<String, String>,
}

/// The object form of a rule.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RuleObject {
    /// The exact command or event name.
    name: String,
    /// JSON Schema the arguments (payload) must satisfy.
    #[serde(default)]
    schema: Option<Value>,
    /// Whether a raw bytes body (Uint8Array/ArrayBuffer) is allowed instead of JSON.
    #[serde(default)]
    bytes: bool,
    /// Path arguments: JSON pointer into the arguments → name of a scope of this capability.
    /// Each pointer must name a required string property of `schema`.
    #[serde(default)]
    paths: BTreeMap<String, String>,
}

impl JsonSchema for Rule {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Rule".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let object = generator.subschema_for::<RuleObject>();
        schemars::json_schema!({
            "description": "An allowed command or event: its exact name, or an object with the name and its constraints.",
            "oneOf": [
                { "type": "string", "pattern": "^[A-Za-z0-9_.:|/-]{1,128}$" },
                object
            ]
        })
    }
}

/// The JSON Schema of the config file, generated from these types
/// (committed as `schema/portcullis.config.schema.json`).
pub fn json_schema() -> Value {
    let mut schema = schemars::schema_for!(Config).to_value();
    if let Some(o) = schema.as_object_mut() {
        o.insert("title".into(), Value::from("Portcullis config"));
    }
    schema
}

impl<'de> Deserialize<'de> for Rule {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Rule, D::Error> {
        struct RuleVisitor;
        impl<'de> Visitor<'de> for RuleVisitor {
            type Value = Rule;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a command name or an object {\"name\", \"schema\", \"bytes\", \"paths\"}",
                )
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Rule, E> {
                Ok(Rule {
                    name: name.to_owned(),
                    schema: None,
                    bytes: false,
                    paths: BTreeMap::new(),
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Rule, A::Error> {
                let o = RuleObject::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Rule {
                    name: o.name,
                    schema: o.schema,
                    bytes: o.bytes,
                    paths: o.paths,
                })
            }
        }
        d.deserialize_any(RuleVisitor)
    }
}

/// A path scope: absolute path globs, optionally starting with `$VAR/`, where the
/// embedder supplies the variables.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scope {
    /// Paths inside the scope.
    pub allow: Vec<String>,
    /// Paths carved out of it; a deny wins.
    #[serde(default)]
    pub deny: Vec<String>,
}

/// `app.security.limits`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase", default)]
pub struct Limits {
    /// Largest sealed message accepted, in bytes (1 KiB - 256 MiB; default 8 MiB).
    pub max_message_bytes: usize,
    /// Deepest JSON nesting accepted (1-128; default 32).
    pub max_depth: u32,
    /// How long the validation hook may take, in ms (1-600000; default 5000).
    pub hook_timeout_ms: u32,
    /// Replay window per session, in sequence numbers (64-65536; default 1024).
    pub replay_window: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 8 << 20,
            max_depth: 32,
            hook_timeout_ms: 5000,
            replay_window: 1024,
        }
    }
}

/// The nesting the config file itself may have (schemas can be deep-ish, not unbounded).
const CONFIG_MAX_DEPTH: u32 = 64;

impl Config {
    /// Reads and checks a config. Errors carry JSON paths.
    pub fn from_json(text: &str) -> Result<Config, ConfigErrors> {
        let mut errors = ConfigErrors(Vec::new());
        let value = match crate::json::parse_strict_with_path(text, CONFIG_MAX_DEPTH) {
            Ok(v) => v,
            Err((path, e)) => {
                let message = match e {
                    JsonError::TooDeep { limit } => format!("nests deeper than {limit} levels"),
                    JsonError::Invalid(m) => format!("invalid JSON: {m}"),
                };
                errors.push(path, message);
                return Err(errors);
            }
        };
        let config: Config = match serde_path_to_error::deserialize(value) {
            Ok(c) => c,
            Err(e) => {
                let path = e.path().to_string();
                errors.push(path, e.into_inner().to_string());
                return Err(errors);
            }
        };
        config.check(&mut errors);
        errors.into_result().map(|()| config)
    }

    /// Whether isolation is on.
    pub fn isolation(&self) -> bool {
        matches!(self.app.security.pattern, Pattern::Isolation { .. })
    }

    pub(crate) fn check(&self, errors: &mut ConfigErrors) {
        let sec = &self.app.security;
        if let Pattern::Isolation { options } = &sec.pattern {
            let p = "app.security.pattern.options.dir";
            if options.dir.as_os_str().is_empty() {
                errors.push(
                    p,
                    "must name the isolation app directory (relative to the config file)",
                );
            }
        }
        sec.limits.check(errors);
        let mut seen = std::collections::HashSet::new();
        for (i, cap) in sec.capabilities.iter().enumerate() {
            let at = format!("app.security.capabilities[{i}]");
            if cap.identifier.trim().is_empty() {
                errors.push(format!("{at}.identifier"), "must not be empty");
            } else if !seen.insert(cap.identifier.as_str()) {
                errors.push(
                    format!("{at}.identifier"),
                    format!("{:?} is used by an earlier capability", cap.identifier),
                );
            }
            if cap.windows.is_empty() {
                errors.push(
                    format!("{at}.windows"),
                    "must list at least one window label or glob",
                );
            }
            if cap.origins.is_empty() {
                errors.push(
                    format!("{at}.origins"),
                    "must list at least one origin, e.g. \"app://localhost\"",
                );
            }
            for (j, o) in cap.origins.iter().enumerate() {
                if let Err(e) = Origin::parse(o) {
                    errors.push(format!("{at}.origins[{j}]"), e.to_string());
                }
            }
            for (kind, rules) in [("commands", &cap.commands), ("events", &cap.events)] {
                for (j, rule) in rules.allow.iter().enumerate() {
                    let rp = format!("{at}.{kind}.allow[{j}]");
                    if !is_valid_name(&rule.name) {
                        errors.push(
                            format!("{rp}.name"),
                            format!(
                                "{:?} is not a name: 1-{MAX_NAME_LEN} characters from [A-Za-z0-9_.:|/-] (allow lists take exact names, no globs)",
                                rule.name
                            ),
                        );
                    }
                    check_paths(rule, cap, &rp, errors);
                }
            }
            for (name, scope) in &cap.scopes {
                let sp = format!("{at}.scopes.{name}");
                if scope.allow.is_empty() {
                    errors.push(format!("{sp}.allow"), "must list at least one path glob");
                }
                for (list, patterns) in [("allow", &scope.allow), ("deny", &scope.deny)] {
                    for (j, pat) in patterns.iter().enumerate() {
                        if !(pat.starts_with('/') || pat.starts_with('$')) {
                            errors.push(
                                format!("{sp}.{list}[{j}]"),
                                format!("{pat:?} must be absolute or start with a variable like \"$APPDATA/\""),
                            );
                        }
                        if pat.split('/').any(|c| c == "..") {
                            errors.push(format!("{sp}.{list}[{j}]"), "must not contain '..'");
                        }
                    }
                }
            }
        }
    }
}

/// The checks on one rule's `paths`. Each pointer must name a scope of this capability
/// and a value the rule's schema guarantees is a string, so an argument the page leaves
/// out, misnames or sends as another type is refused by the schema and can never switch
/// the scope check off. (The policy refuses such arguments again at run time.)
fn check_paths(rule: &Rule, cap: &Capability, rp: &str, errors: &mut ConfigErrors) {
    if rule.paths.is_empty() {
        return;
    }
    if rule.schema.is_none() {
        errors.push(
            format!("{rp}.paths"),
            "paths need a schema that declares each pointer as a required string, e.g. \
             {\"type\": \"object\", \"required\": [\"path\"], \"properties\": {\"path\": {\"type\": \"string\"}}}",
        );
    }
    if rule.bytes {
        errors.push(
            format!("{rp}.bytes"),
            "a rule with paths takes JSON arguments only: binary arguments carry no path to check (remove \"bytes\": true)",
        );
    }
    for (pointer, scope) in &rule.paths {
        let pp = format!("{rp}.paths.{pointer}");
        if !cap.scopes.contains_key(scope) {
            errors.push(
                &pp,
                format!("scope {scope:?} is not defined in this capability's \"scopes\""),
            );
        }
        let guaranteed = pointer_tokens(pointer).and_then(|tokens| match &rule.schema {
            Some(schema) => required_string(schema, pointer, &tokens),
            None => Ok(()),
        });
        if let Err(message) = guaranteed {
            errors.push(pp, message);
        }
    }
}

/// The reference tokens of a JSON pointer, unescaped (RFC 6901, sections 3 and 4): `""`
/// is the whole value and has none, `"/a~1b/c"` is `["a/b", "c"]`. A `~` must be
/// followed by `0` (for `~`) or `1` (for `/`).
fn pointer_tokens(pointer: &str) -> Result<Vec<String>, String> {
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = pointer.strip_prefix('/') else {
        return Err(format!(
            "{pointer:?} is not a JSON pointer: write \"/field\" (or \"\" for the whole arguments)"
        ));
    };
    rest.split('/')
        .map(|raw| {
            unescape_token(raw).ok_or_else(|| {
                format!(
                    "{pointer:?} is not a JSON pointer: \"~\" must be followed by 0 (for \"~\") or 1 (for \"/\")"
                )
            })
        })
        .collect()
}

fn unescape_token(raw: &str) -> Option<String> {
    let mut token = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '~' {
            token.push(c);
            continue;
        }
        match chars.next() {
            Some('0') => token.push('~'),
            Some('1') => token.push('/'),
            _ => return None,
        }
    }
    Some(token)
}

/// Whether `schema` guarantees a string at `pointer` (whose unescaped tokens are
/// `tokens`) in every value it accepts: each level on the way is `"type": "object"`,
/// declares the next token in `properties` and lists it in `required`, and the last
/// level is `"type": "string"`.
///
/// Only those keywords, written at the level itself, are read. Every keyword of a JSON
/// Schema must hold, so other keywords beside them can only narrow what is accepted,
/// except `$ref` and its dynamic kin (up to draft 7, `$ref` makes its siblings ignored):
/// a level that uses one is an error, and so is a level that states its type or
/// properties only inside `allOf`/`anyOf`/`oneOf`. The check never guesses; what it
/// cannot follow it refuses, saying so.
fn required_string(schema: &Value, pointer: &str, tokens: &[String]) -> Result<(), String> {
    let mut level = schema;
    for (depth, token) in tokens.iter().enumerate() {
        let here = schema_of(pointer, depth);
        let object = readable(level, pointer, &here)?;
        if !has_only_type(object, "object") {
            let fix = match object.get("type") {
                Some(t) if t == "array" => format!(
                    "{here} is \"type\": \"array\"; paths name object properties, not array items"
                ),
                Some(t) => format!("{here} must be \"type\": \"object\", not {t}"),
                None => match combinator(object) {
                    Some(k) => format!(
                        "{here} states its type only inside {k:?}, which this check does not follow: write \"type\": \"object\" beside it"
                    ),
                    None => format!(
                        "{here} needs \"type\": \"object\" (without it, arguments that are not objects pass with no {token:?})"
                    ),
                },
            };
            return Err(format!("{pointer:?}: {fix}"));
        }
        let properties = match object.get("properties") {
            Some(Value::Object(p)) => p,
            Some(_) => {
                return Err(format!(
                    "{pointer:?}: \"properties\" of {here} is not an object"
                ));
            }
            None => {
                return Err(match combinator(object) {
                    Some(k) => format!(
                        "{pointer:?}: {here} declares its properties only inside {k:?}, which this check does not follow: declare {token:?} in \"properties\" beside it"
                    ),
                    None => format!(
                        "{pointer:?} names no property of {here} (it has no \"properties\")"
                    ),
                });
            }
        };
        let Some(next) = properties.get(token) else {
            let names: Vec<String> = properties.keys().map(|k| format!("{k:?}")).collect();
            let names = if names.is_empty() {
                "none".to_owned()
            } else {
                names.join(", ")
            };
            return Err(format!(
                "{pointer:?} names no property of {here} (its properties: {names})"
            ));
        };
        let required = object
            .get("required")
            .and_then(Value::as_array)
            .is_some_and(|r| r.iter().any(|name| name.as_str() == Some(token)));
        if !required {
            return Err(format!(
                "{pointer:?} names an optional property: add {token:?} to \"required\" of {here}"
            ));
        }
        level = next;
    }
    let here = schema_of(pointer, tokens.len());
    let object = readable(level, pointer, &here)?;
    if has_only_type(object, "string") {
        return Ok(());
    }
    let found = match (object.get("type"), combinator(object)) {
        (Some(t), _) => format!("{here} is \"type\": {t}"),
        (None, Some(k)) => {
            format!("{here} states its type only inside {k:?}, which this check does not follow")
        }
        (None, None) => format!("{here} has no \"type\""),
    };
    Err(format!(
        "{pointer:?}: {found}; a path argument must be \"type\": \"string\""
    ))
}

/// How messages name the subschema for the first `depth` tokens of `pointer`.
fn schema_of(pointer: &str, depth: usize) -> String {
    if depth == 0 {
        return "the schema".to_owned();
    }
    let prefix: Vec<&str> = pointer.split('/').take(depth + 1).collect();
    format!("the schema of {:?}", prefix.join("/"))
}

/// `schema` as an object whose keywords can be read with certainty.
fn readable<'a>(
    schema: &'a Value,
    pointer: &str,
    here: &str,
) -> Result<&'a serde_json::Map<String, Value>, String> {
    let Value::Object(object) = schema else {
        // `true` accepts anything and `false` nothing: neither states a type.
        return Err(format!(
            "{pointer:?}: {here} is {schema}, not an object schema stating a \"type\""
        ));
    };
    match ["$ref", "$dynamicRef", "$recursiveRef"]
        .into_iter()
        .find(|k| object.contains_key(*k))
    {
        Some(k) => Err(format!(
            "{pointer:?}: {here} uses {k:?}, which this check does not follow: write that schema out inline"
        )),
        None => Ok(object),
    }
}

/// Whether `schema` says `"type": ty` or `"type": [ty]`, and nothing else.
fn has_only_type(schema: &serde_json::Map<String, Value>, ty: &str) -> bool {
    match schema.get("type") {
        Some(Value::String(t)) => t == ty,
        Some(Value::Array(types)) => matches!(types.as_slice(), [Value::String(t)] if t == ty),
        _ => false,
    }
}

/// The first combinator keyword of `schema`, whose subschemas this check does not read.
fn combinator(schema: &serde_json::Map<String, Value>) -> Option<&'static str> {
    ["allOf", "anyOf", "oneOf"]
        .into_iter()
        .find(|k| schema.contains_key(*k))
}

impl Limits {
    fn check(&self, errors: &mut ConfigErrors) {
        let p = "app.security.limits";
        if !(1024..=256 << 20).contains(&self.max_message_bytes) {
            errors.push(
                format!("{p}.maxMessageBytes"),
                "must be between 1024 and 268435456",
            );
        }
        if !(1..=128).contains(&self.max_depth) {
            errors.push(format!("{p}.maxDepth"), "must be between 1 and 128");
        }
        if !(1..=600_000).contains(&self.hook_timeout_ms) {
            errors.push(format!("{p}.hookTimeoutMs"), "must be between 1 and 600000");
        }
        if !(64..=65536).contains(&self.replay_window) {
            errors.push(format!("{p}.replayWindow"), "must be between 64 and 65536");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> ConfigError {
        Config::from_json(text).unwrap_err().0.remove(0)
    }

    const MINIMAL: &str =
        r#"{"app":{"security":{"pattern":{"use":"isolation","options":{"dir":"isolation-app"}}}}}"#;

    #[test]
    fn minimal_isolation_config_has_defaults_and_no_capabilities() {
        let c = Config::from_json(MINIMAL).unwrap();
        assert!(c.isolation());
        assert!(c.app.security.capabilities.is_empty());
        assert_eq!(c.app.security.limits, Limits::default());
    }

    #[test]
    fn brownfield_is_isolation_off() {
        let c =
            Config::from_json(r#"{"app":{"security":{"pattern":{"use":"brownfield"}}}}"#).unwrap();
        assert!(!c.isolation());
    }

    #[test]
    fn unknown_field_names_its_path() {
        let e = err(r#"{"app":{"security":{"pattern":{"use":"brownfield"},"capabilites":[]}}}"#);
        assert_eq!(e.path, "app.security.capabilites");
        assert!(
            e.message.contains("unknown field `capabilites`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn unknown_pattern_names_its_path() {
        let e = err(r#"{"app":{"security":{"pattern":{"use":"open"}}}}"#);
        assert_eq!(e.path, "app.security.pattern.use");
        assert!(
            e.message.contains("unknown variant `open`"),
            "{}",
            e.message
        );
    }

    #[test]
    fn rule_accepts_string_or_object() {
        let text = r#"{"app":{"security":{"pattern":{"use":"brownfield"},"capabilities":[{
            "identifier":"c","windows":["main"],"origins":["app://localhost"],
            "commands":{"allow":["a",{"name":"b","schema":{"type":"object"},"bytes":true}]}}]}}}"#;
        let c = Config::from_json(text).unwrap();
        let allow = &c.app.security.capabilities[0].commands.allow;
        assert_eq!(allow[0].name, "a");
        assert!(allow[1].schema.is_some() && allow[1].bytes);
    }

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

    /// A brownfield config whose one capability allows `rule`, with a scope "docs".
    fn with_rule(rule: Value) -> String {
        serde_json::json!({"app": {"security": {"pattern": {"use": "brownfield"},
            "capabilities": [{"identifier": "c", "windows": ["main"], "origins": ["app://localhost"],
                "commands": {"allow": [rule]}, "scopes": {"docs": {"allow": ["/srv/docs/**"]}}}]}}})
        .to_string()
    }

    /// The errors for a rule that checks `pointer` against "docs" under `schema`.
    fn paths_errors(schema: Value, pointer: &str) -> Vec<ConfigError> {
        let rule =
            serde_json::json!({"name": "fs.read", "schema": schema, "paths": {pointer: "docs"}});
        match Config::from_json(&with_rule(rule)) {
            Ok(_) => Vec::new(),
            Err(e) => e.0,
        }
    }

    #[test]
    fn paths_may_name_required_strings_nested_and_escaped() {
        use serde_json::json;
        let string = json!({"type": "string"});
        let object = |name: &str, of: &Value| json!({"type": "object", "required": [name], "properties": {name: of}});
        for (schema, pointer) in [
            (object("path", &string), "/path"),
            (
                object("path", &json!({"type": ["string"], "minLength": 1})),
                "/path",
            ),
            (object("a", &object("b", &string)), "/a/b"),
            (
                json!({"type": ["object"], "required": ["a/b"], "properties": {"a/b": string}}),
                "/a~1b",
            ),
            (object("~t", &string), "/~0t"),
            (object("", &string), "/"),
            (string.clone(), ""),
            // Keywords beside the ones read can only narrow what is accepted.
            (
                json!({"type": "object", "required": ["path"], "additionalProperties": false,
                    "properties": {"path": {"type": "string", "pattern": "^/"}},
                    "anyOf": [{"required": ["x"]}, {"required": ["y"]}]}),
                "/path",
            ),
        ] {
            assert_eq!(
                paths_errors(schema.clone(), pointer),
                [],
                "{pointer:?} in {schema}"
            );
        }
    }

    #[test]
    fn paths_must_name_required_strings_of_the_schema() {
        use serde_json::json;
        let path = json!({"type": "object", "required": ["path"], "properties": {"path": {"type": "string"}}});
        let cases = [
            (
                path.clone(),
                "/pth",
                "\"/pth\" names no property of the schema (its properties: \"path\")",
            ),
            (
                json!({"type": "object", "properties": {"path": {"type": "string"}}}),
                "/path",
                "\"/path\" names an optional property: add \"path\" to \"required\" of the schema",
            ),
            (
                json!({"type": "object", "required": ["size"], "properties": {"size": {"type": "integer"}}}),
                "/size",
                "\"/size\": the schema of \"/size\" is \"type\": \"integer\"; a path argument must be \"type\": \"string\"",
            ),
            (
                json!({"type": "object", "required": ["p"], "properties": {"p": {"type": ["string", "null"]}}}),
                "/p",
                "is \"type\": [\"string\",\"null\"]; a path argument must be \"type\": \"string\"",
            ),
            (
                json!({"type": "object", "required": ["p"], "properties": {"p": {}}}),
                "/p",
                "the schema of \"/p\" has no \"type\"; a path argument must be",
            ),
            (
                json!({"type": "object", "required": ["p"], "properties": {"p": true}}),
                "/p",
                "the schema of \"/p\" is true, not an object schema",
            ),
            (
                path.clone(),
                "",
                "\"\": the schema is \"type\": \"object\"; a path argument must be \"type\": \"string\"",
            ),
            (
                json!({"required": ["path"], "properties": {"path": {"type": "string"}}}),
                "/path",
                "the schema needs \"type\": \"object\" (without it, arguments that are not objects pass with no \"path\")",
            ),
            (
                json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "object", "properties": {"b": {"type": "string"}}}}}),
                "/a/b",
                "\"/a/b\" names an optional property: add \"b\" to \"required\" of the schema of \"/a\"",
            ),
            (
                json!({"type": "object", "required": ["a"], "properties": {"a": {"type": "array", "items": {"type": "string"}}}}),
                "/a/0",
                "the schema of \"/a\" is \"type\": \"array\"; paths name object properties, not array items",
            ),
            (
                json!({"$defs": {"p": {"type": "string"}}, "type": "object", "required": ["p"], "properties": {"p": {"$ref": "#/$defs/p"}}}),
                "/p",
                "the schema of \"/p\" uses \"$ref\", which this check does not follow",
            ),
            (
                json!({"$ref": "#/$defs/o", "$defs": {"o": path}}),
                "/path",
                "the schema uses \"$ref\", which this check does not follow",
            ),
            (
                json!({"type": "object", "allOf": [{"required": ["path"], "properties": {"path": {"type": "string"}}}]}),
                "/path",
                "the schema declares its properties only inside \"allOf\", which this check does not follow",
            ),
            (
                json!({"oneOf": [{"type": "object"}]}),
                "/path",
                "the schema states its type only inside \"oneOf\", which this check does not follow",
            ),
            (
                json!({"type": "object", "required": ["p"], "properties": {"p": {"anyOf": [{"type": "string"}]}}}),
                "/p",
                "the schema of \"/p\" states its type only inside \"anyOf\"",
            ),
            (
                json!({"type": "object", "required": ["p"], "properties": []}),
                "/p",
                "\"properties\" of the schema is not an object",
            ),
            (
                json!({"type": "object", "required": ["p"], "properties": {}}),
                "/p",
                "names no property of the schema (its properties: none)",
            ),
            (
                path.clone(),
                "/a~2b",
                "\"/a~2b\" is not a JSON pointer: \"~\" must be followed by 0",
            ),
            (
                path,
                "path",
                "\"path\" is not a JSON pointer: write \"/field\"",
            ),
        ];
        for (schema, pointer, phrase) in cases {
            let errs = paths_errors(schema.clone(), pointer);
            let at = format!("app.security.capabilities[0].commands.allow[0].paths.{pointer}");
            assert_eq!(errs.len(), 1, "{pointer:?} in {schema}: {errs:#?}");
            assert_eq!(errs[0].path, at);
            assert!(
                errs[0].message.contains(phrase),
                "{:?} lacks {phrase:?}",
                errs[0].message
            );
        }
    }

    #[test]
    fn paths_need_a_schema_and_json_arguments() {
        use serde_json::json;
        let rp = "app.security.capabilities[0].commands.allow[0]";
        let e = Config::from_json(&with_rule(
            json!({"name": "fs.read", "paths": {"/path": "docs"}}),
        ))
        .unwrap_err()
        .0;
        assert_eq!(e.len(), 1, "{e:#?}");
        assert_eq!(e[0].path, format!("{rp}.paths"));
        assert!(
            e[0].message
                .contains("paths need a schema that declares each pointer as a required string")
        );
        let e = Config::from_json(&with_rule(json!({"name": "fs.read", "bytes": true, "paths": {"/path": "docs"},
            "schema": {"type": "object", "required": ["path"], "properties": {"path": {"type": "string"}}}})))
        .unwrap_err()
        .0;
        assert_eq!(e.len(), 1, "{e:#?}");
        assert_eq!(e[0].path, format!("{rp}.bytes"));
        assert!(e[0].message.contains("binary arguments carry no path"));
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let e = err(r#"{"app":{"security":{"pattern":{"use":"brownfield"},"csp":"a","csp":"b"}}}"#);
        assert!(e.message.contains("duplicate key"), "{}", e.message);
    }
}
