//! The set-up that `benches/gate.rs` (criterion, time) and `benches/callgrind.rs`
//! (instruction counts) share, so that both measure the same gate, rule, handler and
//! payload: the bench config with its `notes.add` schema rule, a handler taking
//! `Args<Note>`, the 200 B arguments, and the transport's path (`Gate::admit_owned`, then
//! dispatch).
//!
//! Only names at the root of the facade, which a refactor of the core keeps: the gate's
//! AEAD backend is chosen by the caller, which builds the `Gate`.

use std::hint::black_box;

use portcullis::{
    Attested, Config, Gate, HandlerError, Kind, Origin, Request, Response, Router, Sealer,
};
use serde_json::{Value, json};

/// The one origin of the bench's page load.
pub const ORIGIN: &str = "app://localhost";

/// The bench config.
pub fn config() -> Config {
    config_with(false)
}

/// The bench config; with `runtime`, its capability is granted at run time only
/// (`"runtimeGrant": true`) and covers a second window too, which a writer can grant and
/// revoke while `main` sends.
pub fn config_with(runtime: bool) -> Config {
    let mut text = json!({"app": {"security": {
        "pattern": {"use": "isolation", "options": {"dir": "isolation-app"}},
        "capabilities": [{
            "identifier": "bench", "windows": ["main"], "origins": [ORIGIN],
            "commands": {"allow": [
                {"name": "notes.add", "schema": {
                    "type": "object", "required": ["title", "body"], "additionalProperties": false,
                    "properties": {"title": {"type": "string", "maxLength": 200}, "body": {"type": "string"}}}},
                {"name": "blob.put", "bytes": true}
            ]}
        }],
        "limits": {"maxMessageBytes": 4194304, "replayWindow": 65536}
    }}});
    if runtime {
        let cap = &mut text["app"]["security"]["capabilities"][0];
        cap["runtimeGrant"] = json!(true);
        cap["windows"] = json!(["main", "other"]);
    }
    Config::from_json(&text.to_string()).unwrap()
}

/// The arguments of the 200 B case (`json-200B`): `notes.add`'s JSON text.
pub fn note_args() -> String {
    json!({"title": "groceries", "body": "x".repeat(170)}).to_string()
}

/// Our plaintext for a JSON call of `notes.add`: the request framing of PROTOCOL.md §2
/// around the arguments.
pub fn json_plaintext(args: &str) -> Vec<u8> {
    let value: Value = serde_json::from_str(args).unwrap();
    Request::encode_json(Kind::Command, 1, "notes.add", &value)
}

/// The arguments of `notes.add`, as a handler takes them: a type of its own.
#[derive(serde::Deserialize)]
pub struct Note {
    #[allow(dead_code)]
    title: String,
    body: String,
}

/// Our side: a gate with one page load in webview `main`, and no-op handlers.
pub struct Ours {
    pub gate: Gate,
    router: Router,
    origin: Origin,
}

impl Ours {
    /// Opens a page load in webview `main` on `gate`; gives the sealer of that page load.
    pub fn from_gate(gate: Gate) -> (Ours, Sealer) {
        let origin = Origin::parse(ORIGIN).unwrap();
        let sealer = gate
            .begin_page_load("main", origin.clone())
            .unwrap()
            .into_sealer();
        let router = Router::new()
            .command("notes.add", |note: portcullis::Args<Note>| {
                black_box(&note.body);
                Ok::<_, HandlerError>(())
            })
            .command("blob.put", |_: portcullis::Bytes| ());
        (
            Ours {
                gate,
                router,
                origin,
            },
            sealer,
        )
    }

    /// What the transport does with a body: `admit_owned`, then dispatch (a sync handler
    /// runs inline).
    pub fn admit_and_dispatch(&self, msg: Vec<u8>) {
        black_box(self.call(msg));
    }

    /// [`Ours::admit_and_dispatch`], giving the handler's response.
    pub fn call(&self, msg: Vec<u8>) -> Response {
        let facts = Attested {
            webview: "main",
            origin: &self.origin,
        };
        let admitted = self.gate.admit_owned(black_box(msg), facts).unwrap();
        self.router.dispatch(admitted).wait()
    }
}
