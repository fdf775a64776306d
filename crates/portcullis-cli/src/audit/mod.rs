//! `portcullis audit`: runs attack files in a real webview against the app's own config
//! and isolation app, and reports, per attack and per layer, whether anything got through.
//!
//! Every run of an attack is a process of its own (this program, re-run with
//! `PORTCULLIS_AUDIT_ATTACK` and `PORTCULLIS_AUDIT_LAYER` set; [`child`]), under a private
//! Xvfb when there is no display. Each attack runs in two layers ([`verdict::Layer`]):
//! the isolation guarantee itself, and the app as shipped.
//!
//! A breach is judged on the Rust side only: the audit registers a handler for the
//! canary command `portcullis.canary` (and a listener for the event of that name); if it
//! runs, the attack breached that layer. A run is `held` only if something the attack did
//! reached the Rust side, and only once the webview went quiet ([`verdict`]).

// The build script includes this file too, and uses the half the audit does not.
#[cfg_attr(not(test), allow(dead_code))]
mod attack_files;
mod catalogue;
mod child;
pub mod expect;
mod generate;
mod grants;
mod junit;
mod record;
mod report;
mod sarif;
pub mod verdict;

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use catalogue::Attack;
use serde::Serialize;

use verdict::{Layer, Observation, Verdict};

/// The canary command the audit adds.
pub const CANARY: &str = "portcullis.canary";

const CHILD: &str = "PORTCULLIS_AUDIT_ATTACK";
const LAYER: &str = "PORTCULLIS_AUDIT_LAYER";
/// Which worker runs the child: where on the screen its windows go.
const SLOT: &str = "PORTCULLIS_AUDIT_SLOT";
const RESULT: &str = "PORTCULLIS-AUDIT-RESULT ";
const NOTE: &str = "PORTCULLIS-AUDIT-NOTE ";

/// What the audit is asked to do.
pub struct Options {
    /// The app's config file.
    pub config: PathBuf,
    /// The user's own attack files (`*.js`), run after the built-in ones.
    pub attacks: Option<PathBuf>,
    /// Where to write the JSON report.
    pub json: Option<PathBuf>,
    /// The webview label the attacks run in.
    pub window: String,
    /// `$NAME` directories for path scopes.
    pub vars: Vec<(String, PathBuf)>,
    /// How long one attack may take.
    pub timeout: Duration,
    /// The layers to judge (both by default).
    pub layers: Vec<Layer>,
    /// Whether the built-in catalogue runs (off: only the user's files).
    pub builtin: bool,
    /// Whether an inconclusive attack still lets the audit pass.
    pub allow_inconclusive: bool,
    /// Calls that must never be admitted (`--expect`, or `expectations.json` beside the
    /// attacks).
    pub expectations: expect::Expectations,
    /// Where to write the report as JUnit XML.
    pub junit: Option<PathBuf>,
    /// Whether attacks generated from the config run.
    pub generated: Generated,
    /// How many attacks run at once, each in its own process and webview.
    pub jobs: usize,
    /// The label of the second window for attacks that ask for one (`// windows: 2`);
    /// `None`: the audit's own label, given the grants `window` has.
    pub second_window: Option<String>,
    /// The way messages travel in the audited app (`--transport`); `None`: the engine's
    /// default.
    pub transport: Option<portcullis_wry::transport::Transport>,
    /// Only the attacks whose name one of these globs matches (`--only`; none: all).
    pub only: Vec<globset::GlobMatcher>,
    /// Whether the app's run-time capabilities are granted to the audit's windows before
    /// an attack starts.
    pub grants: GrantsAtStart,
    /// Where to write the report as SARIF 2.1.0.
    pub sarif: Option<PathBuf>,
}

/// `--grants`: the run-time capabilities the audit's windows hold when an attack starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GrantsAtStart {
    /// Every `runtimeGrant` capability that names the window: the most the app can
    /// ever allow (the default).
    All,
    /// None: what the app allows before any sign-in.
    None,
}

