//! Portcullis for `wry`: one call attaches the isolation pattern to a `WebViewBuilder`.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let window: tao_like::Window = unimplemented!();
//! # mod tao_like { pub struct Window; impl wry::raw_window_handle::HasWindowHandle for Window { fn window_handle(&self) -> Result<wry::raw_window_handle::WindowHandle<'_>, wry::raw_window_handle::HandleError> { unimplemented!() } } }
//! use portcullis_core::{HandlerError, Router};
//! use portcullis_wry::Portcullis;
//!
//! let portcullis = Portcullis::from_config_file("portcullis.json".as_ref(), "frontend".as_ref())?
//!     .router(Router::new().command("notes.list", |(): ()| Ok::<_, HandlerError>(vec!["a"])))
//!     .build()?;
//! let webview = portcullis.build_webview("main", wry::WebViewBuilder::new(), &window)?;
//! # Ok(()) }
//! ```
//!
//! What `build_webview` installs on the builder (files in this crate, in the order a
//! message meets them):
//! - the frontend bridge (`js/bridge.js`) as the main frame's initialization script;
//! - `app://` ([`frontend`]): the app's files, with its CSP;
//! - `isolation://` ([`isolation`]): the isolation frame, its key once per page load;
//! - `ipc://` ([`transport`]): sealed envelopes in, replies out, through the core's gate;
//! - wry's IPC handler, gated too; page-load tracking ([`page`]) that revokes sessions on
//!   reload and navigation; a navigation filter that keeps the webview on the app's own
//!   origins; and a refusal of popups.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod assets;
pub mod csp;
pub mod events;
pub mod frontend;
pub mod hook;
pub mod inspect;
pub mod isolation;
#[cfg(target_os = "linux")]
pub mod linux;
pub mod page;
pub mod transport;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::{Rc, Weak};
use std::sync::Arc;

use futures_executor::ThreadPool;
use portcullis_core::config::Pattern;
use portcullis_core::gate::AuditSink;
use portcullis_core::{Config, ConfigErrors, Emitter, Gate, Origin, Router, ScopeVars};
use wry::raw_window_handle::HasWindowHandle;
use wry::{NewWindowResponse, PageLoadEvent, WebView, WebViewBuilder};

/// The scheme the app's frontend is served from.
pub const APP_SCHEME: &str = "app";
/// The frontend's origin (Linux/macOS spelling).
pub const APP_ORIGIN: &str = "app://localhost";
/// The scheme of the isolation frame.
pub const ISOLATION_SCHEME: &str = "isolation";
/// The isolation frame's origin.
pub const ISOLATION_ORIGIN: &str = "isolation://localhost";
/// The scheme of the transport.
pub const IPC_SCHEME: &str = "ipc";
/// The transport's origin.
pub const IPC_ORIGIN: &str = "ipc://localhost";

/// The bridge script, embedded.
pub const BRIDGE_JS: &str = include_str!("../js/bridge.js");

