//! Changing the grants: one writer at a time builds the next snapshot, publishes it,
//! ends the tokens of what it took away, and reports the change.
//!
//! The invariants:
//!
//! - **Copy, change, swap.** A writer copies the snapshot in force, changes the copy and
//!   swaps it in whole ([`Writer::change`], the only place a snapshot is published); a
//!   change that is refused publishes nothing. Readers never wait.
//! - **Published, then ended, then told.** The new snapshot is in force before the
//!   tokens of what it took away end, and both before the change is reported and the
//!   call returns: once a revoke returns, nothing admitted under what it revoked starts
//!   (`tokens.rs`), and nothing admitted after it sees it.
//! - **Only changes are reported**, one event each, in the order they were made.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arc_swap::ArcSwap;

use super::error::GrantError;
use super::events::{Event, GrantChange, GrantSink};
use super::snapshot::{Added, Reach, Snapshot};
use super::tokens::Held;
use crate::error::ErrorCode;
use crate::policy::capability::CompiledCapability;

/// What one edit of a snapshot copy did: the tokens that end and the audit events, or
/// `None` when nothing changed.
type Edit = Option<(Vec<Arc<Held>>, Vec<Event>)>;

/// A path to add, checked by the caller: scope `scope` of capability `cap`, as given
/// (normalized) and as it resolved.
pub(super) struct NewPath {
    pub(super) cap: usize,
    pub(super) scope: usize,
    pub(super) lexical: PathBuf,
    pub(super) resolved: PathBuf,
    pub(super) reach: Reach,
}

/// What only writers touch, behind the grants' writer lock.
pub(super) struct Writer {
    /// The policy's capabilities (shared with it), by index.
    caps: Arc<[CompiledCapability]>,
    sink: Option<GrantSink>,
    /// The open windows' labels, once the embedder reports them
    /// ([`Writer::track_windows`]); `None` before: every label counts as open.
    open: Option<HashSet<String>>,
}

impl Writer {
    pub(super) fn new(caps: Arc<[CompiledCapability]>) -> Writer {
        Writer {
            caps,
            sink: None,
            open: None,
        }
    }

    /// Sends every change to `sink` as well as to `tracing`.
    pub(super) fn set_sink(&mut self, sink: GrantSink) {
        self.sink = Some(sink);
    }

    /// From now on only windows reported open can be granted capabilities or paths.
    pub(super) fn track_windows(&mut self) {
        if self.open.is_none() {
            self.open = Some(HashSet::new());
        }
    }

    /// Window `webview` was built (counts only once windows are tracked).
    pub(super) fn opened(&mut self, webview: &str) {
        if let Some(open) = &mut self.open {
            open.insert(webview.to_owned());
        }
    }

    fn check_open(&self, webview: &str) -> Result<(), GrantError> {
        match &self.open {
            Some(open) if !open.contains(webview) => {
                Err(GrantError::WindowNotOpen(webview.to_owned()))
            }
            _ => Ok(()),
        }
    }

    /// One writer's copy-change-swap. `edit` changes the copy and says what ended and
    /// what to report, or refuses (then nothing changes). The new snapshot is published
    /// before the tokens end, and both before this returns; the sink is called last, in
    /// the order of the changes (the caller holds the writers' lock throughout).
    fn change(
        &mut self,
        current: &ArcSwap<Snapshot>,
        edit: impl FnOnce(&mut Writer, &mut Snapshot) -> Result<Edit, GrantError>,
    ) -> Result<bool, GrantError> {
        let mut next = Snapshot::clone(&current.load());
        let Some((ended, events)) = edit(self, &mut next)? else {
            return Ok(false);
        };
        current.store(Arc::new(next));
        for held in ended {
            held.end();
        }
        for e in &events {
            e.report(self.sink.as_ref());
        }
        Ok(true)
    }

    /// Grants run-time capability `cap` to window `webview` (granted already: no change).
    pub(super) fn grant(
        &mut self,
        current: &ArcSwap<Snapshot>,
        webview: &str,
        cap: usize,
    ) -> Result<(), GrantError> {
        self.change(current, |writer, next| {
            writer.check_open(webview)?;
            let window = Arc::make_mut(next.windows.entry(Arc::from(webview)).or_default());
            if window.held(cap).is_some() {
                return Ok(None);
            }
            window.revoked.retain(|&c| c != cap);
            let identifier = Arc::clone(&writer.caps[cap].identifier);
            let e = Event::grant(GrantChange::Granted, webview, &identifier);
            window
                .granted
                .push((cap, Held::new(ErrorCode::GrantRevoked, identifier)));
            Ok(Some((Vec::new(), vec![e])))
        })?;
        Ok(())
    }

