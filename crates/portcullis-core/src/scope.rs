//! Path scopes: is a path argument inside the directories a capability grants?
//!
//! A scope is a set of allow globs and deny globs over absolute paths (`globset`, with
//! `*` never crossing `/`; `**` does). A path is inside when:
//!
//! 1. it is absolute, valid UTF-8 without NUL, and has no `..` component (refused
//!    outright rather than resolved: `a/../b` is how traversal attacks are spelled);
//! 2. its lexical form (with `.` and repeated `/` removed) matches an allow glob and no
//!    deny glob; and
//! 3. after resolving symlinks in the longest existing prefix, the result matches too,
//!    so a symlink inside the scope pointing outside it does not widen the scope.
//!
//! Variables (`$NOTES/**`) are replaced by directories the embedder supplies, with their
//! own symlinks resolved, and escaped so their characters are never glob syntax.

use std::collections::HashMap;
use std::path::{Component, Path, PathBuf};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};

use crate::config::{ConfigErrorKind, Scope};

/// Directories that scope patterns may refer to as `$NAME`.
#[derive(Clone, Debug, Default)]
pub struct ScopeVars(HashMap<String, PathBuf>);

impl ScopeVars {
    /// No variables.
    pub fn new() -> Self {
        ScopeVars::default()
    }

    /// Adds `$name` → `dir` (must be absolute).
    pub fn with(mut self, name: impl Into<String>, dir: impl Into<PathBuf>) -> Self {
        self.0.insert(name.into(), dir.into());
        self
    }

    /// Adds the platform's standard directories that this machine has (`dirs` finds
    /// them): `$HOME`, `$DESKTOP`, `$DOCUMENTS`, `$DOWNLOADS`, `$PICTURES`, `$MUSIC`,
    /// `$VIDEOS`, and the app's own `$APPDATA`, `$APPLOCALDATA`, `$APPCONFIG`,
    /// `$APPCACHE` (the platform's data, local data, config and cache directory joined
    /// with `app_id`, e.g. `"com.example.notes"`; not created). A directory the machine
    /// does not have is left out, so a scope naming it fails the config check
    /// (`variable $NAME is not provided`) instead of pointing somewhere else.
    /// `docs/CAPABILITIES.md` lists each variable per platform.
    pub fn with_standard_dirs(mut self, app_id: &str) -> Result<Self, InvalidAppId> {
        let sound = !app_id.is_empty()
            && app_id != "."
            && app_id != ".."
            && app_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
        if !sound {
            return Err(InvalidAppId(app_id.to_owned()));
        }
        let user: [(&str, Option<PathBuf>); 7] = [
            ("HOME", dirs::home_dir()),
            ("DESKTOP", dirs::desktop_dir()),
            ("DOCUMENTS", dirs::document_dir()),
            ("DOWNLOADS", dirs::download_dir()),
            ("PICTURES", dirs::picture_dir()),
            ("MUSIC", dirs::audio_dir()),
            ("VIDEOS", dirs::video_dir()),
        ];
        let app: [(&str, Option<PathBuf>); 4] = [
            ("APPDATA", dirs::data_dir()),
            ("APPLOCALDATA", dirs::data_local_dir()),
            ("APPCONFIG", dirs::config_dir()),
            ("APPCACHE", dirs::cache_dir()),
        ];
        let app = app.map(|(name, base)| (name, base.map(|b| b.join(app_id))));
        for (name, dir) in user.into_iter().chain(app) {
            if let Some(dir) = dir.filter(|d| d.is_absolute()) {
                self.0.insert(name.to_owned(), dir);
            }
        }
        Ok(self)
    }

    /// The directory `$name` stands for, if given.
    pub fn get(&self, name: &str) -> Option<&Path> {
        self.0.get(name).map(PathBuf::as_path)
    }
}

/// An app id that cannot name a directory of its own: empty, `.` or `..`, or with a
/// character other than ASCII letters, digits, `.`, `-` and `_`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} cannot be an app id: use ASCII letters, digits, '.', '-' and '_' (e.g. \"com.example.notes\")"
)]
pub struct InvalidAppId(pub String);

/// Why a path is not inside a scope.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ScopeError {
    /// Relative, NUL, not UTF-8 or not a string.
    #[error("path must be an absolute path string")]
    NotAbsolute,
    /// Has a `..` component.
    #[error("path contains a '..' component")]
    Traversal,
    /// Lexically outside the allow globs, or inside a deny glob.
    #[error("path is outside the scope")]
    Outside,
    /// Inside lexically, but a symlink resolves it to outside.
    #[error("path resolves through a symlink to outside the scope")]
    SymlinkEscape,
}

