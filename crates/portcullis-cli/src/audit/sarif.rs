//! The report as SARIF 2.1.0 (`--sarif OUT`), the format GitHub code scanning reads
//! (<https://docs.oasis-open.org/sarif/sarif/v2.1.0/sarif-v2.1.0.html>): one result per
//! attack and layer that did not hold, under one of three rules whose level and
//! `security-severity` say how bad it is. A held layer is no finding, so a clean audit
//! uploads an empty run (which closes the alerts of an earlier one).
//!
//! Every result points at the config file (`--config`, as given: run the audit from the
//! repository's root with a relative path for code scanning to place it), and carries a
//! fingerprint of attack and layer, so the same finding in the next run is the same alert.

use serde_json::{Value, json};

use super::verdict::{Layer, Verdict};
use super::{LayerResult, Options, Row};

/// The rules: one per verdict that is a finding, in this order (`ruleIndex`).
const RULES: [(Verdict, &str, &str, &str, &str); 3] = [
    (
        Verdict::Breached,
        "portcullis-audit/breached",
        "error",
        "9.0",
        "An attack got through: the canary's handler ran, or a call the app's expectations (or the audit's own rules) forbid was admitted.",
    ),
    (
        Verdict::Error,
        "portcullis-audit/error",
        "warning",
        "5.0",
        "An attack could not be judged: it threw, did not finish in time, its calls did not settle, the webview never went quiet, or the app did not start.",
    ),
    (
        Verdict::Inconclusive,
        "portcullis-audit/inconclusive",
        "note",
        "3.0",
        "Nothing the attack did reached the Rust side (the page's CSP or the bridge stopped it first), so nothing can be said about the app.",
    ),
];

/// The SARIF log of `rows`.
pub fn render(rows: &[Row], options: &Options) -> Value {
    let rules: Vec<Value> = RULES
        .iter()
        .map(|(verdict, id, level, severity, text)| {
            json!({
                "id": id,
                "name": verdict.as_str(),
                "shortDescription": {"text": format!("portcullis audit: {}", verdict.as_str())},
                "fullDescription": {"text": text},
                "helpUri": "https://github.com/portcullis-rs/portcullis/blob/main/docs/AUDIT.md",
                "defaultConfiguration": {"level": level},
                "properties": {"tags": ["security"], "security-severity": severity},
            })
        })
        .collect();
    let uri = options.config.to_string_lossy().replace('\\', "/");
    let mut results = Vec::new();
    for row in rows {
        for (layer, result) in [
            (Layer::Integrity, &row.integrity),
            (Layer::Shipped, &row.shipped),
        ] {
            let Some(result) = result else { continue };
            let Some(index) = RULES.iter().position(|r| r.0 == result.verdict) else {
                continue;
            };
            let (_, id, level, _, _) = RULES[index];
            results.push(json!({
                "ruleId": id,
                "ruleIndex": index,
                "level": level,
                "message": {"text": message(row, layer, result)},
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": {"uri": uri},
                        "region": {"startLine": 1},
                    },
                }],
                "partialFingerprints": {
                    "portcullisAudit/v1": format!("{}/{}", row.name, layer.as_str()),
                },
                "properties": {
                    "attack": row.name,
                    "class": row.class,
                    "layer": layer.as_str(),
                    "verdict": result.verdict.as_str(),
                    "canaryRuns": result.canary_runs,
                    "attempts": result.attempts,
                    "refused": result.codes,
                    "admitted": result.admitted,
                },
            }));
        }
    }
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "portcullis audit",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://github.com/portcullis-rs/portcullis",
                "rules": rules,
            }},
            "automationDetails": {"id": format!("portcullis-audit/{}/", options.window)},
            "results": results,
        }],
    })
}

