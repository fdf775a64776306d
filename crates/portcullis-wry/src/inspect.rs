//! Looking at a page from outside, for tests, demos and tooling, on every platform: its
//! console output on stdout, and a PNG of what the engine rendered.
//!
//! Where the engine offers neither through wry ([`crate::engine`]), console forwarding
//! does nothing, and a snapshot reports that it is not supported.

use std::path::Path;

use wry::WebView;

use crate::engine::{Current, Platform as _};

/// Makes the page's `console.*` output appear on this process's stdout, where the engine
/// has such a switch through wry (WebKitGTK); does nothing elsewhere.
pub fn forward_console_to_stdout(webview: &WebView) {
    Current::forward_console_to_stdout(webview);
}

/// Writes a PNG of the visible page to `path`, then calls `done` with the outcome. Where
/// the engine offers no snapshot through wry, `done` is called at once with an error
/// saying so.
pub fn snapshot_png(
    webview: &WebView,
    path: &Path,
    done: impl FnOnce(Result<(), String>) + 'static,
) {
    Current::snapshot_png(webview, path, done);
}
