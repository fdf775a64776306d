//! `app.security.limits`: the size, depth, time and buffering bounds, and their
//! defaults.
//!
//! The invariant: every field has a default (a config may leave out any of them or the
//! whole section), and the defaults are inside the ranges `check.rs` enforces, so a
//! config without limits always loads. This file depends on nothing else in `config`.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
    /// How long a command may run, in ms, unless its rule says otherwise (1-86400000;
    /// default 30000). Past it the call fails with `E_TIMEOUT` and its handler is
    /// cancelled.
    pub call_timeout_ms: u32,
    /// The most bytes of stream chunks the core holds for one webview at once, waiting
    /// for its handlers to take them (at least `maxMessageBytes`, at most 4 GiB; default
    /// 128 MiB). A data chunk past it is refused before it is kept (`E_TOO_LARGE`).
    pub max_buffered_stream_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_message_bytes: 8 << 20,
            max_depth: 32,
            hook_timeout_ms: 5000,
            replay_window: 1024,
            call_timeout_ms: 30_000,
            max_buffered_stream_bytes: 128 << 20,
        }
    }
}
