//! An app outside the Portcullis workspace. Run with `--self-test`, it opens its page
//! with `?self-test` (headless under Xvfb when there is no display), lets the page check
//! every function of `@portcullis/api` through the package (the legitimate paths and the
//! refusals, each refusal beside its legitimate twin), adds the checks only Rust can
//! make, prints them all and exits non-zero if any failed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use portcullis::emit::EmitTarget;
use portcullis::webview::Portcullis;
use portcullis::{
    AppError, Args, Caller, Channel, ChannelError, GrantError, Grants, Reach, Router, Scoped,
    State, StreamError, Upload,
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tao::event::{Event, StartCause, WindowEvent};
use tao::event_loop::{ControlFlow, EventLoopBuilder};
use tao::window::WindowBuilder;

/// The config, compiled in.
const CONFIG: &str = include_str!("../portcullis.json");

/// The bundled frontend (`build.frontendDist`), compiled into the release binary.
#[derive(rust_embed::Embed)]
#[folder = "frontend/dist"]
struct Frontend;

/// The isolation app with the validation hook, compiled in as well.
#[derive(rust_embed::Embed)]
#[folder = "isolation"]
struct Isolation;

/// How many checks the page makes: a page that stops early fails.
const PAGE_CHECKS: usize = 56;

/// The password `session.sign_in` takes (a real app checks its accounts).
const PASSWORD: &str = "open sesame";

/// The stream rule's `maxBytes` in portcullis.json.
const UPLOAD_MAX_BYTES: u64 = 1024;

/// How often each handler ran, by name, and the most bytes one upload took: the page
/// reads it to show that a refusal ran no handler, and the verdict below reads it too.
#[derive(Clone, Default)]
struct Ran(Arc<Mutex<BTreeMap<&'static str, u64>>>);

impl Ran {
    fn counts(&self) -> MutexGuard<'_, BTreeMap<&'static str, u64>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn hit(&self, name: &'static str) {
        *self.counts().entry(name).or_default() += 1;
    }

    fn at_least(&self, name: &'static str, value: u64) {
        let mut counts = self.counts();
        let entry = counts.entry(name).or_default();
        *entry = (*entry).max(value);
    }

    fn get(&self, name: &str) -> u64 {
        self.counts().get(name).copied().unwrap_or(0)
    }
}

/// Files the app shows: the one its "file picker" picks.
struct Files {
    sample: PathBuf,
}

/// What the app's handlers fail with: the page gets `E_HANDLER` with the `appCode` and
/// `data` below.
#[derive(Debug, thiserror::Error)]
enum AppFailure {
    #[error("account {0} does not exist")]
    NoSuchAccount(u64),
    #[error("wrong password")]
    WrongPassword,
    #[error("could not read the file")]
    Read(#[source] std::io::Error),
    #[error(transparent)]
    Grant(#[from] GrantError),
}

impl AppError for AppFailure {
    fn app_code(&self) -> Option<String> {
        let code = match self {
            AppFailure::NoSuchAccount(_) => "NO_SUCH_ACCOUNT",
            AppFailure::WrongPassword => "WRONG_PASSWORD",
            AppFailure::Read(_) => "READ_FAILED",
            AppFailure::Grant(_) => "GRANT_FAILED",
        };
        Some(code.into())
    }

    fn data(&self) -> Option<Value> {
        match self {
            AppFailure::NoSuchAccount(id) => Some(json!({ "id": id })),
            _ => None,
        }
    }
}

#[derive(Deserialize)]
struct Greet {
    name: String,
}

fn greet(ran: State<Ran>, Args(args): Args<Greet>) -> String {
    ran.hit("greet");
    format!("Hello, {}!", args.name)
}

#[derive(Deserialize)]
struct Find {
    id: u64,
}

#[derive(Serialize)]
struct Account {
    id: u64,
    name: &'static str,
}

/// A typed error: account 1 exists, every other is `NO_SUCH_ACCOUNT` with its id.
fn find_account(ran: State<Ran>, Args(find): Args<Find>) -> Result<Account, AppFailure> {
    ran.hit("accounts.find");
    if find.id == 1 {
        return Ok(Account { id: 1, name: "Ada" });
    }
    Err(AppFailure::NoSuchAccount(find.id))
}

#[derive(Deserialize)]
struct Work {
    ms: u64,
}

/// Counts a `work.slow` that never finished: a cancelled call's future is dropped at its
/// `.await`, and this with it.
struct Unfinished {
    ran: Ran,
    finished: bool,
}

impl Drop for Unfinished {
    fn drop(&mut self) {
        if !self.finished {
            self.ran.hit("work.slow cancelled");
        }
    }
}

/// Works for `ms` milliseconds, on tokio's timer.
async fn slow(ran: State<Ran>, Args(work): Args<Work>) -> String {
    ran.hit("work.slow");
    let mut guard = Unfinished {
        ran: Ran::clone(&ran),
        finished: false,
    };
    tokio::time::sleep(Duration::from_millis(work.ms)).await;
    guard.finished = true;
    ran.hit("work.slow finished");
    format!("worked {} ms", work.ms)
}

#[derive(Deserialize)]
struct Export {
    steps: u64,
}

/// One progress message (the page's `Channel` gets it as `{done, of}`).
#[derive(Serialize)]
struct Step {
    done: u64,
    of: u64,
}

/// Reports its progress on the page's channel, a `Step` for each step, then a few bytes.
async fn export_progress(
    ran: State<Ran>,
    Args(export): Args<Export>,
    progress: Channel<Step>,
) -> Result<String, ChannelError> {
    ran.hit("export.progress");
    for done in 1..=export.steps {
        progress
            .send_json(&Step {
                done,
                of: export.steps,
            })
            .await?;
    }
    progress.send(vec![1u8, 2, 3, 255]).await?;
    Ok(format!("exported in {} steps", export.steps))
}

#[derive(Deserialize)]
struct UploadMeta {
    name: String,
}

#[derive(Serialize)]
struct Uploaded {
    name: String,
    bytes: u64,
    chunks: u64,
    sum: u64,
}

/// Takes a stream's chunks in order and answers with their size and checksum.
async fn upload(
    ran: State<Ran>,
    Args(meta): Args<UploadMeta>,
    mut upload: Upload,
) -> Result<Uploaded, StreamError> {
    ran.hit("files.upload");
    let (mut chunks, mut sum) = (0, 0);
    while let Some(chunk) = upload.next().await {
        let chunk = chunk?;
        chunks += 1;
        sum += chunk.iter().map(|&b| u64::from(b)).sum::<u64>();
        ran.at_least("files.upload most bytes", upload.received());
    }
    ran.hit("files.upload completed");
    Ok(Uploaded {
        name: meta.name,
        bytes: upload.received(),
        chunks,
        sum,
    })
}

#[derive(Deserialize)]
struct SignIn {
    password: String,
}

/// Signs in: the Rust side grants this window the run-time capability `export`.
fn sign_in(caller: Caller, grants: Grants, Args(s): Args<SignIn>) -> Result<bool, AppFailure> {
    if s.password != PASSWORD {
        return Err(AppFailure::WrongPassword);
    }
    grants.grant(&caller.webview, "export")?;
    Ok(true)
}

/// Signs out: the grant is revoked (`E_GRANT_REVOKED` from then on).
fn sign_out(caller: Caller, grants: Grants) -> Result<bool, AppFailure> {
    Ok(grants.revoke(&caller.webview, "export")?)
}

/// Where an app shows a file dialog: the sample file joins this window's `opened` scope.
fn pick(caller: Caller, grants: Grants, files: State<Files>) -> Result<PathBuf, AppFailure> {
    Ok(grants.allow_path(
        &caller.webview,
        "main-window",
        "opened",
        &files.sample,
        Reach::File,
    )?)
}

#[derive(Deserialize)]
struct Forget {
    path: String,
}

/// The document closed: its file leaves the scope.
fn forget(caller: Caller, grants: Grants, Args(f): Args<Forget>) -> Result<bool, AppFailure> {
    Ok(grants.forget_path(&caller.webview, "main-window", "opened", Path::new(&f.path))?)
}

/// Reads a file in the `opened` scope: the policy checked `/path` before this runs.
async fn read(ran: State<Ran>, paths: Scoped) -> Result<String, AppFailure> {
    ran.hit("files.read");
    let Some(path) = paths.get("/path") else {
        return Err(AppFailure::Read(std::io::ErrorKind::NotFound.into()));
    };
    tokio::fs::read_to_string(path)
        .await
        .map_err(AppFailure::Read)
}

#[derive(Deserialize)]
struct Check {
    name: String,
    expected: String,
    got: String,
}

#[derive(Deserialize)]
struct Report {
    checks: Vec<Check>,
}

#[derive(Debug)]
enum UserEvent {
    Pump,
    Reported,
}

fn main() -> ExitCode {
    let self_test = std::env::args().any(|a| a == "--self-test");
    if self_test && let Some(code) = portcullis_xvfb::exit_code_after_rerun("outside-app") {
        return code;
    }
    match run(self_test) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("outside-app: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(self_test: bool) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    let proxy = Arc::new(Mutex::new(event_loop.create_proxy()));
    let ran = Ran::default();
    let report: Arc<Mutex<Option<Report>>> = Arc::new(Mutex::new(None));
    let sample =
        std::env::temp_dir().join(format!("outside-app-sample-{}.txt", std::process::id()));
    std::fs::write(&sample, "picked by the user\n")?;

    let builder = Portcullis::from_config_str(CONFIG, env!("CARGO_MANIFEST_DIR").as_ref())?
        .embedded_frontend::<Frontend>()
        .embedded_isolation::<Isolation>();
    let emitter = builder.emitter();
    let (r, done, wake, waves) = (report.clone(), proxy.clone(), proxy.clone(), ran.clone());
    let sample_path = sample.display().to_string();
    let router = Router::new()
        .state(ran.clone())
        .state(Files {
            sample: sample.clone(),
        })
        .command("greet", greet)
        .command("accounts.find", find_account)
        .command("work.slow", slow)
        .command("export.progress", export_progress)
        .command("session.sign_in", sign_in)
        .command("session.sign_out", sign_out)
        .command("files.pick", pick)
        .command("files.read", read)
        .command("files.forget", forget)
        .stream("files.upload", upload)
        // Allowed only while the run-time capability `export` is granted.
        .command("notes.export", |ran: State<Ran>| {
            ran.hit("notes.export");
            "exported"
        })
        // Registered, but no capability names them: they must never run.
        .command("files.delete", |ran: State<Ran>| ran.hit("files.delete"))
        .stream("files.wipe", |ran: State<Ran>, _: Upload| {
            ran.hit("files.wipe");
        })
        .command("self_test.ran", |ran: State<Ran>| ran.counts().clone())
        .command("self_test.sample", move || sample_path.clone())
        // The hook fills in the kinds it judged; this echoes them.
        .command("self_test.hook_kinds", |Args(kinds): Args<Value>| kinds)
        .command("self_test.report", move |Args(got): Args<Report>| {
            *r.lock().unwrap_or_else(|p| p.into_inner()) = Some(got);
            let _ = done.lock().map(|p| p.send_event(UserEvent::Reported));
        })
        .on_event("wave", move |_, payload: Value| {
            waves.hit("wave");
            let _ = emitter.emit(EmitTarget::All, "waved", &payload);
        });
    let portcullis = builder
        .router(router)
        .waker(move || {
            let _ = wake.lock().map(|p| p.send_event(UserEvent::Pump));
        })
        .build()?;

    let window = WindowBuilder::new()
        .with_title("outside app")
        .build(&event_loop)?;
    let url = if self_test {
        format!("{}?self-test", portcullis.start_url())
    } else {
        portcullis.start_url()
    };
    let webview = portcullis.build_webview_at("main", &url, wry::WebViewBuilder::new(), &window)?;

    let deadline = Instant::now() + Duration::from_secs(60);
    let mut timed_out = false;
    let mut event_loop = event_loop;
    use tao::platform::run_return::EventLoopExtRunReturn as _;
    event_loop.run_return(|event, _, control_flow| {
        *control_flow = if self_test {
            ControlFlow::WaitUntil(deadline)
        } else {
            ControlFlow::Wait
        };
        match event {
            Event::UserEvent(UserEvent::Pump) => portcullis.pump(),
            Event::UserEvent(UserEvent::Reported) if self_test => *control_flow = ControlFlow::Exit,
            Event::NewEvents(StartCause::ResumeTimeReached { .. }) => {
                timed_out = true;
                *control_flow = ControlFlow::Exit;
            }
            Event::WindowEvent {
                event: WindowEvent::CloseRequested,
                ..
            } => {
                portcullis.close_webview("main");
                *control_flow = ControlFlow::Exit;
            }
            _ => {}
        }
    });
    drop(webview);
    let _ = std::fs::remove_file(&sample);
    if !self_test {
        return Ok(ExitCode::SUCCESS);
    }

    let mut rows: Vec<(String, bool, String)> = Vec::new();
    let page = report.lock().unwrap_or_else(|p| p.into_inner()).take();
    match page {
        Some(page) => {
            let n = page.checks.len();
            for c in page.checks {
                let detail = format!("expected {:?}, got {:?}", c.expected, c.got);
                rows.push((c.name, c.expected == c.got, detail));
            }
            rows.push((
                format!("the page made its {PAGE_CHECKS} checks"),
                n == PAGE_CHECKS,
                format!("{n} checks"),
            ));
        }
        None => rows.push((
            "the page reported".into(),
            false,
            if timed_out {
                "no report within 60 s"
            } else {
                "no report"
            }
            .into(),
        )),
    }
    let mut exactly = |what: &str, name: &str, want: u64| {
        let got = ran.get(name);
        rows.push((
            format!("{what} ({name}: {want})"),
            got == want,
            format!("{name} ran {got} times"),
        ));
    };
    exactly(
        "the command no capability names never ran",
        "files.delete",
        0,
    );
    exactly("the stream no capability names never ran", "files.wipe", 0);
    exactly(
        "greet ran once: the hook's and the schema's refusals never reached it",
        "greet",
        1,
    );
    exactly(
        "the event listener ran once per event admitted (refused ones never reached it)",
        "wave",
        3,
    );
    exactly(
        "the grant-gated command ran only while granted",
        "notes.export",
        1,
    );
    exactly(
        "the aborted and the timed-out calls' handlers were stopped",
        "work.slow cancelled",
        2,
    );
    exactly(
        "only the slow call nobody cancelled finished",
        "work.slow finished",
        1,
    );
    exactly(
        "only the uploads within maxBytes completed (one of 500 bytes, one empty)",
        "files.upload completed",
        2,
    );
    let most = ran.get("files.upload most bytes");
    rows.push((
        format!("no upload handler was given more than maxBytes ({UPLOAD_MAX_BYTES})"),
        most > 0 && most <= UPLOAD_MAX_BYTES,
        format!("an upload handler was given {most} bytes"),
    ));
    rows.push((
        "this is a release build (assets served from the binary)".into(),
        !cfg!(debug_assertions),
        "built with debug assertions".into(),
    ));

    let mut failed = 0;
    for (name, ok, detail) in &rows {
        if *ok {
            println!("ok      {name}");
        } else {
            failed += 1;
            println!("FAILED  {name}: {detail}");
        }
    }
    println!(
        "outside-app self-test: {} passed, {failed} failed",
        rows.len() - failed
    );
    Ok(if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
