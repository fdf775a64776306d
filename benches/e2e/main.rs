//! End-to-end benchmark in a real WebKitGTK webview (under a private Xvfb when there is
//! no display): the same page and handlers with isolation on, in brownfield mode
//! (isolation off), and on the floor (no Portcullis at all: the page's `invoke` fetches a
//! custom-protocol URL that the Rust side answers at once), so each ratio is measured in
//! one run: isolation against brownfield is what isolation costs, and against the floor
//! what Portcullis costs over the bare webview round trip. Run:
//! `cargo bench -p portcullis-tests --bench e2e` (`PORTCULLIS_BENCH_ROUNDS` sets the rounds, default 3).
//!
//! Each round runs each mode in a fresh process (this binary, re-run with
//! `PORTCULLIS_BENCH_MODE` set): a cold engine for the first-invoke figure, and no state
//! carried between modes. The page (`web/bench.js`) measures; this side adds the resident
//! memory of the app process and of WebKit's processes, read from /proc. Each figure in
//! the table is the median over the rounds.

use std::path::Path;
use std::process::{Command, ExitCode, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use portcullis::stream::{StreamError, Upload};
use portcullis::{Args, Bytes, Channel, ChannelError, EmitTarget, HandlerError, Router};
use portcullis_wry::Portcullis;
use portcullis_xvfb as xvfb;
use serde_json::{Map, Value, json};
use tao::event::Event;
use tao::event_loop::{ControlFlow, EventLoopBuilder, EventLoopProxy};
use tao::platform::run_return::EventLoopExtRunReturn;
use tao::window::WindowBuilder;

const MODE: &str = "PORTCULLIS_BENCH_MODE";
/// `streams`: the page measures the stream figures only; `first`: the first invoke only
/// (with its time line in the profile build). Quicker runs while tuning.
const ONLY: &str = "PORTCULLIS_BENCH_ONLY";
/// A comma-separated subset of [`MODES`] to run (all of them when unset).
const SOME_MODES: &str = "PORTCULLIS_BENCH_MODES";
const ROW: &str = "@@bench ";
/// `isolation` runs on the engine's default transport (the native handler here); `fetch`
/// is the same isolated app on the fetch transport.
const MODES: [&str; 4] = ["isolation", "fetch", "brownfield", "floor"];

/// The floor's `invoke`: one fetch of a custom-protocol URL per call, JSON or bytes in,
/// JSON out, as bare as a webview round trip gets on WebKitGTK without wry's
/// `linux-body` (which Portcullis leaves off: its reader crashes the app on a Blob body):
/// the request travels base64 in a header.
const FLOOR_BRIDGE: &str = r#"
window.portcullis = Object.freeze({
  async invoke(cmd, args) {
    const isBytes = args instanceof Uint8Array || args instanceof ArrayBuffer;
    const bytes = isBytes ? new Uint8Array(args) : new TextEncoder().encode(JSON.stringify(args === undefined ? {} : args));
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    const response = await fetch(`floor://localhost/invoke/${cmd}`, {
      method: "POST",
      headers: { "floor-body": btoa(text) },
    });
    return response.json();
  },
});
"#;
const TIMEOUT: Duration = Duration::from_secs(300);

fn main() -> ExitCode {
    if let Some(code) = xvfb::exit_code_after_rerun("e2e bench") {
        return code;
    }
    if let Ok(mode) = std::env::var(MODE) {
        return child(&mode);
    }
    let rounds: usize = std::env::var("PORTCULLIS_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(3);
    let chosen = std::env::var(SOME_MODES).ok();
    let modes: Vec<&str> = MODES
        .into_iter()
        .filter(|m| {
            chosen
                .as_deref()
                .is_none_or(|c| c.split(',').any(|x| x.trim() == *m))
        })
        .collect();
    if modes.is_empty() {
        eprintln!("e2e bench: {SOME_MODES} names none of {MODES:?}");
        return ExitCode::FAILURE;
    }
    let mut runs: Vec<(&str, Map<String, Value>)> = Vec::new();
    for round in 1..=rounds {
        for &mode in &modes {
            eprintln!("e2e bench: round {round}/{rounds}, {mode}");
            match spawn(mode) {
                Ok(report) => runs.push((mode, report)),
                Err(e) => {
                    eprintln!("e2e bench: {mode} failed: {e}");
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    print_table(&runs, rounds);
    print_streams(&runs, rounds);
    print_profile(&runs, rounds);
    print_first_call(&runs, rounds);
    ExitCode::SUCCESS
}

/// Runs one mode in a child process and returns the page's report.
fn spawn(mode: &str) -> Result<Map<String, Value>, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let output = Command::new(exe)
        .env(MODE, mode)
        .stdout(Stdio::piped())
        .output()
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report = stdout
        .lines()
        .filter_map(|l| l.strip_prefix(ROW))
        .find_map(|l| serde_json::from_str::<Map<String, Value>>(l).ok())
        .ok_or_else(|| format!("{}; no report. Output:\n{stdout}", output.status))?;
    if let Some(e) = report.get("error") {
        return Err(format!("the page failed: {e}"));
    }
    Ok(report)
}

/// `bench.source`: how many messages of how many bytes.
#[derive(serde::Deserialize)]
struct Source {
    count: usize,
    size: usize,
}

#[derive(Debug)]
enum UserEvent {
    Pump,
    Done,
}

/// In the child: loads the page in one webview and waits for its report.
fn child(mode: &str) -> ExitCode {
    let mut event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    let proxy = Arc::new(Mutex::new(event_loop.create_proxy()));
    let dir = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../..")).join("benches/e2e");
    if mode == "floor" {
        return floor(&dir, event_loop, proxy);
    }
    let portcullis = match build(&dir, mode, &proxy) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("e2e bench: set-up failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    let window = WindowBuilder::new()
        .with_title(format!("Portcullis e2e bench ({mode})"))
        .with_inner_size(tao::dpi::LogicalSize::new(640.0, 400.0))
        .build(&event_loop);
    let webview = window.as_ref().map_err(|e| e.to_string()).and_then(|w| {
        portcullis
            .build_webview("main", wry::WebViewBuilder::new(), w)
            .map_err(|e| e.to_string())
    });
    run_page(webview, &mut event_loop, &proxy, || portcullis.pump())
}

fn build(
    dir: &Path,
    mode: &str,
    proxy: &Arc<Mutex<EventLoopProxy<UserEvent>>>,
) -> Result<Portcullis, Box<dyn std::error::Error>> {
    // Benchmarks run as release builds: the files are named, not embedded.
    let config = if mode == "fetch" { "isolation" } else { mode };
    let mut builder = Portcullis::from_config_file(&dir.join(format!("{config}.json")))?
        .frontend_dir(&dir.join("web"))
        .isolation_dir(&dir.join("isolation"));
    if mode == "fetch" {
        builder = builder.transport(portcullis_wry::transport::Transport::Fetch);
    }
    let wake = proxy.clone();
    let done = proxy.clone();
    let emitter = builder.emitter();
    let router = Router::new()
        .command("echo", |Args(v): Args<Value>| v)
        // The replies measurement: the argument back as an event into the main frame.
        .command("bench.pong", move |Args(v): Args<Value>| {
            emitter
                .emit(EmitTarget::Webview("main"), "bench.pong", &v)
                .map_err(|e| HandlerError::new(e.to_string()))
        })
        .command("len", |Args(args): Args<Value>| {
            let text = args.get("text").and_then(Value::as_str).unwrap_or("");
            Ok::<_, HandlerError>(text.len())
        })
        .command("bytes.len", |b: Bytes| b.len())
        .command("bench.rss", |_: Args<Value>| Ok::<_, HandlerError>(rss()))
        // Streams: the page's bytes counted as they come; bytes sent on a channel; and
        // the one-shot twin of each (a 1 MiB argument is `bytes.len`).
        .stream("bench.sink", |mut upload: Upload| async move {
            while let Some(chunk) = upload.next().await {
                chunk?;
            }
            Ok::<_, StreamError>(upload.received())
        })
        .command(
            "bench.source",
            |channel: Channel, Args(a): Args<Source>| async move {
                let block = vec![0x5a_u8; a.size];
                for _ in 0..a.count {
                    channel.send(block.clone()).await?;
                }
                Ok::<_, ChannelError>(a.count)
            },
        )
        .command("bench.only", |_: Args<Value>| std::env::var(ONLY).ok())
        .command("bench.bytes", |Args(a): Args<Value>| {
            let size = a.get("size").and_then(Value::as_u64).unwrap_or(0) as usize;
            Bytes(vec![0x5a_u8; size.min(64 << 20)])
        })
        // The Rust side's per-stage means since the last call (the profile build), or null.
        .command("bench.profile", |_: Args<Value>| profile())
        .command("bench.report", move |Args(report): Args<Value>| {
            println!("{ROW}{report}");
            send(&done, UserEvent::Done);
            Ok::<_, HandlerError>(())
        });
    Ok(builder
        .router(router)
        .waker(move || send(&wake, UserEvent::Pump))
        .build()?)
}

#[cfg(feature = "profile")]
fn profile() -> Value {
    portcullis_wry::profile::take()
}

#[cfg(not(feature = "profile"))]
fn profile() -> Value {
    Value::Null
}

/// The floor: the same page in a plain wry webview, its calls answered by a custom
/// protocol with the same handlers and nothing between.
fn floor(
    dir: &Path,
    mut event_loop: tao::event_loop::EventLoop<UserEvent>,
    proxy: Arc<Mutex<EventLoopProxy<UserEvent>>>,
) -> ExitCode {
    let web = dir.join("web");
    let done = proxy.clone();
    let window = match WindowBuilder::new()
        .with_title("Portcullis e2e bench (floor)")
        .with_inner_size(tao::dpi::LogicalSize::new(640.0, 400.0))
        .build(&event_loop)
    {
        Ok(w) => w,
        Err(e) => {
            eprintln!("e2e bench: could not open the window: {e}");
            return ExitCode::FAILURE;
        }
    };
    let webview = wry::WebViewBuilder::new()
        .with_initialization_script_for_main_only(FLOOR_BRIDGE, true)
        .with_asynchronous_custom_protocol("floor".into(), move |_, request, responder| {
            let path = request.uri().path().to_owned();
            let (mime, body) = match path.strip_prefix("/invoke/") {
                Some(cmd) => {
                    use base64::Engine as _;
                    let body = request
                        .headers()
                        .get("floor-body")
                        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
                        .unwrap_or_default();
                    ("application/json", floor_call(cmd, &body, &done))
                }
                None => {
                    let name = path.trim_start_matches('/');
                    let mime = if name.ends_with(".js") {
                        "text/javascript"
                    } else {
                        "text/html"
                    };
                    (mime, std::fs::read(web.join(name)).unwrap_or_default())
                }
            };
            let response = wry::http::Response::builder()
                .header("Content-Type", mime)
                .body(std::borrow::Cow::Owned(body));
            if let Ok(response) = response {
                responder.respond(response);
            }
        })
        .with_url("floor://localhost/index.html")
        .build(&window)
        .map_err(|e| e.to_string());
    run_page(webview, &mut event_loop, &proxy, || {})
}

/// The floor's handlers: what the Portcullis modes' router does, straight on the body.
fn floor_call(cmd: &str, body: &[u8], done: &Mutex<EventLoopProxy<UserEvent>>) -> Vec<u8> {
    let json = || serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    match cmd {
        "echo" => body.to_vec(),
        "len" => {
            let args = json();
            let text = args.get("text").and_then(Value::as_str).unwrap_or("");
            text.len().to_string().into_bytes()
        }
        "bytes.len" => body.len().to_string().into_bytes(),
        "bench.rss" => rss().to_string().into_bytes(),
        "bench.only" => serde_json::to_vec(&std::env::var(ONLY).ok()).unwrap_or_default(),
        "bench.report" => {
            println!("{ROW}{}", json());
            send(done, UserEvent::Done);
            b"null".to_vec()
        }
        _ => b"null".to_vec(),
    }
}

/// Runs the bench page in `webview` (or says why it could not open) until it reported.
fn run_page<W>(
    webview: Result<W, String>,
    event_loop: &mut tao::event_loop::EventLoop<UserEvent>,
    proxy: &Arc<Mutex<EventLoopProxy<UserEvent>>>,
    pump: impl FnMut(),
) -> ExitCode
where
    W: std::borrow::Borrow<wry::WebView>,
{
    let webview = match webview {
        Ok(v) => v,
        Err(e) => {
            eprintln!("e2e bench: could not open the webview: {e}");
            return ExitCode::FAILURE;
        }
    };
    portcullis_wry::inspect::forward_console_to_stdout(webview.borrow());
    wait_for_report(event_loop, proxy, pump);
    drop(webview);
    ExitCode::SUCCESS
}

/// Runs the event loop until the page reported (or the time is up); `pump` delivers
/// core-to-frontend events.
fn wait_for_report(
    event_loop: &mut tao::event_loop::EventLoop<UserEvent>,
    proxy: &Arc<Mutex<EventLoopProxy<UserEvent>>>,
    mut pump: impl FnMut(),
) {
    let alarm = proxy.clone();
    std::thread::spawn(move || {
        std::thread::sleep(TIMEOUT);
        eprintln!("e2e bench: no report within {TIMEOUT:?}");
        send(&alarm, UserEvent::Done);
    });
    event_loop.run_return(|event, _, control_flow| {
        *control_flow = ControlFlow::Wait;
        match event {
            Event::UserEvent(UserEvent::Pump) => pump(),
            Event::UserEvent(UserEvent::Done) => *control_flow = ControlFlow::Exit,
            _ => {}
        }
    });
}

fn send(proxy: &Mutex<EventLoopProxy<UserEvent>>, event: UserEvent) {
    let proxy = proxy.lock().unwrap_or_else(|p| p.into_inner());
    let _ = proxy.send_event(event);
}

/// Resident memory in KiB: this process, and its descendants (WebKit's web and network
/// processes), from /proc.
fn rss() -> Value {
    let me = std::process::id();
    let app = rss_kib(me).unwrap_or(0);
    let mut webkit = 0;
    let mut frontier = vec![me];
    while let Some(parent) = frontier.pop() {
        for pid in children(parent) {
            webkit += rss_kib(pid).unwrap_or(0);
            frontier.push(pid);
        }
    }
    json!({"appKiB": app, "webkitKiB": webkit})
}

fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn children(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            // Field 4 of /proc/PID/stat, after the parenthesised command name.
            std::fs::read_to_string(format!("/proc/{pid}/stat"))
                .ok()
                .and_then(|s| {
                    let rest = &s[s.rfind(')')? + 2..];
                    rest.split_whitespace().nth(1)?.parse::<u32>().ok()
                })
                == Some(parent)
        })
        .collect()
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n == 0 {
        f64::NAN
    } else if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The median over rounds of `figure` for `mode`.
fn figure(
    runs: &[(&str, Map<String, Value>)],
    mode: &str,
    figure: impl Fn(&Map<String, Value>) -> Option<f64>,
) -> f64 {
    median(
        runs.iter()
            .filter(|(m, _)| *m == mode)
            .filter_map(|(_, r)| figure(r))
            .collect(),
    )
}

/// The range over rounds, as `[min–max]` (empty for one round).
fn spread(
    runs: &[(&str, Map<String, Value>)],
    mode: &str,
    get: impl Fn(&Map<String, Value>) -> Option<f64>,
    scale: f64,
) -> String {
    let values: Vec<f64> = runs
        .iter()
        .filter(|(m, _)| *m == mode)
        .filter_map(|(_, r)| get(r))
        .map(|v| v * scale)
        .collect();
    if values.len() < 2 {
        return String::new();
    }
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!("[{min:.1}–{max:.1}]")
}

fn number(key: &'static str) -> impl Fn(&Map<String, Value>) -> Option<f64> {
    move |r| r.get(key)?.as_f64()
}

/// RSS growth over the pipelined run, in MiB, for `which` ("appKiB", "webkitKiB" or both),
/// from the readings `before` and `after`.
fn growth(
    before: &'static str,
    after: &'static str,
    which: &'static [&'static str],
) -> impl Fn(&Map<String, Value>) -> Option<f64> {
    move |r| {
        let sum = |key: &str| -> Option<f64> {
            which.iter().map(|w| r.get(key)?.get(*w)?.as_f64()).sum()
        };
        Some((sum(after)? - sum(before)?) / 1024.0)
    }
}

fn print_table(runs: &[(&str, Map<String, Value>)], rounds: usize) {
    println!(
        "\nPortcullis end to end, WebKitGTK, median of {rounds} rounds (isolation on the native transport and on fetch, brownfield, and the floor: no Portcullis)\n"
    );
    println!(
        "| measure | isolation | isolation, fetch | brownfield | floor | isolation / fetch | isolation / brownfield | isolation / floor | target |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    type Getter = Box<dyn Fn(&Map<String, Value>) -> Option<f64>>;
    // (what, the figure in the report, scale to the unit in `what`, target)
    let rows: Vec<(&str, Getter, f64, &str)> = vec![
        (
            "first invoke after load (ms)",
            Box::new(number("firstInvokeMs")),
            1.0,
            "isolation <= 10 ms",
        ),
        (
            "first invoke, since navigation start (ms)",
            Box::new(number("firstInvokeSinceNavigationMs")),
            1.0,
            "",
        ),
        (
            "sequential round trip, 200 B (µs, mean)",
            Box::new(number("sequentialMs")),
            1000.0,
            "<= 1.15x brownfield, <= 1.3x floor",
        ),
        (
            "reply through the isolation frame, 200 B (µs, mean; alternating blocks)",
            Box::new(number("replyViaFrameUs")),
            1.0,
            "",
        ),
        (
            "the same 200 B straight into the main frame as an event (µs, mean)",
            Box::new(number("replyDirectUs")),
            1.0,
            "",
        ),
        (
            "1 MiB string argument (ms, mean)",
            Box::new(number("string1MiBMs")),
            1.0,
            "<= 1.5x brownfield",
        ),
        (
            "1 MiB Uint8Array argument (ms, mean)",
            Box::new(number("bytes1MiBMs")),
            1.0,
            "<= 1.5x brownfield",
        ),
        (
            "pipelined invokes per second",
            Box::new(number("pipelinedPerSecond")),
            1.0,
            "isolation >= 6000/s",
        ),
        (
            "RSS growth, first 100k invokes, read right away (MiB)",
            Box::new(growth("rssBefore", "rssAfter", &["appKiB", "webkitKiB"])),
            1.0,
            "",
        ),
        (
            "RSS growth, first 100k invokes, after 3 s idle (MiB)",
            Box::new(growth(
                "rssBeforeIdle",
                "rssAfterIdle",
                &["appKiB", "webkitKiB"],
            )),
            1.0,
            "< 10 MiB",
        ),
        (
            "RSS growth, second 100k invokes, after 3 s idle: app process (MiB)",
            Box::new(growth("rssAfterIdle", "rssSecondIdle", &["appKiB"])),
            1.0,
            "",
        ),
        (
            "RSS growth, second 100k invokes, after 3 s idle: WebKit processes (MiB)",
            Box::new(growth("rssAfterIdle", "rssSecondIdle", &["webkitKiB"])),
            1.0,
            "",
        ),
        (
            "RSS growth, second 100k invokes, after 3 s idle: all (MiB)",
            Box::new(growth(
                "rssAfterIdle",
                "rssSecondIdle",
                &["appKiB", "webkitKiB"],
            )),
            1.0,
            "< 10 MiB",
        ),
    ];
    let rows: Vec<_> = rows
        .into_iter()
        .filter(|(_, get, _, _)| runs.iter().any(|(_, r)| get(r).is_some()))
        .collect();
    for (name, get, scale, target) in rows {
        let iso = figure(runs, "isolation", &get) * scale;
        let fetch = figure(runs, "fetch", &get) * scale;
        let brown = figure(runs, "brownfield", &get) * scale;
        let floor = figure(runs, "floor", &get) * scale;
        println!(
            "| {name} | {iso:.2} {} | {fetch:.2} {} | {brown:.2} {} | {floor:.2} {} | {:.2}× | {:.2}× | {:.2}× | {target} |",
            spread(runs, "isolation", &get, scale),
            spread(runs, "fetch", &get, scale),
            spread(runs, "brownfield", &get, scale),
            spread(runs, "floor", &get, scale),
            iso / fetch,
            iso / brown,
            iso / floor
        );
    }
    let before = |mode| {
        figure(runs, mode, |r| {
            Some(
                (r.get("rssBefore")?.get("appKiB")?.as_f64()?
                    + r.get("rssBefore")?.get("webkitKiB")?.as_f64()?)
                    / 1024.0,
            )
        })
    };
    println!(
        "\nRSS before the pipelined run (all processes): isolation {:.1} MiB, brownfield {:.1} MiB, floor {:.1} MiB",
        before("isolation"),
        before("brownfield"),
        before("floor")
    );
}

/// The stream figures: 100 MiB each way through a stream or a channel, against one-shot
/// 1 MiB invokes, with isolation and in brownfield mode (the floor has no streams).
fn print_streams(runs: &[(&str, Map<String, Value>)], rounds: usize) {
    if !runs.iter().any(|(_, r)| r.contains_key("streamUpMiBps")) {
        return;
    }
    println!(
        "\nStreams, 100 MiB each way, median of {rounds} rounds (MiB/s; a stream or a channel against one-shot 1 MiB invokes)\n"
    );
    println!(
        "| direction | isolation stream | brownfield stream | isolation 1 MiB invokes | brownfield 1 MiB invokes | isolation / brownfield stream | isolation stream / isolation invokes | target |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    for (name, stream, invokes) in [
        (
            "frontend to core (openStream)",
            "streamUpMiBps",
            "invokeUpMiBps",
        ),
        (
            "core to frontend (Channel)",
            "streamDownMiBps",
            "invokeDownMiBps",
        ),
    ] {
        let iso = figure(runs, "isolation", number(stream));
        let brown = figure(runs, "brownfield", number(stream));
        let iso_invoke = figure(runs, "isolation", number(invokes));
        let brown_invoke = figure(runs, "brownfield", number(invokes));
        println!(
            "| {name} | {iso:.0} {} | {brown:.0} {} | {iso_invoke:.0} {} | {brown_invoke:.0} {} | {:.0}% | {:.2}× | >= 80% and >= 3× |",
            spread(runs, "isolation", number(stream), 1.0),
            spread(runs, "brownfield", number(stream), 1.0),
            spread(runs, "isolation", number(invokes), 1.0),
            spread(runs, "brownfield", number(invokes), 1.0),
            100.0 * iso / brown,
            iso / iso_invoke
        );
    }
    println!(
        "\nWebCrypto AES-256-GCM in this engine, 4 MiB at a time (what the isolation frame does to each chunk): {:.0} MiB/s",
        figure(runs, "isolation", number("sealMiBps"))
    );
}

/// The profile build's first-call time line, for each isolated mode (the native and the
/// fetch transport): each event's time since the page's navigation started, median over
/// the rounds, in the order of those medians.
fn print_first_call(runs: &[(&str, Map<String, Value>)], rounds: usize) {
    for mode in ["isolation", "fetch"] {
        let mut events: Vec<(String, Vec<f64>)> = Vec::new();
        for (_, report) in runs.iter().filter(|(m, _)| *m == mode) {
            for event in report
                .get("firstCallTimeline")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let (Some(name), Some(ms)) = (event[0].as_str(), event[1].as_f64()) else {
                    continue;
                };
                match events.iter_mut().find(|(n, _)| n == name) {
                    Some((_, values)) => values.push(ms),
                    None => events.push((name.to_owned(), vec![ms])),
                }
            }
        }
        if events.is_empty() {
            continue;
        }
        let mut rows: Vec<(String, f64, usize)> = events
            .into_iter()
            .map(|(name, values)| (name, median(values.clone()), values.len()))
            .collect();
        rows.sort_by(|a, b| a.1.total_cmp(&b.1));
        println!(
            "\nThe first isolated call on one time line ({mode} mode, profile build), ms since the page's navigation started, median of {rounds} rounds\n"
        );
        println!("| event | ms | rounds |");
        println!("|---|---|---|");
        for (name, ms, n) in rows {
            println!("| {name} | {ms:.1} | {n} |");
        }
    }
}

/// The profile build's table: each stage's mean per call, median over the rounds.
fn print_profile(runs: &[(&str, Map<String, Value>)], rounds: usize) {
    let profiled = |mode: &str| {
        runs.iter()
            .filter(|(m, r)| *m == mode && r.contains_key("profile"))
            .map(|(_, r)| &r["profile"])
            .collect::<Vec<_>>()
    };
    let (iso, brown) = (profiled("isolation"), profiled("brownfield"));
    if iso.is_empty() {
        return;
    }
    // (stage, µs per round) for one mode, in the order a call passes them.
    let stages = |reports: &[&Value]| -> Vec<(String, Vec<f64>)> {
        let mut out: Vec<(String, Vec<f64>)> = Vec::new();
        let mut add = |name: &str, value: f64| match out.iter_mut().find(|(n, _)| n == name) {
            Some((_, values)) => values.push(value),
            None => out.push((name.to_owned(), vec![value])),
        };
        for report in reports {
            let total = report["perCallUs"].as_f64().unwrap_or(f64::NAN);
            add("whole call, as the page times it", total);
            let pairs = |v: &Value| -> Vec<(String, f64)> {
                v.as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(|s| Some((s[0].as_str()?.to_owned(), s[1].as_f64()?)))
                            .collect()
                    })
                    .unwrap_or_default()
            };
            let js = pairs(&report["jsUs"]);
            let rust = pairs(&report["rust"]["stagesUs"]);
            let js_of = |k: &str| js.iter().find(|(n, _)| n == k).map(|(_, v)| *v);
            let bridge = js_of("bridge: post to reply").unwrap_or(0.0);
            let settle = js_of("bridge: settle").unwrap_or(0.0);
            if !js.is_empty() {
                add(
                    "page: invoke to post, and settle to the caller's await",
                    total - bridge - settle,
                );
                add("bridge: settle", settle);
                if let Some(v) = js_of("window messages, both ways") {
                    add("window messages (bridge to frame, frame to bridge)", v);
                }
            }
            let rust_total: f64 = rust.iter().map(|(_, v)| v).sum();
            for (name, value) in &js {
                let Some(stage) = name.strip_prefix("frame: ") else {
                    continue;
                };
                let value = *value;
                if stage == "gate's reply" {
                    add(
                        "engine transport, frame to Rust and back",
                        value - rust_total,
                    );
                    for (name, value) in &rust {
                        add(&format!("Rust: {name}"), *value);
                    }
                } else {
                    add(&format!("frame: {stage}"), value);
                }
            }
            if js.is_empty() {
                // Brownfield: the bridge posts straight to the transport.
                add("engine transport and bridge, both ways", total - rust_total);
                for (name, value) in &rust {
                    add(&format!("Rust: {name}"), *value);
                }
            }
        }
        out
    };
    let (iso, brown) = (stages(&iso), stages(&brown));
    println!(
        "\nWhere one sequential 200 B call's time goes (profile build), µs per call, mean over {} calls, median of {rounds} rounds\n",
        3000
    );
    println!("| stage | isolation | brownfield |");
    println!("|---|---|---|");
    for (name, values) in &iso {
        let other = brown
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| format!("{:.1}", median(v.clone())))
            .unwrap_or_default();
        println!("| {name} | {:.1} | {other} |", median(values.clone()));
    }
    for (name, values) in brown
        .iter()
        .filter(|(n, _)| !iso.iter().any(|(m, _)| m == n))
    {
        println!("| {name} |  | {:.1} |", median(values.clone()));
    }
}
