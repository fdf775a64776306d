//! Webviews behind Portcullis: [`Portcullis`] builds each one with every protection
//! installed (the one way to get a webview with Portcullis), keeps track of them by
//! label, and delivers core-to-frontend events to them.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::{Rc, Weak};
use std::sync::Arc;

use portcullis_core::Grants;
use portcullis_core::{Emitter, Gate};
use wry::raw_window_handle::HasWindowHandle;
use wry::{WebView, WebViewBuilder};

use crate::app::AppRequest;
use crate::engine::{self, Current, Platform as _, Served};
use crate::{
    APP_SCHEME, Error, IPC_SCHEME, ISOLATION_SCHEME, Shared, events, frontend, isolation,
    navigation, transport,
};

/// Portcullis attached to an app's webviews. Lives on the thread that owns them.
pub struct Portcullis {
    pub(crate) shared: Arc<Shared>,
    webviews: RefCell<HashMap<String, Weak<WebView>>>,
    /// What the app does with its handlers' requests ([`Portcullis::on_app_request`]).
    on_request: RefCell<Option<OnRequest>>,
}

/// What the app does with a handler's request, on the event loop's thread.
type OnRequest = Box<dyn FnMut(AppRequest)>;

impl Portcullis {
    /// Portcullis with no webview yet, over the state `PortcullisBuilder::build` compiled.
    pub(crate) fn new(shared: Shared) -> Self {
        Portcullis {
            shared: Arc::new(shared),
            webviews: RefCell::new(HashMap::new()),
            on_request: RefCell::new(None),
        }
    }

    /// The URL of the app's start page, as the engine this build drives spells it.
    pub fn start_url(&self) -> String {
        engine::CURRENT.url(Served::App, "/index.html")
    }

    /// The gate (for its session table and limits).
    pub fn gate(&self) -> &Gate {
        &self.shared.gate
    }

    /// The run-time grants (a handle: clone it into the app's own code). Grant a
    /// `"runtimeGrant"` capability to a window after the user signed in, or add the file
    /// the user picked to one window's scope; handlers get the same handle with the
    /// `Grants` extractor.
    pub fn grants(&self) -> Grants {
        self.shared.gate.grants().clone()
    }

    /// An emitter for core-to-frontend events.
    pub fn emitter(&self) -> Emitter {
        Emitter::new(self.shared.events.clone())
    }

    /// Installs Portcullis on `builder` for the webview labelled `label`. Private: a
    /// webview is only ever built through [`Portcullis::build_webview_at`], which also
    /// sets the engine's protections and registers it, so no way of building one is weaker.
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
        let builder = builder
            .with_id(label)
            .with_devtools(self.shared.devtools)
            .with_initialization_script_for_main_only(
                Current::top_frame_script(self.shared.init_script.clone()),
                true,
            )
            .with_asynchronous_custom_protocol(APP_SCHEME.into(), move |_, request, responder| {
                crate::profile::request(|| format!("app {} arrived", request.uri().path()));
                frontend::handle(&app, request, responder)
            })
            .with_custom_protocol(ISOLATION_SCHEME.into(), move |id, request| {
                let path = request.uri().path();
                crate::profile::request(|| format!("isolation {path} arrived"));
                let response = isolation::handle(&iso, id, &request);
                crate::profile::request(|| format!("isolation {path} answered"));
                response
            })
            .with_asynchronous_custom_protocol(IPC_SCHEME.into(), move |id, request, responder| {
                crate::profile::request(|| format!("ipc {} arrived", request.method()));
                transport::http::handle(&ipc, id, request, responder)
            })
            .with_ipc_handler(move |request| {
                transport::handle_ipc_message(&msg, &label_msg, request)
            })
            .with_on_page_load_handler(move |event, url| {
                navigation::page_load(&load, &label_load, event, &url)
            })
            .with_navigation_handler(move |url| navigation::allowed(&nav, &url))
            .with_new_window_req_handler(|url, _| navigation::refuse_popup(&url));
        Current::prepare(builder)
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
    /// navigation and popup filters, the engine's page cache turned off or compensated for
    /// (a page restored from it would keep a frame whose session was revoked; see
    /// [`crate::engine`]), and registration for core-to-frontend events. Handlers of those kinds set on `builder` are replaced.
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

    /// The one place a webview is made: attach, build (the caller says where), then set
    /// the engine's protections and register it. Each public builder is this with its
    /// target (the engine's own builders too, in `engine/`).
    pub(crate) fn finish<'a>(
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
        // A new window with this label: it starts with no grants, whatever an earlier
        // one dropped without `close_webview` held; from now on it can receive them.
        let grants = self.shared.gate.grants();
        grants.window_opened(label);
        let webview = match build(self.attach(label, builder.with_url(url))) {
            Ok(webview) => Rc::new(webview),
            Err(e) => {
                grants.forget_window(label);
                return Err(e.into());
            }
        };
        // The page cache and whatever else the engine sets on a built webview; a webview
        // that cannot have them is not used.
        if let Err(e) = Current::protect(&webview) {
            grants.forget_window(label);
            return Err(e);
        }
        // The native transport, where chosen: registered before the page's first script
        // can run (the event loop has not turned since the build).
        let native = match self.shared.transport {
            Some(transport::Transport::Native) => true,
            Some(transport::Transport::Fetch) => false,
            None => Current::has_native_transport(),
        };
        if native && let Err(e) = Current::attach_native_transport(&webview, &self.shared, label) {
            grants.forget_window(label);
            return Err(e);
        }
        self.webviews
            .borrow_mut()
            .insert(label.to_owned(), Rc::downgrade(&webview));
        Ok(webview)
    }

    /// The webview `label` closed: revoke its session and forget it.
    pub fn close_webview(&self, label: &str) {
        self.shared.pages.closed(&self.shared.gate, label);
        self.shared.router.cancel_webview(label);
        self.webviews.borrow_mut().remove(label);
    }

    /// Delivers queued core-to-frontend events. Call on the webviews' thread, e.g. when
    /// the waker's user event arrives.
    pub fn pump(&self) {
        events::deliver(
            &self.shared.events,
            &self.shared.pages,
            &self.webviews.borrow(),
        );
        let requests = self.shared.requests.take();
        if requests.is_empty() {
            return;
        }
        // Taken out while it runs, so it may call back into this Portcullis (build or
        // close a webview) without a second borrow.
        let taken = self.on_request.borrow_mut().take();
        if let Some(mut on_request) = taken {
            for request in requests {
                on_request(request);
            }
            let mut slot = self.on_request.borrow_mut();
            if slot.is_none() {
                *slot = Some(on_request);
            }
        }
    }

    /// Gives the app's requests from handlers (the [`App`](crate::App) extractor: close a
    /// webview, open one, quit) to `on_request`, called from [`Portcullis::pump`] on this
    /// thread, in the order they were made. Until it is called, every request is refused
    /// to its handler (`AppRequestError::NotHandled`).
    pub fn on_app_request(&self, on_request: impl FnMut(AppRequest) + 'static) {
        *self.on_request.borrow_mut() = Some(Box::new(on_request));
        self.shared.requests.handled();
    }
}
