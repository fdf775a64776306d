//! The attacks an audit runs, in order: the built-in catalogue, the user's files, then
//! the attacks generated from the config.
//!
//! The built-in catalogue is the directory `fixtures/attacks/e2e/` as a whole (reached
//! through the crate's `attacks` link, which `cargo package` follows, so the published
//! package holds the files): every `*.js` file there, in file-name order, with the class
//! its header gives. Adding an attack is adding its file (and its row in that directory's
//! README, which a test holds to the directory).
//!
//! The list is made by a build script (`build.rs`, with [`attack_files`], which also reads
//! the user's directory) rather than by a crate such as `include_dir`: a proc macro cannot
//! tell a stable compiler to look at the directory again, so a file added there could be
//! left out of an incremental build without a word, the very failure this replaces; the
//! script says `cargo:rerun-if-changed=attacks`, which makes cargo rescan the directory.
//! And the script fails the build, naming the file, when a header gives no class (fail
//! closed), with no dependency added to a security tool for it.
//!
//! [`attack_files`]: super::attack_files

use super::attack_files;
use super::{Generated, Options, generate};

/// One file of the built-in catalogue, embedded at build time.
struct Embedded {
    /// The file name without `.js`.
    name: &'static str,
    /// The class its header gives (the build fails without one).
    class: &'static str,
    source: &'static str,
}

/// The built-in catalogue: `$OUT_DIR/built_in.rs`, written by `build.rs`.
const BUILT_IN: &[Embedded] = include!(concat!(env!("OUT_DIR"), "/built_in.rs"));

/// The class of a file with none in its header (a user's file; a built-in one always
/// has one).
const UNCLASSED: &str = "custom";

/// An attack file.
pub struct Attack {
    pub(super) name: String,
    /// The report's class column: from the file's header (`// class: CLASS`).
    pub(super) class: String,
    pub(super) source: String,
    /// For an attack generated from the config: its calls, every one of which must be
    /// refused (the child writes them beside the attack as `cases.json`).
    pub(super) cases: Option<Vec<generate::Case>>,
}

/// The attack file every generated attack runs.
const GENERATED_JS: &str = include_str!("../../audit/generated.js");

/// The attacks to run, in order: the built-in catalogue, the user's files, the generated
/// ones (as `--no-builtin` and `--generated` say).
pub(super) fn collect(options: &Options) -> Result<Vec<Attack>, Box<dyn std::error::Error>> {
    let written = options.generated != Generated::Only;
    let mut attacks: Vec<Attack> = BUILT_IN
        .iter()
        .filter(|_| options.builtin && written)
        .map(|e| Attack {
            name: e.name.to_owned(),
            class: e.class.to_owned(),
            source: e.source.to_owned(),
            cases: None,
        })
        .collect();
    if let Some(dir) = options.attacks.as_deref().filter(|_| written) {
        for file in attack_files::list(dir)? {
            let source = std::fs::read_to_string(&file.path)?;
            attacks.push(Attack {
                name: file.name,
                class: class_of(&source).to_owned(),
                source,
                cases: None,
            });
        }
    }
    if options.generated != Generated::Off {
        let (config, _) = crate::app::load(&options.config)?;
        for group in generate::generate(&config, &options.vars, &options.window) {
            if group.cases.is_empty() {
                continue;
            }
            attacks.push(Attack {
                name: group.name,
                class: class_of(GENERATED_JS).to_owned(),
                source: GENERATED_JS.to_owned(),
                cases: Some(group.cases),
            });
        }
    }
    if !options.only.is_empty() {
        attacks.retain(|a| options.only.iter().any(|glob| glob.is_match(&a.name)));
    }
    Ok(attacks)
}

