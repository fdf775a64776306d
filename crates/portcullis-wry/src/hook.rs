//! The app's validation hook, found and checked before any webview starts.
//!
//! With isolation on, every message passes the hook; a hook that is missing (a typo in
//! the isolation `dir`, a file not copied) or that cannot run would leave the app either
//! refusing everything or, worse, with weaker validation than its author wrote. So
//! `Portcullis::build` refuses to start unless the hook is there and parses as an ES
//! module that installs a hook. The built-in hook, which only checks that a name is
//! present, is used only when the config names it (`"hook": "builtin:names-only"`).
//!
//! Parsing uses `oxc_parser` (a maintained, spec-following JavaScript parser): the hook
//! file is loaded by the isolation frame with `import()`, so it must be a valid module.

use std::path::{Path, PathBuf};

use oxc_allocator::Allocator;
use oxc_parser::Parser;
use oxc_span::SourceType;
use oxc_syntax::module_record::ExportExportName;

/// The config value that asks for the built-in hook by name.
pub const BUILTIN_NAMES_ONLY: &str = "builtin:names-only";

/// The file name of the app's hook in its isolation directory.
pub const HOOK_FILE: &str = "hook.js";

/// The globals a hook written as a script (Tauri's style) assigns.
const HOOK_GLOBALS: [&str; 2] = ["__TAURI_ISOLATION_HOOK__", "__PORTCULLIS_HOOK__"];

/// Which hook the isolation frame runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HookSource {
    /// The app's `hook.js` in its isolation directory (checked to exist and parse).
    File(PathBuf),
    /// The built-in hook that checks only that a name is present, asked for by name.
    BuiltinNamesOnly,
}

/// Why the hook cannot be used. Every variant stops start-up.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    /// The isolation directory does not exist (or is not a directory).
    #[error(
        "the isolation directory {} does not exist (app.security.pattern.options.dir, relative to the config file): with isolation on, Portcullis does not start without the app's hook",
        .0.display()
    )]
    NoDirectory(PathBuf),
    /// The directory has no `hook.js`.
    #[error(
        "{} not found: the isolation directory must hold the app's validation hook (or set app.security.pattern.options.hook to \"{BUILTIN_NAMES_ONLY}\" to use the built-in hook, which checks only names)",
        .0.display()
    )]
    Missing(PathBuf),
    /// The hook could not be read.
    #[error("{}: {source}", path.display())]
    Unreadable {
        /// The hook file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// The hook is not a valid ES module.
    #[error("{}:{line}:{column}: the hook does not parse as an ES module: {message}", path.display())]
    Syntax {
        /// The hook file.
        path: PathBuf,
        /// 1-based line of the first error.
        line: usize,
        /// 1-based column (in characters) of the first error.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// The module neither exports a default function nor assigns a hook global.
    #[error(
        "{}: installs no hook: export a default function, or assign window.__TAURI_ISOLATION_HOOK__",
        .0.display()
    )]
    NoHook(PathBuf),
    /// The config names a hook Portcullis does not know.
    #[error(
        "app.security.pattern.options.hook is {0:?}: the only value it takes is \"{BUILTIN_NAMES_ONLY}\" (leave it out to use hook.js from the isolation directory)"
    )]
    UnknownBuiltin(String),
}

/// Finds and checks the hook for an isolation directory `dir` and the config's `hook`
/// option.
pub fn resolve(dir: &Path, hook: Option<&str>) -> Result<HookSource, HookError> {
    if !dir.is_dir() {
        return Err(HookError::NoDirectory(dir.to_path_buf()));
    }
    match hook {
        Some(BUILTIN_NAMES_ONLY) => return Ok(HookSource::BuiltinNamesOnly),
        Some(other) => return Err(HookError::UnknownBuiltin(other.to_owned())),
        None => {}
    }
    let path = dir.join(HOOK_FILE);
    if !path.is_file() {
        return Err(HookError::Missing(path));
    }
    let source = std::fs::read_to_string(&path).map_err(|source| HookError::Unreadable {
        path: path.clone(),
        source,
    })?;
    check_source(&path, &source)?;
    Ok(HookSource::File(path))
}

