//! Run-time grants: capabilities the app grants to one window while it runs, and paths
//! it adds to one window's scope.
//!
//! A capability marked `"runtimeGrant": true` applies to a window only while the app
//! holds a grant of it for that window ([`Grants::grant`], e.g. after the user signed
//! in). [`Grants::allow_path`] adds one file or directory to a scope of a capability for
//! one window (the file the user picked in a native dialog); the scope check treats it
//! like the scope's own globs, with the same refusals (`..`, symlinks out, deny globs).
//!
//! The invariants, each kept by one file here:
//!
//! - **Readers never wait for writers** (`snapshot.rs`). The gate reads an immutable
//!   snapshot through `arc-swap` (no lock); a writer copies it, changes the copy and
//!   swaps it in, one writer at a time (`writer.rs`).
//! - **After a revoke returns, nothing it revoked starts** (`tokens.rs`). Every
//!   admission that relied on a grant or an added path holds that entry's token. A
//!   revoke (or forget) swaps the snapshot first, then marks the token gone, then
//!   returns; the router looks at the tokens again just before a handler or listener
//!   starts. So a call admitted before the revoke but not yet started is refused
//!   (`E_GRANT_REVOKED`, or `E_OUT_OF_SCOPE` for a forgotten path), and one admitted
//!   after it never sees the grant at all.
//! - A grant belongs to the window (its label), not to a page load: it survives
//!   reloads and ends when the app revokes it or the window closes
//!   ([`Grants::forget_window`], which `portcullis-wry` calls).
//!
//! Every change is an audit event (`events.rs`): `tracing` at INFO on target
//! `portcullis::audit`, and the app's grant sink ([`Grants::set_sink`]).
//!
//! Read in this order: `tokens`, `snapshot`, `events`, `error`, `writer`, then
//! [`Grants`] here: the handle the app and the gate hold, which checks what the app
//! asks before a writer changes anything.

mod error;
mod events;
#[cfg(test)]
mod fixture;
mod snapshot;
mod tokens;
mod writer;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use arc_swap::ArcSwap;

use super::capability::CompiledCapability;
use crate::scope::{normalize, resolve};
use writer::{NewPath, Writer};

pub use error::GrantError;
pub use events::{GrantChange, GrantEvent, GrantSink};
pub(crate) use snapshot::{Added, Snapshot};
pub use snapshot::{GrantedPath, Reach, WindowGrants};
pub(crate) use tokens::{Held, Holds};

/// The run-time grants of one gate. Clones share the same table.
#[derive(Clone)]
pub struct Grants {
    inner: Arc<Inner>,
}

struct Inner {
    /// The policy's capabilities (shared with it), by index.
    caps: Arc<[CompiledCapability]>,
    current: ArcSwap<Snapshot>,
    /// Held by a writer for its copy-change-swap; the sink is called under it too, so
    /// events are reported in the order the changes were made.
    writer: Mutex<Writer>,
}

impl fmt::Debug for Grants {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let snapshot = self.inner.current.load();
        f.debug_struct("Grants")
            .field("windows", &snapshot.windows.len())
            .finish_non_exhaustive()
    }
}

impl Grants {
    pub(crate) fn new(caps: Arc<[CompiledCapability]>) -> Grants {
        Grants {
            inner: Arc::new(Inner {
                caps: Arc::clone(&caps),
                current: ArcSwap::from_pointee(Snapshot::default()),
                writer: Mutex::new(Writer::new(caps)),
            }),
        }
    }

    /// The snapshot in force now (lock-free).
    pub(crate) fn load(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.inner.current.load()
    }

    /// Sends every grant change to `sink` as well as to `tracing`. The sink is called
    /// while the change still holds the writers' lock (so events arrive in order): it
    /// must not grant, revoke, add or forget itself.
    pub fn set_sink(&self, sink: GrantSink) {
        self.writer().set_sink(sink);
    }

    /// For embedders: from now on only windows reported with [`Grants::window_opened`]
    /// and not closed since ([`Grants::forget_window`]) can be granted capabilities or
    /// paths; others get [`GrantError::WindowNotOpen`]. `portcullis-wry` calls this
    /// when it builds, so that a sign-in handler finishing after its window closed
    /// grants nothing to the next window with that label.
    pub fn track_windows(&self) {
        self.writer().track_windows();
    }

    /// For embedders: webview `webview` was just built. Whatever an earlier webview
    /// with this label still held (it was dropped without being closed) ends now; the
    /// new one starts with nothing.
    pub fn window_opened(&self, webview: &str) {
        self.forget_window(webview);
        self.writer().opened(webview);
    }

    /// Grants run-time capability `capability` to window `webview`: its next message
    /// may use it. Granting what is granted already changes nothing.
    pub fn grant(&self, webview: &str, capability: &str) -> Result<(), GrantError> {
        let cap = self.runtime_entry(webview, capability)?;
        self.writer().grant(&self.inner.current, webview, cap)
    }

    /// Revokes `capability` from window `webview`, with the paths added to its scopes
    /// for that window (a sign-out forgets what the user picked). When this returns, no
    /// message is admitted under that grant or those paths, and no call admitted under
    /// them earlier starts (`E_GRANT_REVOKED`, `E_OUT_OF_SCOPE`); calls already
    /// running finish. Returns whether it was granted.
    pub fn revoke(&self, webview: &str, capability: &str) -> Result<bool, GrantError> {
        let cap = self.runtime_entry(webview, capability)?;
        Ok(self.writer().revoke(&self.inner.current, webview, cap))
    }