/// Why Portcullis could not be set up.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config is invalid; every problem with its JSON path.
    #[error("invalid config:\n{0}")]
    Config(#[from] ConfigErrors),
    /// A file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The async handler pool could not start.
    #[error("cannot start the handler thread pool: {0}")]
    Pool(std::io::Error),
    /// wry failed to build the webview.
    #[error("webview: {0}")]
    Webview(#[from] wry::Error),
    /// A webview with this label is already attached.
    #[error("a webview labelled {0:?} already exists: labels must be unique")]
    DuplicateLabel(String),
    /// Isolation is on and the app's validation hook is missing or cannot run.
    #[error("{0}")]
    Hook(#[from] hook::HookError),
}

/// State shared by every protocol handler of every webview.
pub struct Shared {
    gate: Gate,
    router: Router,
    frontend_dir: PathBuf,
    isolation_dir: Option<PathBuf>,
    hook: Option<hook::HookSource>,
    app_csp: String,
    isolation_csp: String,
    pages: Arc<page::Pages>,
    pool: ThreadPool,
    events: Arc<events::EventQueue>,
    init_script: String,
    observer: Option<transport::Observer>,
}

/// Collects what Portcullis needs before it can attach to webviews.
pub struct PortcullisBuilder {
    config: Config,
    config_dir: PathBuf,
    frontend_dir: PathBuf,
    router: Router,
    vars: ScopeVars,
    audit: Option<AuditSink>,
    events: Arc<events::EventQueue>,
    waker: Arc<std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>>,
    default_timeout_ms: u32,
    observer: Option<transport::Observer>,
}

impl PortcullisBuilder {
    /// The command/event routing table.
    pub fn router(mut self, router: Router) -> Self {
        self.router = router;
        self
    }

    /// Directories that path scopes may name as `$VAR`.
    pub fn scope_vars(mut self, vars: ScopeVars) -> Self {
        self.vars = vars;
        self
    }

    /// Receives every refusal as an audit event (as well as `tracing`).
    pub fn audit_sink(mut self, sink: AuditSink) -> Self {
        self.audit = Some(sink);
        self
    }

    /// Called from any thread when core-to-frontend events are queued; it should make the
    /// event loop call [`Portcullis::pump`] (e.g. send a tao user event).
    pub fn waker(self, waker: impl Fn() + Send + Sync + 'static) -> Self {
        let _ = self.waker.set(Box::new(waker));
        self
    }

    /// Sees every raw message that reaches the transport and the gate's verdict (for
    /// audit tooling and tests).
    pub fn observe(mut self, observer: transport::Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// How long `invoke` waits for a reply when the caller gives no `timeoutMs`.
    pub fn default_timeout_ms(mut self, ms: u32) -> Self {
        self.default_timeout_ms = ms.max(1);
        self
    }

    /// An emitter for core-to-frontend events, usable in handlers before `build`.
    pub fn emitter(&self) -> Emitter {
        Emitter::new(self.events.clone())
    }

    /// Compiles the policy and prepares the protocols.
    pub fn build(self) -> Result<Portcullis, Error> {
        let mut gate = Gate::new(&self.config, &self.vars)?;
        if let Some(sink) = self.audit {
            gate = gate.with_audit_sink(sink);
        }
        // Fail closed: with isolation on, no webview starts without the app's hook.
        let (isolation_dir, hook) = match &self.config.app.security.pattern {
            Pattern::Isolation { options } => {
                let dir = self.config_dir.join(&options.dir);
                let hook = hook::resolve(&dir, options.hook.as_deref())?;
                if hook == hook::HookSource::BuiltinNamesOnly {
                    tracing::warn!(
                        target: "portcullis",
                        "the config asks for the built-in hook, which checks only names: the app has no validation of its own"
                    );
                }
                (Some(dir), Some(hook))
            }
            _ => (None, None),
        };
        let isolation = isolation_dir.is_some();
        let base_csp = self
            .config
            .app
            .security
            .csp
            .as_deref()
            .unwrap_or(csp::DEFAULT_APP);
        let app_csp = if isolation {
            csp::allow(base_csp, "frame-src", ISOLATION_ORIGIN)
        } else {
            csp::allow(base_csp, "connect-src", IPC_ORIGIN)
        };
        let bridge_config = serde_json::json!({
            "isolation": isolation,
            "isolationUrl": format!("{ISOLATION_ORIGIN}/"),
            "ipcUrl": format!("{IPC_ORIGIN}/"),
            "sealerUrl": format!("{APP_ORIGIN}/__portcullis/sealer.js"),
            "defaultTimeoutMs": self.default_timeout_ms,
        });
        let init_script =
            format!("globalThis.__PORTCULLIS_CONFIG__ = {bridge_config};\n{BRIDGE_JS}");
        let waker = self.waker.clone();
        let events = self.events.clone();
        events.set_waker(Box::new(move || {
            if let Some(w) = waker.get() {
                w();
            }
        }));
        let pages = Arc::new(page::Pages::default());
        events.set_pages(pages.clone());
        let pool = ThreadPool::builder()
            .pool_size(2)
            .name_prefix("portcullis-handler-")
            .create()
            .map_err(Error::Pool)?;
        Ok(Portcullis {
            shared: Arc::new(Shared {
                gate,
                router: self.router,
                frontend_dir: self.frontend_dir,
                isolation_dir,
                hook,
                app_csp,
                isolation_csp: csp::isolation(
                    ISOLATION_ORIGIN,
                    IPC_ORIGIN,
                    &isolation::inline_script_hash(),
                ),
                pages,
                pool,
                events,
                init_script,
                observer: self.observer,
            }),
            webviews: RefCell::new(HashMap::new()),
        })
    }
}

/// Portcullis attached to an app's webviews. Lives on the thread that owns them.
pub struct Portcullis {
    shared: Arc<Shared>,
    webviews: RefCell<HashMap<String, Weak<WebView>>>,
}

impl Portcullis {
    /// Starts from a parsed config. `config_dir` is what the isolation `dir` is relative
    /// to; `frontend_dir` holds the app's `index.html`.
    pub fn builder(config: Config, config_dir: &Path, frontend_dir: &Path) -> PortcullisBuilder {
        let waker = Arc::new(std::sync::OnceLock::new());
        PortcullisBuilder {
            config,
            config_dir: config_dir.to_path_buf(),
            frontend_dir: frontend_dir.to_path_buf(),
            router: Router::new(),
            vars: ScopeVars::new(),
            audit: None,
            events: Arc::new(events::EventQueue::new()),
            waker,
            default_timeout_ms: 30_000,
            observer: None,
        }
    }

    /// Reads the config file at `path` (the isolation `dir` is relative to its folder).
    pub fn from_config_file(path: &Path, frontend_dir: &Path) -> Result<PortcullisBuilder, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let config = Config::from_json(&text)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Ok(Portcullis::builder(config, dir, frontend_dir))
    }

    /// The URL of the app's start page.
    pub fn start_url(&self) -> String {
        format!("{APP_ORIGIN}/index.html")
    }

    /// The gate (for its session table and limits).
    pub fn gate(&self) -> &Gate {
        &self.shared.gate
    }

    /// An emitter for core-to-frontend events.
    pub fn emitter(&self) -> Emitter {
        Emitter::new(self.shared.events.clone())
    }

    /// Installs Portcullis on `builder` for the webview labelled `label`. Private: a
    /// webview is only ever built through [`Portcullis::build_webview_at`], which also
    /// turns off the page cache and registers it, so no way of building one is weaker.
    fn attach<'a>(&self, label: &'a str, builder: WebViewBuilder<'a>) -> WebViewBuilder<'a> {
        let (app, iso, ipc, msg, load) = (
            self.shared.clone(),
            self.shared.clone(),
            self.shared.clone(),
            self.shared.clone(),
            self.shared.clone(),
        );
        let nav = self.shared.clone();
        let (label_msg, label_load) = (label.to_owned(), label.to_owned());
        builder
            .with_id(label)
            .with_devtools(false)
            .with_initialization_script_for_main_only(self.shared.init_script.clone(), true)
            .with_custom_protocol(APP_SCHEME.into(), move |_, request| {
                frontend::handle(&app, &request)
            })
            .with_custom_protocol(ISOLATION_SCHEME.into(), move |id, request| {
                isolation::handle(&iso, id, &request)
            })
            .with_asynchronous_custom_protocol(IPC_SCHEME.into(), move |id, request, responder| {
                transport::handle(&ipc, id, request, responder)
            })
            .with_ipc_handler(move |request| {
                transport::handle_ipc_message(&msg, &label_msg, request)
            })
            .with_on_page_load_handler(move |event, url| {
                if let PageLoadEvent::Started = event {
                    load.pages.committed(&load.gate, &label_load, &url);
                }
            })
            .with_navigation_handler(move |url| allowed_navigation(&nav, &url))
            .with_new_window_req_handler(|url, _| {
                tracing::warn!(target: "portcullis::audit", url, "popup refused");
                NewWindowResponse::Deny
            })
    }

    /// Builds the webview labelled `label` in `window` at the app's start page
    /// ([`Portcullis::start_url`]), behind Portcullis. See [`Portcullis::build_webview_at`].
    pub fn build_webview<W: HasWindowHandle>(
        &self,
        label: &str,
        builder: WebViewBuilder<'_>,
        window: &W,
    ) -> Result<Rc<WebView>, Error> {
        self.build_webview_at(label, &self.start_url(), builder, window)
    }

    /// Builds the webview labelled `label` in `window`, loading `url` (a page of the app
    /// with a query, another `app://` page, or a dev server such as
    /// `http://localhost:5173` whose origin a capability names), behind Portcullis.
    ///
    /// This is the one way a webview gets Portcullis, so every webview gets all of it:
    /// the bridge, the three protocols, the gated IPC handler, page-load tracking,
    /// navigation and popup filters, WebKit's page cache turned off (a page restored from
    /// it would keep a frame whose session was revoked), and registration for
    /// core-to-frontend events. Handlers of those kinds set on `builder` are replaced.
    pub fn build_webview_at<W: HasWindowHandle>(
        &self,
        label: &str,
        url: &str,
        builder: WebViewBuilder<'_>,
        window: &W,
    ) -> Result<Rc<WebView>, Error> {
        self.finish(label, url, builder, |b| b.build(window))
    }

    /// Like [`Portcullis::build_webview_at`], as a child webview inside `parent` (wry's
    /// `build_as_child`), with every protection.
    pub fn build_child_webview<W: HasWindowHandle>(
        &self,
        label: &str,
        url: &str,
        builder: WebViewBuilder<'_>,
        parent: &W,
    ) -> Result<Rc<WebView>, Error> {
        self.finish(label, url, builder, |b| b.build_as_child(parent))
    }

    /// Like [`Portcullis::build_webview_at`], inside a GTK container (wry's `build_gtk`,
    /// the way that works on Wayland as well as X11), with every protection.
    #[cfg(target_os = "linux")]
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

    /// The one place a webview is made: attach, build (the caller says where), then turn
    /// off the page cache and register it. Each public builder is this with its target.
    fn finish<'a>(
        &self,
        label: &'a str,
        url: &str,
        builder: WebViewBuilder<'a>,
        build: impl FnOnce(WebViewBuilder<'a>) -> wry::Result<WebView>,
    ) -> Result<Rc<WebView>, Error> {
        if self
            .webviews
            .borrow()
            .get(label)
            .is_some_and(|w| w.strong_count() > 0)
        {
            return Err(Error::DuplicateLabel(label.to_owned()));
        }
        let webview = Rc::new(build(self.attach(label, builder.with_url(url)))?);
        // WebKitGTK keeps pages in a back/forward cache; elsewhere the engines offer no
        // switch through wry, and those platforms are not tested (SECURITY.md).
        #[cfg(target_os = "linux")]
        linux::disable_page_cache(&webview);
        self.webviews
            .borrow_mut()
            .insert(label.to_owned(), Rc::downgrade(&webview));
        Ok(webview)
    }

    /// The webview `label` closed: revoke its session and forget it.
    pub fn close_webview(&self, label: &str) {
        self.shared.pages.closed(&self.shared.gate, label);
        self.webviews.borrow_mut().remove(label);
    }

    /// Delivers queued core-to-frontend events. Call on the webviews' thread, e.g. when
    /// the waker's user event arrives.
    pub fn pump(&self) {
        let webviews = self.webviews.borrow();
        for event in self.shared.events.drain() {
            // Only to the page loads that existed when the event was emitted.
            let targets = webviews.iter().filter(|(label, _)| {
                event
                    .generations
                    .iter()
                    .any(|(l, g)| l == label.as_str() && *g == self.shared.pages.generation(label))
            });
            for (label, webview) in targets {
                if let Some(webview) = webview.upgrade()
                    && let Err(e) = webview.evaluate_script(&event.script)
                {
                    tracing::warn!(target: "portcullis", webview = label.as_str(), "event delivery failed: {e}");
                }
            }
        }
    }
}

/// Top-level navigation stays on origins the allowlist names (the app's own pages).
/// The isolation document and blank frames pass too, in case the engine asks about
/// subframe navigations here.
fn allowed_navigation(shared: &Shared, url: &str) -> bool {
    let allowed = url.starts_with(concat!("isolation://localhost", "/"))
        || url == "about:blank"
        || url == "about:srcdoc"
        || Origin::from_page_url(url, page::CUSTOM_SCHEMES)
            .is_ok_and(|o| shared.gate.policy().grants_origin(&o));
    if !allowed {
        tracing::warn!(target: "portcullis::audit", url, "navigation away from the app refused");
    }
    allowed
}
