//! WKWebView (macOS). Written against wry 0.57's source and Apple's WebKit
//! documentation; compiled for macOS only, and not verified on a device.
//!
//! How the engine works under wry:
//! - Custom schemes are real schemes, served through `WKURLSchemeHandler`
//!   (`setURLSchemeHandler:forURLScheme:`, macOS 10.13+): `app://localhost`, as on Linux.
//! - Init scripts are `WKUserScript`s at document start with `forMainFrameOnly`: the
//!   bridge runs in the top frame only.
//! - A page load is wry's `Started`, which is `webView:didCommitNavigation:`.
//! - wry's IPC handler is a `WKScriptMessageHandler` named `ipc`, reachable as
//!   `window.webkit.messageHandlers.ipc` from every frame; the request's URI is the
//!   sending frame's URL. Only the cryptography tells a sealed message from a forged one,
//!   as on Linux. (`WKScriptMessageHandlerWithReply`, macOS 11+, is not used by wry.)
//! - Request bodies: wry takes `HTTPBody`, or reads `HTTPBodyStream` while it says bytes
//!   are available; a body that comes back short fails its AEAD tag and is refused.
//!
//! Protections that cannot be had as on WebKitGTK, and what stands in for each:
//! - **Back/forward cache.** WKWebView's cannot be turned off through wry. The session of
//!   a page load is revoked at the next page load's start, so a restored page's frame
//!   holds a dead session (its calls are refused); the bridge's script also reloads a
//!   page the engine restored from the cache (`pageshow` with `persisted`), which starts
//!   a page load with a fresh key.
//! - **No console forwarding or snapshots** through wry: [`WkWebView::snapshot_png`]
//!   reports an error.

use std::path::Path;

use wry::{PageLoadEvent, WebView, WebViewBuilder};

use super::scripts::reload_on_page_cache_restore;
use super::{Engine, Platform};
use crate::Error;

/// The WKWebView engine module.
pub(crate) struct WkWebView;

impl Platform for WkWebView {
    const ENGINE: Engine = Engine::WkWebView;

    fn prepare(builder: WebViewBuilder<'_>) -> WebViewBuilder<'_> {
        builder
    }

    fn top_frame_script(script: String) -> String {
        // `forMainFrameOnly` holds here; the page cache does not go away.
        reload_on_page_cache_restore(script)
    }

    fn protect(_webview: &WebView) -> Result<(), Error> {
        // Nothing to switch on the built webview: the compensation is in the script.
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
