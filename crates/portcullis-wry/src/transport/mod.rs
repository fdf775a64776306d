//! The transport: how a message from the page reaches the gate and how its answer goes
//! back, the same whichever way the bytes travel. Two ways, chosen when a webview is built
//! (see [`Transport`]):
//! - **native**: the engine's script message handler with replies
//!   (`window.webkit.messageHandlers.portcullisIpc`, WebKitGTK 2.40 and later; see
//!   `engine`): one marked string each way, bytes as standard base64
//!   (`engine/native_form.rs`);
//! - **fetch** ([`http`]): `POST ipc://localhost/`, the answer being its HTTP response.
//!
//! Either way a message is one of two things: a sealed (or, in brownfield mode, plain)
//! envelope for the gate, or a channel pull's text (`pull <id>`, `close <id>`,
//! `done <id>`; PROTOCOL.md §12). Request and answer are paired by the way itself, so even
//! a message refused before decryption gets its error back to the right caller. The
//! webview's label and page load come from Rust, never from the message.
//!
//! wry's own IPC handler (`window.ipc`, and whatever the engine lets other frames reach
//! it by, see `engine`) is not a Portcullis transport, but everything arriving
//! there still goes through the gate, so refusals are audited like any other.

use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use portcullis_core::gate::PullAnswer;
use portcullis_core::router::{CallError, Dispatch, Payload, Response as Reply};
use portcullis_core::wire::{CANCEL_NAME, CHUNK_NAME};
use portcullis_core::{Attested, Cancel, Chunk, ErrorCode, Inbound, Origin, Rejection};
use wry::http::Request;

use crate::Shared;
use crate::profile::Stamps;

pub(crate) mod base64;
pub mod http;

pub use http::{CHANNEL_PATH, INLINE_REPLY};

/// The name of the native handler (`window.webkit.messageHandlers.portcullisIpc`), where the
/// engine has one and it is chosen.
pub const NATIVE_HANDLER: &str = "portcullisIpc";

/// Which way messages travel between the isolation frame (or, in brownfield mode, the
/// bridge) and the gate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// The engine's script message handler with replies, where the engine has one (the
    /// default where it does).
    Native,
    /// `POST ipc://localhost/` (the default where the engine has no native handler).
    Fetch,
}

/// One raw message as the transport saw it, for an observer set with
/// `PortcullisBuilder::observe` (audit tooling and tests). Bodies are sealed in isolation
/// mode, but an observer must still not log them in production.
#[derive(Debug)]
pub struct Observed<'a> {
    /// The webview it came from.
    pub webview: &'a str,
    /// How it arrived.
    pub via: Via,
    /// The raw bytes.
    pub body: &'a [u8],
    /// `None` if the gate admitted it, else the refusal code.
    pub refused: Option<ErrorCode>,
}

/// Where a raw message arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    /// The Portcullis transport (native or fetch): an envelope for the gate.
    Protocol,
    /// wry's IPC handler (`window.ipc`, or the engine's own path to it).
    IpcHandler,
    /// A channel pull, close or notice on the Portcullis transport (not a message to the
    /// gate; `refused` is its refusal when it was refused at once).
    ChannelPull,
}

