//! Run-time grants: capabilities the app grants to one window while it runs, and paths
//! it adds to one window's scope.
//!
//! A capability marked `"runtimeGrant": true` applies to a window only while the app
//! holds a grant of it for that window ([`Grants::grant`], e.g. after the user signed
//! in). [`Grants::allow_path`] adds one file or directory to a scope of a capability for
//! one window (the file the user picked in a native dialog); the scope check treats it
//! like the scope's own globs, with the same refusals (`..`, symlinks out, deny globs).
//!
//! The invariants:
//!
//! - **Readers never wait for writers.** The gate reads an immutable [`Snapshot`]
//!   through `arc-swap` (no lock); a writer copies it, changes the copy and swaps it
//!   in, one writer at a time.
//! - **After a revoke returns, nothing it revoked starts.** Every admission that relied
//!   on a grant or an added path holds that entry's [`Held`] token. A revoke (or forget)
//!   swaps the snapshot first, then marks the token gone, then returns; the router
//!   looks at the tokens again just before a handler or listener starts. So a call
//!   admitted before the revoke but not yet started is refused (`E_GRANT_REVOKED`,
//!   or `E_OUT_OF_SCOPE` for a forgotten path), and one admitted after it never sees the
//!   grant at all.
//! - A grant belongs to the window (its label), not to a page load: it survives
//!   reloads and ends when the app revokes it or the window closes
//!   ([`Grants::forget_window`], which `portcullis-wry` calls).
//!
//! Every change is an audit event: `tracing` at INFO on target `portcullis::audit`, and
//! the app's grant sink ([`Grants::set_sink`]).

use std::collections::HashSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use arc_swap::ArcSwap;
use serde::Serialize;

use super::capability::CompiledCapability;
use crate::FastMap;
use crate::error::{ErrorCode, Rejection};
use crate::scope::{normalize, resolve};

/// How much an added path covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reach {
    /// Exactly this path (a file the user picked).
    File,
    /// This directory and everything below it (a folder the user picked).
    Tree,
}

/// Why a grant change was refused. Each is a mistake in the app's code, not the page's.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// No capability has this identifier.
    #[error("no capability is named {0:?}")]
    UnknownCapability(String),
    /// The capability applies without a grant: granting it would change nothing.
    #[error(
        "capability {0:?} is not marked \"runtimeGrant\": true, so it cannot be granted or revoked"
    )]
    NotRuntime(String),
    /// The window is not open: it closed (or was never built) in an embedder that
    /// reports its windows (`portcullis-wry` does). A grant for it would wait for the
    /// next window with that label, whose user never signed in.
    #[error("window {0:?} is not open: grants and paths are for open windows only")]
    WindowNotOpen(String),
    /// The capability's `windows` do not match this webview label.
    #[error(
        "capability {capability:?} does not cover window {webview:?} (its \"windows\" do not match the label)"
    )]
    WindowNotCovered {
        /// The capability.
        capability: String,
        /// The label.
        webview: String,
    },
    /// The capability has no scope of this name.
    #[error("capability {capability:?} has no scope named {scope:?}")]
    UnknownScope {
        /// The capability.
        capability: String,
        /// The scope name asked for.
        scope: String,
    },
    /// The path cannot be added (or forgotten): relative, `..`, not UTF-8 (as given or
    /// resolved), a dangling symlink, or inside one of the scope's deny globs.
    #[error("path cannot be added to scope {scope:?}: {reason}")]
    BadPath {
        /// The scope.
        scope: String,
        /// Why.
        reason: String,
    },
}

/// What changed, for the audit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum GrantChange {
    /// A capability was granted to a window.
    Granted,
    /// A capability's grant was revoked from a window.
    Revoked,
    /// A path was added to one window's scope.
    PathAllowed,
    /// An added path was forgotten.
    PathForgotten,
    /// The window closed: every grant and added path of it ended.
    WindowForgotten,
}

/// One change of the grants, as the app's grant sink receives it.
#[derive(Clone, Debug, Serialize)]
pub struct GrantEvent<'a> {
    /// What changed.
    pub change: GrantChange,
    /// The webview label.
    pub webview: &'a str,
    /// The capability (`None` for [`GrantChange::WindowForgotten`]).
    pub capability: Option<&'a str>,
    /// The scope, for path changes.
    pub scope: Option<&'a str>,
    /// The path as it was added (symlinks resolved), for path changes.
    pub path: Option<&'a Path>,
}

