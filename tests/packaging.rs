//! Every file a crate embeds (`include_str!`, `include_bytes!`, or a directory its build
//! script embeds whole) lies inside that crate's directory, so `cargo package` puts it in
//! the package. Files shared with the top level (`isolation-app/`, `fixtures/attacks/e2e/`)
//! are reached through links inside the crate, which `cargo package` follows. And every crate meant for crates.io packages
//! without a warning, its package holding its licences, its readme and every file it
//! embeds. (The whole path from those packages to a built app is the outside app's,
//! `scripts/outside-app.sh`.)

use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).to_path_buf()
}

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

/// Every file the crate at `root` embeds, as (the source file, the path it gives, the file
/// it names resolved without following links).
fn embedded_files(root: &Path) -> Vec<(PathBuf, String, PathBuf)> {
    let mut out = Vec::new();
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    for file in files {
        let source = std::fs::read_to_string(&file).unwrap();
        // Code only: a doc comment may show an `include_str!` of the app's.
        let text: String = source
            .lines()
            .filter(|l| !l.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n");
        for macro_name in ["include_str!(\"", "include_bytes!(\""] {
            for (i, _) in text.match_indices(macro_name) {
                let rest = &text[i + macro_name.len()..];
                let embedded = rest[..rest.find('"').unwrap()].to_owned();
                let target = lexical(file.parent().unwrap(), &embedded);
                out.push((file.clone(), embedded, target));
            }
        }
    }
    out
}

/// Every file in the directories the crate's build script embeds whole (those it names in
/// `cargo:rerun-if-changed=DIR`), as (build.rs, the directory it gives, the file resolved
/// without following links). The CLI's built-in attacks are embedded this way.
fn build_script_files(root: &Path) -> Vec<(PathBuf, String, PathBuf)> {
    let script = root.join("build.rs");
    let Ok(source) = std::fs::read_to_string(&script) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, _) in source.match_indices("rerun-if-changed=") {
        let rest = &source[i + "rerun-if-changed=".len()..];
        let given = rest[..rest.find('"').unwrap()].to_owned();
        let dir = lexical(root, &given);
        if !dir.is_dir() {
            continue;
        }
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        out.extend(files.into_iter().map(|f| {
            (
                script.clone(),
                given.clone(),
                dir.join(f.file_name().unwrap()),
            )
        }));
    }
    out
}

