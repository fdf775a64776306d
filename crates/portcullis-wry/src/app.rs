//! What a handler may ask of the app itself: close its own window, open or close another,
//! quit. Windows and the event loop belong to the app, and handlers run on tokio, never
//! on the event loop's thread; so a handler takes the [`App`] extractor, which queues an
//! [`AppRequest`] and wakes the loop, and [`Portcullis::pump`](crate::Portcullis::pump)
//! hands each request, on the loop's thread, to the function the app gave
//! [`Portcullis::on_app_request`](crate::Portcullis::on_app_request). An app that gave
//! none refuses every request ([`AppRequestError::NotHandled`]): nothing is queued that
//! nobody will act on.
//!
//! ```ignore
//! async fn sign_out(app: App, grants: Grants) -> Result<(), AppRequestError> {
//!     grants.revoke(app.webview(), "account");
//!     app.close_this()
//! }
//! portcullis.on_app_request(move |request| match request {
//!     AppRequest::Close { webview } => { windows.remove(&webview); }
//!     AppRequest::Open { webview, path } => open_window(&webview, &path),
//!     AppRequest::Quit => exit.set(true),
//!     _ => {}
//! });
//! ```

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use portcullis_core::router::extract::Needs;
use portcullis_core::router::{CallError, FromCall, Parts};
use portcullis_core::{Caller, State};

/// The most requests waiting for the event loop; past it a request is refused
/// ([`AppRequestError::Busy`]) rather than kept.
pub const MAX_WAITING: usize = 64;

/// A handler's request to the app's event loop.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum AppRequest {
    /// Close webview `webview` (and, as the app sees fit, its window). Call
    /// `Portcullis::close_webview` when it is gone.
    Close {
        /// The webview's label.
        webview: String,
    },
    /// Open a webview labelled `webview` at `path` of the app (`"/settings.html"`), in a
    /// window of the app's making.
    Open {
        /// The label for the new webview (its capabilities name it).
        webview: String,
        /// The page, a path of the app's frontend starting with `/`.
        path: String,
    },
    /// Quit the app.
    Quit,
}

/// Why a request was not queued.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AppRequestError {
    /// The app handles no requests: it never called `Portcullis::on_app_request`.
    #[error("the app takes no requests from handlers (it never called Portcullis::on_app_request)")]
    NotHandled,
    /// [`MAX_WAITING`] requests wait for the event loop already.
    #[error(
        "{MAX_WAITING} requests to the app are waiting already: the event loop is not keeping up"
    )]
    Busy,
    /// A label or path that cannot name a webview or a page of the app.
    #[error("{0}")]
    Invalid(String),
}

/// A handler may return it with `?`: the page sees `E_HANDLER` with app code
/// `APP_NOT_HANDLED`, `APP_BUSY` or `APP_INVALID`.
impl portcullis_core::AppError for AppRequestError {
    fn app_code(&self) -> Option<String> {
        Some(
            match self {
                AppRequestError::NotHandled => "APP_NOT_HANDLED",
                AppRequestError::Busy => "APP_BUSY",
                AppRequestError::Invalid(_) => "APP_INVALID",
            }
            .to_owned(),
        )
    }
}

/// The queue between handlers and the event loop (one per `Portcullis`).
#[derive(Clone)]
pub(crate) struct Requests(Arc<Inner>);

struct Inner {
    waiting: Mutex<VecDeque<AppRequest>>,
    /// Whether the app gave a function for requests.
    handled: AtomicBool,
    /// The builder's waker: makes the event loop call `pump`.
    waker: Arc<OnceLock<Box<dyn Fn() + Send + Sync>>>,
}

impl Requests {
    pub(crate) fn new(waker: Arc<OnceLock<Box<dyn Fn() + Send + Sync>>>) -> Self {
        Requests(Arc::new(Inner {
            waiting: Mutex::new(VecDeque::new()),
            handled: AtomicBool::new(false),
            waker,
        }))
    }

    /// From now on requests are queued for the app.
    pub(crate) fn handled(&self) {
        self.0.handled.store(true, Ordering::Release);
    }

    fn push(&self, request: AppRequest) -> Result<(), AppRequestError> {
        if !self.0.handled.load(Ordering::Acquire) {
            return Err(AppRequestError::NotHandled);
        }
        {
            let mut waiting = self.0.waiting.lock().unwrap_or_else(|p| p.into_inner());
            if waiting.len() >= MAX_WAITING {
                return Err(AppRequestError::Busy);
            }
            waiting.push_back(request);
        }
        if let Some(wake) = self.0.waker.get() {
            wake();
        }
        Ok(())
    }

    /// Takes every waiting request, oldest first.
    pub(crate) fn take(&self) -> Vec<AppRequest> {
        let mut waiting = self.0.waiting.lock().unwrap_or_else(|p| p.into_inner());
        waiting.drain(..).collect()
    }
}

