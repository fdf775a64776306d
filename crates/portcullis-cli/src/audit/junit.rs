//! The report as JUnit XML (`--junit OUT`), so CI systems show every attack and layer as a
//! test case: `held` passes, `BREACHED` fails, `error` and `inconclusive` are errors.

use quick_junit::{NonSuccessKind, Report, TestCase, TestCaseStatus, TestSuite};

use super::verdict::Verdict;
use super::{LayerResult, Row};

/// The XML of `rows`.
pub fn render(rows: &[Row]) -> Result<String, quick_junit::SerializeError> {
    let mut report = Report::new("portcullis audit");
    for (layer, pick) in [
        (
            "integrity",
            (|r: &Row| r.integrity.as_ref()) as fn(&Row) -> Option<&LayerResult>,
        ),
        ("shipped", |r: &Row| r.shipped.as_ref()),
    ] {
        let mut suite = TestSuite::new(format!("portcullis audit: {layer}"));
        for row in rows {
            let Some(result) = pick(row) else { continue };
            let status = match result.verdict {
                Verdict::Held => TestCaseStatus::success(),
                verdict => {
                    let kind = if verdict == Verdict::Breached {
                        NonSuccessKind::Failure
                    } else {
                        NonSuccessKind::Error
                    };
                    let mut status = TestCaseStatus::non_success(kind);
                    status.set_message(verdict.as_str());
                    let mut description = result.errors.join("\n");
                    if result.canary_runs > 0 {
                        description
                            .push_str(&format!("the canary ran {} times", result.canary_runs));
                    }
                    status.set_description(description);
                    status
                }
            };
            let mut case = TestCase::new(row.name.clone(), status);
            case.set_classname(format!("{layer}.{}", row.class));
            case.set_system_out(format!(
                "attempts: {}; refused: {}; admitted: {}\n{}",
                result.attempts,
                result.codes.join(" "),
                result.admitted.join(", "),
                row.notes.join("\n")
            ));
            suite.add_test_case(case);
        }
        if !suite.test_cases.is_empty() {
            report.add_test_suite(suite);
        }
    }
    report.to_string()
}
