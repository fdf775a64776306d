//! `portcullis audit` in a real webview: the demo config (`fixtures/configs/valid/demo.json`) holds against the built-in
//! catalogue (exit 0, every attack "held"); a deliberately weakened config is reported
//! as breached (exit non-zero), judged by the canary handler on the Rust side.

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

#[test]
fn the_demo_app_holds_and_a_weakened_config_is_breached() {
    let (ok, report, text) = audit(
        &repo().join("crates/portcullis-demo/portcullis.json"),
        &["--var", "EXPORTS=/tmp"],
        "demo",
    );
    assert!(ok, "{text}");
    let attacks = report["attacks"].as_array().unwrap();
    assert!(attacks.len() >= 6, "{text}");
    for a in attacks {
        assert_eq!(a["outcome"], "held", "{a:#}");
        assert_eq!(a["canary_runs"], 0);
    }
    // The direct attempt was refused by the allowlist, on the Rust side.
    let direct = attacks
        .iter()
        .find(|a| a["name"] == "direct-invoke")
        .unwrap();
    assert!(
        direct["codes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "E_NOT_ALLOWED"),
        "{direct:#}"
    );
    assert!(text.contains("attack") && text.contains("held"), "{text}");

    let (ok, report, text) = audit(
        &repo().join("fixtures/configs/weak/portcullis.json"),
        &[],
        "weak",
    );
    assert!(!ok, "a weakened config must fail the audit:\n{text}");
    assert!(report["breached"].as_u64().unwrap() >= 1, "{report:#}");
    let direct = report["attacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "direct-invoke")
        .unwrap();
    assert_eq!(direct["outcome"], "BREACHED", "{direct:#}");
}

#[test]
fn users_attack_files_run_after_the_catalogue() {
    let dir = std::env::temp_dir().join(format!("portcullis-user-attacks-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("mine.js"),
        "// class: custom-test\nexport default async function (ctx) { ctx.note(await ctx.codeOf(ctx.invoke('notes.purge'))); }\n",
    )
    .unwrap();
    let (ok, report, text) = audit(
        &repo().join("crates/portcullis-demo/portcullis.json"),
        &["--var", "EXPORTS=/tmp", "--attacks", dir.to_str().unwrap()],
        "user",
    );
    let _ = std::fs::remove_dir_all(&dir);
    assert!(ok, "{text}");
    let mine = report["attacks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == "mine")
        .unwrap();
    assert_eq!(mine["class"], "custom-test");
    assert_eq!(mine["outcome"], "held");
    assert_eq!(mine["notes"][0], "E_DENIED", "{mine:#}");
    assert!(
        mine["codes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "E_DENIED")
    );
}
