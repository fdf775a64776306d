//! The protocol's constants as the scripts receive them: one JSON object, handed over as
//! data when the webview is set up, never written into the scripts' code.
//!
//! The object ([`data`]) is the core's wire constants
//! (`portcullis_core::wire::constants::for_scripts`: kinds, body types, reserved names,
//! chunk operations, the stream window, channel frame types, the envelope's layout) with
//! what the scripts also need from elsewhere: the longest abort reason and report message
//! the core keeps, the channel argument's prefix, and this crate's transport (the ipc://
//! URL, the channel pull URL, the inline reply header, the native handler's name, and
//! the header a message travels in where the engine's request bodies are not read). It reaches
//! - the bridge as `protocol` in its config (`builder.rs`);
//! - the isolation app's modules as `PROTOCOL`, exported by `./protocol.js`, a module
//!   whose one statement exports the object ([`module`]). The isolation document links
//!   it before the modules that import it (`link.rs`), and both `isolation://` and (for
//!   brownfield mode) `app://` serve it at `/__portcullis/protocol.js`.
//!
//! The repository keeps the same module as `isolation-app/protocol.js`, so that the
//! modules run outside a webview too (Node's tests import `sealer.js`, which imports
//! it). A test below fails when that file is not what [`module`] writes; run
//! `PORTCULLIS_BLESS=1 cargo test -p portcullis-wry --lib protocol` to write it again.
//! Another fails when a shipped script states one of these constants itself.

use std::sync::OnceLock;

use portcullis_core::wire::chunk::MAX_REASON;
use portcullis_core::wire::report::MAX_REPORT_MESSAGE;

use crate::engine::{CURRENT, Engine, Served};
use crate::transport::http::BODY_HEADER;
use crate::transport::{CHANNEL_PATH, INLINE_REPLY, NATIVE_HANDLER};

/// The object the scripts receive in this build ([`CURRENT`]'s).
pub fn data() -> &'static serde_json::Value {
    static DATA: OnceLock<serde_json::Value> = OnceLock::new();
    DATA.get_or_init(|| data_for(CURRENT))
}

/// The object the scripts would receive on `engine` (for `portcullis check --platform`).
pub fn data_for(engine: Engine) -> serde_json::Value {
    {
        let mut data = portcullis_core::wire::constants::for_scripts();
        if let Some(object) = data.as_object_mut() {
            object.insert("maxReason".into(), MAX_REASON.into());
            object.insert("maxReportMessage".into(), MAX_REPORT_MESSAGE.into());
            object.insert(
                "channelPrefix".into(),
                portcullis_core::channel::CHANNEL_PREFIX.into(),
            );
            let mut transport = serde_json::json!({
                "ipcUrl": engine.url(Served::Ipc, "/"),
                "channelUrl": engine.url(Served::Ipc, CHANNEL_PATH),
                "replyHeader": INLINE_REPLY,
                "nativeHandler": NATIVE_HANDLER,
            });
            if !engine.reads_request_bodies() {
                transport["bodyHeader"] = BODY_HEADER.into();
            }
            object.insert("transport".into(), transport);
        }
        data
    }
}

/// What the module says about itself, before its one statement.
const HEADER: &str = "\
// The protocol's constants, as Rust defines them (portcullis-wry's src/protocol.rs, from
// portcullis_core::wire::constants): the isolation app's modules import them from here,
// and the bridge gets the same object in its config.
//
// Written by Rust, which serves this text to the webview: do not edit. A test fails when
// this file differs from what Rust writes; to write it again, run
// `PORTCULLIS_BLESS=1 cargo test -p portcullis-wry --lib protocol`.
";

/// `./protocol.js`: the module that exports [`data`] as `PROTOCOL`.
pub fn module() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| module_for(CURRENT))
}

/// `./protocol.js` as `engine` would be served it.
pub fn module_for(engine: Engine) -> String {
    // Printing a Value cannot fail.
    let json = serde_json::to_string_pretty(&data_for(engine)).unwrap_or_default();
    format!("{HEADER}export const PROTOCOL = {json};\n")
}

#[cfg(test)]
mod tests;
