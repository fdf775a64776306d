//! WebKitGTK extras for tests and demos: console output to stdout, and PNG snapshots of a
//! page as WebKit rendered it.

use std::path::Path;

use webkit2gtk::{SettingsExt, SnapshotOptions, SnapshotRegion, WebViewExt};
use wry::WebView;
use wry::WebViewExtUnix;

/// Makes the page's `console.*` output appear on this process's stdout.
pub fn forward_console_to_stdout(webview: &WebView) {
    if let Some(settings) = WebViewExt::settings(&webview.webview()) {
        settings.set_enable_write_console_messages_to_stdout(true);
    }
}

/// Turns off WebKit's back/forward page cache: a page restored from it would keep an
/// isolation frame whose session the navigation revoked.
pub fn disable_page_cache(webview: &WebView) {
    if let Some(settings) = WebViewExt::settings(&webview.webview()) {
        settings.set_enable_page_cache(false);
    }
}

/// Writes a PNG of the visible page to `path`, then calls `done` with the outcome.
pub fn snapshot_png(
    webview: &WebView,
    path: &Path,
    done: impl FnOnce(Result<(), String>) + 'static,
) {
    let path = path.to_path_buf();
    webview.webview().snapshot(
        SnapshotRegion::Visible,
        SnapshotOptions::NONE,
        None::<&gio::Cancellable>,
        move |result| {
            let outcome = result.map_err(|e| e.to_string()).and_then(|surface| {
                let image = cairo::ImageSurface::try_from(surface)
                    .map_err(|_| "not an image surface".to_owned())?;
                let mut file =
                    std::fs::File::create(&path).map_err(|e| format!("{}: {e}", path.display()))?;
                image.write_to_png(&mut file).map_err(|e| e.to_string())
            });
            done(outcome);
        },
    );
}
