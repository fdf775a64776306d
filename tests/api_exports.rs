//! Every export of `@portcullis/api` is exercised by the outside app
//! (`tests/outside-app/frontend/src/`), whose self-test runs it in a real webview through
//! the npm package (`scripts/outside-app.sh`): a function must be called, a class
//! constructed or used with `instanceof`, a constant read. An export added to the package
//! and never tried the way a user would try it fails here.
//!
//! The names come from `packages/api/index.js` and must be exactly the values
//! `index.d.ts` declares. The sources are read as JavaScript tokens: comments and string
//! contents do not count as uses.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).to_path_buf()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What an export is, which says what counts as using it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Called: `name(`.
    Function,
    /// Constructed or tested: `new name`, `instanceof name`.
    Class,
    /// Read: `name` anywhere in the code.
    Const,
}

/// `source` with comments blanked out and string contents (quotes kept) blanked out, so
/// that offsets still match `source`. Code inside a template's `${...}` stays. Panics
/// where a quote never closes on its line, which is where a regular expression literal
/// with a quote would have confused this reading.
fn code_only(source: &str) -> String {
    let bytes = source.as_bytes();
    let mut out = bytes.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for b in &mut out[from..to] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    };
    // For each `${` we are inside, the depth of the `{` opened within it since.
    let mut substitutions: Vec<usize> = Vec::new();
    let mut in_template = false;
    let mut i = 0;
    while i < bytes.len() {
        if in_template {
            // Template text: until its closing backquote or the next `${`.
            let start = i;
            while i < bytes.len()
                && bytes[i] != b'`'
                && !(bytes[i] == b'$' && bytes.get(i + 1) == Some(&b'{'))
            {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            assert!(i < bytes.len(), "a template literal never ends");
            blank(&mut out, start, i);
            if bytes[i] == b'`' {
                i += 1;
            } else {
                substitutions.push(0);
                i += 2;
            }
            in_template = false;
            continue;
        }
        let c = bytes[i];
        match c {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let end = source[i..].find('\n').map_or(bytes.len(), |n| i + n);
                blank(&mut out, i, end);
                i = end;
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                let end = source[i + 2..]
                    .find("*/")
                    .map_or_else(|| panic!("a comment never ends"), |n| i + 2 + n + 2);
                blank(&mut out, i, end);
                i = end;
            }
            b'"' | b'\'' => {
                let start = i + 1;
                let mut j = start;
                while j < bytes.len() && bytes[j] != c {
                    assert!(
                        bytes[j] != b'\n',
                        "a {} string never closes on line {}: teach code_only this syntax",
                        c as char,
                        source[..i].lines().count()
                    );
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                blank(&mut out, start, j.min(bytes.len()));
                i = j + 1;
            }
            b'`' => {
                in_template = true;
                i += 1;
            }
            b'{' => {
                if let Some(depth) = substitutions.last_mut() {
                    *depth += 1;
                }
                i += 1;
            }
            b'}' => {
                match substitutions.last_mut() {
                    // The `}` that ends a `${`: back to its template's text.
                    Some(0) => {
                        substitutions.pop();
                        in_template = true;
                    }
                    Some(depth) => *depth -= 1,
                    None => {}
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    String::from_utf8(out).expect("blanking keeps UTF-8: only ASCII bytes were replaced")
}

fn is_ident(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// The offsets of `word` as a whole identifier in `code`, not as a member (`x.word`).
fn occurrences(code: &str, word: &str) -> Vec<usize> {
    let bytes = code.as_bytes();
    code.match_indices(word)
        .map(|(at, _)| at)
        .filter(|&at| {
            let before = at.checked_sub(1).map(|i| bytes[i]);
            let after = bytes.get(at + word.len()).copied();
            !before.is_some_and(|b| is_ident(b) || b == b'.') && !after.is_some_and(is_ident)
        })
        .collect()
}

/// The identifiers following offset `at`, up to `n` of them (punctuation skipped over
/// only where it is `*`, for `function*`).
fn words_after(code: &str, at: usize, n: usize) -> Vec<&str> {
    code[at..]
        .split(|c: char| {
            !(c.is_ascii_alphanumeric() || c == '_' || c == '$' || c == '*' || c == '{')
        })
        .filter(|w| !w.is_empty())
        .take(n)
        .collect()
}

/// The names `index.js` exports, each with the declaration that made it.
fn js_exports(code: &str) -> BTreeMap<String, String> {
    let mut names = BTreeMap::new();
    for at in occurrences(code, "export") {
        let words = words_after(code, at, 4);
        let (decl, name) = match words.as_slice() {
            [
                "export",
                d @ ("const" | "let" | "var" | "function" | "class"),
                name,
                ..,
            ] => (d.to_string(), name.to_string()),
            ["export", "async", "function", name, ..] => ("function".into(), name.to_string()),
            ["export", "function*", name, ..] => ("function".into(), name.to_string()),
            _ => panic!(
                "packages/api/index.js: an export this test cannot read ({:?}): teach js_exports it",
                &code[at..code[at..].find('\n').map_or(code.len(), |n| at + n)]
            ),
        };
        assert!(
            names.insert(name.clone(), decl).is_none(),
            "index.js exports {name} twice"
        );
    }
    names
}

/// The values (`declare const|function|class`) `index.d.ts` exports, with their kind.
fn dts_values(code: &str) -> BTreeMap<String, Kind> {
    let mut values = BTreeMap::new();
    for at in occurrences(code, "export") {
        let words = words_after(code, at, 4);
        let (kind, name) = match words.as_slice() {
            ["export", "declare", "const", name, ..] => (Kind::Const, *name),
            ["export", "declare", "function", name, ..] => (Kind::Function, *name),
            ["export", "declare", "class", name, ..] => (Kind::Class, *name),
            ["export", "type" | "interface", ..] => continue,
            _ => panic!(
                "packages/api/index.d.ts: an export this test cannot read ({:?}): teach dts_values it",
                &code[at..code[at..].find('\n').map_or(code.len(), |n| at + n)]
            ),
        };
        // Overloads declare a function more than once.
        let name = name.split('<').next().unwrap_or(name).to_owned();
        if let Some(earlier) = values.insert(name.clone(), kind) {
            assert_eq!(
                earlier, kind,
                "index.d.ts declares {name} as two kinds of value"
            );
        }
    }
    values
}

/// How a frontend file reaches the package's exports: the local name of each imported
/// export (`import { a, b as c } from "@portcullis/api"`) or a namespace
/// (`import * as api from ...`), and the code with its import statements blanked out.
struct Imports {
    named: BTreeMap<String, String>,
    namespaces: Vec<String>,
    rest: String,
}

fn imports(source: &str, code: &str) -> Imports {
    let mut named = BTreeMap::new();
    let mut namespaces = Vec::new();
    let mut rest = code.to_owned();
    for at in occurrences(code, "import") {
        let from = code[at..]
            .find("from")
            .map(|n| at + n)
            .unwrap_or_else(|| panic!("an import without from"));
        let quote = code[from..]
            .find(['"', '\''])
            .map(|n| from + n)
            .expect("import source");
        let close = code[quote + 1..]
            .find(['"', '\''])
            .map(|n| quote + 1 + n)
            .expect("import source ends");
        let end = close + 1;
        if &source[quote + 1..close] != "@portcullis/api" {
            rest.replace_range(at..end, &" ".repeat(end - at));
            continue;
        }
        let clause = code[at + "import".len()..from].trim();
        if let Some(list) = clause.strip_prefix('{').and_then(|c| c.strip_suffix('}')) {
            for item in list.split(',').map(str::trim).filter(|s| !s.is_empty()) {
                let mut parts = item.split_whitespace();
                let exported = parts.next().expect("a name");
                let local = match (parts.next(), parts.next()) {
                    (None, _) => exported,
                    (Some("as"), Some(local)) => local,
                    _ => panic!("an import item this test cannot read: {item:?}"),
                };
                named.insert(exported.to_owned(), local.to_owned());
            }
        } else if let Some(ns) = clause
            .strip_prefix('*')
            .and_then(|c| c.trim().strip_prefix("as"))
        {
            namespaces.push(ns.trim().to_owned());
        } else {
            panic!("an import of @portcullis/api this test cannot read: {clause:?}");
        }
        rest.replace_range(at..end, &" ".repeat(end - at));
    }
    Imports {
        named,
        namespaces,
        rest,
    }
}

/// Whether `code` uses the export `name` of kind `kind` through the imports.
fn used(imports: &Imports, name: &str, kind: Kind) -> bool {
    let mut spellings: Vec<String> = imports
        .namespaces
        .iter()
        .map(|ns| format!("{ns}.{name}"))
        .collect();
    if let Some(local) = imports.named.get(name) {
        spellings.push(local.clone());
    }
    let code = &imports.rest;
    spellings.iter().any(|spelled| {
        occurrences(code, spelled).into_iter().any(|at| {
            let before = code[..at].trim_end();
            let after = code[at + spelled.len()..].trim_start();
            match kind {
                Kind::Function => after.starts_with('('),
                Kind::Class => before.ends_with("new") || before.ends_with("instanceof"),
                Kind::Const => true,
            }
        })
    })
}

/// The exports of the package with their kind, checked against the declarations.
fn package_exports() -> BTreeMap<String, Kind> {
    let api = root().join("packages/api");
    let js = js_exports(&code_only(&read(&api.join("index.js"))));
    let values = dts_values(&code_only(&read(&api.join("index.d.ts"))));
    let js_names: BTreeSet<&String> = js.keys().collect();
    let dts_names: BTreeSet<&String> = values.keys().collect();
    assert_eq!(
        js_names, dts_names,
        "index.js exports and index.d.ts declares different values"
    );
    for (name, decl) in &js {
        let kind = values[name];
        // A function declared as one in both; a class may be a const holding a class.
        assert!(
            (decl == "function") == (kind == Kind::Function),
            "{name}: index.js has a {decl}, index.d.ts a {kind:?}"
        );
    }
    values
}

/// The outside app's frontend sources, each with its imports read.
fn frontend() -> Vec<(PathBuf, Imports)> {
    let dir = root().join("tests/outside-app/frontend/src");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "js" || x == "ts"))
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| {
            let source = read(&path);
            let imports = imports(&source, &code_only(&source));
            (path, imports)
        })
        .collect()
}

/// The exports none of `files` uses.
fn unused(exports: &BTreeMap<String, Kind>, files: &[(PathBuf, Imports)]) -> Vec<String> {
    exports
        .iter()
        .filter(|(name, kind)| !files.iter().any(|(_, imports)| used(imports, name, **kind)))
        .map(|(name, _)| name.clone())
        .collect()
}

#[test]
fn the_package_exports_what_its_declarations_declare() {
    let exports = package_exports();
    // The package's public API as of issue 31; a new export joins this list and the app.
    let expected = [
        "Channel",
        "ERROR_CODES",
        "GRANTS_COMMAND",
        "PortcullisError",
        "emit",
        "grants",
        "invoke",
        "isAvailable",
        "listen",
        "once",
        "openStream",
        "ready",
    ];
    assert_eq!(
        exports.keys().map(String::as_str).collect::<Vec<_>>(),
        expected
    );
    assert_eq!(exports["Channel"], Kind::Class);
    assert_eq!(exports["PortcullisError"], Kind::Class);
    assert_eq!(exports["ERROR_CODES"], Kind::Const);
    assert_eq!(exports["openStream"], Kind::Function);
}

#[test]
fn the_outside_app_uses_every_export_of_the_package() {
    let exports = package_exports();
    let files = frontend();
    assert!(!files.is_empty(), "the outside app has no frontend source");
    let imported: BTreeSet<&String> = files.iter().flat_map(|(_, i)| i.named.keys()).collect();
    assert!(
        !imported.is_empty() || files.iter().any(|(_, i)| !i.namespaces.is_empty()),
        "the outside app does not import @portcullis/api"
    );
    let missing = unused(&exports, &files);
    assert!(
        missing.is_empty(),
        "the outside app's self-test never uses these exports of @portcullis/api: {missing:?} \
         (call each function, construct or test each class, read each constant in \
         tests/outside-app/frontend/src)"
    );
}

/// The check fails for each export whose every use is taken out of the app (or only
/// mentioned in a comment or a string), so the test above can fail for every name.
#[test]
fn an_export_the_app_stops_using_is_reported() {
    let exports = package_exports();
    for name in exports.keys() {
        let files: Vec<(PathBuf, Imports)> = frontend()
            .into_iter()
            .map(|(path, mut imports)| {
                let local = imports
                    .named
                    .get(name)
                    .cloned()
                    .unwrap_or_else(|| name.clone());
                let mut rest = imports.rest.clone();
                for at in occurrences(&imports.rest, &local).into_iter().rev() {
                    rest.replace_range(at..at + local.len(), &"_".repeat(local.len()));
                }
                imports.rest = rest;
                (path, imports)
            })
            .collect();
        assert_eq!(
            unused(&exports, &files),
            vec![name.clone()],
            "taking out {name}"
        );
    }
    // Mentioned only in a comment or a string: not a use.
    let source =
        "import { once } from \"@portcullis/api\";\n// once(\"x\")\nconst s = `once(${1})`;\n";
    let imports = imports(source, &code_only(source));
    assert!(!used(&imports, "once", Kind::Function));
    let source = "import { once as one } from '@portcullis/api';\nawait one(\"x\", () => {});\n";
    let imports = self::imports(source, &code_only(source));
    assert!(used(&imports, "once", Kind::Function));
    assert!(!used(&imports, "listen", Kind::Function));
}