#[test]
fn embedded_files_lie_inside_their_crate() {
    let crates = root().join("crates");
    let mut checked = 0;
    let mut outside = Vec::new();
    for krate in std::fs::read_dir(&crates).unwrap().flatten() {
        let root = krate.path();
        let built = build_script_files(&root);
        if krate.file_name() == "portcullis-cli" {
            // The built-in attack catalogue: every file of fixtures/attacks/e2e.
            assert!(built.len() > 50, "the CLI's build script embeds {built:#?}");
        }
        for (file, embedded, target) in embedded_files(&root).into_iter().chain(built) {
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
    assert!(checked > 50, "only {checked} embedded files found");
    assert!(outside.is_empty(), "outside their crate: {outside:#?}");
}

/// What `cargo ARGS`, run at the workspace's root, printed (it must succeed).
fn cargo(args: &[&str]) -> Vec<u8> {
    let out = Command::new(env!("CARGO"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The workspace's packages that may be published: (name, manifest directory).
fn publishable() -> Vec<(String, PathBuf)> {
    let stdout = cargo(&["metadata", "--no-deps", "--format-version", "1"]);
    let meta: serde_json::Value = serde_json::from_slice(&stdout).unwrap();
    let mut list = Vec::new();
    for package in meta["packages"].as_array().unwrap() {
        // `publish: false` reads as an empty list of registries.
        if package["publish"].as_array().is_some_and(|r| r.is_empty()) {
            continue;
        }
        let manifest = Path::new(package["manifest_path"].as_str().unwrap());
        list.push((
            package["name"].as_str().unwrap().to_owned(),
            manifest.parent().unwrap().to_path_buf(),
        ));
    }
    list
}

#[test]
fn every_published_crate_packages_cleanly_with_what_it_needs() {
    let packages = publishable();
    let names: BTreeSet<&str> = packages.iter().map(|(n, _)| n.as_str()).collect();
    // The crates an app depends on, and the command: none of them may drop out.
    for wanted in [
        "portcullis",
        "portcullis-core",
        "portcullis-wry",
        "portcullis-xvfb",
        "portcullis-cli",
    ] {
        assert!(
            names.contains(wanted),
            "{wanted} is not publishable: {names:?}"
        );
    }
    let target = tempfile::tempdir().unwrap();
    let mut package = Command::new(env!("CARGO"));
    package
        .args(["package", "--no-verify", "--allow-dirty"])
        .env("CARGO_TARGET_DIR", target.path())
        .current_dir(root());
    for name in &names {
        package.args(["-p", name]);
    }
    let out = package.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "cargo package failed:\n{stderr}");
    assert!(
        !stderr.contains("warning"),
        "cargo package warned:\n{stderr}"
    );

    for (name, dir) in &packages {
        let crate_file = target.path().join(format!("package/{name}-0.1.0.crate"));
        assert!(crate_file.exists(), "no {}", crate_file.display());
        let stdout = cargo(&["package", "--list", "--allow-dirty", "-p", name]);
        let listed: BTreeSet<String> = String::from_utf8_lossy(&stdout)
            .lines()
            .map(str::to_owned)
            .collect();
        let mut needed: Vec<String> = ["Cargo.toml", "README.md", "LICENSE-MIT", "LICENSE-APACHE"]
            .map(String::from)
            .to_vec();
        for (_, _, file) in embedded_files(dir)
            .into_iter()
            .chain(build_script_files(dir))
        {
            let inside = file.strip_prefix(dir).unwrap();
            needed.push(inside.to_string_lossy().into_owned());
        }
        for file in &needed {
            assert!(
                listed.contains(file),
                "{name}'s package lacks {file}: {listed:#?}"
            );
        }
    }
}

#[test]
fn unpublished_crates_are_the_workspace_tools_only() {
    // A twin of the test above: the demo and the test package stay out of crates.io, and
    // nothing else does.
    let all = ["portcullis-demo", "portcullis-tests"];
    let published: BTreeSet<String> = publishable().into_iter().map(|(n, _)| n).collect();
    for name in all {
        assert!(!published.contains(name), "{name} would be published");
    }
}

/// The codes a `"E_..."` string lists in `text` between `start` and `end`, in order.
fn codes_between(text: &str, start: &str, end: &str) -> Vec<String> {
    let from = text.find(start).unwrap() + start.len();
    let to = from + text[from..].find(end).unwrap();
    text[from..to]
        .split('"')
        .filter(|s| s.starts_with("E_"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn the_js_package_knows_every_rejection_code_of_the_core() {
    let core: Vec<String> = portcullis::ErrorCode::ALL
        .iter()
        .map(|c| c.as_str().to_owned())
        .collect();
    let api = root().join("packages/api");
    let js = std::fs::read_to_string(api.join("index.js")).unwrap();
    let dts = std::fs::read_to_string(api.join("index.d.ts")).unwrap();
    assert_eq!(
        codes_between(&js, "ERROR_CODES = Object.freeze([", "]);"),
        core
    );
    assert_eq!(codes_between(&dts, "PortcullisErrorCode =", ";"), core);
}

/// The committed WebAssembly sealer is the build of its source: when the pinned toolchain
/// and its wasm32 target are installed, a rebuild gives the same bytes. Without them the
/// test says so and checks what it can (the file the crate embeds is the committed one).
#[test]
fn sealer_wasm_is_the_committed_build() {
    let root = root();
    let committed = std::fs::read(root.join("isolation-app/sealer.wasm")).unwrap();
    assert_eq!(
        committed,
        portcullis_wry::isolation::SEALER_WASM,
        "the crate embeds another file than isolation-app/sealer.wasm"
    );
    assert!(
        committed.starts_with(b"\0asm\x01\0\0\0"),
        "not a WebAssembly module"
    );
    let out = tempfile::tempdir().unwrap();
    let rebuilt = out.path().join("sealer.wasm");
    let status = Command::new("bash")
        .arg(root.join("scripts/build-sealer-wasm.sh"))
        .arg(&rebuilt)
        .status()
        .unwrap();
    match status.code() {
        Some(0) => assert!(
            std::fs::read(&rebuilt).unwrap() == committed,
            "isolation-app/sealer.wasm is not what its source builds to: run scripts/build-sealer-wasm.sh and commit the result"
        ),
        // The script's own "toolchain missing" exit: nothing to compare against.
        Some(2) => eprintln!(
            "sealer_wasm_is_the_committed_build: the pinned toolchain or its wasm32 target is not installed; rebuild not compared (scripts/build-sealer-wasm.sh --install adds them)"
        ),
        other => panic!("scripts/build-sealer-wasm.sh failed: {other:?}"),
    }
}
