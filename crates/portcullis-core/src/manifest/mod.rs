//! The app's command manifest: every name the router serves, and for the handlers
//! registered typed (`Router::command_typed` and its siblings) the JSON Schemas of what
//! they take and give.
//!
//! It is data, written by the app (`Router::manifest`) and read by tools: the bindings
//! generator of `portcullis-wry` turns it into the page's TypeScript types, and
//! [`drift`] compares it with the config's allow rules (`portcullis check --manifest`,
//! `Portcullis::build` in debug builds). Every map is a `BTreeMap`: the same router
//! gives the same bytes.
//!
//! Schemas are JSON Schema 2020-12 as `schemars` writes them; a named type is a
//! `{"$ref": "#/$defs/Name"}` into [`Manifest::definitions`].

pub mod drift;
pub mod schema;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The format version [`Manifest::version`] holds.
pub const MANIFEST_VERSION: u32 = 1;

/// Every command, stream and event of one app, with the types of its typed handlers.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The format version ([`MANIFEST_VERSION`]).
    pub version: u32,
    /// Commands, by name.
    pub commands: BTreeMap<String, Signature>,
    /// Stream handlers, by the name `openStream` opens; their `args` is the metadata.
    pub streams: BTreeMap<String, Signature>,
    /// Events the page emits to the core's listeners, by name: the payload's schema,
    /// `None` for an untyped listener.
    pub events: BTreeMap<String, Option<Value>>,
    /// Events the core emits to pages (declared with `Router::emits`), by name: the
    /// payload's schema.
    pub emits: BTreeMap<String, Value>,
    /// The named types the schemas refer to (`#/$defs/Name`).
    pub definitions: BTreeMap<String, Value>,
}

/// What one handler takes and gives.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// Whether its types were recorded; an untyped handler gives only its name, and
    /// every other field keeps its default.
    pub typed: bool,
    /// Its arguments (a stream's metadata).
    pub args: Shape,
    /// Its result (a stream's: the answer to the stream's end).
    pub result: Shape,
    /// Its error, when it can fail with the app's own error type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorShape>,
    /// The message schema of each `Channel<T>` it takes, in the order it takes them.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<Value>,
}

/// The shape of arguments or a result.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Shape {
    /// Not known (an untyped handler, or one that takes the body as it came): any JSON
    /// or bytes.
    #[default]
    Any,
    /// Nothing: a handler that takes no arguments, or returns `()`.
    None,
    /// JSON of this schema.
    Json(Value),
    /// Bytes (`Bytes` taken, `Vec<u8>` or `Bytes` returned).
    Bytes,
}

/// What a handler's `Err` carries to the page (`E_HANDLER`, `appCode`, `data`).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ErrorShape {
    /// The app's codes it may carry (`error.appCode`); empty when not declared.
    pub app_codes: Vec<String>,
    /// The schema of its data (`error.data`).
    pub data: Value,
}

impl Manifest {
    /// The manifest as pretty JSON with a final newline: the file an app commits.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Reads a manifest written by [`Manifest::to_json`].
    pub fn from_json(text: &str) -> Result<Manifest, String> {
        let manifest: Manifest =
            serde_json::from_str(text).map_err(|e| format!("not a command manifest: {e}"))?;
        if manifest.version != MANIFEST_VERSION {
            return Err(format!(
                "command manifest version {} (this Portcullis reads {MANIFEST_VERSION}): regenerate it",
                manifest.version
            ));
        }
        Ok(manifest)
    }
}
