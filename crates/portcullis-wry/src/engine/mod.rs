//! What differs between the engines wry drives, in one place: the rest of the crate is
//! the same on every platform and names no engine.
//!
//! Two parts:
//! - [`origins`] (re-exported here): where the app's three schemes live on each engine,
//!   as pure functions of an [`Engine`] value. Compiled on every platform, so the forms of
//!   all engines are tested on any machine and `portcullis check --platform` can print
//!   them.
//! - [`Platform`]: the operations that need the engine itself, one module per engine,
//!   compiled only on its platform: `webkitgtk` (Linux), `webview2` (Windows), `wkwebview`
//!   (macOS). [`Current`] is the one this build drives; any other target is a compile
//!   error, never a webview with fewer protections.
//!
//! `Platform` is a trait of associated functions rather than a struct of function
//! pointers: exactly one engine is compiled into a build, so nothing is chosen at run
//! time, and the compiler checks that every engine module provides every operation with
//! the same signature, including the generic ones (a closure to call when a snapshot is
//! written) a function pointer could not take.
//!
//! Messages and replies: the isolation frame's sealed requests go either to the engine's
//! native handler with replies, where it has one (WebKitGTK 2.40 and later,
//! `webkitgtk::native`), or to the `ipc` scheme's handler, whose HTTP response is the
//! reply (`transport::http`); wry's IPC handler receives `window.ipc.postMessage`;
//! core-to-frontend events are scripts run with wry's `evaluate_script`. What differs is
//! whether there is a native handler, whether request bodies are read, and which frames
//! reach `window.ipc`, written at the top of each engine's module.

use std::path::Path;

use wry::{PageLoadEvent, WebView, WebViewBuilder};

mod origins;

/// The string form of the native transports' messages and answers, shared by the
/// engines that have one (WebKitGTK today; unused, and compiled, elsewhere).
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
pub(crate) mod native_form;

/// The bridge's script as the engines without WebKitGTK's protections take it (compiled
/// and parsed by its tests everywhere, used on Windows and macOS).
#[cfg_attr(not(windows), allow(dead_code))]
pub(crate) mod scripts;

pub use origins::{Engine, Served, handler_uri_is};

#[cfg(target_os = "linux")]
pub mod webkitgtk;
/// The engine this build drives.
#[cfg(target_os = "linux")]
pub(crate) type Current = webkitgtk::WebKitGtk;

#[cfg(windows)]
mod webview2;
/// The engine this build drives.
#[cfg(windows)]
pub(crate) type Current = webview2::WebView2;

#[cfg(target_os = "macos")]
mod wkwebview;
/// The engine this build drives.
#[cfg(target_os = "macos")]
pub(crate) type Current = wkwebview::WkWebView;

#[cfg(not(any(target_os = "linux", windows, target_os = "macos")))]
compile_error!(
    "portcullis-wry drives WebKitGTK (Linux), WebView2 (Windows) and WKWebView (macOS) only: \
     on another target it cannot say which protections would hold"
);

/// The engine this build drives, for the origin mapping.
pub const CURRENT: Engine = <Current as Platform>::ENGINE;

/// What one engine does its own way. Every function is called on the webviews' thread.
pub(crate) trait Platform {
    /// The engine, for [`origins`]: how this engine spells the served origins.
    const ENGINE: Engine;

    /// Sets what the engine needs on a builder that already carries every Portcullis
    /// handler (the custom-scheme form the mapping assumes, for one), before it is built.
    fn prepare(builder: WebViewBuilder<'_>) -> WebViewBuilder<'_>;

    /// The bridge's initialization script as this engine must be given it to run in the
    /// top frame only.
    fn top_frame_script(script: String) -> String;

    /// The protections set on a built webview (the page cache, where the engine has one
    /// that can be switched off). An error means the webview must not be used.
    fn protect(webview: &WebView) -> Result<(), crate::Error>;

    /// Whether wry's page-load `event` is the start of a new document in the main frame:
    /// the moment the previous page load's session is revoked.
    fn is_new_page_load(event: &PageLoadEvent) -> bool;

    /// Whether this engine, as it runs here, has a native transport: a script message
    /// handler whose messages get replies (see `transport`).
    fn has_native_transport() -> bool;

    /// Registers the native transport on a built webview labelled `label`. An error
    /// means the webview must not be used (the app asked for a transport it cannot have).
    fn attach_native_transport(
        webview: &WebView,
        shared: &std::sync::Arc<crate::Shared>,
        label: &str,
    ) -> Result<(), crate::Error>;

    /// Makes the page's `console.*` output appear on this process's stdout, where the
    /// engine can; does nothing elsewhere.
    fn forward_console_to_stdout(webview: &WebView);

    /// Writes a PNG of the visible page to `path`, then calls `done` with the outcome (an
    /// error at once where the engine offers no snapshot through wry).
    fn snapshot_png(
        webview: &WebView,
        path: &Path,
        done: impl FnOnce(Result<(), String>) + 'static,
    );
}

/// The error for an app that asked for the native transport on an engine without one.
#[cfg(not(target_os = "linux"))]
fn no_native_transport(engine: Engine) -> crate::Error {
    crate::Error::Engine(format!(
        "Portcullis has no native transport on {}: choose Transport::Fetch",
        engine.name()
    ))
}

/// Reports to `done` that the engine offers no snapshot through wry.
#[cfg(not(target_os = "linux"))]
fn no_snapshot(engine: Engine, done: impl FnOnce(Result<(), String>) + 'static) {
    done(Err(format!(
        "PNG snapshots need WebKitGTK: {} offers none through wry",
        engine.name()
    )));
}
