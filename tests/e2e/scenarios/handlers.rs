//! `handlers` (`web/scenarios/handlers.js`): handlers as apps write them: state, tokio
//! file I/O, every extractor at once, app error types, and cancellation and timeouts of
//! slow handlers (async ones dropped, sync ones seeing their token).

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use portcullis::{Args, Caller, CancellationToken, HandlerError, Router, Scoped, State};
use serde_json::{Value, json};

use super::Cx;
use crate::{DEFAULTS, Run, Scenario, handlers_dir};

pub const HANDLERS: Scenario = Scenario {
    name: "handlers",
    min_checks: 24,
    routes: &[routes],
    ..DEFAULTS
};

/// Counts a slow async handler's end: run to completion, or dropped before it (its call
/// was cancelled or timed out).
struct SlowGuard {
    run: Arc<Run>,
    finished: bool,
}

impl Drop for SlowGuard {
    fn drop(&mut self) {
        let counter = if self.finished {
            &self.run.slow_finished
        } else {
            &self.run.slow_dropped
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

/// A slow async handler: about 5 s of tokio sleeps unless it is cancelled first.
async fn slow(run: Arc<Run>) -> &'static str {
    let mut guard = SlowGuard {
        run,
        finished: false,
    };
    guard.run.slow_started.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(5)).await;
    guard.finished = true;
    "finished"
}

/// State two handlers share.
#[derive(Default)]
struct Counter(std::sync::atomic::AtomicI64);

/// Where `tokio.files` writes and `extract.all`'s scope points (`$E2E_HANDLERS`).
struct HandlerDir(PathBuf);

/// An app error type as apps write them (thiserror), reaching the page with its code and
/// data through `?`.
#[derive(Debug, thiserror::Error)]
enum E2eError {
    #[error("note {0} does not exist")]
    NotFound(u32),
    #[error("storage failed: {0}")]
    Storage(#[from] std::io::Error),
}

impl portcullis::AppError for E2eError {
    fn app_code(&self) -> Option<String> {
        Some(match self {
            E2eError::NotFound(_) => "NOT_FOUND".into(),
            E2eError::Storage(_) => "STORAGE".into(),
        })
    }
    fn data(&self) -> Option<Value> {
        match self {
            E2eError::NotFound(id) => Some(json!({ "id": id, "hint": "list the notes first" })),
            E2eError::Storage(_) => None,
        }
    }
}

#[derive(serde::Deserialize)]
struct FileArgs {
    name: String,
    text: String,
}

/// The counter (`counter.add`, `counter.get`, state), `tokio.files`, `extract.all`,
/// `typed.fail`, the slow handlers (`slow.cancellable`, `slow.limited`, `slow.progress`,
/// `slow.blocking`) and `harness.slow`, which tells the page how they ended.
pub fn routes(router: Router, cx: &Cx) -> Router {
    let run = &cx.run;
    router
        .state(Counter::default())
        .state(HandlerDir(handlers_dir()))
        .command("counter.add", |c: State<Counter>, Args(n): Args<i64>| {
            c.0.fetch_add(n, Ordering::SeqCst) + n
        })
        .command("counter.get", |c: State<Counter>| async move {
            c.0.load(Ordering::SeqCst)
        })
        .command(
            "tokio.files",
            |Args(a): Args<FileArgs>, dir: State<HandlerDir>| async move {
                if !a
                    .name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.')
                {
                    return Err(HandlerError::new("a plain file name"));
                }
                let path = dir.0.join(&a.name);
                tokio::fs::write(&path, a.text.as_bytes()).await?;
                tokio::time::sleep(Duration::from_millis(20)).await;
                let text = tokio::fs::read_to_string(&path).await?;
                Ok(json!({ "text": text, "path": path.display().to_string() }))
            },
        )
        .command(
            "extract.all",
            |token: CancellationToken,
             paths: Scoped,
             counter: State<Counter>,
             Args(args): Args<Value>,
             caller: Caller| {
                json!({
                    "webview": &*caller.webview,
                    "origin": caller.origin.to_string(),
                    "sealed": caller.session.is_some(),
                    "args": args,
                    "path": paths.get("/path").map(|p| p.display().to_string()),
                    "count": counter.0.load(Ordering::SeqCst),
                    "cancelled": token.is_cancelled(),
                })
            },
        )
        .command(
            "typed.fail",
            |Args(id): Args<u32>| -> Result<(), E2eError> {
                if id == 0 {
                    Err(std::io::Error::other("disk gone"))?;
                }
                Err(E2eError::NotFound(id))
            },
        )
        .command("slow.cancellable", {
            let run = run.clone();
            move || slow(run.clone())
        })
        .command("slow.limited", {
            let run = run.clone();
            move || slow(run.clone())
        })
        .command("slow.progress", || async {
            tokio::time::sleep(Duration::from_millis(300)).await;
            "done"
        })
        .command("slow.blocking", {
            let run = run.clone();
            move |token: CancellationToken| {
                run.slow_started.fetch_add(1, Ordering::SeqCst);
                let start = std::time::Instant::now();
                while start.elapsed() < Duration::from_secs(5) {
                    if token.is_cancelled() {
                        run.slow_saw_token.fetch_add(1, Ordering::SeqCst);
                        return "stopped";
                    }
                    std::thread::sleep(Duration::from_millis(5));
                }
                run.slow_finished.fetch_add(1, Ordering::SeqCst);
                "finished"
            }
        })
        .command("harness.slow", {
            let run = run.clone();
            move || {
                json!({
                    "started": run.slow_started.load(Ordering::SeqCst),
                    "finished": run.slow_finished.load(Ordering::SeqCst),
                    "dropped": run.slow_dropped.load(Ordering::SeqCst),
                    "sawToken": run.slow_saw_token.load(Ordering::SeqCst),
                })
            }
        })
}