    /// Adds `path` to scope `scope` of capability `capability` for window `webview`
    /// only: exactly that file ([`Reach::File`]) or that directory and everything in it
    /// ([`Reach::Tree`]). The path must be absolute without `..`; its symlinks are
    /// resolved now, and a path inside the scope's deny globs is refused. Returns the
    /// resolved path (what a handler's `Scoped` will give). The same file added again,
    /// by either name, replaces the earlier entry.
    pub fn allow_path(
        &self,
        webview: &str,
        capability: &str,
        scope: &str,
        path: &Path,
        reach: Reach,
    ) -> Result<PathBuf, GrantError> {
        let (cap, index) = self.scope_of(webview, capability, scope)?;
        let bad = |reason: &str| bad_path(scope, reason);
        let lexical = absolute(path).ok_or_else(|| bad(ABSOLUTE))?;
        let lexical = normalize(lexical).map_err(|e| bad(&e.to_string()))?;
        let resolved =
            resolve(&lexical).ok_or_else(|| bad("it goes through a dangling symlink"))?;
        if resolved.to_str().is_none() {
            return Err(bad("its symlinks resolve to a path that is not UTF-8"));
        }
        let compiled = &self.inner.caps[cap].scopes[index];
        if compiled.denies(&lexical) || compiled.denies(&resolved) {
            return Err(bad("the scope's deny globs cover it (deny wins)"));
        }
        let new = NewPath {
            cap,
            scope: index,
            lexical,
            resolved: resolved.clone(),
            reach,
        };
        self.writer()
            .allow_path(&self.inner.current, webview, new)?;
        Ok(resolved)
    }

    /// Forgets a path [`Grants::allow_path`] added, named as it was added or as it
    /// resolved (what `allow_path` returned, what `Scoped` gave). When this returns, no
    /// message is admitted through it, and no call admitted through it earlier starts
    /// (`E_OUT_OF_SCOPE`). Returns whether it was there.
    pub fn forget_path(
        &self,
        webview: &str,
        capability: &str,
        scope: &str,
        path: &Path,
    ) -> Result<bool, GrantError> {
        let at = self.scope_of(webview, capability, scope)?;
        let bad = |reason: &str| bad_path(scope, reason);
        let given = absolute(path).ok_or_else(|| bad(ABSOLUTE))?;
        let given = normalize(given).map_err(|e| bad(&e.to_string()))?;
        let resolved = resolve(&given);
        let current = &self.inner.current;
        Ok(self
            .writer()
            .forget_path(current, webview, at, &given, resolved.as_deref()))
    }

    /// Window `webview` closed: every grant and added path of it ends, and in an
    /// embedder that reports its windows it can be granted nothing until it is built
    /// again. Returns whether it had any.
    pub fn forget_window(&self, webview: &str) -> bool {
        self.writer().forget_window(&self.inner.current, webview)
    }

    /// Window `webview`'s current grants and added paths.
    pub fn of(&self, webview: &str) -> WindowGrants {
        let snapshot = self.load();
        match snapshot.windows.get(webview) {
            Some(window) => window.describe(&self.inner.caps),
            None => WindowGrants::default(),
        }
    }

    fn entry(&self, webview: &str, capability: &str) -> Result<usize, GrantError> {
        let cap = self
            .inner
            .caps
            .iter()
            .position(|c| &*c.identifier == capability)
            .ok_or_else(|| GrantError::UnknownCapability(capability.to_owned()))?;
        if !self.inner.caps[cap].windows.is_match(webview) {
            return Err(GrantError::WindowNotCovered {
                capability: capability.to_owned(),
                webview: webview.to_owned(),
            });
        }
        Ok(cap)
    }

    fn runtime_entry(&self, webview: &str, capability: &str) -> Result<usize, GrantError> {
        let cap = self.entry(webview, capability)?;
        if !self.inner.caps[cap].runtime {
            return Err(GrantError::NotRuntime(capability.to_owned()));
        }
        Ok(cap)
    }

    fn scope_of(
        &self,
        webview: &str,
        capability: &str,
        scope: &str,
    ) -> Result<(usize, usize), GrantError> {
        let cap = self.entry(webview, capability)?;
        let index = self.inner.caps[cap]
            .scope_names
            .iter()
            .position(|name| name == scope)
            .ok_or_else(|| GrantError::UnknownScope {
                capability: capability.to_owned(),
                scope: scope.to_owned(),
            })?;
        Ok((cap, index))
    }

    fn writer(&self) -> MutexGuard<'_, Writer> {
        // A sink that panicked poisons nothing the table relies on: the snapshot is
        // only ever swapped whole.
        self.inner
            .writer
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

const ABSOLUTE: &str = "it must be an absolute UTF-8 path";

/// `path` when it is absolute UTF-8 without NUL.
fn absolute(path: &Path) -> Option<&Path> {
    path.to_str()
        .filter(|p| p.starts_with('/') && !p.contains('\0'))
        .map(Path::new)
}

fn bad_path(scope: &str, reason: &str) -> GrantError {
    GrantError::BadPath {
        scope: scope.to_owned(),
        reason: reason.to_owned(),
    }
}

#[cfg(test)]
mod tests;
