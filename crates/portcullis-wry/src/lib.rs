//! Portcullis for `wry`: one call attaches the isolation pattern to a `WebViewBuilder`.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! # let window: tao_like::Window = unimplemented!();
//! # mod tao_like { pub struct Window; impl wry::raw_window_handle::HasWindowHandle for Window { fn window_handle(&self) -> Result<wry::raw_window_handle::WindowHandle<'_>, wry::raw_window_handle::HandleError> { unimplemented!() } } }
//! use portcullis_core::Router;
//! use portcullis_wry::Portcullis;
//!
//! let portcullis = Portcullis::from_config_file("portcullis.json".as_ref())?
//!     .router(Router::new().command("notes.list", || vec!["a"]))
//!     .build()?;
//! let webview = portcullis.build_webview("main", wry::WebViewBuilder::new(), &window)?;
//! # Ok(()) }
//! ```
//!
//! The crate in the order an app meets it:
//! - `builder.rs`: [`Portcullis::builder`] collects the config and the app's handlers, and
//!   [`PortcullisBuilder::build`] compiles them into [`Shared`] (`shared.rs`), the state
//!   every protocol handler reads; failures are an [`Error`] (`error.rs`);
//! - `webview.rs`: [`Portcullis::build_webview`] installs everything on a
//!   `WebViewBuilder`, listed here in the order a message meets it:
//!   - the frontend bridge (`js/bridge.js`) as the main frame's initialization script;
//!   - `app://` ([`frontend`]): the app's files, with its CSP;
//!   - `isolation://` ([`isolation`]): the isolation frame, its key once per page load;
//!   - `ipc://` ([`transport`]): sealed envelopes in, replies out, through the core's gate;
//!   - wry's IPC handler, gated too;
//!   - `navigation.rs`: page-load tracking ([`page`]) that revokes sessions on reload and
//!     navigation; a navigation filter that keeps the webview on the app's own origins;
//!     and a refusal of popups;
//! - [`events`]: core-to-frontend events, queued from any thread and delivered by
//!   [`Portcullis::pump`].
//!
//! Beside the walk: [`hook`] checks the app's validation hook at build, and [`inspect`]
//! shows a page's console and a snapshot of it to tests and tooling. [`engine`] is
//! everything that differs between WebKitGTK, WebView2 and WKWebView (the schemes'
//! origins on each, the page cache, which frames get the bridge); nothing else in the
//! crate names an engine.

// No unsafe code, but for one module: `engine::webkitgtk::native`, the calls into WebKit
// for the reply-capable message handler, which neither wry nor webkit2gtk-rs binds.
#![deny(unsafe_code)]
#![warn(missing_docs)]

pub mod app;
pub mod assets;
pub mod bindings;
mod builder;
pub mod csp;
pub mod engine;
mod error;
pub mod events;
pub mod frontend;
pub mod hook;
pub mod inspect;
pub mod isolation;
mod link;
mod navigation;
pub mod page;
pub mod profile;
pub mod protocol;
mod runtime;
mod shared;
pub mod transport;
mod webview;

pub use app::{App, AppRequest, AppRequestError};
pub use assets::{Assets, Embedded, Files};
pub use builder::PortcullisBuilder;
pub use error::Error;
pub use frontend::Frontend;
/// rust-embed, which [`PortcullisBuilder::embedded_frontend`] takes a type of.
pub use rust_embed;
pub use shared::Shared;
pub use webview::Portcullis;
/// The wry this crate is built against: name its types through this path
/// (`portcullis::webview::wry::WebViewBuilder`) and a second, mismatched wry in the app's
/// own dependencies cannot creep in.
pub use wry;

/// The scheme the app's frontend is served from.
pub const APP_SCHEME: &str = "app";
/// The frontend's origin as the config writes it; [`engine::Engine::origin`] gives the
/// spelling of the engine a build drives.
pub const APP_ORIGIN: &str = "app://localhost";
/// The scheme of the isolation frame.
pub const ISOLATION_SCHEME: &str = "isolation";
/// The isolation frame's origin as the config writes it (see [`APP_ORIGIN`]).
pub const ISOLATION_ORIGIN: &str = "isolation://localhost";
/// The scheme of the transport.
pub const IPC_SCHEME: &str = "ipc";
/// The transport's origin as the config writes it (see [`APP_ORIGIN`]).
pub const IPC_ORIGIN: &str = "ipc://localhost";

/// The bridge script, embedded.
pub const BRIDGE_JS: &str = include_str!("../js/bridge.js");
