//! The attacks an audit runs, in order: the built-in catalogue (`fixtures/attacks/e2e/`,
//! built into the binary), the user's files, then the attacks generated from the config.

use std::path::PathBuf;

use super::{Generated, Options, generate};

/// The built-in catalogue (`fixtures/attacks/e2e/`, reached through the crate's
/// `attacks` link so that the published package holds the files).
const BUILT_IN: &[(&str, &str)] = &[
    (
        "direct-invoke",
        include_str!("../../attacks/direct-invoke.js"),
    ),
    ("unsealed", include_str!("../../attacks/unsealed.js")),
    ("forged", include_str!("../../attacks/forged.js")),
    ("stolen-port", include_str!("../../attacks/stolen-port.js")),
    (
        "injected-frame",
        include_str!("../../attacks/injected-frame.js"),
    ),
    ("builtins", include_str!("../../attacks/builtins.js")),
    (
        "replay-splice",
        include_str!("../../attacks/replay-splice.js"),
    ),
    (
        "before-the-bridge",
        include_str!("../../attacks/before-the-bridge.js"),
    ),
    ("key-fetch", include_str!("../../attacks/key-fetch.js")),
    ("key-xhr", include_str!("../../attacks/key-xhr.js")),
    (
        "key-xhr-sync",
        include_str!("../../attacks/key-xhr-sync.js"),
    ),
    (
        "key-prefetch",
        include_str!("../../attacks/key-prefetch.js"),
    ),
    ("key-img", include_str!("../../attacks/key-img.js")),
    ("key-script", include_str!("../../attacks/key-script.js")),
    ("key-frames", include_str!("../../attacks/key-frames.js")),
    ("key-worker", include_str!("../../attacks/key-worker.js")),
    (
        "oracle-recreate",
        include_str!("../../attacks/oracle-recreate.js"),
    ),
    (
        "oracle-unsandboxed",
        include_str!("../../attacks/oracle-unsandboxed.js"),
    ),
    (
        "oracle-nested",
        include_str!("../../attacks/oracle-nested.js"),
    ),
    (
        "oracle-move-frame",
        include_str!("../../attacks/oracle-move-frame.js"),
    ),
    (
        "oracle-guessed-ids",
        include_str!("../../attacks/oracle-guessed-ids.js"),
    ),
    (
        "oracle-forged-replies",
        include_str!("../../attacks/oracle-forged-replies.js"),
    ),
    (
        "malformed-names",
        include_str!("../../attacks/malformed-names.js"),
    ),
    (
        "malformed-kinds",
        include_str!("../../attacks/malformed-kinds.js"),
    ),
    (
        "malformed-bytes",
        include_str!("../../attacks/malformed-bytes.js"),
    ),
    (
        "differential-values",
        include_str!("../../attacks/differential-values.js"),
    ),
    (
        "differential-keys",
        include_str!("../../attacks/differential-keys.js"),
    ),
    (
        "race-frame-reload",
        include_str!("../../attacks/race-frame-reload.js"),
    ),
    (
        "race-frame-remove",
        include_str!("../../attacks/race-frame-remove.js"),
    ),
    (
        "race-frame-navigate",
        include_str!("../../attacks/race-frame-navigate.js"),
    ),
    (
        "race-history",
        include_str!("../../attacks/race-history.js"),
    ),
    ("flood-ipc", include_str!("../../attacks/flood-ipc.js")),
    ("flood-frame", include_str!("../../attacks/flood-frame.js")),
    ("size-large", include_str!("../../attacks/size-large.js")),
    ("size-deep", include_str!("../../attacks/size-deep.js")),
    (
        "prototype-array",
        include_str!("../../attacks/prototype-array.js"),
    ),
    (
        "prototype-promise",
        include_str!("../../attacks/prototype-promise.js"),
    ),
    (
        "prototype-defineproperty",
        include_str!("../../attacks/prototype-defineproperty.js"),
    ),
    ("ipc-json", include_str!("../../attacks/ipc-json.js")),
    ("ipc-huge", include_str!("../../attacks/ipc-huge.js")),
    ("ipc-binary", include_str!("../../attacks/ipc-binary.js")),
    (
        "names-spacing",
        include_str!("../../attacks/names-spacing.js"),
    ),
    (
        "names-lookalikes",
        include_str!("../../attacks/names-lookalikes.js"),
    ),
    ("events-emit", include_str!("../../attacks/events-emit.js")),
    (
        "events-listen",
        include_str!("../../attacks/events-listen.js"),
    ),
    (
        "frames-error-page",
        include_str!("../../attacks/frames-error-page.js"),
    ),
    (
        "windows-replay",
        include_str!("../../attacks/windows-replay.js"),
    ),
    (
        "streams-open",
        include_str!("../../attacks/streams-open.js"),
    ),
    (
        "channels-pull",
        include_str!("../../attacks/channels-pull.js"),
    ),
    (
        "cancels-race",
        include_str!("../../attacks/cancels-race.js"),
    ),
    (
        "grants-revoke",
        include_str!("../../attacks/grants-revoke.js"),
    ),
];

/// An attack file.
pub struct Attack {
    pub(super) name: String,
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
        .map(|(name, source)| Attack {
            name: (*name).to_owned(),
            source: (*source).to_owned(),
            cases: None,
        })
        .collect();
    if let Some(dir) = options.attacks.as_deref().filter(|_| written) {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "js"))
            .collect();
        files.sort();
        for file in files {
            let name = file
                .file_stem()
                .map(|s| s.to_string_lossy().to_string())
                .unwrap_or_default();
            attacks.push(Attack {
                name,
                source: std::fs::read_to_string(&file)?,
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

pub(super) fn class_of(source: &str) -> String {
    source
        .lines()
        .find_map(|l| l.trim().strip_prefix("// class:"))
        .map_or("custom", str::trim)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An attack file added to the directory but not to `BUILT_IN` would never run and
    /// nothing would say so (#32): the list and the directory are the same set, each
    /// entry named for its file and carrying that file's text.
    #[test]
    fn the_built_in_list_is_the_attack_directory() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("attacks");
        let mut files: Vec<(String, String)> = std::fs::read_dir(&dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "js"))
            .map(|p| {
                let name = p.file_stem().unwrap().to_string_lossy().to_string();
                (name, std::fs::read_to_string(&p).unwrap())
            })
            .collect();
        files.sort();
        let mut listed: Vec<(String, String)> = BUILT_IN
            .iter()
            .map(|(name, source)| ((*name).to_owned(), (*source).to_owned()))
            .collect();
        listed.sort();
        let names = |v: &[(String, String)]| v.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
        assert_eq!(
            names(&listed),
            names(&files),
            "BUILT_IN and fixtures/attacks/e2e differ"
        );
        assert_eq!(listed, files, "an entry's text is not its file's");
    }
}