    /// Revokes `cap` from window `webview`, with the paths added to its scopes for that
    /// window, granted or not. Returns whether it was granted.
    pub(super) fn revoke(
        &mut self,
        current: &ArcSwap<Snapshot>,
        webview: &str,
        cap: usize,
    ) -> bool {
        let mut was_granted = false;
        let changed = self.change(current, |writer, next| {
            let Some(window) = next.windows.get_mut(webview).map(Arc::make_mut) else {
                return Ok(None);
            };
            // The paths added to its scopes go too, granted or not: nothing a user
            // picked waits for the next sign-in.
            let (mut ended, mut events) = (Vec::new(), Vec::new());
            if let Some(at) = window.granted.iter().position(|(c, _)| *c == cap) {
                let (_, held) = window.granted.remove(at);
                window.revoked.push(cap);
                ended.push(held);
                let identifier = &writer.caps[cap].identifier;
                events.push(Event::grant(GrantChange::Revoked, webview, identifier));
                was_granted = true;
            }
            let caps = &writer.caps;
            window.paths.retain(|a| {
                if a.cap != cap {
                    return true;
                }
                ended.push(Arc::clone(&a.held));
                events.push(Event::path(GrantChange::PathForgotten, webview, caps, a));
                false
            });
            Ok((!ended.is_empty()).then_some((ended, events)))
        });
        // The edit above makes no mistakes.
        changed.is_ok() && was_granted
    }

