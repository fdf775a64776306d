//! `portcullis`: tools for apps using Portcullis.
//!
//! `portcullis check CONFIG` validates a config and its isolation app and prints every
//! problem with its JSON path and a hint. Colour only on a terminal; `--json` for tools.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod app;
mod audit;
mod check;
mod findings;
mod handlers;
mod run;

/// Command-line interface.
#[derive(Parser)]
#[command(
    name = "portcullis",
    version,
    about = "Tools for apps using Portcullis"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Validate a config file and its isolation app.
    Check {
        /// The config file (JSON).
        config: PathBuf,
        #[command(flatten)]
        scope: ScopeArgs,
        /// A webview label the app creates; capabilities matching none are reported.
        #[arg(long = "window", value_name = "LABEL")]
        windows: Vec<String>,
        /// Print the findings as JSON instead of text.
        #[arg(long)]
        json: bool,
        /// Also print the origins, URLs and CSPs the config gets on this platform's engine
        /// (with --json: an object `{"findings": [...], "effective": {...}}`).
        #[arg(long, value_enum)]
        platform: Option<check::Platform>,
        /// The app's command manifest (written by its bindings step): fills rules that
        /// take their handler's schema, and reports drift between rules and handlers.
        #[arg(long, value_name = "FILE")]
        manifest: Option<PathBuf>,
        /// Also print the schema every allow rule checks, as compiled (with --json: an
        /// `"explain"` member).
        #[arg(long)]
        explain: bool,
    },
    /// Run the built-in attack catalogue and your own attack files in a real webview
    /// against your config and isolation app; exits non-zero if anything got through.
    Audit {
        /// The config file (JSON).
        #[arg(long)]
        config: PathBuf,
        /// A directory of your own attack files (`*.js`).
        #[arg(long)]
        attacks: Option<PathBuf>,
        /// Write the report as JSON to this file.
        #[arg(long, value_name = "OUT")]
        json: Option<PathBuf>,
        /// The webview label the attacks run in (a window your capabilities name).
        #[arg(long, default_value = "main")]
        window: String,
        #[command(flatten)]
        scope: ScopeArgs,
        /// Seconds one attack may take.
        #[arg(long, default_value_t = 20)]
        timeout_secs: u64,
        /// Which layers to judge: the isolation guarantee (`integrity`: the canary is
        /// allowed and only the hook refuses it), the app as shipped, or both.
        #[arg(long, value_enum, default_value_t = Layers::Both)]
        layers: Layers,
        /// Run only your own attack files, not the built-in catalogue.
        #[arg(long)]
        no_builtin: bool,
        /// Pass even when an attack was inconclusive (nothing it did reached Rust).
        #[arg(long)]
        allow_inconclusive: bool,
        /// Calls that must never be admitted (JSON; default: expectations.json in the
        /// --attacks directory, if there is one). See docs/AUDIT.md.
        #[arg(long, value_name = "FILE")]
        expect: Option<PathBuf>,
        /// Also write the report as JUnit XML to this file.
        #[arg(long, value_name = "OUT")]
        junit: Option<PathBuf>,
        /// Also write the report as SARIF 2.1.0 to this file (GitHub code scanning): one
        /// result per breached, inconclusive or failed attack and layer.
        #[arg(long, value_name = "OUT")]
        sarif: Option<PathBuf>,
        /// Run only the attacks whose name matches this glob (`streams-*`, `gen:*`);
        /// give it more than once for several.
        #[arg(long, value_name = "GLOB", value_parser = parse_glob)]
        only: Vec<globset::GlobMatcher>,
        /// The run-time capabilities (`"runtimeGrant": true`) the audit's windows hold
        /// when an attack starts: every one that names the window (`all`: the most the
        /// app can ever allow), or none (`none`: the app before any sign-in). Attacks
        /// grant and revoke more with `ctx.grant` and `ctx.revoke`.
        #[arg(long, value_enum, default_value_t = GrantsArg::All)]
        grants: GrantsArg,
        /// Attacks generated from the config (schema violations, scope escapes, denied
        /// names, other windows' commands, JS values JSON changes): after the others
        /// (`on`), not at all (`off`), or alone (`only`).
        #[arg(long, value_enum, default_value_t = GeneratedArg::On)]
        generated: GeneratedArg,
        /// How many attacks run at once, each in its own process and webview (default:
        /// the number of CPUs).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=64))]
        jobs: Option<u16>,
        /// The label of the second window, for attacks that open one (`// windows: 2`);
        /// by default the audit's own label, given the grants `--window` has.
        #[arg(long, value_name = "LABEL")]
        second_window: Option<String>,
        /// The way messages travel in the audited app: the engine's native handler with
        /// replies, or fetch (`POST ipc://`). By default, the engine's own default (native
        /// on WebKitGTK 2.40 and later). Audit under both before a release.
        #[arg(long, value_enum)]
        transport: Option<TransportArg>,
    },
    /// Serve a frontend in a real window behind the config's isolation and allowlist,
    /// reloading on file changes. Allowed commands echo their arguments.
    Run {
        /// The config file (JSON).
        config: PathBuf,
        /// The frontend directory (with index.html); by default the config's
        /// `build.frontendDist`.
        #[arg(long)]
        frontend: Option<PathBuf>,
        #[command(flatten)]
        scope: ScopeArgs,
        /// The app's command manifest, for rules that take their handler's schema
        /// (`"schema": "handler"`).
        #[arg(long, value_name = "FILE")]
        manifest: Option<PathBuf>,
        /// Stop after this many seconds (for scripts and tests).
        #[arg(long, hide = true)]
        exit_after_secs: Option<u64>,
    },
}

