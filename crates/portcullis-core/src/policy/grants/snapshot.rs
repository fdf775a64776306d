//! The grants at one moment: what the gate reads for every message that can depend on
//! them.
//!
//! A [`Snapshot`] is never changed once published. The gate loads the one in force
//! through `arc-swap`, without a lock, once per message; a writer copies it, changes the
//! copy and swaps the copy in (`writer.rs`). Each window sits behind its own `Arc`, so
//! a copy shares every window it does not change, and an edit of one window never
//! touches what the gate reads of the others.
//!
//! A [`Window`] keeps these invariants, which every edit in `writer.rs` preserves:
//! a capability is at most once in `granted`, never in both `granted` and `revoked`;
//! every entry of `paths` names a scope of its capability, and no two entries of one
//! scope name the same file (by either name); each grant and each path has its own
//! live token.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;

use super::tokens::Held;
use crate::FastMap;
use crate::policy::capability::CompiledCapability;

/// How much an added path covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Reach {
    /// Exactly this path (a file the user picked).
    File,
    /// This directory and everything below it (a folder the user picked).
    Tree,
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
    /// The token of capability `cap`'s grant, if the window holds one.
    pub(crate) fn held(&self, cap: usize) -> Option<&Arc<Held>> {
        self.granted.iter().find(|(c, _)| *c == cap).map(|(_, h)| h)
    }

    /// What the page may learn of this window: its grants in config order, and its
    /// added paths as they resolved.
    pub(super) fn describe(&self, caps: &[CompiledCapability]) -> WindowGrants {
        let mut capabilities: Vec<_> = self.granted.iter().map(|(c, _)| *c).collect();
        capabilities.sort_unstable();
        WindowGrants {
            capabilities: capabilities
                .into_iter()
                .map(|c| caps[c].identifier.to_string())
                .collect(),
            paths: self
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
}

/// Every window's grants at one moment. Never changed once published.
#[derive(Clone, Default)]
pub(crate) struct Snapshot {
    /// Each window behind its own `Arc`: a writer's copy shares every window it does
    /// not change, so it never touches what the gate reads of the others.
    pub(crate) windows: FastMap<Arc<str>, Arc<Window>>,
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

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
    fn a_copy_shares_every_window_it_does_not_change() {
        let mut published = Snapshot::default();
        for label in ["main", "other"] {
            published.windows.insert(Arc::from(label), Arc::default());
        }
        let mut next = published.clone();
        Arc::make_mut(next.windows.get_mut("main").unwrap())
            .revoked
            .push(1);
        assert!(Arc::ptr_eq(
            &published.windows["other"],
            &next.windows["other"]
        ));
        assert!(!Arc::ptr_eq(
            &published.windows["main"],
            &next.windows["main"]
        ));
        // What readers of the published snapshot see did not move.
        assert!(published.windows["main"].revoked.is_empty());
    }

    #[test]
    fn a_window_tells_its_grants_in_config_order_and_its_paths_as_resolved() {
        let caps = super::super::fixture::caps();
        let token = || Held::new(ErrorCode::GrantRevoked, Arc::from("c"));
        let window = Window {
            granted: vec![(2, token()), (1, token())],
            revoked: vec![0],
            paths: vec![Added {
                cap: 1,
                ..added("/home/u/link", "/home/u/real", Reach::Tree)
            }],
        };
        assert!(window.held(1).is_some() && window.held(0).is_none());
        let told = window.describe(&caps);
        assert_eq!(told.capabilities, ["export", "admin"]);
        assert_eq!(
            told.paths,
            [GrantedPath {
                capability: "export".into(),
                scope: "files".into(),
                path: "/home/u/real".into(),
                reach: Reach::Tree,
            }]
        );
    }
}
