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
//!
//! This file holds the config's types and [`Config::from_json`]; the rest is in files of
//! their own, each re-exported here so `crate::config::*` paths stay as they were:
//! `error.rs` (the errors a load reports), `limits.rs` (`app.security.limits` and its
//! defaults), `check.rs` and `paths.rs` (the checks after the structure parsed).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::json::JsonError;

mod check;
pub use check::dev_server;
mod error;
mod handler;
pub use error::{ConfigError, ConfigErrorKind, ConfigErrors};
pub use handler::{HANDLER_SCHEMA, is_handler_schema};
mod limits;
pub use limits::Limits;
mod paths;

/// The whole config file.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Optional JSON Schema reference for editors.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Where the frontend comes from (a built directory, a dev server). Optional: an
    /// embedder may hand the frontend to the builder itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub build: Option<BuildConfig>,
    /// The app section.
    pub app: AppConfig,
}

/// `build`, in Tauri's spirit: the built frontend, and a dev server for debug builds.
#[derive(Clone, Debug, Default, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct BuildConfig {
    /// The built frontend (its `index.html` and assets), relative to the config file.
    /// Debug builds read it at run time; release builds serve the copy embedded in the
    /// binary, and refuse to start without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontend_dist: Option<PathBuf>,
    /// A dev server (`http://localhost:5173`) that debug builds serve the frontend from,
    /// under the app's own origin, CSP, isolation frame and allowlist. Plain `http` on a
    /// loopback host only; release builds never use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dev_url: Option<String>,
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
    /// Applies only to windows the app granted it to at run time
    /// (`Grants::grant`, e.g. after the user signed in), until it is revoked. Its deny
    /// lists apply whether it is granted or not.
    #[serde(
        default,
        rename = "runtimeGrant",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub runtime_grant: bool,
    /// Commands.
    #[serde(default)]
    pub commands: Rules,
    /// Frontend-to-core events.
    #[serde(default)]
    pub events: Rules,
    /// Frontend-to-core streams (`openStream(name, meta)`): the schema checks the
    /// metadata, `maxBytes` bounds the stream's total bytes.
    #[serde(default)]
    pub streams: Rules,
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
    /// How long a command may run, in ms, when not `limits.callTimeoutMs` (commands
    /// only; 1-86400000).
    #[serde(rename = "timeoutMs", skip_serializing_if = "Option::is_none")]
    pub timeout_ms: Option<u32>,
    /// The most bytes a stream may carry in all its chunks (streams only).
    #[serde(rename = "maxBytes", skip_serializing_if = "Option::is_none")]
    pub max_bytes: Option<u64>,
}

/// The object form of a rule.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RuleObject {
    /// The exact command or event name.
    name: String,
    /// JSON Schema the arguments (payload) must satisfy, or "handler": the schema of its
    /// handler's type, from the app's command manifest (filled in at build).
    #[serde(default)]
    schema: Option<Value>,
    /// Whether a raw bytes body (Uint8Array/ArrayBuffer) is allowed instead of JSON.
    #[serde(default)]
    bytes: bool,
    /// Path arguments: JSON pointer into the arguments → name of a scope of this capability.
    /// Each pointer must name a required string property of `schema`.
    #[serde(default)]
    paths: BTreeMap<String, String>,
    /// How long this command may run, in ms, when not `limits.callTimeoutMs`: past it the
    /// call fails with E_TIMEOUT and its handler is cancelled (commands only; 1-86400000).
    #[serde(default, rename = "timeoutMs")]
    timeout_ms: Option<u32>,
    /// The most bytes a stream may carry in all its chunks; past it the stream is
    /// refused with E_TOO_LARGE and its handler sees the stream break (streams only).
    #[serde(default, rename = "maxBytes")]
    max_bytes: Option<u64>,
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
                { "type": "string", "pattern": crate::name::NAME_PATTERN },
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
                    "a command name or an object {\"name\", \"schema\", \"bytes\", \"paths\", \"timeoutMs\", \"maxBytes\"}",
                )
            }
            fn visit_str<E: de::Error>(self, name: &str) -> Result<Rule, E> {
                Ok(Rule {
                    name: name.to_owned(),
                    schema: None,
                    bytes: false,
                    paths: BTreeMap::new(),
                    timeout_ms: None,
                    max_bytes: None,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Rule, A::Error> {
                let o = RuleObject::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Rule {
                    name: o.name,
                    schema: o.schema,
                    bytes: o.bytes,
                    paths: o.paths,
                    timeout_ms: o.timeout_ms,
                    max_bytes: o.max_bytes,
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
    /// Paths inside the scope. Required; `[]` is a scope that holds only the paths the
    /// app adds for one window at run time (`Grants::allow_path`).
    pub allow: Vec<String>,
    /// Paths carved out of it; a deny wins.
    #[serde(default)]
    pub deny: Vec<String>,
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
                let (kind, message) = match e {
                    JsonError::TooDeep { limit } => (
                        ConfigErrorKind::TooDeep,
                        format!("nests deeper than {limit} levels"),
                    ),
                    e @ JsonError::DuplicateKey { .. } => {
                        (ConfigErrorKind::DuplicateKey, format!("invalid JSON: {e}"))
                    }
                    other => (ConfigErrorKind::Syntax, format!("invalid JSON: {other}")),
                };
                errors.push(path, kind, message);
                return Err(errors);
            }
        };
        let config: Config = match serde_path_to_error::deserialize(value) {
            Ok(c) => c,
            Err(e) => {
                let path = e.path().to_string();
                let message = e.into_inner().to_string();
                errors.push(path, shape_kind(&message), in_json_terms(&message));
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
}

/// serde's message in the words of JSON, not of the Rust types the config is read into
/// ("expected u32" is "expected a whole number").
fn in_json_terms(message: &str) -> String {
    const TERMS: &[(&str, &str)] = &[
        ("expected u8", "expected a whole number"),
        ("expected u16", "expected a whole number"),
        ("expected u32", "expected a whole number"),
        ("expected u64", "expected a whole number"),
        ("expected usize", "expected a whole number"),
        ("expected i64", "expected a whole number"),
        ("expected f64", "expected a number"),
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected an object"),
        ("expected a borrowed string", "expected a string"),
        ("integer `", "number `"),
        ("sequence,", "array,"),
        ("map,", "object,"),
    ];
    let mut out = message.to_owned();
    for (rust, json) in TERMS {
        out = out.replace(rust, json);
    }
    // `expected struct Limits` and the like: the member is an object.
    if let Some(i) = out.find("expected struct ") {
        out.truncate(i);
        out.push_str("expected an object");
    }
    out
}

/// The kind of a structural error serde reported. serde's messages are the only place
/// it says which rule was broken (its error type has no kinds), so this one function
/// reads them, in serde's documented wording, for every caller.
fn shape_kind(message: &str) -> ConfigErrorKind {
    if message.starts_with("unknown field") {
        ConfigErrorKind::UnknownField
    } else if message.starts_with("unknown variant") {
        ConfigErrorKind::UnknownVariant
    } else {
        ConfigErrorKind::Shape
    }
}

#[cfg(test)]
mod tests;
