//! `portcullis check` catches every invalid config in `fixtures/configs/invalid/` with
//! the expected JSON path, and passes the valid ones.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn check(config: &Path, extra: &[&str]) -> (bool, Value) {
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .arg("check")
        .arg(config)
        .args([
            "--json",
            "--var",
            "EXPORTS=/tmp",
            "--var",
            "E2E_HANDLERS=/tmp",
        ])
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.success(),
        serde_json::from_slice(&out.stdout).unwrap(),
    )
}

#[test]
fn every_invalid_fixture_fails_with_its_path_and_a_hint() {
    let dir = repo().join("fixtures/configs/invalid");
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("expected.json")).unwrap()).unwrap();
    let mut count = 0;
    for (file, errors) in expected.as_object().unwrap() {
        let (ok, findings) = check(&dir.join(file), &[]);
        assert!(!ok, "{file} passed");
        let findings = findings.as_array().unwrap();
        for e in errors.as_array().unwrap() {
            let want = e["path"].as_str().unwrap();
            let found = findings
                .iter()
                .find(|f| f["path"] == want && f["severity"] == "error")
                .unwrap_or_else(|| panic!("{file}: no error at {want}: {findings:#?}"));
            assert!(!found["hint"].as_str().unwrap().is_empty());
        }
        count += 1;
    }
    assert!(count >= 20);
}

#[test]
fn valid_configs_pass() {
    for config in [
        repo().join("crates/portcullis-demo/portcullis.json"),
        repo().join("tests/e2e/portcullis.json"),
        repo().join("crates/portcullis-wry/examples/embed/portcullis.json"),
    ] {
        let (ok, findings) = check(&config, &[]);
        assert!(ok, "{}: {findings:#}", config.display());
    }
}

#[test]
fn a_broken_hook_and_a_weak_csp_are_errors() {
    let dir = tempfile_dir();
    std::fs::create_dir_all(dir.join("isolation")).unwrap();
    std::fs::write(
        dir.join("isolation/hook.js"),
        "export default function (m { return m; }",
    )
    .unwrap();
    let config = dir.join("portcullis.json");
    std::fs::write(
        &config,
        r#"{"app":{"security":{"pattern":{"use":"isolation","options":{"dir":"isolation"}},
            "csp":"default-src 'self'; script-src 'self' 'unsafe-eval'"}}}"#,
    )
    .unwrap();
    let (ok, findings) = check(&config, &[]);
    assert!(!ok);
    let messages: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert!(
        messages.iter().any(|m| m.contains("unsafe-eval")),
        "{messages:?}"
    );
    if Command::new("node").arg("--version").output().is_ok() {
        assert!(
            messages.iter().any(|m| m.contains("does not parse")),
            "{messages:?}"
        );
    }
    // Twin: fixed, it passes.
    std::fs::write(
        dir.join("isolation/hook.js"),
        "export default function (m) { return m; }",
    )
    .unwrap();
    std::fs::write(
        &config,
        r#"{"app":{"security":{"pattern":{"use":"isolation","options":{"dir":"isolation"}},"csp":"default-src 'self'"}}}"#,
    )
    .unwrap();
    let (ok, findings) = check(&config, &["--window", "main"]);
    assert!(ok, "{findings:#}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("portcullis-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Windows are matched by the core's own globs: `viewer-[0-9]` matches `viewer-1`, and
/// a capability for a window the app does not create is still reported.
#[test]
fn windows_match_as_the_gate_matches_them() {
    let config = repo().join("fixtures/configs/valid/window-globs.json");
    let (ok, findings) = check(&config, &["--window", "viewer-1"]);
    assert!(ok, "{findings:#}");
    let paths: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["message"].as_str().unwrap().contains("matches none"))
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(
        paths,
        ["app.security.capabilities[1].windows"],
        "{findings:#}"
    );
}

/// Every structural mistake at once, each with its path: loading stops at the first, the
/// config's schema finds the rest.
#[test]
fn every_structural_mistake_is_reported_at_once() {
    let config = repo().join("fixtures/configs/check/four-mistakes.json");
    let (ok, findings) = check(&config, &[]);
    assert!(!ok);
    let paths: Vec<&str> = findings
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    for want in [
        "app.security.capabilities[0].windows",
        "app.security.limits.maxDepth",
        "app.security.limits",
        "app.security.pattern",
    ] {
        assert!(paths.contains(&want), "{want} missing: {findings:#}");
    }
    assert_eq!(paths.len(), 4, "{findings:#}");
}