/// The app's sink for grant changes.
pub type GrantSink = Arc<dyn Fn(&GrantEvent<'_>) + Send + Sync>;

/// A window's current grants, as the page may learn them (`portcullis:grants`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct WindowGrants {
    /// Identifiers of the run-time capabilities granted to it, in config order.
    pub capabilities: Vec<String>,
    /// The paths added to its scopes.
    pub paths: Vec<GrantedPath>,
}

/// One added path.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GrantedPath {
    /// The capability whose scope it was added to.
    pub capability: String,
    /// The scope.
    pub scope: String,
    /// The path, symlinks resolved.
    pub path: PathBuf,
    /// File or tree.
    pub reach: Reach,
}

/// A token an admitted call holds for each grant or added path it relied on; gone once
/// the grant is revoked or the path forgotten.
pub(crate) struct Held {
    gone: AtomicBool,
    /// Why a call that relied on it is refused once it is gone.
    code: ErrorCode,
    capability: Arc<str>,
}

impl Held {
    fn new(code: ErrorCode, capability: Arc<str>) -> Arc<Held> {
        Arc::new(Held {
            gone: AtomicBool::new(false),
            code,
            capability,
        })
    }

    /// `Err` with the refusal once the grant or path it stands for has ended.
    pub(crate) fn check(&self) -> Result<(), (ErrorCode, String)> {
        if !self.gone.load(Ordering::SeqCst) {
            return Ok(());
        }
        let what = match self.code {
            ErrorCode::GrantRevoked => "its grant was revoked",
            _ => "the path it relied on was forgotten",
        };
        Err((
            self.code,
            format!(
                "capability {:?}: {what} before the call started",
                self.capability
            ),
        ))
    }

    fn end(&self) {
        self.gone.store(true, Ordering::SeqCst);
    }
}

/// The grant and added paths one admission relied on, checked again before its handler
/// or listener starts. Holding the common case (one grant, no paths) needs no
/// allocation.
#[derive(Clone, Default)]
pub(crate) struct Holds {
    pub(crate) grant: Option<Arc<Held>>,
    pub(crate) paths: Vec<Arc<Held>>,
}

impl Holds {
    pub(crate) fn is_empty(&self) -> bool {
        self.grant.is_none() && self.paths.is_empty()
    }

    /// `Err` with the refusal once any of them has ended.
    pub(crate) fn check(&self) -> Result<(), Rejection> {
        for held in self.grant.iter().chain(&self.paths) {
            held.check()
                .map_err(|(code, message)| Rejection::new(code, message))?;
        }
        Ok(())
    }
}

/// A path added to one window's scope.
#[derive(Clone)]
pub(crate) struct Added {
    pub(crate) cap: usize,
    pub(crate) scope: usize,
    /// The path as the app gave it, normalized (what a page would send).
    pub(crate) lexical: PathBuf,
    /// The same path with symlinks resolved when it was added.
    pub(crate) resolved: PathBuf,
    pub(crate) reach: Reach,
    pub(crate) held: Arc<Held>,
}

impl Added {
    /// Whether `path` (lexical or resolved) is covered by this entry.
    pub(crate) fn covers(&self, path: &Path) -> bool {
        let under = |base: &Path| match self.reach {
            Reach::File => path == base,
            Reach::Tree => path.starts_with(base),
        };
        under(&self.lexical) || under(&self.resolved)
    }
}

/// One window's grants in a snapshot.
#[derive(Clone, Default)]
pub(crate) struct Window {
    /// (capability index, token), for granted run-time capabilities.
    pub(crate) granted: Vec<(usize, Arc<Held>)>,
    /// Capability indexes revoked from this window and not granted again.
    pub(crate) revoked: Vec<usize>,
    pub(crate) paths: Vec<Added>,
}

impl Window {
    pub(crate) fn held(&self, cap: usize) -> Option<&Arc<Held>> {
        self.granted.iter().find(|(c, _)| *c == cap).map(|(_, h)| h)
    }
}

/// Every window's grants at one moment. Never changed once published.
#[derive(Clone, Default)]
pub(crate) struct Snapshot {
    /// Each window behind its own `Arc`: a writer's copy shares every window it does
    /// not change, so it never touches what the gate reads of the others.
    pub(crate) windows: FastMap<Arc<str>, Arc<Window>>,
}

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

