//! `restore` (`web/scenarios/restore.js`) and `restore_gtk` (`restore_gtk.js`): a
//! webview built with a custom start URL (on the window handle, and in the window's GTK
//! box), left and come back to with history.back(); the restored page must not use its
//! revoked session.

use super::app;
use crate::{DEFAULTS, Scenario};

pub const RESTORE: Scenario = Scenario {
    name: "restore",
    min_checks: 6,
    url: Some("app://localhost/index.html?via=url"),
    routes: &[app::echo],
    ..DEFAULTS
};

/// `restore_cached` (`web/scenarios/restore_cached.js`): the same with WebKit's page
/// cache turned back on, as WebView2 and WKWebView have it: the page is restored with its
/// old isolation frame, which must refuse every call.
pub const RESTORE_CACHED: Scenario = Scenario {
    name: "restore_cached",
    min_checks: 4,
    page_cache: true,
    ..RESTORE
};

pub const RESTORE_GTK: Scenario = Scenario {
    name: "restore_gtk",
    gtk: true,
    ..RESTORE
};