/// The `build` section: a mistake in it is an error at its path, a `frontendDist` not
/// built yet is a warning that says so, and a built one passes without a word.
#[test]
fn the_build_section_is_checked_and_an_unbuilt_frontend_is_flagged() {
    let dir = tempfile_dir().join("build");
    std::fs::create_dir_all(dir.join("isolation")).unwrap();
    std::fs::write(dir.join("isolation/hook.js"), "export default (m) => m;\n").unwrap();
    let config = dir.join("portcullis.json");
    let write = |build: &str| {
        std::fs::write(
            &config,
            format!(
                r#"{{"build":{build},"app":{{"security":{{"pattern":{{"use":"isolation","options":{{"dir":"isolation"}}}}}}}}}}"#
            ),
        )
        .unwrap()
    };
    let at = |findings: &Value, path: &str| -> Vec<String> {
        findings
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["path"] == path)
            .map(|f| format!("{} {}", f["severity"], f["message"]))
            .collect()
    };

    write(r#"{"frontendDist":"dist","devUrl":"https://example.com"}"#);
    let (ok, findings) = check(&config, &[]);
    assert!(!ok, "{findings:#}");
    let dev = at(&findings, "build.devUrl");
    assert!(
        dev.len() == 1 && dev[0].contains("not an http:// address"),
        "{findings:#}"
    );

    write(r#"{"frontendDist":"dist"}"#);
    let (ok, findings) = check(&config, &[]);
    assert!(ok, "{findings:#}");
    let dist = at(&findings, "build.frontendDist");
    assert!(
        dist.len() == 1 && dist[0].contains("has no index.html (yet)"),
        "{findings:#}"
    );

    std::fs::create_dir_all(dir.join("dist")).unwrap();
    std::fs::write(dir.join("dist/index.html"), "<!doctype html>").unwrap();
    let (ok, findings) = check(&config, &[]);
    assert!(ok, "{findings:#}");
    assert!(
        at(&findings, "build.frontendDist").is_empty(),
        "{findings:#}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The `portcullis check` commands the docs give, as written: each backticked command that
/// names a config is run where its doc's app lives (EMBEDDING.md: the outside app it
/// builds; a path from the repository root: there) and must pass. Synopses with
/// placeholders (`CONFIG`, `NAME=DIR`) are not commands.
#[test]
fn the_check_commands_in_the_docs_run_as_written() {
    let home = std::env::var("HOME").unwrap_or_else(|_| "/tmp".into());
    let mut ran = Vec::new();
    for doc in [
        "docs/EMBEDDING.md",
        "docs/ISOLATION.md",
        "docs/CAPABILITIES.md",
        "docs/AUDIT.md",
        "README.md",
    ] {
        let text = std::fs::read_to_string(repo().join(doc)).unwrap();
        for quoted in text.split('`').skip(1).step_by(2) {
            let Some(rest) = quoted.strip_prefix("portcullis check ") else {
                continue;
            };
            let args: Vec<String> = rest
                .split_whitespace()
                .map(|a| a.replace("$HOME", &home))
                .collect();
            if args.iter().any(|a| {
                a.chars().any(|c| c.is_ascii_uppercase()) && !a.contains('=')
                    || a.starts_with('[')
                    || a.contains("NAME=DIR")
            }) {
                continue;
            }
            let dir = if repo().join(&args[0]).is_file() {
                repo().to_path_buf()
            } else if doc == "docs/EMBEDDING.md" {
                repo().join("tests/outside-app")
            } else {
                continue;
            };
            let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
                .current_dir(&dir)
                .arg("check")
                .args(&args)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{doc}: `portcullis check {rest}` in {}: {}{}",
                dir.display(),
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            ran.push(format!("{doc}: {rest}"));
        }
    }
    // EMBEDDING.md's two and ISOLATION.md's demo command at least.
    assert!(ran.len() >= 3, "{ran:#?}");
}

/// `--platform` prints the origins, URLs and CSPs each engine gets from one config: the
/// config's `scheme://localhost` on Linux and macOS, `https://scheme.localhost` on
/// Windows (WebView2, with the https form Portcullis asks wry for), and no other form.
#[test]
fn each_platform_gets_its_engines_origins_urls_and_csps() {
    let config = repo().join("crates/portcullis-wry/examples/embed/portcullis.json");
    for (platform, engine, form) in [
        (
            "linux",
            "webkitgtk",
            [
                "app://localhost",
                "isolation://localhost",
                "ipc://localhost",
            ],
        ),
        (
            "macos",
            "wkwebview",
            [
                "app://localhost",
                "isolation://localhost",
                "ipc://localhost",
            ],
        ),
        (
            "windows",
            "webview2-https",
            [
                "https://app.localhost",
                "https://isolation.localhost",
                "https://ipc.localhost",
            ],
        ),
    ] {
        let (ok, out) = check(&config, &["--platform", platform]);
        assert!(ok, "{platform}: {out:#}");
        assert!(out["findings"].is_array(), "{platform}: {out:#}");
        let e = &out["effective"];
        assert_eq!(e["engine"], engine);
        let [app, isolation, ipc] = form;
        let origins: Vec<(&str, &str)> = e["origins"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| (o["config"].as_str().unwrap(), o["engine"].as_str().unwrap()))
            .collect();
        assert_eq!(
            origins,
            [
                ("app://localhost", app),
                ("isolation://localhost", isolation),
                ("ipc://localhost", ipc)
            ]
        );
        assert_eq!(e["startUrl"], format!("{app}/index.html"));
        assert_eq!(e["isolationUrl"], format!("{isolation}/"));
        assert_eq!(e["ipcUrl"], format!("{ipc}/"));
        let app_csp = e["appCsp"].as_str().unwrap();
        let frame_src = app_csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("frame-src "))
            .unwrap();
        assert!(frame_src.split(' ').any(|s| s == isolation), "{app_csp}");
        let iso_csp = e["isolationCsp"].as_str().unwrap();
        assert!(
            iso_csp.contains(&format!("script-src {isolation} 'sha256-")),
            "{iso_csp}"
        );
        assert!(
            iso_csp.contains(&format!("connect-src {ipc};")),
            "{iso_csp}"
        );
        // No other engine's spelling creeps in.
        let other = if platform == "windows" {
            "://localhost"
        } else {
            ".localhost"
        };
        for text in [app_csp, iso_csp] {
            assert!(!text.contains(other), "{platform}: {text}");
        }
    }
    // Text output names the engine and each origin's mapping.
    let out = Command::new(env!("CARGO_BIN_EXE_portcullis"))
        .args(["check", "--platform", "windows"])
        .arg(&config)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("webview2-https"), "{text}");
    assert!(
        text.contains("app://localhost -> https://app.localhost"),
        "{text}"
    );
    assert!(text.contains("isolation CSP"), "{text}");
}

/// The drift fixtures through the command: each kind's findings at their rules' paths
/// (errors, but warnings for an unconstrained member and an unreachable handler), and
/// none in its clean twin.
#[test]
fn check_with_the_manifest_reports_every_kind_of_drift_at_its_rule() {
    let drift = repo().join("fixtures/drift");
    for kind in ["admits", "unconstrained", "no-rule", "no-handler"] {
        for case in [kind.to_owned(), format!("{kind}-clean")] {
            let dir = drift.join(&case);
            let manifest = dir.join("portcullis.manifest.json");
            let (ok, findings) = check(
                &dir.join("portcullis.json"),
                &["--manifest", manifest.to_str().unwrap()],
            );
            let expected: Vec<Value> =
                serde_json::from_str(&std::fs::read_to_string(dir.join("findings.json")).unwrap())
                    .unwrap();
            let severity = if matches!(kind, "unconstrained" | "no-rule") {
                "warning"
            } else {
                "error"
            };
            for want in &expected {
                let found = findings
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|f| f["path"] == want["path"] && f["severity"] == severity);
                assert!(
                    found.is_some(),
                    "{case}: no {severity} at {}: {findings:#}",
                    want["path"]
                );
            }
            let drifted = findings.as_array().unwrap().iter().any(|f| {
                f["path"]
                    .as_str()
                    .unwrap()
                    .starts_with("app.security.capabilities")
            });
            assert_eq!(drifted, !expected.is_empty(), "{case}: {findings:#}");
            assert_eq!(
                ok,
                severity == "warning" || expected.is_empty(),
                "{case}: {findings:#}"
            );
        }
    }
}