/// One layer's result for one attack.
#[derive(Debug, Serialize)]
pub struct LayerResult {
    /// The verdict of this layer.
    pub verdict: Verdict,
    /// The refusal codes the gate recorded.
    pub codes: Vec<String>,
    /// What the gate admitted, each `KIND NAME` once with `×N` for a count (a call
    /// allowed with no handler to take it says `(no handler)`): the canary's name here is
    /// the breach, any other is the app's own allowlist at work.
    pub admitted: Vec<String>,
    /// Messages that reached the Rust side.
    pub attempts: usize,
    /// How often the canary ran (0 unless breached).
    pub canary_runs: usize,
    /// Why the run could not be judged, when it could not.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// Admitted calls that broke one of the user's expectations.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub violations: Vec<String>,
    /// How long the run took, start-up of its process and webview included.
    pub millis: u128,
}

/// One attack's row.
#[derive(Debug, Serialize)]
pub struct Row {
    /// File name without `.js`.
    pub name: String,
    /// From the file's `// class:` line.
    pub class: String,
    /// The worst verdict of its layers.
    pub outcome: Verdict,
    /// The isolation layer (the canary allowed, the hook refusing it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub integrity: Option<LayerResult>,
    /// The app as shipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shipped: Option<LayerResult>,
    /// For a generated attack: how many calls it makes (each must be refused).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub generated_calls: Option<usize>,
    /// What the attack reported seeing, per layer (information only).
    pub notes: Vec<String>,
}

/// Which attacks `--generated` adds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generated {
    /// The catalogue and your files, then the generated attacks.
    On,
    /// No generated attacks.
    Off,
    /// Only the generated attacks.
    Only,
}

/// Runs the audit; returns the exit code (0: nothing got through, and every attack
/// could be judged).
pub fn run(options: Options) -> Result<i32, Box<dyn std::error::Error>> {
    if let Some(status) = portcullis_xvfb::rerun_under_xvfb_if_needed()? {
        return Ok(status.code().unwrap_or(1));
    }
    if options.second_window.as_deref() == Some(options.window.as_str()) {
        return Err(
            "--second-window must name another label than --window: one label is one webview, and a second page load under it would revoke the first's session".into(),
        );
    }
    let attacks = catalogue::collect(&options)?;
    if let Ok(name) = std::env::var(CHILD) {
        let attack = attacks
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| format!("no attack {name:?}"))?;
        let layer = match std::env::var(LAYER).as_deref() {
            Ok("integrity") => Layer::Integrity,
            Ok("shipped") => Layer::Shipped,
            other => return Err(format!("no layer {other:?}").into()),
        };
        return child::run(&options, attack, layer);
    }
    if attacks.is_empty() {
        return Err(
            "no attacks to run (the built-in catalogue is off and --attacks gave none)".into(),
        );
    }
    report::print_header();
    let rows = run_all(&attacks, &options)?;
    let (breached, inconclusive, errors) = report::summarise(&rows, &options)?;
    let failed = breached > 0 || errors > 0 || (inconclusive > 0 && !options.allow_inconclusive);
    Ok(i32::from(failed))
}