/// The extractor: asks the app's event loop to close the caller's webview, open or close
/// another, or quit. Each method queues the request and returns at once; the app acts on
/// it on its own thread, in order.
pub struct App {
    requests: Requests,
    webview: String,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("webview", &self.webview)
            .finish()
    }
}

impl App {
    /// The label of the webview whose call this is.
    pub fn webview(&self) -> &str {
        &self.webview
    }

    /// Asks the app to close the webview whose call this is.
    pub fn close_this(&self) -> Result<(), AppRequestError> {
        self.close(&self.webview.clone())
    }

    /// Asks the app to close webview `webview`.
    pub fn close(&self, webview: &str) -> Result<(), AppRequestError> {
        self.requests.push(AppRequest::Close {
            webview: label(webview)?,
        })
    }

    /// Asks the app to open a webview labelled `webview` at `path` of its frontend.
    pub fn open(&self, webview: &str, path: &str) -> Result<(), AppRequestError> {
        if !path.starts_with('/') || path.starts_with("//") || path.contains("..") {
            return Err(AppRequestError::Invalid(format!(
                "{path:?} is not a path of the app's frontend: start it with one '/', no '..'"
            )));
        }
        self.requests.push(AppRequest::Open {
            webview: label(webview)?,
            path: path.to_owned(),
        })
    }

    /// Asks the app to quit.
    pub fn quit(&self) -> Result<(), AppRequestError> {
        self.requests.push(AppRequest::Quit)
    }
}

/// A webview label as the builder takes it: not empty, no control characters.
fn label(webview: &str) -> Result<String, AppRequestError> {
    if webview.is_empty() || webview.chars().any(char::is_control) {
        return Err(AppRequestError::Invalid(format!(
            "{webview:?} is not a webview label"
        )));
    }
    Ok(webview.to_owned())
}

impl FromCall for App {
    fn from_call(parts: &mut Parts) -> Result<Self, CallError> {
        let requests = State::<Requests>::from_call(parts)?;
        let caller = Caller::from_call(parts)?;
        Ok(App {
            requests: (*requests).clone(),
            webview: caller.webview.to_string(),
        })
    }

    fn declare(needs: &mut Needs) {
        State::<Requests>::declare(needs);
    }
}

/// `App` takes nothing of the arguments: a typed handler may take it too.
impl portcullis_core::router::DescribeArg for App {}

#[cfg(test)]
mod tests {
    use super::*;

    fn requests() -> Requests {
        Requests::new(Arc::new(OnceLock::new()))
    }

    fn app(requests: &Requests, webview: &str) -> App {
        App {
            requests: requests.clone(),
            webview: webview.to_owned(),
        }
    }

    #[test]
    fn an_app_that_takes_no_requests_refuses_them_and_keeps_nothing() {
        let requests = requests();
        let app = app(&requests, "main");
        assert_eq!(app.quit(), Err(AppRequestError::NotHandled));
        assert_eq!(app.close_this(), Err(AppRequestError::NotHandled));
        assert!(requests.take().is_empty());
    }

    #[test]
    fn requests_reach_the_app_in_order_and_wake_its_loop() {
        let woken = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let waker: Arc<OnceLock<Box<dyn Fn() + Send + Sync>>> = Arc::new(OnceLock::new());
        let count = woken.clone();
        let _ = waker.set(Box::new(move || {
            count.fetch_add(1, Ordering::SeqCst);
        }));
        let requests = Requests::new(waker);
        requests.handled();
        let app = app(&requests, "notes-2");
        app.close_this().unwrap();
        app.open("settings", "/settings.html").unwrap();
        app.quit().unwrap();
        assert_eq!(
            requests.take(),
            [
                AppRequest::Close {
                    webview: "notes-2".into()
                },
                AppRequest::Open {
                    webview: "settings".into(),
                    path: "/settings.html".into()
                },
                AppRequest::Quit,
            ]
        );
        assert_eq!(woken.load(Ordering::SeqCst), 3);
        assert!(requests.take().is_empty());
    }

    #[test]
    fn bad_labels_and_paths_and_a_full_queue_are_refused() {
        let requests = requests();
        requests.handled();
        let app = app(&requests, "main");
        for (webview, path) in [
            ("", "/a.html"),
            ("x\n", "/a.html"),
            ("ok", "a.html"),
            ("ok", "//evil.example/a"),
            ("ok", "/../etc/passwd"),
        ] {
            assert!(
                matches!(app.open(webview, path), Err(AppRequestError::Invalid(_))),
                "{webview:?} {path:?}"
            );
        }
        for _ in 0..MAX_WAITING {
            app.quit().unwrap();
        }
        assert_eq!(app.quit(), Err(AppRequestError::Busy));
        assert_eq!(requests.take().len(), MAX_WAITING);
    }
}
