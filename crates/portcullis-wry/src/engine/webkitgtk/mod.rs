//! WebKitGTK (Linux), the engine Portcullis is verified on end to end.
//!
//! - Custom schemes are real schemes (`app://localhost`), registered by wry with WebKit's
//!   URI-scheme API; they are secure contexts, so `crypto.subtle` works in the sandboxed
//!   isolation frame.
//! - Init scripts run in the main frame only (`for_main_only`).
//! - WebKit's back/forward page cache is switched off on every webview ([`disable_page_cache`]):
//!   a page restored from it would keep an isolation frame whose session the navigation
//!   revoked.
//! - A page load is wry's `Started` (WebKit's `load-changed` started) in the main frame.
//! - `window.webkit.messageHandlers.ipc` exists in every frame, cross-origin ones too,
//!   and reaches wry's IPC handler with the top page's URL: only the cryptography tells a
//!   sealed message from a forged one.
//! - Messages travel through a script message handler with replies ([`native`],
//!   WebKitGTK 2.40 and later) unless the app chose fetch. Request bodies of
//!   custom-scheme requests are never read: wry's only reader (its `linux-body` feature,
//!   which this crate leaves off) crashes the process inside WebKitGTK on a `Blob` body,
//!   so a message sent by fetch travels in a request header (`transport::http`).
//! - Console forwarding and snapshots are WebKit's own ([`forward_console_to_stdout`],
//!   [`snapshot_png`]).

use std::path::Path;
use std::rc::Rc;

use webkit2gtk::{SettingsExt, SnapshotOptions, SnapshotRegion, WebViewExt};
use wry::{PageLoadEvent, WebView, WebViewBuilder, WebViewExtUnix};

use super::{Engine, Platform};

// The crate's one module with unsafe code: WebKit's C API for the handler with replies.
#[allow(unsafe_code)]
pub mod native;
use crate::{Error, Portcullis};

/// The WebKitGTK engine module.
pub(crate) struct WebKitGtk;

impl Platform for WebKitGtk {
    const ENGINE: Engine = Engine::WebKitGtk;

    fn prepare(builder: WebViewBuilder<'_>) -> WebViewBuilder<'_> {
        builder
    }

    fn top_frame_script(script: String) -> String {
        // wry's `for_main_only` holds here.
        script
    }

    fn protect(webview: &WebView) -> Result<(), Error> {
        disable_page_cache(webview)
    }

    fn is_new_page_load(event: &PageLoadEvent) -> bool {
        matches!(event, PageLoadEvent::Started)
    }

    fn has_native_transport() -> bool {
        native::available()
    }

    fn attach_native_transport(
        webview: &WebView,
        shared: &std::sync::Arc<crate::Shared>,
        label: &str,
    ) -> Result<(), Error> {
        native::attach(webview, shared, label)
    }

    fn forward_console_to_stdout(webview: &WebView) {
        forward_console_to_stdout(webview);
    }

    fn snapshot_png(
        webview: &WebView,
        path: &Path,
        done: impl FnOnce(Result<(), String>) + 'static,
    ) {
        snapshot_png(webview, path, done);
    }
}

impl Portcullis {
    /// Like [`Portcullis::build_webview_at`], inside a GTK container (wry's `build_gtk`,
    /// the way that works on Wayland as well as X11), with every protection. Linux only.
    pub fn build_webview_gtk<C: gtk::prelude::IsA<gtk::Container>>(
        &self,
        label: &str,
        url: &str,
        builder: WebViewBuilder<'_>,
        container: &C,
    ) -> Result<Rc<WebView>, Error> {
        use wry::WebViewBuilderExtUnix as _;
        self.finish(label, url, builder, |b| b.build_gtk(container))
    }
}

/// Makes the page's `console.*` output appear on this process's stdout.
pub fn forward_console_to_stdout(webview: &WebView) {
    if let Some(settings) = WebViewExt::settings(&webview.webview()) {
        settings.set_enable_write_console_messages_to_stdout(true);
    }
}

/// Turns off WebKit's back/forward page cache: a page restored from it would keep an
/// isolation frame whose session the navigation revoked. An error when the webview has
/// no settings or the cache is still on after: that webview must not be used.
pub fn disable_page_cache(webview: &WebView) -> Result<(), Error> {
    let settings = WebViewExt::settings(&webview.webview()).ok_or_else(|| {
        Error::Engine("the webview has no settings: its page cache cannot be turned off".into())
    })?;
    settings.set_enable_page_cache(false);
    if settings.enables_page_cache() {
        return Err(Error::Engine("WebKit kept the page cache on".into()));
    }
    Ok(())
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