/// Runs every attack, `options.jobs` child processes at a time, and prints each row in
/// the catalogue's order as soon as it and every row before it are done.
fn run_all(attacks: &[Attack], options: &Options) -> Result<Vec<Row>, Box<dyn std::error::Error>> {
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (done, results) = std::sync::mpsc::channel::<(usize, Result<Row, String>)>();
    let mut rows: Vec<Option<Row>> = attacks.iter().map(|_| None).collect();
    std::thread::scope(|scope| {
        for slot in 0..options.jobs.max(1) {
            let (next, done) = (&next, done.clone());
            scope.spawn(move || {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(attack) = attacks.get(i) else { break };
                    let row = judge(attack, &options.layers, slot).map_err(|e| e.to_string());
                    if done.send((i, row)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(done);
        let mut printed = 0;
        let mut progress = Progress::new(attacks.len());
        for (i, row) in results {
            rows[i] = Some(row?);
            // The progress line goes first: a row never lands on the same line as it.
            progress.clear();
            while let Some(Some(row)) = rows.get(printed) {
                report::print_row(row);
                printed += 1;
            }
            progress.show(&attacks[i].name);
        }
        progress.clear();
        Ok::<_, Box<dyn std::error::Error>>(())
    })?;
    rows.into_iter()
        .map(|r| r.ok_or_else(|| "an attack was never run".into()))
        .collect()
}

/// The "[3/50] name…" line while rows come in: on stderr, only when stderr is a
/// terminal, and always erased before a row is printed, so rows never share a line with
/// it (with `--jobs 2` rows finish out of order, and the line was left where the next
/// row began; in a log file, where `\r` erases nothing, it ran into the rows).
struct Progress {
    total: usize,
    finished: usize,
    shown: bool,
    terminal: bool,
}

impl Progress {
    fn new(total: usize) -> Progress {
        use std::io::IsTerminal as _;
        Progress {
            total,
            finished: 0,
            shown: false,
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// Counts one more attack finished and says so.
    fn show(&mut self, name: &str) {
        self.finished += 1;
        if self.terminal {
            eprint!("[{}/{}] {name}…", self.finished, self.total);
            self.shown = true;
        }
    }

    /// Erases the line, if one is shown (stdout is flushed first: the row printed next
    /// must not overtake the erase).
    fn clear(&mut self) {
        if std::mem::take(&mut self.shown) {
            use std::io::Write as _;
            let _ = std::io::stdout().flush();
            eprint!("\r\x1b[2K");
        }
    }
}

/// Runs `attack` once per layer and puts the verdicts together.
/// `slot` is the worker running it: each worker's windows get their own part of the
/// (shared) screen, so no run's window covers another's.
fn judge(
    attack: &Attack,
    layers: &[Layer],
    slot: usize,
) -> Result<Row, Box<dyn std::error::Error>> {
    let mut row = Row {
        name: attack.name.clone(),
        class: attack.class.clone(),
        outcome: Verdict::Held,
        integrity: None,
        shipped: None,
        generated_calls: attack.cases.as_ref().map(Vec::len),
        notes: Vec::new(),
    };
    for &layer in layers {
        let (result, notes) = spawn(attack, layer, slot)?;
        row.outcome = row.outcome.max(result.verdict);
        row.notes.extend(
            notes
                .into_iter()
                .map(|n| format!("{}: {n}", layer.as_str())),
        );
        match layer {
            Layer::Integrity => row.integrity = Some(result),
            Layer::Shipped => row.shipped = Some(result),
        }
    }
    Ok(row)
}

/// Runs one layer of one attack in a child process and reads its observation; the
/// child's notes come from the page's console lines, its errors from its stderr.
fn spawn(
    attack: &Attack,
    layer: Layer,
    slot: usize,
) -> Result<(LayerResult, Vec<String>), Box<dyn std::error::Error>> {
    let started = std::time::Instant::now();
    let output = Command::new(std::env::current_exe()?)
        .args(std::env::args_os().skip(1))
        .env(CHILD, &attack.name)
        .env(LAYER, layer.as_str())
        .env(SLOT, slot.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The page's console reaches the child's stderr (WebKit writes it there); the
    // observation is a line of its stdout that starts with RESULT, which no console line
    // does (WebKit prefixes them with their source), so the page cannot forge it.
    let notes: Vec<String> = stderr
        .lines()
        .filter_map(|l| l.split_once(NOTE).map(|(_, json)| json))
        .map(|json| serde_json::from_str::<String>(json).unwrap_or_else(|_| json.to_owned()))
        .collect();
    let observation: Option<Observation> = stdout
        .lines()
        .find_map(|l| l.strip_prefix(RESULT))
        .and_then(|j| serde_json::from_str(j).ok());
    let result = match observation {
        Some(o) => {
            let verdict = o.verdict();
            let mut errors = Vec::new();
            if verdict == Verdict::Error {
                errors.push(format!(
                    "{:?}; went quiet: {}; calls settled: {}/{}",
                    o.finish, o.quiet, o.settled.0, o.settled.1
                ));
            }
            LayerResult {
                verdict,
                codes: o.codes,
                admitted: o.admitted,
                attempts: o.attempts,
                canary_runs: o.canary_runs,
                errors,
                violations: o.violations,
                millis: started.elapsed().as_millis(),
            }
        }
        None => {
            // The child's own errors (an invalid config, a hook that stops start-up).
            let tail: Vec<&str> = stderr
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.contains("CONSOLE "))
                .rev()
                .take(8)
                .collect();
            let mut errors = vec![format!(
                "the run ended without a verdict ({})",
                output.status
            )];
            errors.extend(tail.into_iter().rev().map(str::to_owned));
            LayerResult {
                verdict: Verdict::Error,
                codes: Vec::new(),
                admitted: Vec::new(),
                attempts: 0,
                canary_runs: 0,
                errors,
                violations: Vec::new(),
                millis: started.elapsed().as_millis(),
            }
        }
    };
    Ok((result, notes))
}
