//! `portcullis audit` in a real webview, judged on the Rust side by the canary handler,
//! in both layers: the isolation guarantee (the canary allowed, only the hook refusing
//! it) and the app as shipped.
//! - the demo app holds in both layers, every attack reaching the Rust side (a second
//!   window's envelopes sent from the first are refused as another webview's);
//! - a weak hook with the canary allowed is breached as shipped, its isolation holds;
//! - isolation off with the canary allowed is breached in both layers;
//! - isolation off with a sound allowlist is breached in the integrity layer only;
//! - a fire-and-forget canary the attack does not wait for is BREACHED every time;
//! - an attack that sends nothing is inconclusive, and fails the audit unless allowed;
//! - the user's expectations are judged in Rust: one the app keeps holds, one it does not
//!   keep is a breach; JUnit XML shows each attack and layer as a test case.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn audit(config: &Path, extra: &[&str], tag: &str) -> (bool, Value, String) {
    let report = std::env::temp_dir().join(format!(
        "portcullis-audit-report-{}-{tag}.json",
        std::process::id()
    ));
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["audit", "--config"])
        .arg(config)
        .arg("--json")
        .arg(&report)
        .args(extra)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let json = serde_json::from_str(
        &std::fs::read_to_string(&report).unwrap_or_else(|_| panic!("no report:\n{text}")),
    )
    .unwrap();
    let _ = std::fs::remove_file(&report);
    (out.status.success(), json, text)
}

fn attack<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["attacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no row {name}: {report:#}"))
}

/// A directory of attack files, removed when dropped.
struct Attacks(std::path::PathBuf);

