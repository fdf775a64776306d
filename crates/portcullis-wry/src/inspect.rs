//! Looking at a page from outside, for tests, demos and tooling, on every platform: its
//! console output on stdout, and a PNG of what the engine rendered.
//!
//! Only WebKitGTK offers either through wry ([`crate::linux`]). Elsewhere console
//! forwarding does nothing, and a snapshot reports that it is not supported.

use std::path::Path;

use wry::WebView;

/// Makes the page's `console.*` output appear on this process's stdout. Does nothing
/// outside Linux: WebView2 and WKWebView have no such switch through wry.
pub fn forward_console_to_stdout(webview: &WebView) {
    #[cfg(target_os = "linux")]
    crate::linux::forward_console_to_stdout(webview);
    #[cfg(not(target_os = "linux"))]
    let _ = webview;
}

/// Writes a PNG of the visible page to `path`, then calls `done` with the outcome.
/// Outside Linux, `done` is called at once with an error saying snapshots are not
/// supported there.
pub fn snapshot_png(
    webview: &WebView,
    path: &Path,
    done: impl FnOnce(Result<(), String>) + 'static,
) {
    #[cfg(target_os = "linux")]
    crate::linux::snapshot_png(webview, path, done);
    #[cfg(not(target_os = "linux"))]
    {
        let _ = (webview, path);
        done(Err(
            "PNG snapshots need WebKitGTK: not supported on this platform".to_owned(),
        ));
    }
}
