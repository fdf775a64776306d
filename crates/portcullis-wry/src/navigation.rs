//! Where a webview may go: each main-frame commit counted as a page load (which revokes
//! the previous session, see [`crate::page`]), top-level navigation kept on the app's own
//! origins, and popups refused.

use wry::{NewWindowResponse, PageLoadEvent};

use crate::Shared;
use crate::engine::{self, Current, Platform as _, Served};

/// wry's page-load handler: a main frame that starts loading `url` is a new page load of
/// webview `label`.
pub(crate) fn page_load(shared: &Shared, label: &str, event: PageLoadEvent, url: &str) {
    if Current::is_new_page_load(&event) {
        shared.pages.committed(&shared.gate, label, url);
        // The page that made them is gone: its calls still running are cancelled.
        shared.router.cancel_webview(label);
    }
}

/// Top-level navigation stays on origins the allowlist names (the app's own pages).
/// The isolation document and blank frames pass too, in case the engine asks about
/// subframe navigations here.
pub(crate) fn allowed(shared: &Shared, url: &str) -> bool {
    let allowed = engine::CURRENT.is_url_of(Served::Isolation, url)
        || url == "about:blank"
        || url == "about:srcdoc"
        || engine::CURRENT
            .page_origin(url)
            .is_some_and(|o| shared.gate.policy().grants_origin(&o));
    if !allowed {
        tracing::warn!(target: "portcullis::audit", url, "navigation away from the app refused");
    }
    allowed
}

/// No page may open a window: every popup is refused, and audited.
pub(crate) fn refuse_popup(url: &str) -> NewWindowResponse {
    tracing::warn!(target: "portcullis::audit", url, "popup refused");
    NewWindowResponse::Deny
}