    /// Adds `path` to window `webview`'s scope. The same file added again (by either
    /// name) replaces the earlier entry, whose admitted calls not yet started are then
    /// refused; the identical entry again changes nothing.
    pub(super) fn allow_path(
        &mut self,
        current: &ArcSwap<Snapshot>,
        webview: &str,
        path: NewPath,
    ) -> Result<(), GrantError> {
        let (cap, scope, reach) = (path.cap, path.scope, path.reach);
        let (lexical, resolved) = (path.lexical, path.resolved);
        self.change(current, |writer, next| {
            writer.check_open(webview)?;
            let window = Arc::make_mut(next.windows.entry(Arc::from(webview)).or_default());
            let same = |a: &Added| {
                a.cap == cap && a.scope == scope && (a.lexical == lexical || a.resolved == resolved)
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
            let identifier = Arc::clone(&writer.caps[cap].identifier);
            let added = Added {
                cap,
                scope,
                lexical: lexical.clone(),
                resolved: resolved.clone(),
                reach,
                held: Held::new(ErrorCode::OutOfScope, identifier),
            };
            let e = Event::path(GrantChange::PathAllowed, webview, &writer.caps, &added);
            window.paths.push(added);
            Ok(Some((replaced, vec![e])))
        })?;
        Ok(())
    }

    /// Forgets the paths of scope `scope` of capability `cap` that window `webview` was
    /// given under the name `given` (normalized) or `resolved` (what it resolves to now),
    /// by either of their names. Returns whether there was one.
    pub(super) fn forget_path(
        &mut self,
        current: &ArcSwap<Snapshot>,
        webview: &str,
        (cap, scope): (usize, usize),
        given: &Path,
        resolved: Option<&Path>,
    ) -> bool {
        let named = |a: &Added| {
            a.cap == cap
                && a.scope == scope
                && [&a.lexical, &a.resolved]
                    .into_iter()
                    .any(|p| *p == given || Some(p.as_path()) == resolved)
        };
        let forgot = self.change(current, |writer, next| {
            let Some(window) = next.windows.get_mut(webview).map(Arc::make_mut) else {
                return Ok(None);
            };
            let (mut ended, mut events) = (Vec::new(), Vec::new());
            let caps = &writer.caps;
            window.paths.retain(|a| {
                if !named(a) {
                    return true;
                }
                ended.push(Arc::clone(&a.held));
                events.push(Event::path(GrantChange::PathForgotten, webview, caps, a));
                false
            });
            Ok((!ended.is_empty()).then_some((ended, events)))
        });
        // The edit above makes no mistakes.
        forgot.unwrap_or(false)
    }

    /// Window `webview` closed: every grant and added path of it ends, and it counts as
    /// closed. Returns whether it had any.
    pub(super) fn forget_window(&mut self, current: &ArcSwap<Snapshot>, webview: &str) -> bool {
        let forgot = self.change(current, |writer, next| {
            if let Some(open) = &mut writer.open {
                open.remove(webview);
            }
            let Some(window) = next.windows.remove(webview).map(Arc::unwrap_or_clone) else {
                return Ok(None);
            };
            let held = window
                .granted
                .into_iter()
                .map(|(_, h)| h)
                .chain(window.paths.into_iter().map(|a| a.held))
                .collect();
            Ok(Some((held, vec![Event::window(webview)])))
        });
        // The edit above makes no mistakes.
        forgot.unwrap_or(false)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::policy::grants::fixture::caps;

    const EXPORT: usize = 1;

    /// Each change the sink heard of, and the path it names.
    type Told = Arc<Mutex<Vec<(GrantChange, Option<PathBuf>)>>>;

    /// A writer whose sink records what it is told, and the snapshot it publishes to.
    struct Fixture {
        writer: Writer,
        current: Arc<ArcSwap<Snapshot>>,
        told: Told,
    }

    fn fixture() -> Fixture {
        let mut writer = Writer::new(caps());
        let told = Arc::new(Mutex::new(Vec::new()));
        let sink_told = Arc::clone(&told);
        writer.set_sink(Arc::new(move |e| {
            let path = e.path.map(Path::to_path_buf);
            sink_told.lock().unwrap().push((e.change, path));
        }));
        let current = Arc::new(ArcSwap::from_pointee(Snapshot::default()));
        Fixture {
            writer,
            current,
            told,
        }
    }

    impl Fixture {
        fn told(&self) -> Vec<GrantChange> {
            self.told.lock().unwrap().iter().map(|(c, _)| *c).collect()
        }

        fn window(&self, webview: &str) -> Option<Arc<super::super::snapshot::Window>> {
            self.current.load().windows.get(webview).cloned()
        }

        fn held(&self, webview: &str, cap: usize) -> Option<Arc<Held>> {
            self.window(webview)?.held(cap).cloned()
        }

        fn allow(&mut self, cap: usize, lexical: &str, resolved: &str, reach: Reach) {
            let path = NewPath {
                cap,
                scope: 0,
                lexical: lexical.into(),
                resolved: resolved.into(),
                reach,
            };
            self.writer.allow_path(&self.current, "main", path).unwrap();
        }

        fn path_tokens(&self) -> Vec<Arc<Held>> {
            let window = self.window("main").unwrap();
            window.paths.iter().map(|a| Arc::clone(&a.held)).collect()
        }
    }

    #[test]
    fn a_grant_is_made_once_and_clears_an_earlier_revoke() {
        let mut f = fixture();
        f.writer.grant(&f.current, "main", EXPORT).unwrap();
        let token = f.held("main", EXPORT).unwrap();
        f.writer.grant(&f.current, "main", EXPORT).unwrap();
        assert!(Arc::ptr_eq(&token, &f.held("main", EXPORT).unwrap()));
        assert_eq!(f.told(), [GrantChange::Granted]);
        assert!(f.writer.revoke(&f.current, "main", EXPORT));
        assert_eq!(f.window("main").unwrap().revoked, [EXPORT]);
        f.writer.grant(&f.current, "main", EXPORT).unwrap();
        let window = f.window("main").unwrap();
        assert!(window.revoked.is_empty());
        assert_eq!(window.granted.len(), 1);
        // A new grant, a new token: the old one stays gone.
        assert!(token.check().is_err());
        assert_eq!(f.held("main", EXPORT).unwrap().check(), Ok(()));
    }

    #[test]
    fn a_revoke_is_published_then_ends_its_tokens_then_is_told() {
        let mut f = fixture();
        f.writer.grant(&f.current, "main", EXPORT).unwrap();
        f.allow(EXPORT, "/u/picked", "/u/picked", Reach::File);
        f.allow(0, "/u/docs", "/u/docs", Reach::Tree);
        let (grant, paths) = (f.held("main", EXPORT).unwrap(), f.path_tokens());
        // When the sink hears of the revoke, it is in force and its tokens are gone.
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (current, grant_token, seen_in_sink) = (
            Arc::clone(&f.current),
            Arc::clone(&grant),
            Arc::clone(&seen),
        );
        f.writer.set_sink(Arc::new(move |e| {
            let window = current.load().windows["main"].clone();
            let done = window.held(EXPORT).is_none() && grant_token.check().is_err();
            seen_in_sink.lock().unwrap().push((e.change, done));
        }));
        assert!(f.writer.revoke(&f.current, "main", EXPORT));
        assert_eq!(
            *seen.lock().unwrap(),
            [
                (GrantChange::Revoked, true),
                (GrantChange::PathForgotten, true)
            ]
        );
        // Its capability's path went with it; another capability's did not.
        assert!(paths[0].check().is_err());
        assert_eq!(paths[1].check(), Ok(()));
        assert_eq!(f.path_tokens().len(), 1);
        // Nothing left to revoke: no change, nothing told.
        assert!(!f.writer.revoke(&f.current, "main", EXPORT));
        assert!(!f.writer.revoke(&f.current, "never-seen", EXPORT));
        assert_eq!(seen.lock().unwrap().len(), 2);
    }

    #[test]
    fn a_refused_change_publishes_nothing_and_tells_nothing() {
        let mut f = fixture();
        f.writer.track_windows();
        let before = f.current.load_full();
        let refused = f.writer.grant(&f.current, "main", EXPORT);
        assert_eq!(refused, Err(GrantError::WindowNotOpen("main".into())));
        let path = NewPath {
            cap: EXPORT,
            scope: 0,
            lexical: "/u/a".into(),
            resolved: "/u/a".into(),
            reach: Reach::File,
        };
        let refused = f.writer.allow_path(&f.current, "main", path);
        assert_eq!(refused, Err(GrantError::WindowNotOpen("main".into())));
        assert!(Arc::ptr_eq(&before, &f.current.load_full()));
        assert!(f.told().is_empty());
        f.writer.opened("main");
        f.writer.grant(&f.current, "main", EXPORT).unwrap();
        assert!(!Arc::ptr_eq(&before, &f.current.load_full()));
    }

    #[test]
    fn the_same_file_again_replaces_its_entry_and_the_identical_entry_changes_nothing() {
        let mut f = fixture();
        f.allow(EXPORT, "/u/link", "/u/real", Reach::File);
        let first = f.path_tokens();
        f.allow(EXPORT, "/u/link", "/u/real", Reach::File);
        assert!(Arc::ptr_eq(&first[0], &f.path_tokens()[0]));
        // The same file by its resolved name, now as a tree: one entry, the new one.
        f.allow(EXPORT, "/u/real", "/u/real", Reach::Tree);
        assert!(first[0].check().is_err());
        let window = f.window("main").unwrap();
        assert_eq!(window.paths.len(), 1);
        assert_eq!(window.paths[0].reach, Reach::Tree);
        // Another capability's scope keeps its own entry for the same file.
        f.allow(0, "/u/real", "/u/real", Reach::Tree);
        assert_eq!(f.path_tokens().len(), 2);
        assert_eq!(f.told(), [GrantChange::PathAllowed; 3]);
    }

    #[test]
    fn a_path_is_forgotten_by_either_of_its_names() {
        let mut f = fixture();
        for (given, resolved) in [("/u/link", None), ("/u/real", Some("/u/real"))] {
            f.allow(EXPORT, "/u/link", "/u/real", Reach::File);
            let token = f.path_tokens().remove(0);
            let at = (EXPORT, 0);
            let resolved = resolved.map(Path::new);
            let forget = |f: &mut Fixture, at| {
                f.writer
                    .forget_path(&f.current, "main", at, Path::new(given), resolved)
            };
            // Not in another capability's scope.
            assert!(!forget(&mut f, (0, 0)));
            assert_eq!(token.check(), Ok(()));
            assert!(forget(&mut f, at));
            assert!(token.check().is_err());
            assert!(f.path_tokens().is_empty());
            assert!(!forget(&mut f, at));
        }
        let told = f.told.lock().unwrap().clone();
        assert_eq!(
            told[1],
            (GrantChange::PathForgotten, Some("/u/real".into()))
        );
        assert_eq!(told.len(), 4);
    }

    #[test]
    fn forget_window_ends_everything_and_counts_the_window_closed() {
        let mut f = fixture();
        f.writer.track_windows();
        f.writer.opened("main");
        f.writer.grant(&f.current, "main", EXPORT).unwrap();
        f.allow(0, "/u/docs", "/u/docs", Reach::Tree);
        let (grant, paths) = (f.held("main", EXPORT).unwrap(), f.path_tokens());
        assert!(f.writer.forget_window(&f.current, "main"));
        assert!(grant.check().is_err() && paths[0].check().is_err());
        assert!(f.window("main").is_none());
        assert_eq!(
            f.told.lock().unwrap().last(),
            Some(&(GrantChange::WindowForgotten, None))
        );
        // Closed: nothing more is granted to it, and there is nothing more to forget.
        let refused = f.writer.grant(&f.current, "main", EXPORT);
        assert_eq!(refused, Err(GrantError::WindowNotOpen("main".into())));
        assert!(!f.writer.forget_window(&f.current, "main"));
    }
}
