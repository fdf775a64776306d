//! Why Portcullis could not be set up: every way `build` and `build_webview` can fail.

use std::path::PathBuf;

use portcullis_core::ConfigErrors;

use crate::hook;

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
    /// The tokio runtime for the handlers could not start.
    #[error("cannot start the handlers' tokio runtime: {0}")]
    Runtime(std::io::Error),
    /// The routing table has mistakes (a name registered twice, a `State<T>` never
    /// registered, ...): the app does not start.
    #[error("the app's routing table has mistakes: {0}")]
    Router(#[from] portcullis_core::router::RouterErrors),
    /// wry failed to build the webview.
    #[error("webview: {0}")]
    Webview(#[from] wry::Error),
    /// A webview with this label is already attached.
    #[error("a webview labelled {0:?} already exists: labels must be unique")]
    DuplicateLabel(String),
    /// Developer tools were asked for in a release build without
    /// `force_devtools_in_release`.
    #[error(
        "developer tools were asked for in a release build: anyone using the app could read and drive the page and the isolation frame; call force_devtools_in_release() if this build never reaches users"
    )]
    DevtoolsInRelease,
    /// The frontend cannot be served as the config and the build ask: no frontend, a
    /// release build with nothing embedded, a dev server that does not answer, embedded
    /// files that are not `frontendDist`'s.
    #[error("frontend: {0}")]
    Frontend(String),
    /// The isolation app cannot be served as the build asks: a release build with it
    /// neither embedded nor named with `isolation_dir`, or embedded files that are not
    /// the config's `dir`.
    #[error("isolation app: {0}")]
    Isolation(String),
    /// The engine cannot give a webview a protection Portcullis needs, and has no
    /// compensation for it: the webview is not used (see `engine`'s module for each).
    #[error("webview engine: {0}")]
    Engine(String),
    /// Isolation is on and the app's validation hook is missing or cannot run.
    #[error("{0}")]
    Hook(#[from] hook::HookError),
}
