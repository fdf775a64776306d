//! Every file a crate embeds (`include_str!`, `include_bytes!`) lies inside that crate's
//! directory, so `cargo package` puts it in the package. Files shared with the top level
//! (`isolation-app/`, `fixtures/attacks/e2e/`) are reached through links inside the
//! crate, which `cargo package` follows.

use std::path::{Component, Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// `path` (relative to `base`) resolved without following links: where cargo looks.
fn lexical(base: &Path, path: &str) -> PathBuf {
    let mut out = base.to_path_buf();
    for part in Path::new(path).components() {
        match part {
            Component::ParentDir => {
                out.pop();
            }
            Component::Normal(p) => out.push(p),
            _ => {}
        }
    }
    out
}

#[test]
fn embedded_files_lie_inside_their_crate() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("crates");
    let mut checked = 0;
    let mut outside = Vec::new();
    for krate in std::fs::read_dir(&crates).unwrap().flatten() {
        let root = krate.path();
        let mut files = Vec::new();
        rust_files(&root.join("src"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            for macro_name in ["include_str!(\"", "include_bytes!(\""] {
                for (i, _) in text.match_indices(macro_name) {
                    let rest = &text[i + macro_name.len()..];
                    let embedded = &rest[..rest.find('"').unwrap()];
                    let target = lexical(file.parent().unwrap(), embedded);
                    assert!(
                        target.exists(),
                        "{}: {embedded} does not exist",
                        file.display()
                    );
                    checked += 1;
                    if !target.starts_with(&root) {
                        outside.push(format!("{}: {embedded}", file.display()));
                    }
                }
            }
        }
    }
    assert!(checked > 50, "only {checked} embedded files found");
    assert!(outside.is_empty(), "outside their crate: {outside:#?}");
}