/// A transport observer.
pub type Observer = Arc<dyn Fn(&Observed<'_>) + Send + Sync>;

/// The answer to one message, before the way it travels back gives it its form.
#[derive(Debug)]
pub(crate) enum Answer {
    /// A JSON result (`null` for events and for what has no result).
    Json(Vec<u8>),
    /// A bytes result (a command's bytes, a channel's frames).
    Bytes(Vec<u8>),
    /// A refusal or a failed call: the code reaches the caller's promise.
    Error(CallError),
}

impl Answer {
    fn of(reply: Reply) -> Self {
        Self::of_result(reply.result)
    }

    fn of_result(result: Result<Payload, CallError>) -> Self {
        match result {
            Ok(Payload::Json(text)) => Answer::Json(text.into_bytes()),
            Ok(Payload::Bytes(bytes)) => Answer::Bytes(bytes),
            Err(e) => Answer::Error(e),
        }
    }

    fn refused(rejection: Rejection) -> Self {
        Answer::Error(CallError::new(rejection.code, rejection.message))
    }
}

/// Sends an [`Answer`] back the way its message came; called once, from any thread.
pub(crate) type Replier = Box<dyn FnOnce(Answer) + Send>;

/// A refusal made by the transport itself (not by the gate): audited by the core, then
/// answered.
pub(crate) fn refuse(shared: &Shared, label: &str, rejection: Rejection, reply: Replier) {
    let origin = shared.pages.origin(label);
    let refusal = shared
        .gate
        .refuse_at_transport(rejection, label, origin.as_ref());
    reply(Answer::refused(refusal));
}

/// An envelope from webview `label`: the gate's decision, then the handler started or
/// the answer sent.
pub(crate) fn envelope(shared: &Arc<Shared>, label: &str, body: Vec<u8>, reply: Replier) {
    // The page's origin as the message arrived, whichever thread decides on it.
    let origin = shared.pages.origin(label);
    if body.len() >= OFF_THREAD && shared.gate.claims_chunk(&body) {
        // A large stream chunk is opened on the decoder thread, not the webviews' one:
        // the next chunk's body is read meanwhile. Only chunks: the stream puts them
        // back in order, while calls and their cancels keep the order they arrived in.
        // When the decoder has two waiting, the chunk is decided here, as before.
        let arrived = shared.pages.generation(label);
        let (moved, label_owned) = (Arc::clone(shared), label.to_owned());
        let job: Job = Box::new(move |inline| {
            // A page load that ended since the chunk arrived is not the one that sent it.
            if !inline && moved.pages.generation(&label_owned) != arrived {
                return reply(Answer::Error(CallError::new(
                    ErrorCode::Cancelled,
                    "the page that sent this chunk went away before it was decided",
                )));
            }
            answer(&moved, &label_owned, origin, body, reply)
        });
        if let Err(job) = decoder().try_send(job) {
            let job = match job {
                TrySendError::Full(job) | TrySendError::Disconnected(job) => job,
            };
            job(true);
        }
        return;
    }
    answer(shared, label, origin, body, reply);
}

/// A chunk's decision, told whether it runs where it arrived (`true`) or on the decoder.
type Job = Box<dyn FnOnce(bool) + Send>;

/// The decoder: one thread of its own (not the handlers' blocking pool, which stream
/// handlers waiting for their next chunk may fill), fed by a queue of two.
fn decoder() -> &'static SyncSender<Job> {
    static DECODER: OnceLock<SyncSender<Job>> = OnceLock::new();
    DECODER.get_or_init(|| {
        let (send, jobs) = sync_channel::<Job>(2);
        let spawned = std::thread::Builder::new()
            .name("portcullis-decoder".into())
            .spawn(move || {
                for job in jobs {
                    job(false);
                }
            });
        if let Err(e) = spawned {
            // Without the thread the queue is disconnected: every chunk is decided
            // where it arrives.
            tracing::warn!(target: "portcullis::transport", "no decoder thread: {e}");
        }
        send
    })
}

/// Stream chunks of at least this many bytes are decrypted and decided off the
/// webviews' thread.
const OFF_THREAD: usize = 256 << 10;

/// The gate's decision on one body and what follows it: the answer now, or the
/// handler started.
fn answer(
    shared: &Arc<Shared>,
    label: &str,
    origin: Option<Origin>,
    body: Vec<u8>,
    reply: Replier,
) {
    let mut stamps = Stamps::start();
    let admitted = match receive(shared, label, origin, body, Via::Protocol) {
        Ok(Inbound::Call(admitted)) => admitted,
        Ok(Inbound::Cancel(cancel)) => return reply(cancelled(shared, &cancel)),
        Ok(Inbound::Chunk(chunk)) => return chunk_in(shared, chunk, reply),
        Err(e) => return reply(Answer::Error(e)),
    };
    stamps.mark();
    let dispatched = shared.router.dispatch(admitted);
    stamps.mark();
    match dispatched {
        // The core audited every refusal in these answers where it made it.
        Dispatch::Ready(done) => reply(Answer::of(done)),
        Dispatch::Stream(work, call) => {
            // The open is answered now: the page may send chunks. The handler's result
            // is the answer to the stream's end.
            reply(Answer::of(call.opened()));
            let Some(key) = call.stream().cloned() else {
                return;
            };
            let limit = call
                .timeout_ms()
                .unwrap_or(shared.gate.limits().call_timeout_ms);
            let timeout = Duration::from_millis(u64::from(limit));
            let shared = Arc::clone(shared);
            shared
                .clone()
                .runtime
                .start(work, call, timeout, move |done| {
                    shared.router.streams().finished(&key, done.result);
                });
        }
        Dispatch::Started(work, call) => {
            let limit = call
                .timeout_ms()
                .unwrap_or(shared.gate.limits().call_timeout_ms);
            let timeout = Duration::from_millis(u64::from(limit));
            shared.runtime.start(work, call, timeout, move |done| {
                stamps.mark();
                reply(Answer::of(done));
                stamps.mark();
                stamps.done();
            });
        }
    }
}

