//! The routes every run has: the harness's own (`web/harness.js` and the hooks that
//! report for their page), and the sentinels, handlers whose running is the failure.

use std::sync::atomic::Ordering;

use base64::Engine as _;
use portcullis::stream::{StreamError, Upload};
use portcullis::{Args, Caller, HandlerError, Router};
use serde_json::{Value, json};

use super::Cx;
use crate::{Check, UserEvent, lock, send};

/// `harness.scenario` (which page module, which window, which page load),
/// `harness.report` (one check), `harness.captured` (the sealed messages the gate
/// admitted, for replays) and `harness.done`.
pub fn routes(router: Router, cx: &Cx) -> Router {
    let (name, r1, r2, r3) = (cx.name, cx.run.clone(), cx.run.clone(), cx.run.clone());
    let proxy = cx.proxy.clone();
    router
        .command("harness.scenario", move |caller: Caller| {
            Ok::<_, HandlerError>(json!({
                "name": name,
                "label": &*caller.webview,
                "phase": r1.phase.load(Ordering::SeqCst),
            }))
        })
        .command(
            "harness.report",
            move |caller: Caller, Args(check): Args<Check>| {
                lock(&r2.checks).push((caller.webview.to_string(), check));
                Ok::<_, HandlerError>(())
            },
        )
        .command("harness.captured", move || {
            let b64 = base64::engine::general_purpose::STANDARD;
            let list: Vec<Value> = lock(&r3.captured)
                .iter()
                .map(|(w, body)| json!({"webview": w, "body": b64.encode(body)}))
                .collect();
            Ok::<_, HandlerError>(list)
        })
        .command("harness.done", move |caller: Caller| {
            send(&proxy, UserEvent::Done(caller.webview.to_string()));
            Ok::<_, HandlerError>(())
        })
}

/// The canaries (`secret.read`, `secret.stream`, and the commands the Tauri-style hook
/// refuses by renaming them), which the run's checks require never ran, and `probe`,
/// which only a message that reached the isolation frame's hook can run (injected
/// frames must not).
pub fn sentinels(router: Router, cx: &Cx) -> Router {
    let run = &cx.run;
    router
        .command("probe", {
            let run = run.clone();
            move |_: Args<Value>| {
                run.probe.fetch_add(1, Ordering::SeqCst);
                Ok::<_, HandlerError>("probed")
            }
        })
        .command("tauri.inplace", {
            let run = run.clone();
            move |_: Args<Value>| {
                run.canary.fetch_add(1, Ordering::SeqCst);
                Ok::<_, HandlerError>("the Tauri hook refused this by renaming it")
            }
        })
        .command("tauri.async", {
            let run = run.clone();
            move |_: Args<Value>| {
                run.canary.fetch_add(1, Ordering::SeqCst);
                Ok::<_, HandlerError>("the Tauri hook refused this by renaming it")
            }
        })
        .command("secret.read", {
            let run = run.clone();
            move |_: Args<Value>| {
                run.canary.fetch_add(1, Ordering::SeqCst);
                Ok::<_, HandlerError>("the secret")
            }
        })
        // The canary stream: the kinds scenarios' allowlist allows it and their hooks
        // refuse it (or never judge streams), so it runs only if a stream open got past a
        // hook that did not approve it.
        .stream("secret.stream", {
            let run = run.clone();
            move |mut upload: Upload| {
                let run = run.clone();
                async move {
                    run.canary.fetch_add(1, Ordering::SeqCst);
                    while let Some(chunk) = upload.next().await {
                        chunk?;
                    }
                    Ok::<_, StreamError>("the canary stream")
                }
            }
        })
}
