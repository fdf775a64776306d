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

pub const RESTORE_GTK: Scenario = Scenario {
    name: "restore_gtk",
    gtk: true,
    ..RESTORE
};
