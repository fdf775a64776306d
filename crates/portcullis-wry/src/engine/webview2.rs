//! WebView2 (Windows). Written against wry 0.57's source and Microsoft's WebView2
//! documentation; compiled for Windows only, and not verified on a device.
//!
//! How the engine works under wry:
//! - Custom schemes are hosts WebView2 intercepts (`WebResourceRequested` with the filter
//!   `https://<scheme>.*`): pages of `app` are at `https://app.localhost`, because
//!   [`WebView2::prepare`] turns on wry's `with_https_scheme` (no mixed content with
//!   `http://` endpoints). wry rewrites a request's URI back to `<scheme>://localhost/...`
//!   before the handler sees it; the origins pages report, and CSPs name, are the
//!   `https://` ones ([`super::Engine::WebView2`]).
//! - A page load is wry's `Started`, which is WebView2's `ContentLoading` in the top-level
//!   document; navigation is filtered at `NavigationStarting`.
//! - wry's IPC handler is `CoreWebView2.WebMessageReceived`, which only the top-level
//!   document raises; an iframe's `chrome.webview.postMessage` raises
//!   `CoreWebView2Frame.WebMessageReceived`, which wry does not listen to.
//! - Request bodies are read natively by wry (1 KiB reads until the stream says 0).
//!
//! Protections that cannot be had as on WebKitGTK, and what stands in for each:
//! - **Init scripts in subframes.** WebView2 adds an init script to every frame, whatever
//!   `for_main_only` says (wry's documentation), so the isolation frame and any frame an
//!   attacker adds would get the bridge. The bridge's script is wrapped so that it does
//!   nothing unless `window.top === window` ([`WebView2::top_frame_script`]).
//! - **Back/forward cache.** wry offers no switch for it. The session of a page load is
//!   revoked at the next page load's start, so a restored page's frame holds a dead
//!   session (its calls are refused); the bridge's script also reloads a page the engine
//!   restored from the cache (`pageshow` with `persisted`), which starts a page load with
//!   a fresh key.
//! - **No console forwarding or snapshots** through wry: [`WebView2::snapshot_png`]
//!   reports an error.

use std::path::Path;

use wry::{PageLoadEvent, WebView, WebViewBuilder, WebViewBuilderExtWindows as _};

use super::scripts::{reload_on_page_cache_restore, top_frame_only};
use super::{Engine, Platform};
use crate::Error;

/// The WebView2 engine module.
pub(crate) struct WebView2;

impl Platform for WebView2 {
    const ENGINE: Engine = Engine::WebView2 { https: true };

    fn prepare(builder: WebViewBuilder<'_>) -> WebViewBuilder<'_> {
        // The origins `ENGINE` maps to hold only with this.
        builder.with_https_scheme(true)
    }

    fn top_frame_script(script: String) -> String {
        reload_on_page_cache_restore(top_frame_only(script))
    }

    fn protect(_webview: &WebView) -> Result<(), Error> {
        // Nothing to switch on the built webview: the compensations are in the script.
        Ok(())
    }

    fn is_new_page_load(event: &PageLoadEvent) -> bool {
        matches!(event, PageLoadEvent::Started)
    }

    fn has_native_transport() -> bool {
        // Not written for this engine yet: messages travel by fetch.
        false
    }

    fn attach_native_transport(
        _webview: &WebView,
        _shared: &std::sync::Arc<crate::Shared>,
        _label: &str,
    ) -> Result<(), Error> {
        Err(super::no_native_transport(Self::ENGINE))
    }

    fn forward_console_to_stdout(_webview: &WebView) {}

    fn snapshot_png(
        _webview: &WebView,
        _path: &Path,
        done: impl FnOnce(Result<(), String>) + 'static,
    ) {
        super::no_snapshot(Self::ENGINE, done);
    }
}
