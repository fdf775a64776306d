//! Routes many pages call, as an app's plain commands: each scenario names the groups
//! it takes.

use std::time::Duration;

use portcullis::emit::EmitTarget;
use portcullis::{Args, Bytes, HandlerError, Router};
use serde_json::Value;

use super::Cx;

/// `echo` (the arguments back), `echo.bytes` (the bytes reversed) and `hook.rewrite`
/// (what a hook rewrote the arguments to).
pub fn echo(router: Router, _: &Cx) -> Router {
    router
        .command("echo", |Args(v): Args<Value>| v)
        .command("hook.rewrite", |Args(v): Args<Value>| v)
        .command("echo.bytes", |Bytes(b): Bytes| {
            b.into_iter().rev().collect::<Vec<u8>>()
        })
}

/// `slow.echo` (50 ms) and `slow.sleep` (1.5 s): async handlers still running when the
/// page moves on.
pub fn slow(router: Router, _: &Cx) -> Router {
    router
        .command("slow.echo", || async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Ok::<_, HandlerError>("slow")
        })
        .command("slow.sleep", |_: Args<Value>| async {
            tokio::time::sleep(Duration::from_millis(1500)).await;
            Ok::<_, HandlerError>("late")
        })
}

/// `fail` (an app error with its code) and `boom` (a handler that panics).
pub fn failing(router: Router, _: &Cx) -> Router {
    router
        .command("fail", |_: Args<Value>| {
            Err::<(), _>(HandlerError::with_code("NOPE", "the handler said no"))
        })
        .command("boom", |_: Args<Value>| -> Result<(), HandlerError> {
            panic!("deliberate panic in an e2e handler")
        })
}

/// The `ping` event, answered with a `pong` event to the webview that sent it.
pub fn ping(router: Router, cx: &Cx) -> Router {
    let emitter = cx.emitter.clone();
    router.on_event("ping", move |caller, payload: Value| {
        let _ = emitter.emit(EmitTarget::Webview(&caller.webview), "pong", &payload);
    })
}
