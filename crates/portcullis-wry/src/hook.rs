//! The app's validation hook, found and checked before any webview starts.
//!
//! With isolation on, every message passes the hook; a hook that is missing (a typo in
//! the isolation `dir`, a file not copied) or that cannot run would leave the app either
//! refusing everything or, worse, with weaker validation than its author wrote. So
//! `Portcullis::build` refuses to start unless the hook is there and parses as an ES
//! module that installs a hook. The built-in hook, which only checks that a name is
//! present, is used only when the config names it (`"hook": "builtin:names-only"`).
//!
//! Parsing uses `oxc_parser` and `oxc_semantic` (a maintained, spec-following JavaScript
//! toolchain): the hook file is loaded by the isolation frame with `import()`, so it and
//! every module it imports statically must be valid modules, with no early errors, at
//! paths the frame can load.

use std::path::{Path, PathBuf};

use std::collections::HashSet;

use crate::assets::Files;
use oxc_allocator::Allocator;
use oxc_ast::ast::{AssignmentExpression, Expression};
use oxc_ast_visit::{Visit, walk};
use oxc_parser::{ParseOptions, Parser};
use oxc_semantic::SemanticBuilder;
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
    /// A static import the isolation frame could not load.
    #[error("{}: import {specifier:?}: {problem}", path.display())]
    Import {
        /// The module with the import.
        path: PathBuf,
        /// The import's specifier, as written.
        specifier: String,
        /// Why it cannot load.
        problem: &'static str,
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

/// Finds and checks the hook among the isolation app's files (its directory, or the
/// copy embedded in the binary) and the config's `hook` option.
pub fn resolve(files: &Files, hook: Option<&str>) -> Result<HookSource, HookError> {
    if let Files::Directory(dir) = files
        && !dir.is_dir()
    {
        return Err(HookError::NoDirectory(dir.to_path_buf()));
    }
    match hook {
        Some(BUILTIN_NAMES_ONLY) => return Ok(HookSource::BuiltinNamesOnly),
        Some(other) => return Err(HookError::UnknownBuiltin(other.to_owned())),
        None => {}
    }
    let path = files.describe(HOOK_FILE);
    let url_path = format!("/{HOOK_FILE}");
    if files.read(&url_path).is_none() {
        return Err(HookError::Missing(path));
    }
    let mut seen = HashSet::new();
    let installs = check_module(files, &url_path, &mut seen)?;
    if !installs {
        return Err(HookError::NoHook(path));
    }
    Ok(HookSource::File(path))
}

/// Checks that `source` parses as an ES module that installs a hook (without following
/// its imports; [`resolve`] does that).
pub fn check_source(path: &Path, source: &str) -> Result<(), HookError> {
    let parsed = parse(path, source)?;
    if parsed.installs_hook {
        Ok(())
    } else {
        Err(HookError::NoHook(path.to_path_buf()))
    }
}

/// The most modules a hook may pull in through static imports (a guard against cycles
/// the `seen` set would miss through odd spellings, and against runaway trees).
const MAX_MODULES: usize = 256;

/// Reads, parses and checks the module at URL path `url_path` of the isolation document,
/// then each module it imports statically. Returns whether it installs a hook.
fn check_module(
    files: &Files,
    url_path: &str,
    seen: &mut HashSet<String>,
) -> Result<bool, HookError> {
    let path = files.describe(url_path.trim_start_matches('/'));
    let source = read_text(files, url_path)?;
    let parsed = parse(&path, &source)?;
    for specifier in parsed.imports {
        let Some(target) = resolve_import(url_path, &specifier) else {
            return Err(HookError::Import {
                path: path.clone(),
                specifier,
                problem: "only paths relative to the isolation directory resolve in the isolation frame (it has no network and no import map)",
            });
        };
        if SERVED.contains(&target.as_str()) || !seen.insert(target.clone()) {
            continue;
        }
        if seen.len() > MAX_MODULES {
            return Err(HookError::Import {
                path: path.clone(),
                specifier,
                problem: "the hook imports more than 256 modules",
            });
        }
        let file = files.describe(target.trim_start_matches('/'));
        if files.read(&target).is_none() {
            return Err(HookError::Import {
                path: path.clone(),
                specifier,
                problem: "no such file in the isolation directory",
            });
        }
        if target.ends_with(".json") {
            let text = read_text(files, &target)?;
            if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(&text) {
                return Err(HookError::Syntax {
                    path: file,
                    line: e.line(),
                    column: e.column(),
                    message: format!("not valid JSON: {e}"),
                });
            }
        } else {
            check_module(files, &target, seen)?;
        }
    }
    Ok(parsed.installs_hook)
}

/// The text of the file at `url_path` of the isolation app.
fn read_text(files: &Files, url_path: &str) -> Result<String, HookError> {
    let unreadable = |source| HookError::Unreadable {
        path: files.describe(url_path.trim_start_matches('/')),
        source,
    };
    let (bytes, _) = files
        .read(url_path)
        .ok_or_else(|| unreadable(std::io::Error::from(std::io::ErrorKind::NotFound)))?;
    String::from_utf8(bytes.into_owned())
        .map_err(|e| unreadable(std::io::Error::new(std::io::ErrorKind::InvalidData, e)))
}

/// Modules Portcullis serves itself at these paths of the isolation document.
const SERVED: [&str; 7] = [
    "/__portcullis/helpers.js",
    "/__portcullis/sealer.js",
    "/__portcullis/canonical.js",
    "/__portcullis/kinds.js",
    "/__portcullis/runtime.js",
    "/__portcullis/protocol.js",
    "/__portcullis/marks.js",
];

/// The URL path an import `specifier` in the module at `from` loads, as the engine
/// resolves it against the isolation origin (`isolation://localhost/…` in the config's
/// form); `None` for a specifier that cannot
/// resolve to the isolation directory (bare names, other schemes or hosts).
fn resolve_import(from: &str, specifier: &str) -> Option<String> {
    let isolation = crate::engine::CURRENT.origin(crate::engine::Served::Isolation);
    let rest = if let Some(r) = specifier.strip_prefix(isolation.as_str()) {
        r.strip_prefix('/').map(|r| format!("/{r}"))?
    } else if specifier.starts_with("./") || specifier.starts_with("../") {
        let base = from.rsplit_once('/').map_or("", |(b, _)| b);
        format!("{base}/{specifier}")
    } else if specifier.starts_with('/') && !specifier.starts_with("//") {
        specifier.to_owned()
    } else {
        return None;
    };
    // A query or fragment is not part of the file.
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let mut parts: Vec<&str> = Vec::new();
    for part in rest.split('/') {
        match part {
            "" | "." => {}
            // URL resolution stops at the root: `/../a.js` is `/a.js`.
            ".." => {
                parts.pop();
            }
            p => parts.push(p),
        }
    }
    Some(format!("/{}", parts.join("/")))
}

/// What the start-up check needs to know about one module.
struct Parsed {
    imports: Vec<String>,
    installs_hook: bool,
}

fn parse(path: &Path, source: &str) -> Result<Parsed, HookError> {
    let allocator = Allocator::default();
    // Regular expressions are parsed too: an invalid one is an early error at load.
    let options = ParseOptions {
        parse_regular_expression: true,
        ..ParseOptions::default()
    };
    let parsed = Parser::new(&allocator, source, SourceType::mjs())
        .with_options(options)
        .parse();
    let syntax = |error: &oxc_diagnostics::OxcDiagnostic| {
        let offset = error
            .labels
            .as_ref()
            .and_then(|labels| labels.first())
            .map_or(0, |label| label.offset());
        let (line, column) = line_column(source, offset);
        HookError::Syntax {
            path: path.to_path_buf(),
            line,
            column,
            message: error.message.to_string(),
        }
    };
    if let Some(error) = parsed.errors.first() {
        return Err(syntax(error));
    }
    if parsed.panicked {
        return Err(HookError::Syntax {
            path: path.to_path_buf(),
            line: 1,
            column: 1,
            message: "the parser gave up".to_owned(),
        });
    }
    // The early errors an engine raises when it loads the module, which the parser alone
    // does not (redeclarations, `break` outside a loop, exports of undeclared names).
    let semantic = SemanticBuilder::new()
        .with_check_syntax_error(true)
        .build(&parsed.program);
    if let Some(error) = semantic.errors.first() {
        return Err(syntax(error));
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
    let mut finder = GlobalAssignment::default();
    finder.visit_program(&parsed.program);
    let mut imports: Vec<String> = record
        .requested_modules
        .keys()
        .map(|s| s.to_string())
        .collect();
    imports.sort();
    Ok(Parsed {
        imports,
        installs_hook: exports_default || finder.found,
    })
}

/// Finds an assignment to a hook global: `window.__TAURI_ISOLATION_HOOK__ = …` (or on
/// `globalThis` or `self`, with `.name` or `["name"]`).
#[derive(Default)]
struct GlobalAssignment {
    found: bool,
}

impl<'a> Visit<'a> for GlobalAssignment {
    fn visit_assignment_expression(&mut self, it: &AssignmentExpression<'a>) {
        if let Some(member) = it.left.as_member_expression()
            && let Expression::Identifier(object) = member.object()
            && ["window", "globalThis", "self"].contains(&object.name.as_str())
            && member
                .static_property_name()
                .is_some_and(|name| HOOK_GLOBALS.contains(&name))
        {
            self.found = true;
        }
        walk::walk_assignment_expression(self, it);
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

    /// The hook of the isolation directory `dir` (the tests' files are on disk).
    fn resolve(dir: &Path, hook: Option<&str>) -> Result<HookSource, HookError> {
        super::resolve(&Files::Directory(dir.to_path_buf()), hook)
    }

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
    fn early_errors_the_engine_would_raise_stop_start_up() {
        let dir = temp_dir("early");
        for source in [
            "with (Math) { x = 1; }\nexport default (m) => m;\n",
            "const n = 010;\nexport default (m) => m;\n",
            "function f(a, a) {}\nexport default (m) => m;\n",
            "let q = 1;\ndelete q;\nexport default (m) => m;\n",
            "let a;\nlet a;\nexport default (m) => m;\n",
            "break;\nexport default (m) => m;\n",
            "const r = /(/;\nexport default (m) => m;\n",
            "export { hook as default };\n",
        ] {
            std::fs::write(dir.join("hook.js"), source).unwrap();
            assert!(
                matches!(resolve(&dir, None), Err(HookError::Syntax { .. })),
                "{source}: {:?}",
                resolve(&dir, None)
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn imports_must_load_in_the_frame() {
        let dir = temp_dir("imports");
        std::fs::create_dir_all(dir.join("rules")).unwrap();
        std::fs::write(dir.join("rules/broken.js"), "export const x = ;\n").unwrap();
        for (source, want) in [
            (
                "import { r } from \"./rules.js\";\nexport default r;\n",
                "no such file",
            ),
            (
                "import _ from \"lodash\";\nexport default (m) => m;\n",
                "only paths relative",
            ),
            (
                "import x from \"https://cdn.example/x.js\";\nexport default x;\n",
                "only paths relative",
            ),
            (
                "import { x } from \"./rules/broken.js\";\nexport default (m) => m;\n",
                "broken.js:1:",
            ),
        ] {
            std::fs::write(dir.join("hook.js"), source).unwrap();
            let e = resolve(&dir, None).unwrap_err().to_string();
            assert!(e.contains(want), "{source}: {e}");
        }
        // Only mentioning the global (in a comment) installs nothing.
        std::fs::write(
            dir.join("hook.js"),
            "// window.__TAURI_ISOLATION_HOOK__\nconst h = 1;\n",
        )
        .unwrap();
        assert!(matches!(resolve(&dir, None), Err(HookError::NoHook(_))));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn import_specifiers_resolve_as_urls_do() {
        assert_eq!(
            resolve_import("/hook.js", "./a.js").as_deref(),
            Some("/a.js")
        );
        assert_eq!(
            resolve_import("/rules/x.js", "../a.js").as_deref(),
            Some("/a.js")
        );
        assert_eq!(
            resolve_import("/hook.js", "../../a.js").as_deref(),
            Some("/a.js")
        );
        assert_eq!(
            resolve_import("/hook.js", "./a.js?v=2").as_deref(),
            Some("/a.js")
        );
        assert_eq!(
            resolve_import("/hook.js", "isolation://localhost/lib/a.js").as_deref(),
            Some("/lib/a.js")
        );
        assert_eq!(resolve_import("/hook.js", "lodash"), None);
        assert_eq!(resolve_import("/hook.js", "//cdn/a.js"), None);
        assert_eq!(resolve_import("/hook.js", "isolation://other/a.js"), None);
    }

    #[test]
    fn hooks_in_every_style_users_write_are_accepted() {
        let dir = temp_dir("styles");
        std::fs::create_dir_all(dir.join("lib")).unwrap();
        std::fs::write(dir.join("rules.json"), "{\"allow\": [\"a\"]}").unwrap();
        std::fs::write(
            dir.join("lib/check.js"),
            "import { chain } from \"../__portcullis/helpers.js\";\nexport const check = (r, m) => m;\nexport { chain };\n",
        )
        .unwrap();
        for source in [
            "export default function hook(message) { return message; }\n",
            "export default async (message, context) => message;\n",
            "const hook = (m) => m;\nexport { hook as default };\n",
            "import { chain } from \"./__portcullis/helpers.js\";\nexport default chain();\n",
            // Tauri's style: a script assigning the global (loaded as a module, which it parses as).
            "window.__TAURI_ISOLATION_HOOK__ = (payload) => payload;\n",
            "globalThis.__PORTCULLIS_HOOK__ = async (m) => { await 0; return m; };\n",
            "self[\"__TAURI_ISOLATION_HOOK__\"] = (p) => p;\n",
            "#!/usr/bin/env node\nconst rules = await Promise.resolve([]);\nexport default (m) => m;\n",
            "import rules from \"./rules.json\" with { type: \"json\" };\nimport { check } from \"./lib/check.js\";\nexport default (m) => check(rules, m);\n",
            "const re = /[\\p{L}--\\p{Ll}]/v;\nexport default (m) => m;\n",
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

    /// An isolation app held in memory, as embedded files are.
    struct Memory(Vec<(&'static str, &'static str)>);
    impl crate::Assets for Memory {
        fn get(&self, path: &str) -> Option<std::borrow::Cow<'static, [u8]>> {
            self.0
                .iter()
                .find(|(name, _)| *name == path)
                .map(|(_, text)| std::borrow::Cow::Borrowed(text.as_bytes()))
        }
        fn names(&self) -> Vec<String> {
            self.0.iter().map(|(n, _)| n.to_string()).collect()
        }
    }

    #[test]
    fn an_embedded_isolation_app_is_checked_like_a_directory() {
        let embedded = |files| Files::Embedded(std::sync::Arc::new(Memory(files)));
        let good = embedded(vec![
            (
                "hook.js",
                "import { rule } from './rules/a.js';\nexport default (m) => rule(m);\n",
            ),
            ("rules/a.js", "export const rule = (m) => m;\n"),
        ]);
        assert_eq!(
            super::resolve(&good, None).unwrap(),
            HookSource::File(PathBuf::from("(embedded)/hook.js"))
        );
        // Twins: no hook, an import that is not embedded, a module that does not parse.
        assert!(matches!(
            super::resolve(&embedded(vec![("other.js", "export default 1;")]), None),
            Err(HookError::Missing(_))
        ));
        let dangling = embedded(vec![(
            "hook.js",
            "import { rule } from './rules/a.js';\nexport default (m) => rule(m);\n",
        )]);
        assert!(matches!(
            super::resolve(&dangling, None),
            Err(HookError::Import { .. })
        ));
        let broken = embedded(vec![("hook.js", "export default (m) => ;\n")]);
        assert!(matches!(
            super::resolve(&broken, None),
            Err(HookError::Syntax { .. })
        ));
    }
}
