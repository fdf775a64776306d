//! Embeds the built-in attack catalogue: every `*.js` file in `attacks/` (the crate's link
//! to `fixtures/attacks/e2e/`, a directory of its own in the published package), with the
//! class its header gives, as `$OUT_DIR/built_in.rs`. See `src/audit/catalogue.rs`.

#[path = "src/audit/attack_files.rs"]
mod attack_files;

use std::path::Path;

fn main() {
    // A build script runs only under cargo, which always sets both variables; no webview
    // input reaches it.
    let manifest = std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&manifest).join("attacks");
    // A directory is scanned as a whole: a file added, changed or removed there runs
    // this script again.
    println!("cargo:rerun-if-changed=attacks");
    println!("cargo:rerun-if-changed=src/audit/attack_files.rs");
    let catalogue = match attack_files::built_in(&dir) {
        Ok(catalogue) => catalogue,
        Err(e) => {
            // Fail closed: no binary with an attack missing or unclassed.
            println!("cargo::error={e}");
            return;
        }
    };
    let out = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("built_in.rs");
    std::fs::write(&out, attack_files::render(&catalogue))
        .unwrap_or_else(|e| panic!("{}: {e}", out.display()));
}
