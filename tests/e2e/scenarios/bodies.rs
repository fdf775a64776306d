//! `bodies` (`web/scenarios/bodies.js`): no message comes to the transport cut, and no
//! request body can crash the app.
//!
//! Why either could: on Linux, wry reads a custom-scheme request's body only with its
//! `linux-body` feature, in 1 KiB reads on the GTK thread that stop at the first short
//! read (wry 0.57.1, `src/webkitgtk/web_context.rs`), so a body handed over in pieces
//! could come cut; and with WebKitGTK 2.50.6 the call it starts with,
//! `webkit_uri_scheme_request_get_http_body`, dies with SIGSEGV in the app's process
//! when the body is a `Blob` (of one part or several, of any size): any script that may
//! fetch a custom scheme could end the app. So portcullis-wry builds wry without
//! `linux-body`: no request body is ever read on this engine, and messages travel the
//! native handler's way or, by fetch, in the `Portcullis-Body` request header.
//!
//! The page sends, of many sizes (0, 1, the 1 KiB, 4 KiB and 64 KiB boundaries and their
//! neighbours, up to 4 MiB, and seeded random ones):
//! - raw `POST ipc://localhost/` bodies in every shape the engine could split (a
//!   `Uint8Array`, a view with an offset, an `ArrayBuffer`, a `DataView`, a string, a
//!   `Blob` of one part and of several, nested blobs among them, and a `ReadableStream`
//!   where the engine takes one): the transport observer must see every one empty, and
//!   the app must be alive to run the next check;
//! - raw messages the two ways the transport takes them (the request header; the native
//!   handler, when chosen), both base64: each read whole up to `limits.maxMessageBytes`,
//!   each larger one refused `E_TOO_LARGE` (before decoding when its text cannot fit);
//! - the native warm-up (`W` alone), answered `=null` and seen by nobody;
//! - the real isolated path: `invoke` with a bytes argument (its sizes aimed so the
//!   sealed envelope lands on the boundaries exactly) and `openStream` chunks of many
//!   sizes and shapes.
//!
//! Every message is compared by length and FNV-1a (32-bit) hash with what the page sent.

use portcullis::stream::{StreamError, Upload};
use portcullis::{Bytes, Router};
use serde_json::{Value, json};

use super::Cx;
use crate::{DEFAULTS, Scenario, lock};

pub const BODIES: Scenario = Scenario {
    name: "bodies",
    min_checks: 20,
    routes: &[routes],
    ..DEFAULTS
};

/// FNV-1a, 32 bits (the page computes the same).
pub fn fnv1a(bytes: &[u8], mut hash: u32) -> u32 {
    for b in bytes {
        hash ^= u32::from(*b);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    hash
}

/// FNV-1a's starting value.
pub const FNV_START: u32 = 0x811c_9dc5;

/// `body.digest` (a bytes argument's length and hash), `body.stream` (a stream's) and
/// `body.seen` (every body the transport read since the last `body.seen`).
fn routes(router: Router, cx: &Cx) -> Router {
    let run = cx.run.clone();
    router
        .command(
            "body.digest",
            |Bytes(b): Bytes| json!({ "len": b.len(), "hash": fnv1a(&b, FNV_START) }),
        )
        .stream("body.stream", move |mut upload: Upload| async move {
            let (mut len, mut hash, mut chunks) = (0usize, FNV_START, 0u32);
            while let Some(chunk) = upload.next().await {
                let chunk = chunk?;
                len += chunk.len();
                hash = fnv1a(&chunk, hash);
                chunks += 1;
            }
            Ok::<_, StreamError>(json!({ "len": len, "hash": hash, "chunks": chunks }))
        })
        .command("body.seen", move || {
            let seen: Vec<Value> = lock(&run.bodies)
                .drain(..)
                .map(|(len, hash, refused)| json!({ "len": len, "hash": hash, "refused": refused }))
                .collect();
            Value::Array(seen)
        })
}
