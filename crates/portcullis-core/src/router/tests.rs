//! The router: typed and raw handlers, listeners, panics contained, registration
//! refused when ambiguous.
//!
//! Unit tests only (`#[cfg(test)]`, not compiled into the library): their `unwrap`s run
//! on fixed, valid inputs written here, never on anything a webview sends.

use super::*;
use crate::origin::Origin;
use crate::request::Request;
use serde_json::{Value, json};

fn admitted(name: &str, args: Value) -> Admitted {
    let caller = Caller {
        webview: "main".into(),
        origin: Arc::new(Origin::parse("app://localhost").unwrap()),
        session: None,
        seq: 0,
    };
    let request = Request {
        kind: Kind::Command,
        id: 9,
        name: name.into(),
        body: Body::Json(args),
    };
    let grant = crate::policy::Grant {
        capability: "cap".into(),
        paths: Vec::new(),
    };
    Admitted::new(caller, request, grant)
}

fn run(router: &Router, name: &str, args: Value) -> Result<Payload, CallError> {
    router.dispatch(admitted(name, args)).wait().result
}

#[derive(serde::Deserialize, Serialize)]
struct Note {
    title: String,
}

#[test]
#[should_panic(expected = "registered twice")]
fn a_command_registered_twice_is_refused() {
    let _ = Router::new()
        .command("notes.list", |_: Value| Ok::<_, HandlerError>(1))
        .command_raw("notes.list", |_| Ok(Payload::Json("2".into())));
}

#[test]
#[should_panic(expected = "not a command name")]
fn a_command_no_request_can_name_is_refused() {
    let _ = Router::new().command("notes list", |_: Value| Ok::<_, HandlerError>(1));
}

#[test]
fn distinct_commands_and_several_listeners_register() {
    let router = Router::new()
        .command("notes.list", |_: Value| Ok::<_, HandlerError>(1))
        .command("notes.add", |_: Value| Ok::<_, HandlerError>(2))
        .on_event("note-opened", |_, _: Value| {})
        .on_event("note-opened", |_, _: Value| {});
    assert!(router.has_command("notes.list") && router.has_command("notes.add"));
}

#[test]
fn arguments_reach_value_struct_and_unit_handlers_unchanged() {
    let router = Router::new()
        .command("value", Ok::<Value, HandlerError>)
        .command("note", |n: Note| Ok::<_, HandlerError>(n.title))
        .command("unit", |(): ()| Ok::<_, HandlerError>("none"));
    let tree = json!({"a": [1, {"b": null}], "c": "d"});
    assert_eq!(
        run(&router, "value", tree.clone()),
        Ok(Payload::Json(tree.to_string()))
    );
    assert_eq!(
        run(&router, "note", json!({"title": "t"})),
        Ok(Payload::Json("\"t\"".into()))
    );
    // `{}` is what a call without arguments sends: it fits a handler without any.
    assert_eq!(
        run(&router, "unit", json!({})),
        Ok(Payload::Json("\"none\"".into()))
    );
}

#[test]
fn arguments_that_do_not_fit_are_invalid_args_naming_their_type() {
    let ran = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (r1, r2) = (ran.clone(), ran.clone());
    let router = Router::new()
        .command("note", move |n: Note| {
            r1.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok::<_, HandlerError>(n.title)
        })
        .command("unit", move |(): ()| {
            r2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok::<_, HandlerError>("none")
        });
    for (name, args, kind) in [
        ("note", json!([1]), "array"),
        ("note", json!({}), "object"),
        ("unit", json!({"x": 1}), "object"),
    ] {
        let e = run(&router, name, args).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgs, "{name}");
        assert!(e.message.contains(&format!("({kind})")), "{}", e.message);
    }
    assert_eq!(
        ran.load(std::sync::atomic::Ordering::SeqCst),
        0,
        "a handler ran"
    );
}
