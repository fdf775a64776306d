//! Typed bindings for the page, generated from the app's handlers.
//!
//! The app's router records the types of the handlers registered typed
//! (`Router::command_typed`, `stream_typed`, `on_event_typed`, `emits`); its
//! [`Manifest`] is what this module turns into an ES module for the page: a `.js` file
//! (the calls, on the bridge or on `@portcullis/api`) and its `.d.ts` (one overload of
//! `invoke` per command, of `openStream` per stream, of `emit` per page event and of
//! `listen`/`once` per core event, with the app's types, its error codes and data).
//! A page without a build step imports the `.js` and is type-checked against the
//! `.d.ts` (`checkJs`); a TypeScript frontend imports it like any typed module.
//!
//! It is a library function, not a command of the `portcullis` CLI, because only the
//! app's own binary knows its handlers' types: the app calls [`Bindings::sync`] from a
//! test, which writes the files and the manifest when asked
//! (`PORTCULLIS_BINDINGS=write`) and otherwise fails when they are stale. The same
//! step writes the manifest that `portcullis check --manifest` compares with the config.

mod dts;
mod ts;

use std::fmt;
use std::path::{Path, PathBuf};

use portcullis_core::manifest::Manifest;

/// The environment variable that makes [`Bindings::sync`] write instead of check.
pub const WRITE_VAR: &str = "PORTCULLIS_BINDINGS";

/// Where the generated `.js` takes the calls from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Runtime {
    /// `@portcullis/api` (a frontend with a bundler or an import map).
    #[default]
    Module,
    /// The bridge `window.portcullis` (a page served by portcullis-wry with no build
    /// step: nothing to resolve).
    Global,
}

/// Whether [`Bindings::sync`] writes the files or checks them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Writes every file that differs.
    Write,
    /// Fails with [`Stale`] when a file differs or is missing.
    Check,
}

impl Mode {
    /// [`Mode::Write`] when `PORTCULLIS_BINDINGS=write`, else [`Mode::Check`].
    pub fn from_env() -> Mode {
        match std::env::var(WRITE_VAR) {
            Ok(v) if v == "write" => Mode::Write,
            _ => Mode::Check,
        }
    }
}

/// The files that differ from what the manifest gives.
#[derive(Debug)]
pub struct Stale {
    /// Each file that is stale or missing.
    pub files: Vec<PathBuf>,
}

impl fmt::Display for Stale {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<_> = self.files.iter().map(|p| p.display().to_string()).collect();
        write!(
            f,
            "stale bindings: {} differ from the app's handlers; regenerate with {WRITE_VAR}=write and commit them",
            names.join(", ")
        )
    }
}

impl std::error::Error for Stale {}

/// The generated files of one app.
#[derive(Clone, Debug)]
pub struct Bindings {
    js: String,
    dts: String,
    manifest: String,
}

impl Bindings {
    /// The bindings of `manifest`, calling through `runtime`.
    pub fn new(manifest: &Manifest, runtime: Runtime) -> Bindings {
        let js = match runtime {
            Runtime::Module => include_str!("../../js/bindings/module.js"),
            Runtime::Global => include_str!("../../js/bindings/global.js"),
        };
        Bindings {
            js: js.to_owned(),
            dts: dts::render(manifest),
            manifest: manifest.to_json(),
        }
    }

    /// The module's JavaScript (the same for every app of a runtime).
    pub fn js(&self) -> &str {
        &self.js
    }

    /// The module's declarations.
    pub fn dts(&self) -> &str {
        &self.dts
    }

    /// Writes (or checks) `<module>.js`, `<module>.d.ts` beside it, and the manifest at
    /// `manifest` (what `portcullis check --manifest` reads). `module` is the path
    /// without extension, e.g. `frontend/bindings`. Returns the files written.
    pub fn sync(
        &self,
        module: &Path,
        manifest: &Path,
        mode: Mode,
    ) -> Result<Vec<PathBuf>, SyncError> {
        let with = |ext: &str| {
            let mut p = module.as_os_str().to_owned();
            p.push(ext);
            PathBuf::from(p)
        };
        let files = [
            (with(".js"), &self.js),
            (with(".d.ts"), &self.dts),
            (manifest.to_path_buf(), &self.manifest),
        ];
        let mut differ = Vec::new();
        for (path, text) in files {
            let now = std::fs::read_to_string(&path).ok();
            if now.as_deref() == Some(text.as_str()) {
                continue;
            }
            if mode == Mode::Write {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir)
                        .map_err(|e| SyncError::Io(dir.to_path_buf(), e))?;
                }
                std::fs::write(&path, text).map_err(|e| SyncError::Io(path.clone(), e))?;
            }
            differ.push(path);
        }
        match mode {
            Mode::Check if !differ.is_empty() => Err(SyncError::Stale(Stale { files: differ })),
            _ => Ok(differ),
        }
    }
}

/// Why [`Bindings::sync`] failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum SyncError {
    /// The files are stale (check mode).
    Stale(Stale),
    /// A file could not be written.
    Io(PathBuf, std::io::Error),
}

impl fmt::Display for SyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SyncError::Stale(stale) => stale.fmt(f),
            SyncError::Io(path, e) => write!(f, "writing {}: {e}", path.display()),
        }
    }
}

impl std::error::Error for SyncError {}

#[cfg(test)]
mod tests;