/// A rule that takes its handler's schema needs the manifest; with it, `--explain`
/// prints the schema the rule compiles, the handler's.
#[test]
fn a_handler_schema_is_filled_from_the_manifest_and_explained() {
    let dir = repo().join("fixtures/drift/handler-schema");
    let config = dir.join("portcullis.json");
    let (ok, findings) = check(&config, &[]);
    assert!(!ok);
    assert!(
        findings.as_array().unwrap().iter().any(|f| f["path"]
            == "app.security.capabilities[0].commands.allow[0].schema"
            && f["message"].as_str().unwrap().contains("--manifest")),
        "{findings:#}"
    );
    let manifest = dir.join("portcullis.manifest.json");
    let (ok, out) = check(
        &config,
        &["--manifest", manifest.to_str().unwrap(), "--explain"],
    );
    assert!(ok, "{out:#}");
    let rule = &out["explain"][0];
    assert_eq!(
        rule["path"],
        "app.security.capabilities[0].commands.allow[0]"
    );
    assert_eq!(
        rule["schema"]["required"],
        serde_json::json!(["title", "count"])
    );
    assert_eq!(rule["schema"]["properties"]["count"]["type"], "integer");
}

/// The demo's rules and handlers agree: its config against the manifest its bindings
/// test writes has no drift, not even a warning.
#[test]
fn the_demos_rules_match_its_handlers() {
    let demo = repo().join("crates/portcullis-demo");
    let manifest = demo.join("portcullis.manifest.json");
    let (ok, findings) = check(
        &demo.join("portcullis.json"),
        &["--manifest", manifest.to_str().unwrap()],
    );
    assert!(ok, "{findings:#}");
    assert_eq!(findings, serde_json::json!([]), "{findings:#}");
}
