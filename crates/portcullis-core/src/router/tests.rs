//! The router: one handler shape with extractors, typed errors, the table's mistakes
//! refused at check, panics contained, calls cancellable by their own page load.
//!
//! Unit tests only (`#[cfg(test)]`, not compiled into the library): their `unwrap`s run
//! on fixed, valid inputs written here, never on anything a webview sends.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use super::*;
use crate::origin::Origin;
use crate::policy::Admitted;
use crate::wire::request::{ByteBody, JsonText, Request};
use serde::Serialize;
use serde_json::{Value, json};

fn caller() -> Caller {
    Caller {
        webview: "main".into(),
        origin: Arc::new(Origin::parse("app://localhost").unwrap()),
        session: None,
        seq: 0,
    }
}

fn admitted_with(name: &str, body: Body, paths: Vec<(String, std::path::PathBuf)>) -> Admitted {
    let request = Request {
        kind: Kind::Command,
        id: 9,
        name: name.into(),
        body,
    };
    let grant = crate::policy::Admission {
        capability: "cap".into(),
        paths,
        timeout_ms: None,
        max_bytes: None,
        holds: Default::default(),
    };
    Admitted::new(caller(), request, grant, Default::default())
}

fn run(router: &Router, name: &str, args: Value) -> Result<Payload, CallError> {
    router
        .dispatch(admitted_with(
            name,
            Body::Json(JsonText::from_value(&args).unwrap()),
            Vec::new(),
        ))
        .wait()
        .result
}

fn json(text: &str) -> Result<Payload, CallError> {
    Ok(Payload::Json(text.into()))
}

#[derive(serde::Deserialize, Serialize)]
struct Note {
    title: String,
}

#[test]
fn a_command_registered_twice_is_a_mistake_the_check_reports_and_nothing_is_served() {
    let router = Router::new()
        .command("notes.list", || 1)
        .command("notes.list", || 2);
    let errors = router.check().unwrap_err();
    assert!(errors.to_string().contains("registered twice"), "{errors}");
    let e = run(&router, "notes.list", json!({})).unwrap_err();
    assert_eq!(e.code, ErrorCode::Internal);
    // Twin: one registration is served.
    let router = Router::new().command("notes.list", || 1);
    assert_eq!(router.check(), Ok(()));
    assert_eq!(run(&router, "notes.list", json!({})), json("1"));
}

#[test]
fn names_no_request_can_carry_state_never_registered_and_two_body_takers_are_mistakes() {
    struct Db;
    let router = Router::new()
        .command("notes list", || 1)
        .command("notes.get", |_: State<Db>| 1)
        .command("notes.both", |_: Args<Value>, _: Bytes| 1)
        .state(5u8)
        .state(6u8);
    let errors = router.check().unwrap_err().0;
    assert_eq!(errors.len(), 4, "{errors:?}");
    assert!(errors[0].contains("not a command name"), "{errors:?}");
    assert!(errors[1].contains("takes the body twice"), "{errors:?}");
    assert!(
        errors[2].contains("state of type u8 is registered twice"),
        "{errors:?}"
    );
    assert!(
        errors[3].contains("State<") && errors[3].contains("Db"),
        "{errors:?}"
    );
}

#[test]
fn sync_and_async_handlers_of_any_extractors_in_any_order() {
    struct Counter(AtomicUsize);
    let router = Router::new()
        .state(Counter(AtomicUsize::new(0)))
        .command("none", || "none")
        .command("value", |Args(v): Args<Value>| v)
        .command("note", |Args(n): Args<Note>| n.title)
        .command(
            "count",
            |c: State<Counter>, who: Caller, Args(n): Args<u32>| {
                c.0.fetch_add(n as usize, Ordering::SeqCst);
                format!("{}:{}", who.webview, c.0.load(Ordering::SeqCst))
            },
        )
        .command(
            "count.async",
            |Args(n): Args<u32>, c: State<Counter>| async move {
                c.0.fetch_add(n as usize, Ordering::SeqCst);
                Ok::<_, HandlerError>(c.0.load(Ordering::SeqCst))
            },
        )
        .command("token", |t: CancellationToken| !t.is_cancelled());
    assert_eq!(router.check(), Ok(()));
    let tree = json!({"a": [1, {"b": null}], "c": "d"});
    assert_eq!(run(&router, "value", tree.clone()), json(&tree.to_string()));
    assert_eq!(run(&router, "note", json!({"title": "t"})), json("\"t\""));
    // `{}` is what a call without arguments sends: it fits a handler without any.
    assert_eq!(run(&router, "none", json!({})), json("\"none\""));
    assert_eq!(run(&router, "count", json!(2)), json("\"main:2\""));
    assert_eq!(run(&router, "count.async", json!(3)), json("5"));
    assert_eq!(run(&router, "token", json!({})), json("true"));
}