/// A channel pull, close or notice (PROTOCOL.md §12) from webview `label`, served by the
/// core for the webview's current page load; the core audits its refusals.
pub(crate) fn channel(shared: &Arc<Shared>, label: &str, text: &[u8], reply: Replier) {
    let origin = shared.pages.origin(label);
    let refused = shared.gate.pull(
        shared.router.channels(),
        label,
        origin.as_ref(),
        text,
        Box::new(move |pulled| {
            reply(match pulled {
                PullAnswer::Frames(frames) => Answer::Bytes(frames),
                PullAnswer::Taken => Answer::Json(b"null".to_vec()),
                PullAnswer::Refused(e) => Answer::Error(e),
            })
        }),
    );
    observe_pull(shared, label, text, refused);
}

/// Tells the observer, if any, of a channel pull and its refusal at once.
pub(crate) fn observe_pull(shared: &Shared, label: &str, text: &[u8], refused: Option<ErrorCode>) {
    observe(shared, label, Via::ChannelPull, text, refused);
}

/// Tells the observer, if any, of a raw message and its refusal (for a message refused
/// before it reached the gate).
pub(crate) fn observe(
    shared: &Shared,
    label: &str,
    via: Via,
    body: &[u8],
    refused: Option<ErrorCode>,
) {
    if let Some(observe) = &shared.observer {
        observe(&Observed {
            webview: label,
            via,
            body,
            refused,
        });
    }
}

/// A chunk of one of the page load's streams: answered once it is queued for the
/// handler (or, for the end, with the handler's result); the core audits refusals.
fn chunk_in(shared: &Arc<Shared>, chunk: Chunk, reply: Replier) {
    shared.router.chunk(
        chunk,
        Box::new(move |result| reply(Answer::of_result(result))),
    );
}

/// A cancel from a page load: honoured for one of its own calls in flight; anything
/// else is refused with `E_NO_SUCH_CALL` (and audited by the core).
fn cancelled(shared: &Arc<Shared>, cancel: &Cancel) -> Answer {
    match shared.router.cancel(cancel) {
        Ok(()) => Answer::Json(b"null".to_vec()),
        Err(e) => Answer::Error(e),
    }
}

/// Messages that arrive at wry's IPC handler. Portcullis never sends there, so nothing
/// arriving there is dispatched: it goes through the gate (so refusals are audited with
/// their codes), and even a message the gate would admit is refused and audited.
pub fn handle_ipc_message(shared: &Arc<Shared>, label: &str, request: Request<String>) {
    let origin = shared.pages.origin(label);
    if let Ok(inbound) = receive(
        shared,
        label,
        origin,
        request.into_body().into_bytes(),
        Via::IpcHandler,
    ) {
        let name = match &inbound {
            Inbound::Call(admitted) => admitted.request().name.as_str(),
            Inbound::Cancel(_) => CANCEL_NAME,
            Inbound::Chunk(_) => CHUNK_NAME,
        };
        // Audited like every refusal (the app's sink sees it), never dispatched.
        let rejection = Rejection::new(
            ErrorCode::BadRequest,
            format!(
                "{name:?} arrived on wry's IPC handler, which Portcullis never sends to: it answers only on its own transport"
            ),
        );
        let origin = shared.pages.origin(label);
        shared
            .gate
            .refuse_at_transport(rejection, label, origin.as_ref());
    }
}

/// Takes the body: the gate decrypts a binary envelope where it lies. Only an observer
/// needs the raw bytes afterwards, and only then are they copied.
fn receive(
    shared: &Arc<Shared>,
    label: &str,
    origin: Option<Origin>,
    body: Vec<u8>,
    via: Via,
) -> Result<Inbound, CallError> {
    let Some(origin) = origin else {
        let rejection = Rejection::new(
            ErrorCode::NoPageOrigin,
            "this webview has no page loaded from an origin Portcullis understands",
        );
        let refusal = shared.gate.refuse_at_transport(rejection, label, None);
        return Err(CallError::new(refusal.code, refusal.message));
    };
    let facts = Attested {
        webview: label,
        origin: &origin,
    };
    let raw = shared.observer.as_ref().map(|_| body.clone());
    let result = shared.gate.receive_owned(body, facts);
    if let (Some(observe), Some(body)) = (&shared.observer, &raw) {
        observe(&Observed {
            webview: label,
            via,
            body,
            refused: result.as_ref().err().map(|r| r.code),
        });
    }
    result.map_err(|rejection| CallError::new(rejection.code, rejection.message))
}
