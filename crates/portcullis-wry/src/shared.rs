//! The state every protocol handler of every webview reads: compiled once by
//! `PortcullisBuilder::build`, never changed afterwards except through the interior
//! state it documents (page loads, the event queue).

use std::sync::Arc;

use portcullis_core::{Gate, Router};

use crate::{assets, events, frontend, hook, page, runtime, transport};

/// State shared by every protocol handler of every webview.
pub struct Shared {
    /// The compiled policy and the session table: every message passes it.
    pub(crate) gate: Gate,
    /// The app's handlers, reached only with a request the gate admitted.
    pub(crate) router: Router,
    /// What `app://` serves: a directory (nothing outside it, see
    /// [`crate::assets::resolve`]), embedded files, or a dev server's.
    pub(crate) frontend: frontend::Frontend,
    /// What `isolation://` serves besides its own files; `None` in brownfield mode.
    pub(crate) isolation_files: Option<assets::Files>,
    /// The app's validation hook, checked at build; `None` exactly when
    /// `isolation_files` is.
    pub(crate) hook: Option<hook::HookSource>,
    /// The app's CSP plus the one source its mode needs (the isolation frame, or the
    /// transport in brownfield mode); on every `app://` response.
    pub(crate) app_csp: String,
    /// The isolation document's CSP, which admits its inline script by hash only.
    pub(crate) isolation_csp: String,
    /// Each webview's current page load: its origin, whether its key was handed out.
    pub(crate) pages: Arc<page::Pages>,
    /// Where handlers run (never the webviews' thread): async ones as tasks, sync ones
    /// on its blocking threads.
    pub(crate) runtime: runtime::Runtime,
    /// Core-to-frontend events waiting for `Portcullis::pump`.
    pub(crate) events: Arc<events::EventQueue>,
    /// The bridge with its configuration, run first in every main frame.
    pub(crate) init_script: String,
    /// Sees every raw message and its verdict, when audit tooling asks to.
    pub(crate) observer: Option<transport::Observer>,
    /// The way messages travel, when the app chose one (else the engine's default, see
    /// [`crate::PortcullisBuilder::transport`]).
    pub(crate) transport: Option<transport::Transport>,
    /// Requests handlers made of the app (the [`crate::App`] extractor), for `pump`.
    pub(crate) requests: crate::app::Requests,
    /// Whether developer tools may open (off unless the app asked, and never silently
    /// in a release build).
    pub(crate) devtools: bool,
}
