//! `canonical` (`web/scenarios/canonical.js`): the hook sees exactly what is sealed.
//! Values JSON would change are refused before the hook; for each legitimate twin the
//! handler checks, in Rust, that it received only what its hook allows.

use portcullis::{Args, HandlerError, Router};
use serde_json::Value;

use super::{Cx, app};
use crate::{DEFAULTS, Run, Scenario, lock};

pub const CANONICAL: Scenario = Scenario {
    name: "canonical",
    audit_codes: &["E_BAD_REQUEST", "E_TOO_DEEP", "E_HOOK_REJECTED"],
    audit_names: &[
        ("E_BAD_REQUEST", "guarded.role"),
        ("E_HOOK_REJECTED", "guarded.role"),
        ("E_BAD_REQUEST", "canon.returns"),
        ("E_HOOK_REJECTED", "canon.returns"),
        ("E_TOO_LARGE", "canon.sink"),
    ],
    min_checks: 70,
    routes: &[app::echo, routes],
    ..DEFAULTS
};

/// A handler behind a careful hook: `allowed` is the hook's own rule, in Rust. A value it
/// refuses reached the handler only if the hook saw something else than what was sealed.
fn guarded(
    run: &Run,
    name: &str,
    args: Value,
    allowed: impl Fn(&Value) -> bool,
) -> Result<Value, HandlerError> {
    if !allowed(&args) {
        lock(&run.breaches).push(format!("{name} received {args}"));
    }
    Ok(args)
}

/// `canon.sink` and `canon.returns` (the arguments back), and the `guarded.*` handlers,
/// each with its hook's rule.
fn routes(router: Router, cx: &Cx) -> Router {
    let run = &cx.run;
    router
        .command("canon.sink", |Args(v): Args<Value>| v)
        .command("canon.returns", |Args(v): Args<Value>| v)
        .command("guarded.role", {
            let run = run.clone();
            move |Args(args): Args<Value>| {
                guarded(&run, "guarded.role", args, |a| a["role"] != "admin")
            }
        })
        .command("guarded.count", {
            let run = run.clone();
            move |Args(args): Args<Value>| {
                guarded(&run, "guarded.count", args, |a| {
                    a["n"].as_f64().is_some_and(|n| n >= 0.0)
                })
            }
        })
        .command("guarded.items", {
            let run = run.clone();
            move |Args(args): Args<Value>| {
                guarded(&run, "guarded.items", args, |a| {
                    a["items"]
                        .as_array()
                        .is_some_and(|items| items.iter().all(Value::is_string))
                })
            }
        })
        .command("guarded.confirm", {
            let run = run.clone();
            move |Args(args): Args<Value>| {
                guarded(&run, "guarded.confirm", args, |a| {
                    a.get("confirm").is_some()
                })
            }
        })
        .command("guarded.small", {
            let run = run.clone();
            move |Args(args): Args<Value>| {
                guarded(&run, "guarded.small", args, |a| {
                    a["n"].as_u64().is_none_or(|n| n <= 1 << 60)
                        && a["n"].as_f64().is_some_and(|n| n <= (1u64 << 60) as f64)
                })
            }
        })
}