#[test]
fn bytes_in_and_out_and_scoped_paths_reach_the_handler() {
    let router = Router::new()
        .command("reverse", |Bytes(mut b): Bytes| {
            b.reverse();
            b
        })
        .command("read", |paths: Scoped| {
            paths.get("/path").map(|p| p.display().to_string())
        })
        .command("typed", || Ok::<_, HandlerError>(Bytes(vec![7])));
    let body = Body::Bytes(ByteBody::for_tests(vec![1, 2, 3]));
    let reply = router
        .dispatch(admitted_with("reverse", body, Vec::new()))
        .wait();
    assert_eq!(
        reply.result,
        Ok(Payload::Bytes(vec![3, 2, 1])),
        "Vec<u8> is sent as bytes"
    );
    assert_eq!(
        run(&router, "typed", json!({})),
        Ok(Payload::Bytes(vec![7]))
    );
    let paths = vec![("/path".to_owned(), "/data/exports/a.md".into())];
    let reply = router
        .dispatch(admitted_with(
            "read",
            Body::Json(JsonText::from_value(&json!({"path": "a.md"})).unwrap()),
            paths,
        ))
        .wait();
    // A handler reading only `Scoped` takes no `Args`: the arguments the policy admitted
    // (the path is in them) are not refused for that (#31).
    assert_eq!(
        reply.result,
        Ok(Payload::Json(r#""/data/exports/a.md""#.to_owned()))
    );
    // Taking the arguments as well changes nothing.
    let router = Router::new().command("read", |paths: Scoped, _: Args<Value>| {
        paths.get("/path").map(|p| p.display().to_string())
    });
    let paths = vec![("/path".to_owned(), "/data/exports/a.md".into())];
    let reply = router
        .dispatch(admitted_with(
            "read",
            Body::Json(JsonText::from_value(&json!({"path": "a.md"})).unwrap()),
            paths,
        ))
        .wait();
    assert_eq!(reply.result, json("\"/data/exports/a.md\""));
}

#[test]
fn arguments_that_do_not_fit_are_invalid_args_and_no_handler_runs() {
    let ran = Arc::new(AtomicUsize::new(0));
    let (r1, r2, r3) = (ran.clone(), ran.clone(), ran.clone());
    let router = Router::new()
        .command("note", move |Args(n): Args<Note>| {
            r1.fetch_add(1, Ordering::SeqCst);
            n.title
        })
        .command("none", move || {
            r2.fetch_add(1, Ordering::SeqCst);
            "none"
        })
        .command("bytes", move |_: Bytes| {
            r3.fetch_add(1, Ordering::SeqCst);
            1
        });
    for (name, args, needle) in [
        ("note", json!([1]), "(array)"),
        ("note", json!({}), "(object)"),
        ("bytes", json!({"x": 1}), "takes bytes"),
    ] {
        let e = run(&router, name, args).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidArgs, "{name}");
        assert!(e.message.contains(needle), "{}", e.message);
    }
    assert_eq!(ran.load(Ordering::SeqCst), 0, "a handler ran");
    // A handler that takes no arguments ignores the ones the policy admitted (#31).
    assert_eq!(
        run(&router, "none", json!({"x": 1})),
        Ok(Payload::Json(r#""none""#.to_owned()))
    );
    assert_eq!(ran.load(Ordering::SeqCst), 1);
}

/// An app's error type, written as with thiserror: `Display`, and `AppError` for its
/// code and data.
#[derive(Debug)]
enum NotesError {
    NotFound(u32),
    Io(std::io::Error),
}

impl fmt::Display for NotesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NotesError::NotFound(id) => write!(f, "note {id} does not exist"),
            NotesError::Io(e) => write!(f, "storage failed: {e}"),
        }
    }
}

impl From<std::io::Error> for NotesError {
    fn from(e: std::io::Error) -> Self {
        NotesError::Io(e)
    }
}

impl AppError for NotesError {
    fn app_code(&self) -> Option<String> {
        Some(match self {
            NotesError::NotFound(_) => "NOT_FOUND".into(),
            NotesError::Io(_) => "IO".into(),
        })
    }
    fn data(&self) -> Option<Value> {
        match self {
            NotesError::NotFound(id) => Some(json!({ "id": id })),
            NotesError::Io(_) => None,
        }
    }
}

