//! The core reads as one walk: no module imports a module that imports it back, however
//! far round, and no file is over 500 lines.
//!
//! The import graph is read from the source text: every `crate::` and `super::` path a
//! file names outside comments and outside its unit tests, resolved to the file of the
//! longest module prefix it names. A file that re-exports another (a `pub use` in a
//! `mod.rs`) imports it too, which is right: a reader who opens the folder is sent there.
//! `cargo test -p portcullis-core --test layout` prints any cycle with its files.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 500;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `.rs` file under `dir`, as paths relative to `src()`.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.strip_prefix(src()).unwrap().to_path_buf());
        }
    }
}

/// The module path of a file: `a/b.rs` and `a/b/mod.rs` are `["a", "b"]`, `lib.rs` is `[]`.
fn module_of(file: &Path) -> Vec<String> {
    let mut parts: Vec<String> = file
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
        parts.pop();
    }
    parts
}

/// The text a file's imports are read from: its unit tests (an inline `mod tests` at the
/// end, or a whole `tests.rs`) and its comments left out.
fn code_of(file: &Path, text: &str) -> String {
    if file.file_name().is_some_and(|n| n == "tests.rs") {
        return String::new();
    }
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(at) => &text[..at],
        None => text,
    };
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every module path `code` names from `me`: `crate::a::b`, `super::a`, and the members
/// of one level of braces after either (`use crate::{a::b, c};`).
fn named_paths(me: &[String], code: &str) -> Vec<Vec<String>> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let mut found = Vec::new();
    for root in ["crate::", "super::"] {
        let base: Vec<String> = if root == "crate::" {
            Vec::new()
        } else {
            me[..me.len().saturating_sub(1)].to_vec()
        };
        for (at, _) in code.match_indices(root) {
            // Only a path that starts here (not `foo_crate::` or `a::super::`).
            if code[..at]
                .chars()
                .next_back()
                .is_some_and(|c| ident(c) || c == ':')
            {
                continue;
            }
            let rest = &code[at + root.len()..];
            let group = if let Some(inner) = rest.strip_prefix('{') {
                inner[..inner.find('}').unwrap_or(inner.len())]
                    .split(',')
                    .map(str::trim)
                    .collect::<Vec<_>>()
            } else {
                vec![rest]
            };
            for member in group {
                let mut path = base.clone();
                for segment in member.split("::") {
                    let name: String = segment.chars().take_while(|&c| ident(c)).collect();
                    if name.is_empty() {
                        break;
                    }
                    path.push(name.clone());
                    if name.len() != segment.len() {
                        break;
                    }
                }
                found.push(path);
            }
        }
    }
    found
}

/// file → the files it imports.
fn graph() -> BTreeMap<PathBuf, BTreeSet<PathBuf>> {
    let mut all = Vec::new();
    files(&src(), &mut all);
    let modules: BTreeMap<Vec<String>, PathBuf> = all
        .iter()
        .filter(|f| f.file_name().is_some_and(|n| n != "tests.rs"))
        .map(|f| (module_of(f), f.clone()))
        .collect();
    let mut edges = BTreeMap::new();
    for file in &all {
        let text = fs::read_to_string(src().join(file)).unwrap();
        let me = module_of(file);
        let mut to = BTreeSet::new();
        for path in named_paths(&me, &code_of(file, &text)) {
            let target = (1..=path.len()).rev().find_map(|n| modules.get(&path[..n]));
            if let Some(target) = target.filter(|t| *t != file) {
                to.insert(target.clone());
            }
        }
        edges.insert(file.clone(), to);
    }
    edges
}

/// A cycle through `start`, if there is one: the files in order.
fn cycle_from(
    edges: &BTreeMap<PathBuf, BTreeSet<PathBuf>>,
    start: &PathBuf,
) -> Option<Vec<PathBuf>> {
    let mut stack = vec![(start.clone(), vec![start.clone()])];
    let mut seen = BTreeSet::new();
    while let Some((at, trail)) = stack.pop() {
        for next in edges.get(&at).into_iter().flatten() {
            if next == start {
                return Some(trail);
            }
            if seen.insert(next.clone()) {
                let mut longer = trail.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

#[test]
fn no_module_of_the_core_imports_one_that_imports_it_back() {
    let edges = graph();
    assert!(edges.len() > 30, "the core's files were not found");
    let cycles: Vec<String> = edges
        .keys()
        .filter_map(|file| cycle_from(&edges, file))
        .map(|cycle| {
            cycle
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(" -> ")
        })
        .collect();
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn no_file_of_the_core_is_over_500_lines() {
    let mut all = Vec::new();
    files(&src(), &mut all);
    let long: Vec<String> = all
        .iter()
        .map(|f| {
            (
                f,
                fs::read_to_string(src().join(f)).unwrap().lines().count(),
            )
        })
        .filter(|(_, n)| *n > MAX_LINES)
        .map(|(f, n)| format!("{} ({n} lines)", f.display()))
        .collect();
    assert!(long.is_empty(), "over {MAX_LINES} lines: {long:?}");
}

#[test]
fn the_reader_sees_a_cycle_and_a_brace_group() {
    let me = vec!["router".to_owned(), "dispatch".to_owned()];
    let code = "use super::{calls::Calls, extract};\nuse crate::wire::request::Kind;\nlet x = my_crate::a;";
    let paths = named_paths(&me, code);
    assert!(paths.contains(&vec!["router".into(), "calls".into(), "Calls".into()]));
    assert!(paths.contains(&vec!["router".into(), "extract".into()]));
    assert!(paths.contains(&vec!["wire".into(), "request".into(), "Kind".into()]));
    assert_eq!(paths.len(), 3, "{paths:?}");
    let mut edges = BTreeMap::new();
    let (a, b, c) = (
        PathBuf::from("a.rs"),
        PathBuf::from("b.rs"),
        PathBuf::from("c.rs"),
    );
    edges.insert(a.clone(), BTreeSet::from([b.clone()]));
    edges.insert(b.clone(), BTreeSet::from([c.clone()]));
    edges.insert(c.clone(), BTreeSet::from([a.clone()]));
    assert_eq!(
        cycle_from(&edges, &a),
        Some(vec![a.clone(), b.clone(), c.clone()])
    );
    edges.insert(c.clone(), BTreeSet::new());
    assert_eq!(cycle_from(&edges, &a), None);
}