/// What a person reads in the alert.
fn message(row: &Row, layer: Layer, result: &LayerResult) -> String {
    let mut text = format!(
        "{} ({}): {} in the {} layer.",
        row.name,
        row.class,
        result.verdict.as_str(),
        layer.as_str()
    );
    if result.canary_runs > 0 {
        text.push_str(&format!(" The canary ran {} times.", result.canary_runs));
    }
    for v in &result.violations {
        text.push_str(&format!(" {v}."));
    }
    for e in &result.errors {
        text.push_str(&format!(" {e}."));
    }
    if result.verdict == Verdict::Inconclusive {
        text.push_str(" Nothing it did reached the Rust side.");
    }
    if !result.admitted.is_empty() {
        text.push_str(&format!(" Admitted: {}.", result.admitted.join(", ")));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(verdict: Verdict) -> LayerResult {
        LayerResult {
            verdict,
            codes: vec!["E_NOT_ALLOWED".into()],
            admitted: if verdict == Verdict::Breached {
                vec!["stream portcullis.canary".into()]
            } else {
                Vec::new()
            },
            attempts: 3,
            canary_runs: usize::from(verdict == Verdict::Breached),
            errors: Vec::new(),
            violations: Vec::new(),
            millis: 1,
        }
    }

    fn row(name: &str, integrity: Verdict, shipped: Verdict) -> Row {
        Row {
            name: name.into(),
            class: "streams".into(),
            outcome: integrity.max(shipped),
            integrity: Some(layer(integrity)),
            shipped: Some(layer(shipped)),
            generated_calls: None,
            notes: Vec::new(),
        }
    }

    fn options() -> Options {
        Options {
            config: "app/portcullis.json".into(),
            attacks: None,
            json: None,
            window: "main".into(),
            vars: Vec::new(),
            timeout: std::time::Duration::from_secs(1),
            layers: Layer::ALL.to_vec(),
            builtin: true,
            allow_inconclusive: false,
            transport: None,
            expectations: Default::default(),
            junit: None,
            generated: super::super::Generated::Off,
            jobs: 1,
            second_window: None,
            only: Vec::new(),
            grants: super::super::GrantsAtStart::All,
            sarif: None,
        }
    }

    #[test]
    fn one_result_per_layer_that_did_not_hold_with_its_level() {
        let rows = [
            row("held-twice", Verdict::Held, Verdict::Held),
            row("streams-open", Verdict::Held, Verdict::Breached),
            row("idle", Verdict::Inconclusive, Verdict::Error),
        ];
        let log = render(&rows, &options());
        assert_eq!(log["version"], "2.1.0");
        let results = log["runs"][0]["results"].as_array().unwrap();
        let got: Vec<(String, String, String)> = results
            .iter()
            .map(|r| {
                (
                    r["partialFingerprints"]["portcullisAudit/v1"]
                        .as_str()
                        .unwrap()
                        .to_owned(),
                    r["ruleId"].as_str().unwrap().to_owned(),
                    r["level"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        let want = [
            ("streams-open/shipped", "portcullis-audit/breached", "error"),
            ("idle/integrity", "portcullis-audit/inconclusive", "note"),
            ("idle/shipped", "portcullis-audit/error", "warning"),
        ];
        assert_eq!(got.len(), want.len(), "{got:?}");
        for ((f, r, l), (wf, wr, wl)) in got.iter().zip(want) {
            assert_eq!((f.as_str(), r.as_str(), l.as_str()), (wf, wr, wl));
        }
        let breached = &results[0];
        assert_eq!(
            breached["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            "app/portcullis.json"
        );
        let text = breached["message"]["text"].as_str().unwrap();
        assert!(
            text.contains("stream portcullis.canary") && text.contains("ran 1 times"),
            "{text}"
        );
        // Each result's rule is the one its index names, with a security severity.
        let rules = log["runs"][0]["tool"]["driver"]["rules"]
            .as_array()
            .unwrap();
        for r in results {
            let rule = &rules[r["ruleIndex"].as_u64().unwrap() as usize];
            assert_eq!(rule["id"], r["ruleId"]);
            assert!(rule["properties"]["security-severity"].is_string());
        }
    }

    #[test]
    fn a_clean_audit_is_an_empty_run() {
        let log = render(&[row("a", Verdict::Held, Verdict::Held)], &options());
        assert_eq!(log["runs"][0]["results"], json!([]));
    }
}