/// Checks that `source` parses as an ES module that installs a hook.
pub fn check_source(path: &Path, source: &str) -> Result<(), HookError> {
    let allocator = Allocator::default();
    let parsed = Parser::new(&allocator, source, SourceType::mjs()).parse();
    if let Some(error) = parsed.errors.first() {
        let offset = error
            .labels
            .as_ref()
            .and_then(|labels| labels.first())
            .map_or(0, |label| label.offset());
        let (line, column) = line_column(source, offset);
        return Err(HookError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message: error.message.to_string(),
        });
    }
    if parsed.panicked {
        return Err(HookError::Syntax {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: "the parser gave up".to_owned(),
        });
    }
    let record = &parsed.module_record;
    let exports_default = record
        .local_export_entries
        .iter()
        .chain(record.indirect_export_entries.iter())
        .any(|e| match &e.export_name {
            ExportExportName::Default(_) => true,
            // `export { hook as default }`
            ExportExportName::Name(n) => n.name == "default",
            ExportExportName::Null => false,
        });
    // A script-style hook assigns a global; the name must appear in the code.
    let assigns_global = HOOK_GLOBALS.iter().any(|g| source.contains(g));
    if exports_default || assigns_global {
        Ok(())
    } else {
        Err(HookError::NoHook(path.to_path_buf()))
    }
}

/// The 1-based line and column (in characters) of byte `offset` in `source`.
fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let before = source.get(..offset.min(source.len())).unwrap_or(source);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("pc-hook-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn a_missing_directory_or_hook_stops_start_up() {
        let dir = temp_dir("missing");
        let typo = dir.join("isolatoin");
        assert!(matches!(resolve(&typo, None), Err(HookError::NoDirectory(p)) if p == typo));
        assert!(
            matches!(resolve(&dir, None), Err(HookError::Missing(p)) if p == dir.join("hook.js"))
        );
        // Asking for the built-in hook does not excuse a directory that is not there.
        assert!(matches!(
            resolve(&typo, Some(BUILTIN_NAMES_ONLY)),
            Err(HookError::NoDirectory(_))
        ));
        // The twin: the built-in hook asked for by name.
        assert_eq!(
            resolve(&dir, Some(BUILTIN_NAMES_ONLY)).unwrap(),
            HookSource::BuiltinNamesOnly
        );
        assert!(matches!(
            resolve(&dir, Some("builtin:name-only")),
            Err(HookError::UnknownBuiltin(_))
        ));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_hook_that_does_not_parse_or_installs_nothing_stops_start_up() {
        let dir = temp_dir("syntax");
        std::fs::write(
            dir.join("hook.js"),
            "export default function hook(m) {\n  return m\n  if (\n}\n",
        )
        .unwrap();
        let err = resolve(&dir, None).unwrap_err();
        match &err {
            HookError::Syntax { line, .. } => assert!(*line >= 3, "{err}"),
            other => panic!("{other}"),
        }
        assert!(err.to_string().contains("hook.js:"), "{err}");
        std::fs::write(dir.join("hook.js"), "const hook = (m) => m;\n").unwrap();
        assert!(matches!(resolve(&dir, None), Err(HookError::NoHook(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn hooks_in_every_style_users_write_are_accepted() {
        let dir = temp_dir("styles");
        for source in [
            "export default function hook(message) { return message; }\n",
            "export default async (message, context) => message;\n",
            "const hook = (m) => m;\nexport { hook as default };\n",
            "import { chain } from \"./__portcullis/helpers.js\";\nexport default chain();\n",
            // Tauri's style: a script assigning the global (loaded as a module, which it parses as).
            "window.__TAURI_ISOLATION_HOOK__ = (payload) => payload;\n",
            "globalThis.__PORTCULLIS_HOOK__ = async (m) => { await 0; return m; };\n",
        ] {
            std::fs::write(dir.join("hook.js"), source).unwrap();
            assert_eq!(
                resolve(&dir, None).unwrap_or_else(|e| panic!("{source}: {e}")),
                HookSource::File(dir.join("hook.js")),
                "{source}"
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_repositorys_own_hooks_pass() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        for dir in [
            "isolation-app",
            "tests/e2e/isolation",
            "tests/e2e/tauri/isolation",
            "tests/e2e/helpers/isolation",
            "crates/portcullis-demo/isolation",
        ] {
            resolve(&root.join(dir), None).unwrap_or_else(|e| panic!("{e}"));
        }
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_column("ab\ncd", 4), (2, 2));
        assert_eq!(line_column("é\nx", 3), (2, 1));
        assert_eq!(line_column("", 9), (1, 1));
    }
}