/// A compiled scope.
#[derive(Debug)]
pub struct CompiledScope {
    allow: GlobSet,
    deny: GlobSet,
}

impl CompiledScope {
    /// Compiles `scope`, expanding variables from `vars`. Errors name the pattern.
    pub fn compile(
        scope: &Scope,
        vars: &ScopeVars,
    ) -> Result<CompiledScope, (ConfigErrorKind, String)> {
        Ok(CompiledScope {
            allow: build(&scope.allow, vars)?,
            deny: build(&scope.deny, vars)?,
        })
    }

    /// Checks `path`; on success returns the path with symlinks resolved, which is the
    /// path a handler should open (still racy against a concurrent symlink swap: open it
    /// with `O_NOFOLLOW`/`openat2(RESOLVE_BENEATH)` where that matters).
    pub fn check(&self, path: &str) -> Result<PathBuf, ScopeError> {
        self.check_with(path, &|_: &Path| None::<&()>)
            .map(|(resolved, _)| resolved)
    }

    /// [`CompiledScope::check`] with more allowed paths than the globs: `extra` says
    /// whether one of them covers a path, and with what (a run-time addition's token).
    /// The deny globs still win over them, and both the path as given and the path its
    /// symlinks resolve to must be inside. Returns what it relied on besides the globs.
    pub(crate) fn check_with<'a, T>(
        &self,
        path: &str,
        extra: &dyn Fn(&Path) -> Option<&'a T>,
    ) -> Result<(PathBuf, Vec<&'a T>), ScopeError> {
        if path.contains('\0') || !path.starts_with('/') {
            return Err(ScopeError::NotAbsolute);
        }
        let lexical = normalize(Path::new(path))?;
        let mut relied = Vec::new();
        let mut inside = |p: &Path| {
            if self.denies(p) {
                false
            } else if self.allow.is_match(p) {
                true
            } else if let Some(by) = extra(p) {
                relied.push(by);
                true
            } else {
                false
            }
        };
        if !inside(&lexical) {
            return Err(ScopeError::Outside);
        }
        let resolved = resolve(&lexical).ok_or(ScopeError::SymlinkEscape)?;
        if resolved != lexical && !inside(&resolved) {
            return Err(ScopeError::SymlinkEscape);
        }
        Ok((resolved, relied))
    }

    /// Inside a deny glob. A directory is denied too when a deny glob covers every name
    /// directly inside it (`dir/**`, `dir/*`), so carving out `dir/**` also carves out
    /// `dir`.
    pub(crate) fn denies(&self, path: &Path) -> bool {
        self.deny.is_match(path) || self.deny.is_match(path.join(PROBE_NAME))
    }
}

/// A name no real pattern targets: used to ask "does a deny glob cover everything in
/// this directory?".
const PROBE_NAME: &str = "\u{1}portcullis-probe\u{1}";

fn build(patterns: &[String], vars: &ScopeVars) -> Result<GlobSet, (ConfigErrorKind, String)> {
    let mut set = GlobSetBuilder::new();
    for pattern in patterns {
        let expanded = expand(pattern, vars)?;
        let glob = GlobBuilder::new(&expanded)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
            .map_err(|e| (ConfigErrorKind::Scope, format!("{pattern:?}: {e}")))?;
        set.add(glob);
    }
    set.build()
        .map_err(|e| (ConfigErrorKind::Scope, e.to_string()))
}

fn expand(pattern: &str, vars: &ScopeVars) -> Result<String, (ConfigErrorKind, String)> {
    let Some(rest) = pattern.strip_prefix('$') else {
        return Ok(pattern.to_owned());
    };
    let (name, tail) = rest.split_once('/').unwrap_or((rest, ""));
    let dir = vars.0.get(name).ok_or_else(|| {
        (
            ConfigErrorKind::MissingVariable,
            format!("{pattern:?}: variable ${name} is not provided by the app"),
        )
    })?;
    if !dir.is_absolute() {
        return Err((
            ConfigErrorKind::MissingVariable,
            format!("${name} must be an absolute directory"),
        ));
    }
    let dir = dir.canonicalize().unwrap_or_else(|_| dir.clone());
    let dir = dir.to_str().ok_or_else(|| {
        (
            ConfigErrorKind::MissingVariable,
            format!("${name} is not valid UTF-8"),
        )
    })?;
    let dir = globset::escape(dir.trim_end_matches('/'));
    Ok(if tail.is_empty() {
        dir
    } else {
        format!("{dir}/{tail}")
    })
}