#[test]
fn typed_errors_travel_through_question_mark_with_code_and_data() {
    fn open(Args(id): Args<u32>) -> Result<String, NotesError> {
        if id == 0 {
            Err(std::io::Error::other("disk gone"))?;
        }
        Err(NotesError::NotFound(id))
    }
    let router = Router::new()
        .command("open", open)
        .command("plain", || -> Result<u8, HandlerError> {
            Err(HandlerError::with_code("C", "m").data(json!([1])))
        });
    let e = run(&router, "open", json!(4)).unwrap_err();
    assert_eq!(
        (e.code, e.app_code.as_deref(), e.data, e.message.as_str()),
        (
            ErrorCode::Handler,
            Some("NOT_FOUND"),
            Some(json!({"id": 4})),
            "note 4 does not exist"
        )
    );
    let e = run(&router, "open", json!(0)).unwrap_err();
    assert_eq!((e.app_code.as_deref(), e.data), (Some("IO"), None));
    let e = run(&router, "plain", json!({})).unwrap_err();
    assert_eq!(
        (e.app_code.as_deref(), e.data.clone()),
        (Some("C"), Some(json!([1])))
    );
    let wire = serde_json::to_value(&e).unwrap();
    assert_eq!(
        wire,
        json!({"code": "E_HANDLER", "message": "m", "appCode": "C", "data": [1]})
    );
}

#[test]
fn a_panicking_handler_is_contained_sync_or_async() {
    let router = Router::new()
        .command("sync", || -> u8 { panic!("boom") })
        .command("async", || async { panic!("boom") as u8 });
    for name in ["sync", "async"] {
        let e = run(&router, name, json!({})).unwrap_err();
        assert_eq!(e.code, ErrorCode::HandlerPanicked, "{name}");
    }
    assert_eq!(router.in_flight(), 0);
}

/// A result whose serialization panics (an app's own `Serialize` impl).
struct Explodes;

impl serde::Serialize for Explodes {
    fn serialize<S: serde::Serializer>(&self, _: S) -> Result<S::Ok, S::Error> {
        panic!("boom in serialize")
    }
}

#[test]
fn a_panic_while_a_result_becomes_a_reply_is_contained_sync_or_async() {
    let router = Router::new()
        .command("sync", || Explodes)
        .command("async", || async { Explodes })
        .command("fine", || async { 1 });
    for name in ["sync", "async"] {
        let e = run(&router, name, json!({})).unwrap_err();
        assert_eq!(e.code, ErrorCode::HandlerPanicked, "{name}");
    }
    assert_eq!(router.in_flight(), 0);
    // Twin: a result that serializes is the reply.
    assert_eq!(run(&router, "fine", json!({})), json("1"));
}

#[test]
fn a_started_call_is_in_flight_until_it_finishes_and_its_id_names_one_call() {
    let router = Router::new().command("slow", || 1);
    let started = router.dispatch(admitted_with(
        "slow",
        Body::Json(JsonText::from_value(&json!({})).unwrap()),
        Vec::new(),
    ));
    assert_eq!(router.in_flight(), 1);
    let again = router
        .dispatch(admitted_with(
            "slow",
            Body::Json(JsonText::from_value(&json!({})).unwrap()),
            Vec::new(),
        ))
        .wait();
    assert_eq!(again.result.unwrap_err().code, ErrorCode::BadRequest);
    assert_eq!(started.wait().result, json("1"));
    assert_eq!(router.in_flight(), 0);
    // Twin: the id is free again.
    assert_eq!(run(&router, "slow", json!({})), json("1"));
}

#[test]
fn a_page_going_away_cancels_its_running_calls() {
    let seen = Arc::new(Mutex::new(None));
    let s = seen.clone();
    let router = Router::new().command("wait", move |t: CancellationToken| {
        *s.lock().unwrap() = Some(t.is_cancelled());
    });
    let started = router.dispatch(admitted_with(
        "wait",
        Body::Json(JsonText::from_value(&json!({})).unwrap()),
        Vec::new(),
    ));
    assert_eq!(router.cancel_webview("settings"), 0);
    assert_eq!(router.cancel_webview("main"), 1);
    started.wait();
    assert_eq!(
        *seen.lock().unwrap(),
        Some(true),
        "the handler saw its token cancelled"
    );
}
