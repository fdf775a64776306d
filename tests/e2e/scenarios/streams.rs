//! `streams` (`web/scenarios/streams.js`): streams from the page in a real webview,
//! through the hook, the allowlist and the sealed chunk envelopes, and the attacks a
//! compromised page makes on them.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use portcullis::stream::{StreamError, Upload};
use portcullis::{Args, Router};
use serde_json::{Value, json};

use super::Cx;
use crate::{DEFAULTS, Run, Scenario};

pub const STREAMS: Scenario = Scenario {
    name: "streams",
    reloads: 1,
    audit_codes: &["E_HOOK_REJECTED", "E_TOO_LARGE", "E_REPLAY", "E_TAMPERED"],
    audit_names: &[
        ("E_HOOK_REJECTED", "stream.guarded"),
        ("E_TOO_LARGE", "portcullis.chunk"),
        ("E_HOOK_REJECTED", "stream.false"),
    ],
    min_checks: 29,
    routes: &[collecting, routes],
    ..DEFAULTS
};

/// Counts a stream handler dropped before its end (a reload cancelled it).
struct StreamGuard(Arc<Run>);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        self.0.stream_dropped.fetch_add(1, Ordering::SeqCst);
    }
}

/// A stream's chunks, counted: `{meta, bytes, chunks, sum}` (sum: of every byte, mod 2^32).
async fn collect(run: &Run, meta: Value, mut upload: Upload) -> Result<Value, StreamError> {
    run.stream_started.fetch_add(1, Ordering::SeqCst);
    let (mut chunks, mut sum) = (0u32, 0u32);
    while let Some(chunk) = upload.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(e) => {
                if matches!(e, StreamError::Aborted(_)) {
                    run.stream_aborted.fetch_add(1, Ordering::SeqCst);
                }
                return Err(e);
            }
        };
        chunks += 1;
        for b in &chunk {
            sum = sum.wrapping_add(u32::from(*b));
        }
    }
    Ok(json!({ "meta": meta, "bytes": upload.received(), "chunks": chunks, "sum": sum }))
}

/// `stream.collect` (its chunks counted, with their metadata) and `harness.streams`
/// (how the stream handlers ended): the stream every hook style is put to (the kinds,
/// helpers, tauri and hookfail pages open it too).
pub fn collecting(router: Router, cx: &Cx) -> Router {
    let run = &cx.run;
    router
        .stream("stream.collect", {
            let run = run.clone();
            move |Args(meta): Args<Value>, upload: Upload| {
                let run = run.clone();
                async move { collect(&run, meta, upload).await }
            }
        })
        .command("harness.streams", {
            let run = run.clone();
            move || {
                json!({
                    "started": run.stream_started.load(Ordering::SeqCst),
                    "aborted": run.stream_aborted.load(Ordering::SeqCst),
                    "dropped": run.stream_dropped.load(Ordering::SeqCst),
                })
            }
        })
}

/// `stream.limited` (under a maxBytes rule), `stream.guarded` (its hook refuses some
/// metadata) and `stream.slow`.
fn routes(router: Router, cx: &Cx) -> Router {
    let run = &cx.run;
    router
        .stream("stream.limited", {
            let run = run.clone();
            move |upload: Upload| {
                let run = run.clone();
                async move { collect(&run, Value::Null, upload).await }
            }
        })
        .stream("stream.guarded", {
            let run = run.clone();
            move |Args(meta): Args<Value>, upload: Upload| {
                let run = run.clone();
                async move { collect(&run, meta, upload).await }
            }
        })
        // Reads one chunk, then waits: a reload finds it mid-stream.
        .stream("stream.slow", {
            let run = run.clone();
            move |mut upload: Upload| {
                let run = run.clone();
                async move {
                    let _guard = StreamGuard(run.clone());
                    run.stream_started.fetch_add(1, Ordering::SeqCst);
                    while let Some(chunk) = upload.next().await {
                        chunk?;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    std::mem::forget(_guard);
                    Ok::<_, StreamError>(upload.received())
                }
            }
        })
}