impl Attacks {
    fn new(tag: &str, files: &[(&str, &str)]) -> Attacks {
        let dir =
            std::env::temp_dir().join(format!("portcullis-attacks-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, source) in files {
            std::fs::write(dir.join(name), source).unwrap();
        }
        Attacks(dir)
    }
    fn arg(&self) -> &str {
        self.0.to_str().unwrap()
    }
}

/// Only the files in `dir`, in the shipped layer: the arguments of the quick runs.
fn shipped_only(dir: &Attacks) -> Vec<&str> {
    vec![
        "--no-builtin",
        "--generated",
        "off",
        "--layers",
        "shipped",
        "--attacks",
        dir.arg(),
    ]
}

impl Drop for Attacks {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn the_demo_app_holds_in_both_layers() {
    the_demo_app_holds(&[], "demo", "default");
}

/// The built-in catalogue under the other transport: the e2e suite runs under both, and
/// so does the audit.
#[test]
fn the_demo_app_holds_in_both_layers_under_fetch() {
    the_demo_app_holds(&["--transport", "fetch"], "demo-fetch", "fetch");
}

fn the_demo_app_holds(extra: &[&str], tag: &str, transport: &str) {
    let mut args = vec!["--var", "EXPORTS=/tmp"];
    args.extend_from_slice(extra);
    let (ok, report, text) = audit(
        &repo().join("crates/portcullis-demo/portcullis.json"),
        &args,
        tag,
    );
    assert!(ok, "{text}");
    assert_eq!(report["transport"], transport, "{text}");
    let attacks = report["attacks"].as_array().unwrap();
    assert!(attacks.len() >= 6, "{text}");
    for a in attacks {
        for layer in ["integrity", "shipped"] {
            assert_eq!(a[layer]["verdict"], "held", "{layer}: {a:#}");
            assert_eq!(a[layer]["canary_runs"], 0);
            assert!(a[layer]["attempts"].as_u64().unwrap() > 0, "{layer}: {a:#}");
        }
    }
    // The front door: refused by the wrapped hook in the integrity layer, by the
    // allowlist as shipped.
    let direct = attack(&report, "direct-invoke");
    let codes = |layer: &str| direct[layer]["codes"].as_array().unwrap().clone();
    assert!(
        codes("integrity").iter().any(|c| c == "E_HOOK_REJECTED"),
        "{direct:#}"
    );
    assert!(
        codes("shipped").iter().any(|c| c == "E_NOT_ALLOWED"),
        "{direct:#}"
    );
    // The second window's envelopes, sent from the first, are another webview's.
    let windows = attack(&report, "windows-replay");
    for layer in ["integrity", "shipped"] {
        let codes = windows[layer]["codes"].as_array().unwrap();
        assert!(codes.iter().any(|c| c == "E_WRONG_WEBVIEW"), "{windows:#}");
    }
    assert!(
        text.contains("integrity") && text.contains("held"),
        "{text}"
    );
    // The stream, channel, cancel and grant attacks are in the catalogue, held in both
    // layers (the other rows' checks above hold for them too).
    for name in [
        "streams-open",
        "channels-pull",
        "cancels-race",
        "grants-revoke",
    ] {
        let row = attack(&report, name);
        assert_eq!(row["outcome"], "held", "{row:#}");
    }
    // The demo allows no stream: the canary's open is refused by the hook (integrity: a
    // hook that does not judge streams never passes one) and by the allowlist as shipped.
    let streams = attack(&report, "streams-open");
    assert!(
        streams["shipped"]["codes"]
            .to_string()
            .contains("E_NOT_ALLOWED"),
        "{streams:#}"
    );
    // notes.export is allowed only by the run-time capability "export": revoked by the
    // attack, never admitted.
    let grants = attack(&report, "grants-revoke");
    for layer in ["integrity", "shipped"] {
        let admitted = grants[layer]["admitted"].to_string();
        assert!(!admitted.contains("notes.export"), "{grants:#}");
    }
}

#[test]
fn a_weak_hook_is_breached_as_shipped_while_isolation_holds() {
    let (ok, report, text) = audit(
        &repo().join("fixtures/configs/weak/portcullis.json"),
        &[],
        "weak",
    );
    assert!(!ok, "a weakened config must fail the audit:\n{text}");
    let direct = attack(&report, "direct-invoke");
    assert_eq!(direct["outcome"], "BREACHED", "{direct:#}");
    assert_eq!(direct["shipped"]["verdict"], "BREACHED", "{direct:#}");
    assert_eq!(direct["integrity"]["verdict"], "held", "{direct:#}");
    for a in report["attacks"].as_array().unwrap() {
        assert_eq!(a["integrity"]["verdict"], "held", "{a:#}");
    }
}

#[test]
fn isolation_off_with_the_canary_allowed_is_breached_in_both_layers() {
    let (ok, report, text) = audit(
        &repo().join("fixtures/configs/weak-brownfield/portcullis.json"),
        &[],
        "weak-brownfield",
    );
    assert!(!ok, "{text}");
    let direct = attack(&report, "direct-invoke");
    assert_eq!(direct["integrity"]["verdict"], "BREACHED", "{direct:#}");
    assert_eq!(direct["shipped"]["verdict"], "BREACHED", "{direct:#}");
}

#[test]
fn isolation_off_with_a_sound_allowlist_is_breached_in_the_integrity_layer_only() {
    let (ok, report, text) = audit(
        &repo().join("fixtures/configs/no-isolation/portcullis.json"),
        &[],
        "no-isolation",
    );
    assert!(!ok, "{text}");
    let direct = attack(&report, "direct-invoke");
    assert_eq!(direct["integrity"]["verdict"], "BREACHED", "{direct:#}");
    assert_eq!(direct["shipped"]["verdict"], "held", "{direct:#}");
}

#[test]
fn a_fire_and_forget_canary_is_breached_every_time() {
    // Sent through the bridge directly, not ctx: the harness does not wait for it, and
    // the attack returns at once. Only the Rust side's wait for a quiet webview sees it.
    let source = "// class: race\nexport default async function (ctx) { window.portcullis.invoke(ctx.canary, {}); }\n";
    let names: Vec<String> = (1..=20).map(|i| format!("fire-{i:02}.js")).collect();
    let files: Vec<(&str, &str)> = names.iter().map(|n| (n.as_str(), source)).collect();
    let dir = Attacks::new("fire", &files);
    let (ok, report, text) = audit(
        &repo().join("fixtures/configs/weak/portcullis.json"),
        &shipped_only(&dir),
        "fire",
    );
    assert!(!ok, "{text}");
    let rows = report["attacks"].as_array().unwrap();
    assert_eq!(rows.len(), 20, "{text}");
    for row in rows {
        assert_eq!(row["shipped"]["verdict"], "BREACHED", "{row:#}");
        assert_eq!(row["shipped"]["canary_runs"], 1, "{row:#}");
    }
}

#[test]
fn an_attack_that_sends_nothing_is_inconclusive() {
    let dir = Attacks::new(
        "idle",
        &[(
            "idle.js",
            "// class: custom\nexport default async function (ctx) { ctx.note('did nothing'); }\n",
        )],
    );
    let demo = repo().join("crates/portcullis-demo/portcullis.json");
    let args = [
        "--var",
        "EXPORTS=/tmp",
        "--no-builtin",
        "--generated",
        "off",
        "--attacks",
        dir.arg(),
    ];
    let (ok, report, text) = audit(&demo, &args, "idle");
    assert!(!ok, "an inconclusive attack fails the audit:\n{text}");
    let idle = attack(&report, "idle");
    assert_eq!(idle["outcome"], "inconclusive", "{idle:#}");
    assert_eq!(idle["shipped"]["attempts"], 0);
    assert_eq!(report["inconclusive"], 1);
    // The twin: allowed explicitly, the same audit passes.
    let mut allowed = args.to_vec();
    allowed.push("--allow-inconclusive");
    let (ok, _, text) = audit(&demo, &allowed, "idle-allowed");
    assert!(ok, "{text}");
}

#[test]
fn users_attack_files_run_after_the_catalogue_with_long_notes_cut_not_lost() {
    let dir = Attacks::new(
        "user",
        &[(
            "mine.js",
            "// class: custom-test\nexport default async function (ctx) {\n  ctx.note(await ctx.codeOf(ctx.invoke('notes.purge')));\n  ctx.note('x'.repeat(5000));\n}\n",
        )],
    );
    let (ok, report, text) = audit(
        &repo().join("crates/portcullis-demo/portcullis.json"),
        &[
            "--var",
            "EXPORTS=/tmp",
            "--generated",
            "off",
            "--layers",
            "shipped",
            "--attacks",
            dir.arg(),
        ],
        "user",
    );
    assert!(ok, "{text}");
    let rows = report["attacks"].as_array().unwrap();
    assert_eq!(rows.last().unwrap()["name"], "mine", "user files come last");
    let mine = attack(&report, "mine");
    assert_eq!(mine["class"], "custom-test");
    assert_eq!(mine["outcome"], "held");
    let notes: Vec<&str> = mine["notes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    // Integrity: the wrapped hook passes notes.purge on to the app's hook, and the
    // allowlist denies it; as shipped, the same.
    assert!(notes.contains(&"shipped: E_DENIED"), "{notes:?}");
    let long = notes
        .iter()
        .find(|n| n.starts_with("shipped: xxx"))
        .unwrap();
    assert!(long.ends_with("(cut: 3000 more characters)"), "{long}");
    assert!(
        mine["shipped"]["codes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "E_DENIED")
    );
}

#[test]
fn a_config_that_cannot_start_says_why_in_the_report() {
    let (ok, report, text) = audit(
        &repo().join("fixtures/startup/typo-dir/portcullis.json"),
        &[
            "--no-builtin",
            "--generated",
            "off",
            "--attacks",
            Attacks::new("typo", &[("a.js", "export default async () => {};\n")]).arg(),
        ],
        "typo",
    );
    assert!(!ok, "{text}");
    let row = attack(&report, "a");
    assert_eq!(row["outcome"], "error");
    let errors = row["shipped"]["errors"].to_string();
    assert!(
        errors.contains("isolatoin") && errors.contains("does not exist"),
        "{errors}"
    );
}

#[test]
fn the_users_expectations_are_judged_on_the_rust_side() {
    // Kept: the demo's path scope refuses traversal, so no notes.export with ".." is
    // ever admitted. Broken: the demo's schema allows titles up to 200 characters and its
    // hook refuses only markup, so a 150-character title is admitted.
    let expectations = r#"{"never": [
        {"command": "notes.export", "why": "no path with .. may reach the export handler",
         "args": {"type": "object", "required": ["path"], "properties": {"path": {"type": "string", "pattern": "\\.\\."}}}},
        {"command": "notes.add", "why": "titles are at most 100 characters in this app",
         "args": {"type": "object", "required": ["title"], "properties": {"title": {"type": "string", "minLength": 101}}}}
    ]}"#;
    let traversal = "// class: scope\nexport default async function (ctx) {\n  for (const path of ['/tmp/../etc/passwd.md', '/tmp/a/../../etc/passwd.md']) ctx.note(await ctx.codeOf(ctx.invoke('notes.export', { path })));\n}\n";
    let long_title = "// class: business-rule\nexport default async function (ctx) {\n  ctx.note(await ctx.codeOf(ctx.invoke('notes.add', { title: 't'.repeat(150), body: 'b' })));\n}\n";
    let dir = Attacks::new(
        "expect",
        &[
            ("expectations.json", expectations),
            ("traversal.js", traversal),
            ("long-title.js", long_title),
        ],
    );
    let junit = std::env::temp_dir().join(format!("portcullis-junit-{}.xml", std::process::id()));
    let (ok, report, text) = audit(
        &repo().join("crates/portcullis-demo/portcullis.json"),
        &[
            "--var",
            "EXPORTS=/tmp",
            "--no-builtin",
            "--generated",
            "off",
            "--attacks",
            dir.arg(),
            "--junit",
            junit.to_str().unwrap(),
        ],
        "expect",
    );
    assert!(!ok, "a broken expectation fails the audit:\n{text}");
    assert_eq!(report["expectations"], 2);
    let traversal = attack(&report, "traversal");
    assert_eq!(traversal["outcome"], "held", "{traversal:#}");
    let long = attack(&report, "long-title");
    assert_eq!(long["outcome"], "BREACHED", "{long:#}");
    for layer in ["integrity", "shipped"] {
        assert_eq!(long[layer]["canary_runs"], 0);
        let violation = long[layer]["violations"][0].as_str().unwrap_or_default();
        assert!(
            violation.contains("at most 100 characters"),
            "{layer}: {long:#}"
        );
    }
    assert!(
        text.contains("expectations: 2 declared, broken in 1 attacks"),
        "{text}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    let _ = std::fs::remove_file(&junit);
    assert!(xml.contains(r#"<testcase name="traversal""#), "{xml}");
    assert!(
        xml.contains(r#"<testcase name="long-title""#) && xml.contains("<failure"),
        "{xml}"
    );
    assert_eq!(
        xml.matches("<testcase ").count(),
        4,
        "two attacks, two layers: {xml}"
    );
}

#[test]
fn attacks_generated_from_the_demo_config_are_all_refused() {
    let (ok, report, text) = audit(
        &repo().join("crates/portcullis-demo/portcullis.json"),
        &["--var", "EXPORTS=/tmp", "--generated", "only"],
        "generated",
    );
    assert!(ok, "{text}");
    let rows = report["attacks"].as_array().unwrap();
    let names: Vec<&str> = rows.iter().map(|r| r["name"].as_str().unwrap()).collect();
    for want in [
        "gen:notes.add",
        "gen:notes.delete",
        "gen:notes.export",
        "gen:refused-names",
    ] {
        assert!(names.contains(&want), "{names:?}");
    }
    for row in rows {
        for layer in ["integrity", "shipped"] {
            assert_eq!(row[layer]["verdict"], "held", "{layer}: {row:#}");
            assert!(row[layer].get("violations").is_none(), "{row:#}");
        }
    }
    let calls = report["generated_calls"].as_u64().unwrap();
    assert!(calls >= 40, "{calls} generated calls");
    assert!(
        text.contains(&format!("generated from the config: {calls} calls")),
        "{text}"
    );
    // Scope escapes were refused by the scope, schema violations by the schema.
    let export = rows
        .iter()
        .find(|r| r["name"] == "gen:notes.export")
        .unwrap();
    let codes = export["shipped"]["codes"].to_string();
    assert!(
        codes.contains("E_OUT_OF_SCOPE") && codes.contains("E_INVALID_ARGS"),
        "{codes}"
    );
}

/// A second window's part is judged even when the attack does not wait for it: its late
/// canary breaches a config that allows it, and is held by one that does not.
#[test]
fn a_second_windows_late_canary_is_judged() {
    let late = "// class: custom\n// windows: 2\n\
        export async function second(ctx) {\n  await ctx.sleep(2000);\n  await ctx.codeOf(ctx.invoke(ctx.canary, {}));\n}\n\
        export default async function (ctx) {\n  ctx.note(ctx.ipc(\"{}\"));\n}\n";
    let files = Attacks::new("late-second", &[("late-second.js", late)]);
    let only = shipped_only(&files);
    let (ok, report, text) = audit(
        &repo().join("fixtures/configs/weak/portcullis.json"),
        &only,
        "late-weak",
    );
    assert!(!ok, "{text}");
    let row = attack(&report, "late-second");
    assert_eq!(row["shipped"]["verdict"], "BREACHED", "{row:#}");
    assert_eq!(row["shipped"]["canary_runs"], 1, "{row:#}");
    // The twin: the demo's allowlist refuses the same late canary.
    let mut demo = only.clone();
    demo.extend(["--var", "EXPORTS=/tmp"]);
    let (ok, report, text) = audit(
        &repo().join("crates/portcullis-demo/portcullis.json"),
        &demo,
        "late-demo",
    );
    assert!(ok, "{text}");
    let row = attack(&report, "late-second");
    assert_eq!(row["shipped"]["verdict"], "held", "{row:#}");
    assert!(
        row["shipped"]["codes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "E_NOT_ALLOWED"),
        "{row:#}"
    );
}

/// The canary allowed as a stream (only), behind a hook that says it judges streams and
/// lets everything through: the stream's handler runs, which is a breach as shipped,
/// reported with what was admitted; the integrity layer's hook still refuses it. Before
/// the audit registered stream handlers, every open was E_UNKNOWN_COMMAND and this app
/// was reported "held".
#[test]
fn a_canary_stream_behind_a_permissive_hook_is_breached() {
    let (ok, report, text) = audit(
        &repo().join("fixtures/configs/weak-streams/portcullis.json"),
        &[
            "--only",
            "streams-open",
            "--generated",
            "off",
            "--jobs",
            "1",
        ],
        "weak-streams",
    );
    assert!(!ok, "{text}");
    let row = attack(&report, "streams-open");
    assert_eq!(row["shipped"]["verdict"], "BREACHED", "{row:#}");
    assert!(
        row["shipped"]["canary_runs"].as_u64().unwrap() >= 1,
        "{row:#}"
    );
    let admitted = row["shipped"]["admitted"].to_string();
    assert!(admitted.contains("stream portcullis.canary"), "{row:#}");
    // The canary as a command is refused by this allowlist: the breach is the stream's.
    assert!(!admitted.contains("command portcullis.canary"), "{row:#}");
    assert_eq!(row["integrity"]["verdict"], "held", "{row:#}");
    assert_eq!(
        row["integrity"]["admitted"],
        serde_json::json!([]),
        "{row:#}"
    );
    assert!(
        text.contains("admitted (shipped): stream portcullis.canary"),
        "{text}"
    );
}

/// The control for the stream, channel, cancel and grant attacks: an app that allows the
/// canary as every kind behind a hook that passes everything breaches each of them as
/// shipped; their twins, taking the legitimate paths, hold and are recorded as admitted.
/// The SARIF report has one error-level result per breached row and layer, none for the
/// rows that held.
#[test]
fn the_new_surfaces_attacks_are_breached_on_their_control_and_their_twins_hold() {
    let sarif = std::env::temp_dir().join(format!("portcullis-sarif-{}.json", std::process::id()));
    let twins = repo().join("fixtures/attacks/twins");
    let (ok, report, text) = audit(
        &repo().join("fixtures/configs/weak-surfaces/portcullis.json"),
        &[
            "--only",
            "streams-*",
            "--only",
            "channels-*",
            "--only",
            "cancels-*",
            "--only",
            "grants-*",
            "--only",
            "twin-*",
            "--attacks",
            twins.to_str().unwrap(),
            "--generated",
            "off",
            "--jobs",
            "1",
            "--sarif",
            sarif.to_str().unwrap(),
        ],
        "surfaces",
    );
    assert!(!ok, "{text}");
    let rows = report["attacks"].as_array().unwrap();
    assert_eq!(rows.len(), 8, "{text}");
    for name in [
        "streams-open",
        "channels-pull",
        "cancels-race",
        "grants-revoke",
    ] {
        let row = attack(&report, name);
        assert_eq!(row["shipped"]["verdict"], "BREACHED", "{row:#}");
        assert_eq!(row["integrity"]["verdict"], "held", "{row:#}");
    }
    let admitted = |name: &str, layer: &str| attack(&report, name)[layer]["admitted"].to_string();
    let twins = [
        ("twin-streams", "stream audit.upload"),
        ("twin-channels", "command audit.progress +channel"),
        ("twin-cancels", "command audit.progress"),
        ("twin-grants", "command audit.granted"),
    ];
    for (name, path) in twins {
        let row = attack(&report, name);
        for layer in ["integrity", "shipped"] {
            assert_eq!(row[layer]["verdict"], "held", "{row:#}");
            assert!(admitted(name, layer).contains(path), "{layer}: {row:#}");
            assert!(row[layer].get("violations").is_none(), "{row:#}");
        }
    }
    // Past maxBytes: cut off by the core. Revoked: refused, and admitted once only.
    let codes = |name: &str| attack(&report, name)["shipped"]["codes"].to_string();
    assert!(
        codes("twin-streams").contains("E_TOO_LARGE"),
        "{}",
        codes("twin-streams")
    );
    assert!(
        codes("twin-grants").contains("E_GRANT_REVOKED"),
        "{}",
        codes("twin-grants")
    );
    assert!(
        !admitted("twin-grants", "shipped").contains('×'),
        "{}",
        admitted("twin-grants", "shipped")
    );
    let log: Value = serde_json::from_str(&std::fs::read_to_string(&sarif).unwrap()).unwrap();
    let _ = std::fs::remove_file(&sarif);
    assert_eq!(log["version"], "2.1.0");
    let results = log["runs"][0]["results"].as_array().unwrap();
    let mut found: Vec<&str> = results
        .iter()
        .map(|r| {
            assert_eq!(r["ruleId"], "portcullis-audit/breached", "{r:#}");
            assert_eq!(r["level"], "error", "{r:#}");
            r["partialFingerprints"]["portcullisAudit/v1"]
                .as_str()
                .unwrap()
        })
        .collect();
    found.sort();
    assert_eq!(
        found,
        [
            "cancels-race/shipped",
            "channels-pull/shipped",
            "grants-revoke/shipped",
            "streams-open/shipped"
        ]
    );
}

/// With `--grants none` a command only a run-time capability allows is refused until the
/// attack grants it (`E_NOT_GRANTED`), admitted then, and refused again once revoked.
#[test]
fn with_grants_none_a_run_time_command_waits_for_its_grant() {
    let before = "// class: grants\nexport default async function (ctx) {\n  ctx.note(await ctx.codeOf(ctx.invoke('audit.granted', {})));\n}\n";
    let dir = Attacks::new("grants-none", &[("before-grant.js", before)]);
    let twins = repo().join("fixtures/attacks/twins");
    let mut args = shipped_only(&dir);
    args.extend(["--grants", "none", "--only", "before-grant"]);
    let (ok, report, text) = audit(
        &repo().join("fixtures/configs/weak-surfaces/portcullis.json"),
        &args,
        "grants-none",
    );
    assert!(ok, "{text}");
    let row = attack(&report, "before-grant");
    assert!(
        row["shipped"]["codes"]
            .to_string()
            .contains("E_NOT_GRANTED"),
        "{row:#}"
    );
    assert_eq!(row["shipped"]["admitted"], serde_json::json!([]), "{row:#}");
    // The twin grants it itself: admitted once, then refused.
    let args = [
        "--no-builtin",
        "--generated",
        "off",
        "--layers",
        "shipped",
        "--grants",
        "none",
        "--attacks",
        twins.to_str().unwrap(),
        "--only",
        "twin-grants",
    ];
    let (ok, report, text) = audit(
        &repo().join("fixtures/configs/weak-surfaces/portcullis.json"),
        &args,
        "grants-none-twin",
    );
    assert!(ok, "{text}");
    let row = attack(&report, "twin-grants");
    assert_eq!(
        row["shipped"]["admitted"],
        serde_json::json!(["command audit.granted"]),
        "{row:#}"
    );
    // The twin: by default the capability is granted to --window before the attack.
    let dir_default = Attacks::new("grants-all", &[("before-grant.js", before)]);
    let mut args = shipped_only(&dir_default);
    args.extend(["--only", "before-grant"]);
    let (ok, report, text) = audit(
        &repo().join("fixtures/configs/weak-surfaces/portcullis.json"),
        &args,
        "grants-all",
    );
    assert!(ok, "{text}");
    let row = attack(&report, "before-grant");
    assert_eq!(
        row["shipped"]["admitted"],
        serde_json::json!(["command audit.granted"]),
        "{row:#}"
    );
}

/// With two jobs the rows still come out whole, one a line, in the catalogue's order, and
/// no progress line reaches a stderr that is not a terminal (before, "[1/3] a…\r" went
/// there and, merged with stdout in a log, ran into the rows).
#[test]
fn two_jobs_print_whole_rows_and_no_progress_into_a_log() {
    let quick = "// class: custom\nexport default async function (ctx) { ctx.note(await ctx.codeOf(ctx.invoke(ctx.canary))); }\n";
    let dir = Attacks::new("jobs", &[("a.js", quick), ("b.js", quick), ("c.js", quick)]);
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["audit", "--config"])
        .arg(repo().join("fixtures/configs/weak/portcullis.json"))
        .args(shipped_only(&dir))
        .args(["--jobs", "2"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains("[1/3]") && !stderr.contains('\r'),
        "{stderr:?}"
    );
    let rows: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("a ") || l.starts_with("b ") || l.starts_with("c "))
        .collect();
    assert_eq!(rows.len(), 3, "{stdout}");
    for (row, name) in rows.iter().zip(["a", "b", "c"]) {
        assert!(
            row.starts_with(&format!("{name} ")) && row.contains("BREACHED"),
            "{stdout}"
        );
    }
}
