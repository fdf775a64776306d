//! Shared set-up for behaviour tests: the demo app's config, a router whose handlers
//! count their runs, and helpers to seal requests the way the isolation frame does.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use portcullis::envelope::Encoding;
use portcullis::request::{Kind, Request};
use portcullis::{Args, Attested, Config, Gate, HandlerError, Origin, Router, ScopeVars, Sealer};
use serde_json::Value;

pub const APP: &str = "app://localhost";

pub fn origin() -> Origin {
    Origin::parse(APP).unwrap()
}

pub fn demo_config() -> Config {
    let path = Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
        .join("fixtures/configs/valid/demo.json");
    Config::from_json(&std::fs::read_to_string(path).unwrap()).unwrap()
}

pub fn gate() -> Gate {
    Gate::new(
        &demo_config(),
        &ScopeVars::new().with("EXPORTS", std::env::temp_dir()),
    )
    .unwrap()
}

/// Counts how often any handler ran.
#[derive(Clone, Default)]
pub struct Runs(Arc<AtomicUsize>);

impl Runs {
    pub fn get(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
    fn hit(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(serde::Deserialize)]
pub struct AddNote {
    pub title: String,
    pub body: String,
}

pub fn router(runs: &Runs) -> Router {
    let (a, b, c, d) = (runs.clone(), runs.clone(), runs.clone(), runs.clone());
    Router::new()
        .command("notes.list", move || {
            a.hit();
            Ok::<_, HandlerError>(vec!["first"])
        })
        .command("notes.add", move |Args(n): Args<AddNote>| {
            b.hit();
            Ok::<_, HandlerError>(serde_json::json!({"id": 1, "len": n.title.len() + n.body.len()}))
        })
        .command(
            "notes.delete",
            move |_: Args<Value>| -> Result<(), HandlerError> {
                c.hit();
                panic!("deliberate panic in a handler")
            },
        )
        .on_event("note-opened", move |_, _: Value| d.hit())
}

pub fn facts<'a>(label: &'a str, origin: &'a Origin) -> Attested<'a> {
    Attested {
        webview: label,
        origin,
    }
}

/// A fresh page load of `label` and the sealer its isolation frame would hold.
pub fn page(gate: &Gate, label: &str) -> Sealer {
    gate.begin_page_load(label, origin()).unwrap().into_sealer()
}

pub fn command(sealer: &mut Sealer, id: u64, name: &str, args: Value, enc: Encoding) -> Vec<u8> {
    sealer
        .seal(&Request::encode_json(Kind::Command, id, name, &args), enc)
        .unwrap()
}

/// Seals request `kind`/`id`/`name` with JSON `args` in `sealer`'s page load and has the
/// gate decide on it as arriving from `label`: the admitted request, or the code.
pub fn admit_sealed(
    gate: &Gate,
    sealer: &mut Sealer,
    label: &str,
    (kind, id, name): (Kind, u64, &str),
    args: &Value,
) -> Result<portcullis::Admitted, portcullis::ErrorCode> {
    let sealed = sealer
        .seal(
            &Request::encode_json(kind, id, name, args),
            Encoding::Binary,
        )
        .unwrap();
    gate.admit(&sealed, facts(label, &origin()))
        .map_err(|r| r.code)
}
