//! `codes` (`web/scenarios/codes.js`): every refusal code a page can meet, each where it
//! arises, and what reaches the audit log (never an argument value).

use portcullis::{Args, HandlerError, Router};
use serde_json::Value;

use super::{Cx, app, handlers};
use crate::{DEFAULTS, Scenario};

pub const CODES: Scenario = Scenario {
    name: "codes",
    audit_codes: &[
        "E_NOT_ALLOWED",
        "E_DENIED",
        "E_INVALID_ARGS",
        "E_OUT_OF_SCOPE",
        "E_TOO_DEEP",
        "E_TOO_LARGE",
        "E_UNSEALED",
        "E_MALFORMED",
        "E_REPLAY",
        "E_UNSUPPORTED_VERSION",
        "E_BAD_NONCE",
        "E_UNKNOWN_SESSION",
        "E_TAMPERED",
        "E_STALE",
        "E_BAD_METHOD",
    ],
    min_checks: 43,
    // Refusals made outside the gate reach the audit too: the isolation frame's (hook,
    // timeout, bad request, reported sealed) and the router's.
    audit_names: &[
        ("E_HOOK_REJECTED", "hook.throw"),
        ("E_HOOK_REJECTED", "hook.false"),
        ("E_HOOK_TIMEOUT", "hook.hang"),
        ("E_BAD_REQUEST", "-"),
        ("E_INVALID_ARGS", "tokio.files"),
        ("E_INVALID_ARGS", "counter.add"),
        ("E_UNKNOWN_COMMAND", "unregistered.cmd"),
    ],
    // `counter.add` and `tokio.files` (the handlers scenario's) with arguments their
    // types refuse.
    routes: &[app::echo, app::slow, app::failing, handlers::routes, routes],
    ..DEFAULTS
};

/// `echo.strict` (its rule's schema refuses the page's arguments before it runs) and
/// `fs.read` (its path scope refuses every path the page gives it).
fn routes(router: Router, _: &Cx) -> Router {
    router
        .command("echo.strict", |Args(v): Args<Value>| v)
        .command("fs.read", |_: Args<Value>| {
            Ok::<_, HandlerError>("never reached")
        })
}
