//! The attacks an audit runs, in order: the built-in catalogue (`fixtures/attacks/e2e/`,
//! built into the binary), the user's files, then the attacks generated from the config.

use std::path::PathBuf;

use super::{Generated, Options, generate};

/// The built-in catalogue (`fixtures/attacks/e2e/`).
const BUILT_IN: &[(&str, &str)] = &[
    (
        "direct-invoke",
        include_str!("../../../../fixtures/attacks/e2e/direct-invoke.js"),
    ),
    (
        "unsealed",
        include_str!("../../../../fixtures/attacks/e2e/unsealed.js"),
    ),
    (
        "forged",
        include_str!("../../../../fixtures/attacks/e2e/forged.js"),
    ),
    (
        "stolen-port",
        include_str!("../../../../fixtures/attacks/e2e/stolen-port.js"),
    ),
    (
        "injected-frame",
        include_str!("../../../../fixtures/attacks/e2e/injected-frame.js"),
    ),
    (
        "builtins",
        include_str!("../../../../fixtures/attacks/e2e/builtins.js"),
    ),
    (
        "replay-splice",
        include_str!("../../../../fixtures/attacks/e2e/replay-splice.js"),
    ),
    (
        "before-the-bridge",
        include_str!("../../../../fixtures/attacks/e2e/before-the-bridge.js"),
    ),
    (
        "key-fetch",
        include_str!("../../../../fixtures/attacks/e2e/key-fetch.js"),
    ),
    (
        "key-xhr",
        include_str!("../../../../fixtures/attacks/e2e/key-xhr.js"),
    ),
    (
        "key-xhr-sync",
        include_str!("../../../../fixtures/attacks/e2e/key-xhr-sync.js"),
    ),
    (
        "key-prefetch",
        include_str!("../../../../fixtures/attacks/e2e/key-prefetch.js"),
    ),
    (
        "key-img",
        include_str!("../../../../fixtures/attacks/e2e/key-img.js"),
    ),
    (
        "key-script",
        include_str!("../../../../fixtures/attacks/e2e/key-script.js"),
    ),
    (
        "key-frames",
        include_str!("../../../../fixtures/attacks/e2e/key-frames.js"),
    ),
    (
        "key-worker",
        include_str!("../../../../fixtures/attacks/e2e/key-worker.js"),
    ),
    (
        "oracle-recreate",
        include_str!("../../../../fixtures/attacks/e2e/oracle-recreate.js"),
    ),
    (
        "oracle-unsandboxed",
        include_str!("../../../../fixtures/attacks/e2e/oracle-unsandboxed.js"),
    ),
    (
        "oracle-nested",
        include_str!("../../../../fixtures/attacks/e2e/oracle-nested.js"),
    ),
    (
        "oracle-move-frame",
        include_str!("../../../../fixtures/attacks/e2e/oracle-move-frame.js"),
    ),
    (
        "oracle-guessed-ids",
        include_str!("../../../../fixtures/attacks/e2e/oracle-guessed-ids.js"),
    ),
    (
        "oracle-forged-replies",
        include_str!("../../../../fixtures/attacks/e2e/oracle-forged-replies.js"),
    ),
    (
        "malformed-names",
        include_str!("../../../../fixtures/attacks/e2e/malformed-names.js"),
    ),
    (
        "malformed-kinds",
        include_str!("../../../../fixtures/attacks/e2e/malformed-kinds.js"),
    ),
    (
        "malformed-bytes",
        include_str!("../../../../fixtures/attacks/e2e/malformed-bytes.js"),
    ),
    (
        "differential-values",
        include_str!("../../../../fixtures/attacks/e2e/differential-values.js"),
    ),
    (
        "differential-keys",
        include_str!("../../../../fixtures/attacks/e2e/differential-keys.js"),
    ),
    (
        "race-frame-reload",
        include_str!("../../../../fixtures/attacks/e2e/race-frame-reload.js"),
    ),
    (
        "race-frame-remove",
        include_str!("../../../../fixtures/attacks/e2e/race-frame-remove.js"),
    ),
    (
        "race-frame-navigate",
        include_str!("../../../../fixtures/attacks/e2e/race-frame-navigate.js"),
    ),
    (
        "race-history",
        include_str!("../../../../fixtures/attacks/e2e/race-history.js"),
    ),
    (
        "flood-ipc",
        include_str!("../../../../fixtures/attacks/e2e/flood-ipc.js"),
    ),
    (
        "flood-frame",
        include_str!("../../../../fixtures/attacks/e2e/flood-frame.js"),
    ),
    (
        "size-large",
        include_str!("../../../../fixtures/attacks/e2e/size-large.js"),
    ),
    (
        "size-deep",
        include_str!("../../../../fixtures/attacks/e2e/size-deep.js"),
    ),
    (
        "prototype-array",
        include_str!("../../../../fixtures/attacks/e2e/prototype-array.js"),
    ),
    (
        "prototype-promise",
        include_str!("../../../../fixtures/attacks/e2e/prototype-promise.js"),
    ),
    (
        "prototype-defineproperty",
        include_str!("../../../../fixtures/attacks/e2e/prototype-defineproperty.js"),
    ),
    (
        "ipc-json",
        include_str!("../../../../fixtures/attacks/e2e/ipc-json.js"),
    ),
    (
        "ipc-huge",
        include_str!("../../../../fixtures/attacks/e2e/ipc-huge.js"),
    ),
    (
        "ipc-binary",
        include_str!("../../../../fixtures/attacks/e2e/ipc-binary.js"),
    ),
    (
        "names-spacing",
        include_str!("../../../../fixtures/attacks/e2e/names-spacing.js"),
    ),
    (
        "names-lookalikes",
        include_str!("../../../../fixtures/attacks/e2e/names-lookalikes.js"),
    ),
    (
        "events-emit",
        include_str!("../../../../fixtures/attacks/e2e/events-emit.js"),
    ),
    (
        "events-listen",
        include_str!("../../../../fixtures/attacks/e2e/events-listen.js"),
    ),
    (
        "frames-error-page",
        include_str!("../../../../fixtures/attacks/e2e/frames-error-page.js"),
    ),
    (
        "windows-replay",
        include_str!("../../../../fixtures/attacks/e2e/windows-replay.js"),
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
    Ok(attacks)
}

pub(super) fn class_of(source: &str) -> String {
    source
        .lines()
        .find_map(|l| l.trim().strip_prefix("// class:"))
        .map_or("custom", str::trim)
        .to_owned()
}