/// The scope variables of `check`, `audit` and `run`, parsed (and refused) by clap.
#[derive(clap::Args)]
struct ScopeArgs {
    /// A directory a path scope names as `$NAME` (NAME=DIR), as the app provides it.
    #[arg(long = "var", value_name = "NAME=DIR", value_parser = app::parse_var)]
    vars: Vec<(String, PathBuf)>,
}

/// `portcullis audit --generated`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum GeneratedArg {
    On,
    Off,
    Only,
}

/// `portcullis audit --transport`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum TransportArg {
    Native,
    Fetch,
}

/// `portcullis audit --grants`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum GrantsArg {
    All,
    None,
}

/// A `--only` glob over attack names (`*` matches any run of characters).
fn parse_glob(text: &str) -> Result<globset::GlobMatcher, String> {
    globset::GlobBuilder::new(text)
        .literal_separator(false)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("not a glob: {e}"))
}

/// `portcullis audit --layers`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum Layers {
    Both,
    Integrity,
    Shipped,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Check {
            config,
            scope,
            windows,
            json,
            platform,
            manifest,
            explain,
        } => {
            let manifest = match manifest.as_deref().map(handlers::load).transpose() {
                Ok(m) => m,
                Err(found) => {
                    check::print(&config, &[found]);
                    return ExitCode::FAILURE;
                }
            };
            let (findings, compiled) =
                check::run(Path::new(&config), &scope.vars, &windows, manifest.as_ref());
            let explained = explain.then(|| compiled.as_ref().map(handlers::explain));
            let explained = explained.flatten();
            let effective = platform.and_then(|p| Some((p, check::effective(&config, p)?)));
            if json {
                let text = match (&effective, &explained) {
                    (None, None) => serde_json::to_string_pretty(&findings),
                    (effective, explained) => {
                        let mut all = serde_json::json!({ "findings": findings });
                        if let Some((_, effective)) = effective {
                            all["effective"] = serde_json::json!(effective);
                        }
                        if let Some(explained) = explained {
                            all["explain"] = serde_json::json!(explained);
                        }
                        serde_json::to_string_pretty(&all)
                    }
                };
                println!("{}", text.unwrap_or_default());
            } else {
                check::print(&config, &findings);
                if let Some((platform, effective)) = &effective {
                    check::print_effective(*platform, effective);
                }
                if let Some(explained) = &explained {
                    handlers::print_explained(explained);
                }
            }
            if findings
                .iter()
                .any(|f| f.severity == check::Severity::Error)
            {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Command::Audit {
            config,
            attacks,
            json,
            window,
            scope,
            timeout_secs,
            layers,
            no_builtin,
            allow_inconclusive,
            expect,
            junit,
            generated,
            jobs,
            second_window,
            sarif,
            only,
            grants,
            transport,
        } => {
            use audit::verdict::Layer;
            let expect = expect.or_else(|| {
                attacks
                    .as_deref()
                    .and_then(audit::expect::Expectations::beside)
            });
            let expectations = match expect.as_deref().map(audit::expect::Expectations::load) {
                None => audit::expect::Expectations::default(),
                Some(Ok(e)) => e,
                Some(Err(e)) => {
                    eprintln!("portcullis audit: {e}");
                    return ExitCode::FAILURE;
                }
            };
            let options = audit::Options {
                config,
                attacks,
                json,
                window,
                vars: scope.vars,
                timeout: std::time::Duration::from_secs(timeout_secs),
                layers: match layers {
                    Layers::Both => Layer::ALL.to_vec(),
                    Layers::Integrity => vec![Layer::Integrity],
                    Layers::Shipped => vec![Layer::Shipped],
                },
                builtin: !no_builtin,
                allow_inconclusive,
                expectations,
                junit,
                generated: match generated {
                    GeneratedArg::On => audit::Generated::On,
                    GeneratedArg::Off => audit::Generated::Off,
                    GeneratedArg::Only => audit::Generated::Only,
                },
                jobs: jobs.map_or_else(
                    || std::thread::available_parallelism().map_or(1, |n| n.get()),
                    usize::from,
                ),
                second_window,
                only,
                grants: match grants {
                    GrantsArg::All => audit::GrantsAtStart::All,
                    GrantsArg::None => audit::GrantsAtStart::None,
                },
                sarif,
                transport: transport.map(|t| match t {
                    TransportArg::Native => portcullis_wry::transport::Transport::Native,
                    TransportArg::Fetch => portcullis_wry::transport::Transport::Fetch,
                }),
            };
            match audit::run(options) {
                Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
                Err(e) => {
                    eprintln!("portcullis audit: {e}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Run {
            config,
            frontend,
            scope,
            manifest,
            exit_after_secs,
        } => {
            let options = run::Options {
                config,
                frontend,
                vars: scope.vars,
                exit_after: exit_after_secs.map(std::time::Duration::from_secs),
                manifest,
            };
            match run::run(options) {
                Ok(code) => ExitCode::from(code.clamp(0, 255) as u8),
                Err(e) => {
                    eprintln!("portcullis run: {e}");
                    ExitCode::FAILURE
                }
            }
        }
    }
}