/// What only writers read.
#[derive(Default)]
struct Writer {
    sink: Option<GrantSink>,
    /// The open windows' labels, once the embedder reports them
    /// ([`Grants::track_windows`]); `None` before: every label counts as open.
    open: Option<HashSet<String>>,
}

impl Writer {
    fn check_open(&self, webview: &str) -> Result<(), GrantError> {
        match &self.open {
            Some(open) if !open.contains(webview) => {
                Err(GrantError::WindowNotOpen(webview.to_owned()))
            }
            _ => Ok(()),
        }
    }
}

/// What one edit of a snapshot copy did: the tokens that end and the audit events, or
/// `None` when nothing changed.
type Edit = Option<(Vec<Arc<Held>>, Vec<Event>)>;

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
                caps,
                current: ArcSwap::from_pointee(Snapshot::default()),
                writer: Mutex::new(Writer::default()),
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
        self.writer().sink = Some(sink);
    }

    /// For embedders: from now on only windows reported with [`Grants::window_opened`]
    /// and not closed since ([`Grants::forget_window`]) can be granted capabilities or
    /// paths; others get [`GrantError::WindowNotOpen`]. `portcullis-wry` calls this
    /// when it builds, so that a sign-in handler finishing after its window closed
    /// grants nothing to the next window with that label.
    pub fn track_windows(&self) {
        let mut writer = self.writer();
        if writer.open.is_none() {
            writer.open = Some(HashSet::new());
        }
    }

    /// For embedders: webview `webview` was just built. Whatever an earlier webview
    /// with this label still held (it was dropped without being closed) ends now; the
    /// new one starts with nothing.
    pub fn window_opened(&self, webview: &str) {
        self.forget_window(webview);
        if let Some(open) = &mut self.writer().open {
            open.insert(webview.to_owned());
        }
    }

    /// Grants run-time capability `capability` to window `webview`: its next message
    /// may use it. Granting what is granted already changes nothing.
    pub fn grant(&self, webview: &str, capability: &str) -> Result<(), GrantError> {
        let cap = self.runtime_entry(webview, capability)?;
        self.change(|writer, snapshot| {
            writer.check_open(webview)?;
            let window = Arc::make_mut(snapshot.windows.entry(Arc::from(webview)).or_default());
            if window.held(cap).is_some() {
                return Ok(None);
            }
            window.revoked.retain(|&c| c != cap);
            let identifier = Arc::clone(&self.inner.caps[cap].identifier);
            window
                .granted
                .push((cap, Held::new(ErrorCode::GrantRevoked, identifier)));
            let e = event(GrantChange::Granted, webview, capability);
            Ok(Some((Vec::new(), vec![e])))
        })?;
        Ok(())
    }

    /// Revokes `capability` from window `webview`, with the paths added to its scopes
    /// for that window (a sign-out forgets what the user picked). When this returns, no
    /// message is admitted under that grant or those paths, and no call admitted under
    /// them earlier starts (`E_GRANT_REVOKED`, `E_OUT_OF_SCOPE`); calls already
    /// running finish. Returns whether it was granted.
    pub fn revoke(&self, webview: &str, capability: &str) -> Result<bool, GrantError> {
        let cap = self.runtime_entry(webview, capability)?;
        let mut was_granted = false;
        self.change(|_, snapshot| {
            let Some(window) = snapshot.windows.get_mut(webview).map(Arc::make_mut) else {
                return Ok(None);
            };
            // The paths added to its scopes go too, granted or not: nothing a user
            // picked waits for the next sign-in.
            let (mut ended, mut events) = (Vec::new(), Vec::new());
            if let Some(at) = window.granted.iter().position(|(c, _)| *c == cap) {
                let (_, held) = window.granted.remove(at);
                window.revoked.push(cap);
                ended.push(held);
                events.push(event(GrantChange::Revoked, webview, capability));
                was_granted = true;
            }
            let caps = &self.inner.caps;
            window.paths.retain(|a| {
                if a.cap != cap {
                    return true;
                }
                ended.push(Arc::clone(&a.held));
                events.push(path_event(GrantChange::PathForgotten, webview, caps, a));
                false
            });
            Ok((!ended.is_empty()).then_some((ended, events)))
        })?;
        Ok(was_granted)
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
        let identifier = Arc::clone(&self.inner.caps[cap].identifier);
        self.change(|writer, snapshot| {
            writer.check_open(webview)?;
            let window = Arc::make_mut(snapshot.windows.entry(Arc::from(webview)).or_default());
            let same = |a: &Added| {
                a.cap == cap && a.scope == index && (a.lexical == lexical || a.resolved == resolved)
            };
            let identical = |a: &Added| {
                same(a) && a.lexical == lexical && a.resolved == resolved && a.reach == reach
            };
            if window.paths.iter().any(identical) {
                return Ok(None);
            }
            // Another reach, another name, or a link re-pointed since: the new entry
            // replaces the old one, whose admitted calls not yet started are refused.
            let replaced: Vec<_> = window
                .paths
                .iter()
                .filter(|a| same(a))
                .map(|a| Arc::clone(&a.held))
                .collect();
            window.paths.retain(|a| !same(a));
            let added = Added {
                cap,
                scope: index,
                lexical: lexical.clone(),
                resolved: resolved.clone(),
                reach,
                held: Held::new(ErrorCode::OutOfScope, identifier),
            };
            let e = path_event(GrantChange::PathAllowed, webview, &self.inner.caps, &added);
            window.paths.push(added);
            Ok(Some((replaced, vec![e])))
        })?;
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
        let (cap, index) = self.scope_of(webview, capability, scope)?;
        let bad = |reason: &str| bad_path(scope, reason);
        let given = absolute(path).ok_or_else(|| bad(ABSOLUTE))?;
        let given = normalize(given).map_err(|e| bad(&e.to_string()))?;
        let resolved = resolve(&given);
        let named = |a: &Added| {
            a.cap == cap
                && a.scope == index
                && [&a.lexical, &a.resolved]
                    .into_iter()
                    .any(|p| *p == given || Some(p) == resolved.as_ref())
        };
        self.change(|_, snapshot| {
            let Some(window) = snapshot.windows.get_mut(webview).map(Arc::make_mut) else {
                return Ok(None);
            };
            let (mut ended, mut events) = (Vec::new(), Vec::new());
            let caps = &self.inner.caps;
            window.paths.retain(|a| {
                if !named(a) {
                    return true;
                }
                ended.push(Arc::clone(&a.held));
                events.push(path_event(GrantChange::PathForgotten, webview, caps, a));
                false
            });
            Ok((!ended.is_empty()).then_some((ended, events)))
        })
    }

    /// Window `webview` closed: every grant and added path of it ends, and in an
    /// embedder that reports its windows it can be granted nothing until it is built
    /// again. Returns whether it had any.
    pub fn forget_window(&self, webview: &str) -> bool {
        let forgot = self.change(|writer, snapshot| {
            if let Some(open) = &mut writer.open {
                open.remove(webview);
            }
            let Some(window) = snapshot.windows.remove(webview).map(Arc::unwrap_or_clone) else {
                return Ok(None);
            };
            let held = window
                .granted
                .into_iter()
                .map(|(_, h)| h)
                .chain(window.paths.into_iter().map(|a| a.held))
                .collect();
            let mut e = event(GrantChange::WindowForgotten, webview, "");
            e.capability = None;
            Ok(Some((held, vec![e])))
        });
        // The edit above makes no mistakes.
        forgot.unwrap_or(false)
    }

    /// Window `webview`'s current grants and added paths.
    pub fn of(&self, webview: &str) -> WindowGrants {
        let snapshot = self.load();
        let Some(window) = snapshot.windows.get(webview) else {
            return WindowGrants::default();
        };
        let mut capabilities: Vec<_> = window.granted.iter().map(|(c, _)| *c).collect();
        capabilities.sort_unstable();
        let caps = &self.inner.caps;
        WindowGrants {
            capabilities: capabilities
                .into_iter()
                .map(|c| caps[c].identifier.to_string())
                .collect(),
            paths: window
                .paths
                .iter()
                .map(|a| GrantedPath {
                    capability: caps[a.cap].identifier.to_string(),
                    scope: caps[a.cap].scope_names[a.scope].clone(),
                    path: a.resolved.clone(),
                    reach: a.reach,
                })
                .collect(),
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

    fn writer(&self) -> std::sync::MutexGuard<'_, Writer> {
        // A sink that panicked poisons nothing the table relies on: the snapshot is
        // only ever swapped whole.
        self.inner
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// One writer's copy-change-swap. `edit` changes the copy and says what ended and
    /// what to report, or refuses (then nothing changes). The new snapshot is published
    /// before the tokens end, and both before this returns.
    fn change(
        &self,
        edit: impl FnOnce(&mut Writer, &mut Snapshot) -> Result<Edit, GrantError>,
    ) -> Result<bool, GrantError> {
        let mut writer = self.writer();
        let mut next = Snapshot::clone(&self.inner.current.load());
        let Some((ended, events)) = edit(&mut writer, &mut next)? else {
            return Ok(false);
        };
        self.inner.current.store(Arc::new(next));
        for held in ended {
            held.end();
        }
        for e in &events {
            report(writer.sink.as_ref(), e);
        }
        Ok(true)
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

/// One change, to `tracing` and to the app's sink.
fn report(sink: Option<&GrantSink>, e: &Event) {
    let event = GrantEvent {
        change: e.change,
        webview: &e.webview,
        capability: e.capability.as_deref(),
        scope: e.scope.as_deref(),
        path: e.path.as_deref(),
    };
    tracing::info!(
        target: "portcullis::audit",
        change = ?event.change,
        webview = %crate::audit::escape(event.webview),
        capability = event.capability,
        scope = event.scope,
        path = event.path.map(|p| p.display().to_string()),
        "grants changed"
    );
    if let Some(sink) = sink {
        sink(&event);
    }
}

/// An event being built, owned (the snapshot copy is borrowed while it is made).
struct Event {
    change: GrantChange,
    webview: String,
    capability: Option<String>,
    scope: Option<String>,
    path: Option<PathBuf>,
}

/// The event of a change to one added path.
fn path_event(change: GrantChange, webview: &str, caps: &[CompiledCapability], a: &Added) -> Event {
    let cap = &caps[a.cap];
    Event {
        change,
        webview: webview.to_owned(),
        capability: Some(cap.identifier.to_string()),
        scope: Some(cap.scope_names[a.scope].clone()),
        path: Some(a.resolved.clone()),
    }
}

fn event(change: GrantChange, webview: &str, capability: &str) -> Event {
    Event {
        change,
        webview: webview.to_owned(),
        capability: Some(capability.to_owned()),
        scope: None,
        path: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn added(path: &str, resolved: &str, reach: Reach) -> Added {
        Added {
            cap: 0,
            scope: 0,
            lexical: PathBuf::from(path),
            resolved: PathBuf::from(resolved),
            reach,
            held: Held::new(ErrorCode::OutOfScope, Arc::from("c")),
        }
    }

    #[test]
    fn a_file_covers_itself_by_either_name_and_nothing_else() {
        let a = added("/home/u/link.txt", "/home/u/real.txt", Reach::File);
        assert!(a.covers(Path::new("/home/u/link.txt")));
        assert!(a.covers(Path::new("/home/u/real.txt")));
        assert!(!a.covers(Path::new("/home/u/link.txt/x")));
        assert!(!a.covers(Path::new("/home/u")));
    }

    #[test]
    fn a_tree_covers_whole_components_below_it() {
        let a = added("/home/u/docs", "/home/u/docs", Reach::Tree);
        assert!(a.covers(Path::new("/home/u/docs")));
        assert!(a.covers(Path::new("/home/u/docs/a/b")));
        // A sibling whose name starts the same is not inside.
        assert!(!a.covers(Path::new("/home/u/docs2/a")));
        assert!(!a.covers(Path::new("/home/u")));
    }

    #[test]
    fn a_token_refuses_with_its_code_once_ended() {
        let held = Held::new(ErrorCode::GrantRevoked, Arc::from("export"));
        assert_eq!(held.check(), Ok(()));
        held.end();
        let (code, message) = held.check().unwrap_err();
        assert_eq!(code, ErrorCode::GrantRevoked);
        assert!(
            message.contains("\"export\": its grant was revoked"),
            "{message}"
        );
        let path = Held::new(ErrorCode::OutOfScope, Arc::from("base"));
        path.end();
        assert_eq!(path.check().unwrap_err().0, ErrorCode::OutOfScope);
    }
}
