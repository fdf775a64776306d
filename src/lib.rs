//! Portcullis, the IPC security layer for Rust webview apps: the one crate an app depends
//! on.
//!
//! - At the root, everything of `portcullis-core`: the [`Gate`] that opens sealed
//!   messages and checks them against the allowlist, the [`Router`] of handlers, the
//!   [`Config`], the error codes. It knows nothing of webviews.
//! - [`webview`] (feature `webview`, on by default): the wry integration,
//!   `portcullis-wry`, which sets a webview up with the isolation frame, the transport
//!   and the page-load tracking (`webview::Portcullis::builder`).
//!
//! `docs/ARCHITECTURE.md` follows one message through both; `docs/EMBEDDING.md` shows an
//! app using them.

#![forbid(unsafe_code)]

pub use portcullis_core::*;

/// The wry integration (`portcullis-wry`).
#[cfg(feature = "webview")]
pub use portcullis_wry as webview;
