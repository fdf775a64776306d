//! What the audit prints and writes: the table as rows come in, the summary, the JSON
//! report and the JUnit XML.

use anstyle::{AnsiColor, Style};

use super::verdict::Verdict;
use super::{LayerResult, Options, Row, junit, sarif};

/// The table's header line.
pub(super) fn print_header() {
    let bold = Style::new().bold();
    anstream::println!(
        "{bold}{:<28} {:<14} {:<13} {:<13} refused{bold:#}",
        "attack",
        "class",
        "integrity",
        "shipped"
    );
}

/// Prints the summary and writes the reports; returns the counts the exit code depends
/// on: breached, inconclusive, errors.
pub(super) fn summarise(
    rows: &[Row],
    options: &Options,
) -> Result<(usize, usize, usize), Box<dyn std::error::Error>> {
    let count = |v: Verdict| rows.iter().filter(|r| r.outcome == v).count();
    let (held, breached, inconclusive, errors) = (
        count(Verdict::Held),
        count(Verdict::Breached),
        count(Verdict::Inconclusive),
        count(Verdict::Error),
    );
    println!(
        "\n{} attacks: {held} held, {breached} breached, {inconclusive} inconclusive, {errors} errors",
        rows.len()
    );
    let generated: Vec<usize> = rows.iter().filter_map(|r| r.generated_calls).collect();
    if !generated.is_empty() {
        println!(
            "generated from the config: {} calls in {} attacks, every one to be refused",
            generated.iter().sum::<usize>(),
            generated.len()
        );
    }
    if options.expectations.len() > 0 {
        let violated = rows
            .iter()
            .filter(|r| {
                [&r.integrity, &r.shipped]
                    .into_iter()
                    .flatten()
                    .any(|l| !l.violations.is_empty())
            })
            .count();
        println!(
            "expectations: {} declared, broken in {violated} attacks",
            options.expectations.len()
        );
    }
    if let Some(path) = &options.json {
        let report = serde_json::json!({
            "expectations": options.expectations.len(),
            "generated_calls": generated.iter().sum::<usize>(),
            "config": options.config,
            "window": options.window,
            "transport": match options.transport {
                None => "default",
                Some(portcullis_wry::transport::Transport::Native) => "native",
                Some(portcullis_wry::transport::Transport::Fetch) => "fetch",
            },
            "layers": options.layers.iter().map(|l| l.as_str()).collect::<Vec<_>>(),
            "attacks": rows,
            "held": held,
            "breached": breached,
            "inconclusive": inconclusive,
            "errors": errors,
        });
        std::fs::write(path, serde_json::to_string_pretty(&report)? + "\n")?;
        println!("report: {}", path.display());
    }
    if let Some(path) = &options.junit {
        std::fs::write(path, junit::render(rows)?)?;
        println!("JUnit report: {}", path.display());
    }
    if let Some(path) = &options.sarif {
        let log = sarif::render(rows, options);
        std::fs::write(path, serde_json::to_string_pretty(&log)? + "\n")?;
        println!("SARIF report: {}", path.display());
    }
    Ok((breached, inconclusive, errors))
}

/// One row of the table: a line with the verdicts and the refusal codes, then, for each
/// layer where the gate admitted something, a line saying what (the canary there is the
/// breach; anything else is what the app allows).
pub(super) fn print_row(row: &Row) {
    let cell = |r: &Option<LayerResult>| {
        let v = r.as_ref().map(|r| r.verdict);
        let style = match v {
            Some(Verdict::Held) => Style::new().fg_color(Some(AnsiColor::Green.into())),
            Some(Verdict::Breached) => Style::new().fg_color(Some(AnsiColor::Red.into())).bold(),
            Some(_) => Style::new().fg_color(Some(AnsiColor::Yellow.into())),
            None => Style::new().dimmed(),
        };
        let text = v.map_or("-", Verdict::as_str);
        format!("{style}{text:<13}{style:#}")
    };
    let codes: Vec<String> = [&row.integrity, &row.shipped]
        .into_iter()
        .flatten()
        .flat_map(|r| r.codes.iter().cloned())
        .collect();
    anstream::println!(
        "{:<28} {:<14} {} {} {}",
        row.name,
        row.class,
        cell(&row.integrity),
        cell(&row.shipped),
        if codes.is_empty() {
            "-".to_owned()
        } else {
            dedup(&codes).join(" ")
        }
    );
    for (layer, result) in [("integrity", &row.integrity), ("shipped", &row.shipped)] {
        if let Some(result) = result.as_ref().filter(|r| !r.admitted.is_empty()) {
            let style = if result.canary_runs > 0 {
                Style::new().fg_color(Some(AnsiColor::Red.into())).bold()
            } else {
                Style::new().dimmed()
            };
            anstream::println!(
                "{style}  admitted ({layer}): {}{style:#}",
                result.admitted.join(", ")
            );
        }
    }
}

fn dedup(codes: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in codes {
        if !out.contains(c) {
            out.push(c.clone());
        }
    }
    out
}