/// Removes `.` and empty components; refuses `..`.
pub(crate) fn normalize(path: &Path) -> Result<PathBuf, ScopeError> {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::RootDir => {}
            Component::CurDir => {}
            Component::ParentDir => return Err(ScopeError::Traversal),
            Component::Normal(part) => out.push(part),
            Component::Prefix(_) => return Err(ScopeError::NotAbsolute),
        }
    }
    Ok(out)
}

/// Resolves symlinks in the longest prefix of `path` that exists and appends the rest.
/// `None` when some component is a symlink whose target does not exist: a dangling link
/// could later be created to point anywhere, so it never counts as inside.
pub(crate) fn resolve(path: &Path) -> Option<PathBuf> {
    let mut existing = path;
    let mut tail = Vec::new();
    loop {
        if let Ok(real) = existing.canonicalize() {
            let mut out = real;
            for part in tail.iter().rev() {
                out.push(part);
            }
            return Some(out);
        }
        if existing.symlink_metadata().is_ok() {
            // It exists as a directory entry but does not resolve: a dangling symlink
            // (or a loop).
            return None;
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                tail.push(name.to_owned());
                existing = parent;
            }
            _ => return Some(path.to_path_buf()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_dirs_are_the_platforms_and_the_app_id_names_a_directory_of_its_own() {
        let vars = ScopeVars::new()
            .with_standard_dirs("com.example.notes")
            .unwrap();
        // What the platform has, and nothing it lacks.
        assert_eq!(vars.get("HOME"), dirs::home_dir().as_deref());
        assert_eq!(vars.get("DOWNLOADS"), dirs::download_dir().as_deref());
        assert_eq!(
            vars.get("APPDATA").map(Path::to_path_buf),
            dirs::data_dir().map(|d| d.join("com.example.notes"))
        );
        assert_eq!(
            vars.get("APPCACHE").map(Path::to_path_buf),
            dirs::cache_dir().map(|d| d.join("com.example.notes"))
        );
        for bad in ["", ".", "..", "../x", "a/b", "a\\b", "notes app", "é"] {
            assert_eq!(
                ScopeVars::new().with_standard_dirs(bad).unwrap_err(),
                InvalidAppId(bad.to_owned()),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_scope_under_the_apps_data_directory_admits_its_files_only() {
        let vars = ScopeVars::new()
            .with_standard_dirs("com.example.notes")
            .unwrap();
        let Some(data) = vars.get("APPDATA").map(Path::to_path_buf) else {
            return; // a machine with no data directory: the scope would not compile
        };
        let s = scope(&["$APPDATA/notes/*.md"], &[], &vars);
        assert_eq!(
            s.check(&data.join("notes/a.md").display().to_string()),
            Ok(data.join("notes/a.md"))
        );
        let other = data.with_file_name("com.example.other").join("notes/a.md");
        assert_eq!(
            s.check(&other.display().to_string()),
            Err(ScopeError::Outside)
        );
    }

    fn scope(allow: &[&str], deny: &[&str], vars: &ScopeVars) -> CompiledScope {
        let s = Scope {
            allow: allow.iter().map(|s| s.to_string()).collect(),
            deny: deny.iter().map(|s| s.to_string()).collect(),
        };
        CompiledScope::compile(&s, vars).unwrap()
    }

    #[test]
    fn star_does_not_cross_separators_but_double_star_does() {
        let s = scope(&["/data/notes/*"], &[], &ScopeVars::new());
        assert!(s.check("/data/notes/a.txt").is_ok());
        assert_eq!(s.check("/data/notes/sub/a.txt"), Err(ScopeError::Outside));
        let s = scope(&["/data/notes/**"], &[], &ScopeVars::new());
        assert!(s.check("/data/notes/sub/a.txt").is_ok());
    }

    #[test]
    fn partial_matches_and_siblings_are_outside() {
        let s = scope(&["/data/notes/**"], &[], &ScopeVars::new());
        for p in [
            "/data/notes-evil/a",
            "/data/notesx",
            "/data",
            "/data/note/a",
        ] {
            assert_eq!(s.check(p), Err(ScopeError::Outside), "{p}");
        }
    }

    #[test]
    fn traversal_is_refused_even_when_it_would_stay_inside() {
        let s = scope(&["/data/notes/**"], &[], &ScopeVars::new());
        assert_eq!(s.check("/data/notes/../secret"), Err(ScopeError::Traversal));
        assert_eq!(s.check("/data/notes/a/../b"), Err(ScopeError::Traversal));
        // A literal percent-encoded name is just a name: not decoded, not traversal.
        assert!(s.check("/data/notes/%2e%2e/x").is_ok());
    }

    #[test]
    fn relative_and_nul_are_refused() {
        let s = scope(&["/**"], &[], &ScopeVars::new());
        assert_eq!(s.check("notes/a"), Err(ScopeError::NotAbsolute));
        assert_eq!(s.check("/a\0b"), Err(ScopeError::NotAbsolute));
        assert_eq!(s.check(""), Err(ScopeError::NotAbsolute));
    }

    #[test]
    fn dot_and_double_slash_are_normalized() {
        let s = scope(&["/data/notes/*"], &[], &ScopeVars::new());
        assert_eq!(
            s.check("/data//notes/./a").unwrap(),
            PathBuf::from("/data/notes/a")
        );
    }

    #[test]
    fn deny_wins_over_allow() {
        let s = scope(&["/data/**"], &["/data/**/.secret"], &ScopeVars::new());
        assert!(s.check("/data/x/a").is_ok());
        assert_eq!(s.check("/data/x/.secret"), Err(ScopeError::Outside));
    }

    #[test]
    fn denying_a_directory_tree_denies_the_directory_itself() {
        let s = scope(
            &["/srv/data/**"],
            &["/srv/data/private/**"],
            &ScopeVars::new(),
        );
        assert_eq!(s.check("/srv/data/private"), Err(ScopeError::Outside));
        assert_eq!(s.check("/srv/data/private/"), Err(ScopeError::Outside));
        assert_eq!(s.check("/srv/data/private/a"), Err(ScopeError::Outside));
        assert!(s.check("/srv/data/public").is_ok());
        assert!(s.check("/srv/data/privateer").is_ok());
    }

    #[test]
    fn symlink_out_of_scope_is_refused_and_inside_is_fine() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path().canonicalize().unwrap();
        let notes = root.join("notes");
        let outside = root.join("outside");
        std::fs::create_dir_all(notes.join("real")).unwrap();
        std::fs::create_dir_all(&outside).unwrap();
        std::fs::write(outside.join("secret"), "x").unwrap();
        std::os::unix::fs::symlink(&outside, notes.join("link")).unwrap();
        std::os::unix::fs::symlink(notes.join("real"), notes.join("inner")).unwrap();
        let vars = ScopeVars::new().with("NOTES", &notes);
        let s = scope(&["$NOTES/**"], &[], &vars);
        let p = |rel: &str| notes.join(rel).to_str().unwrap().to_owned();
        assert_eq!(s.check(&p("link/secret")), Err(ScopeError::SymlinkEscape));
        assert_eq!(
            s.check(&p("link/not-yet-created")),
            Err(ScopeError::SymlinkEscape)
        );
        assert!(s.check(&p("inner/new-file")).is_ok());
        assert_eq!(s.check(&p("plain.txt")).unwrap(), notes.join("plain.txt"));
    }

    #[test]
    fn dangling_symlink_is_refused_and_the_resolved_path_is_returned() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path().canonicalize().unwrap();
        let notes = root.join("notes");
        std::fs::create_dir_all(notes.join("real")).unwrap();
        std::os::unix::fs::symlink(root.join("outside/pwned"), notes.join("x.md")).unwrap();
        std::os::unix::fs::symlink(notes.join("real"), notes.join("alias")).unwrap();
        let vars = ScopeVars::new().with("NOTES", &notes);
        let s = scope(&["$NOTES/**"], &[], &vars);
        let p = |rel: &str| notes.join(rel).to_str().unwrap().to_owned();
        assert_eq!(s.check(&p("x.md")), Err(ScopeError::SymlinkEscape));
        assert_eq!(s.check(&p("alias/a")).unwrap(), notes.join("real/a"));
    }

    #[test]
    fn variables_are_escaped_and_must_exist() {
        let vars = ScopeVars::new().with("D", "/odd[dir]*");
        let s = scope(&["$D/*"], &[], &vars);
        assert!(s.check("/odd[dir]*/a").is_ok());
        assert_eq!(s.check("/oddd/a"), Err(ScopeError::Outside));
        let missing = Scope {
            allow: vec!["$NOPE/**".into()],
            deny: vec![],
        };
        assert!(CompiledScope::compile(&missing, &ScopeVars::new()).is_err());
    }
}