/// The class a file's header gives, or [`UNCLASSED`].
fn class_of(source: &str) -> &str {
    attack_files::class(source).unwrap_or(UNCLASSED)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    /// The attack directory, as the build script reads it.
    fn attack_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("attacks")
    }

    /// The options `portcullis audit --config C --generated off` gives (the built-in
    /// catalogue, nothing else), or with `--attacks DIR` (and `--no-builtin`).
    fn options(attacks: Option<PathBuf>, builtin: bool) -> Options {
        Options {
            config: "portcullis.json".into(),
            attacks,
            json: None,
            window: "main".into(),
            vars: Vec::new(),
            timeout: std::time::Duration::from_secs(20),
            layers: super::super::Layer::ALL.to_vec(),
            builtin,
            allow_inconclusive: false,
            transport: None,
            expectations: Default::default(),
            junit: None,
            generated: Generated::Off,
            jobs: 1,
            second_window: None,
            only: Vec::new(),
            grants: super::super::GrantsAtStart::All,
            sarif: None,
        }
    }

    /// (name, class, text) of each attack the audit would run, in order.
    fn run_list(options: &Options) -> Vec<(String, String, String)> {
        collect(options)
            .unwrap()
            .into_iter()
            .map(|a| (a.name, a.class, a.source))
            .collect()
    }

    /// (file name, text) of every `.js` file in `dir`, in file-name order, read here
    /// without the code under test.
    fn js_files(dir: &Path) -> Vec<(String, String)> {
        let mut files: Vec<(String, String)> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.to_string_lossy().ends_with(".js"))
            .map(|p| {
                let file = p.file_name().unwrap().to_string_lossy().into_owned();
                (file, std::fs::read_to_string(&p).unwrap())
            })
            .collect();
        files.sort();
        files
    }

    fn copy_dir(from: &Path, to: &Path) {
        for entry in std::fs::read_dir(from).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, to.join(path.file_name().unwrap())).unwrap();
        }
    }

    /// Every `.js` file in `fixtures/attacks/e2e/` runs in the audit (#32): the run-list
    /// the CLI builds names each one, in file-name order, with that file's text and the
    /// class its header gives, and names nothing else. (Before, a file missing from a
    /// hand-kept list never ran, and nothing said so.)
    #[test]
    fn every_file_of_the_attack_directory_runs_in_the_audit() {
        let files = js_files(&attack_dir());
        assert!(files.len() >= 50, "only {} attack files", files.len());
        let want: Vec<(String, String, String)> = files
            .into_iter()
            .map(|(file, text)| {
                let class = attack_files::class(&text)
                    .unwrap_or_else(|| panic!("{file}: no class in its header"))
                    .to_owned();
                (file.trim_end_matches(".js").to_owned(), class, text)
            })
            .collect();
        let got = run_list(&options(None, true));
        let names = |v: &[(String, String, String)]| {
            v.iter()
                .map(|(n, c, _)| format!("{n} ({c})"))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(&got),
            names(&want),
            "the audit's run-list is not fixtures/attacks/e2e"
        );
        assert!(got == want, "an attack's text is not its file's");
    }

    /// The catalogue is made from whatever the directory holds: a file added to a copy of
    /// it is listed in its place by name by the build script's code, the source it writes
    /// embeds the file, and the audit reads it the same way from a user's directory.
    #[test]
    fn a_file_added_to_the_directory_is_listed() {
        let copy = tempfile::tempdir().unwrap();
        copy_dir(&attack_dir(), copy.path());
        let added =
            "// class: added-class\n// Tries nothing.\nexport default async function (ctx) {}\n";
        std::fs::write(copy.path().join("added-attack.js"), added).unwrap();
        let mut want: Vec<String> = BUILT_IN.iter().map(|e| e.name.to_owned()).collect();
        want.push("added-attack".into());
        want.sort_by_key(|n| format!("{n}.js"));

        let catalogue = attack_files::built_in(copy.path()).unwrap();
        let names: Vec<&str> = catalogue.iter().map(|e| e.file.name.as_str()).collect();
        assert_eq!(names, want);
        let entry = catalogue
            .iter()
            .find(|e| e.file.name == "added-attack")
            .unwrap();
        assert_eq!(entry.class, "added-class");
        let code = attack_files::render(&catalogue);
        let embedded = format!(
            "include_str!({:?})",
            copy.path().join("added-attack.js").display().to_string()
        );
        assert!(code.contains(&embedded), "{code}");
        let entries = code.lines().filter(|l| l.contains("include_str!")).count();
        assert_eq!(entries, want.len(), "{code}");

        let users: Vec<String> = run_list(&options(Some(copy.path().to_owned()), false))
            .into_iter()
            .map(|(n, _, _)| n)
            .collect();
        assert_eq!(users, want);
    }

    /// Fail closed: a built-in file whose header gives no class stops the build, and the
    /// message names the file. A `// class:` line below the header does not count.
    #[test]
    fn a_built_in_file_without_a_class_in_its_header_fails_naming_it() {
        let copy = tempfile::tempdir().unwrap();
        copy_dir(&attack_dir(), copy.path());
        assert!(attack_files::built_in(copy.path()).is_ok());
        std::fs::write(
            copy.path().join("no-class.js"),
            "// Tries nothing.\nexport default async function (ctx) {}\n// class: late\n",
        )
        .unwrap();
        std::fs::write(copy.path().join("empty-class.js"), "// class:\n").unwrap();
        let err = match attack_files::built_in(copy.path()) {
            Ok(_) => panic!("files without a class were listed"),
            Err(e) => e,
        };
        assert!(err.contains("no-class.js"), "{err}");
        assert!(err.contains("empty-class.js"), "{err}");
        assert!(err.contains("// class: CLASS"), "{err}");
        assert!(!err.contains("direct-invoke"), "{err}");
    }

    /// The directory's README keeps a row per attack: the same attacks as the directory,
    /// in the order they run, each with the class its file's header gives.
    #[test]
    fn the_readme_table_is_the_attack_directory() {
        let readme = std::fs::read_to_string(attack_dir().join("README.md")).unwrap();
        let rows: Vec<String> = readme
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .map(|l| {
                let cells: Vec<&str> = l.split('|').map(str::trim).collect();
                format!("{} ({})", cells[0].trim_end_matches('`'), cells[1])
            })
            .collect();
        let catalogue: Vec<String> = BUILT_IN
            .iter()
            .map(|e| format!("{} ({})", e.name, e.class))
            .collect();
        assert_eq!(
            rows, catalogue,
            "fixtures/attacks/e2e/README.md's table is not the directory: one row per file, in file-name order, with the class its header gives"
        );
    }

    #[test]
    fn the_class_is_read_from_the_header_only() {
        assert_eq!(
            class_of("// class: race\n// at: document-start\nx();\n"),
            "race"
        );
        assert_eq!(class_of("// at: document-start\n// class: race\n"), "race");
        assert_eq!(class_of("x();\n// class: race\n"), UNCLASSED);
        assert_eq!(class_of("// Tries.\n\n// class: race\n"), UNCLASSED);
        assert_eq!(class_of("const s = '// class: race';\n"), UNCLASSED);
        assert_eq!(class_of("// class:   \n"), UNCLASSED);
    }
}
