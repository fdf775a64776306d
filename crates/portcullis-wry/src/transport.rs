//! The transport: `POST ipc://localhost/` carries one envelope (binary, sealed by the
//! isolation frame) and its HTTP response carries the reply. Request and reply are paired
//! by the protocol itself, so even a message refused before decryption gets its error
//! back to the right caller.
//!
//! Reply mapping (read by `isolation-app/runtime.js` and the bridge):
//! - `200`, `application/json`: the command's JSON result (`null` for events);
//! - `200`, `application/octet-stream`: the command's bytes result;
//! - `4xx`/`5xx`, `application/json`: `{"code": "E_...", "message": "...", "appCode"?}`.
//!
//! A JSON reply (result or error) of up to [`INLINE_REPLY_MAX`] bytes of printable ASCII
//! also travels in the `Portcullis-Reply` header. The engine hands a page the response
//! headers a task or more before its body, so the isolation frame and the bridge settle
//! the call from the header without waiting for the body (about 45 µs a call here, by
//! the e2e bench's profile). The body carries the same text, for any other reader.
//!
//! wry's own IPC handler (`window.ipc`, and whatever the engine lets other frames reach
//! it by, see `engine`) is not a Portcullis transport, but everything arriving
//! there still goes through the gate, so refusals are audited like any other.

use std::borrow::Cow;
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, OnceLock};

use std::time::Duration;

use portcullis_core::router::{CallError, Dispatch, Payload, Response as Reply};
use portcullis_core::wire::{CANCEL_NAME, CHUNK_NAME};

use portcullis_core::gate::PullAnswer;
use portcullis_core::{Attested, Cancel, Chunk, ErrorCode, Inbound, Kind, Origin, Rejection};
use wry::RequestAsyncResponder;
use wry::http::{Method, Request, Response, StatusCode, header};

use crate::Shared;
use crate::engine::{self, Served};
use crate::profile::Stamps;

type Body = Cow<'static, [u8]>;

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
    /// `POST ipc://localhost/`, the Portcullis transport.
    Protocol,
    /// wry's IPC handler (`window.ipc`, or the engine's own path to it).
    IpcHandler,
    /// `POST ipc://localhost/__portcullis/channel`, a channel pull, close or notice
    /// (not a message to the gate; `refused` is its refusal when it was refused at once).
    ChannelPull,
}

/// A transport observer.
pub type Observer = Arc<dyn Fn(&Observed<'_>) + Send + Sync>;

/// Handles one `ipc://` request from webview `label`, answering through `responder`.
pub fn handle(
    shared: &Arc<Shared>,
    label: &str,
    request: Request<Vec<u8>>,
    responder: RequestAsyncResponder,
) {
    if request.method() == Method::OPTIONS {
        responder.respond(preflight());
        return;
    }
    if request.method() != Method::POST {
        let rejection = Rejection::new(
            ErrorCode::BadMethod,
            format!(
                "the ipc transport takes POST requests carrying a sealed envelope, not {}",
                request.method()
            ),
        );
        let origin = shared.pages.origin(label);
        let refusal = shared
            .gate
            .refuse_at_transport(rejection, label, origin.as_ref());
        responder.respond(error(&CallError::new(refusal.code, refusal.message)));
        return;
    }
    if request.uri().path() == CHANNEL_PATH {
        let refused = if served_here(request.uri()) {
            pull(shared, label, request.body(), responder)
        } else {
            // Only the address the transport serves: a page that made up another host
            // (`ipc://evil/...`) is not asking Portcullis.
            let rejection = Rejection::new(
                ErrorCode::BadRequest,
                format!(
                    "channel pulls are served at {} only",
                    engine::CURRENT.origin(Served::Ipc)
                ),
            );
            let origin = shared.pages.origin(label);
            let refusal = shared
                .gate
                .refuse_at_transport(rejection, label, origin.as_ref());
            responder.respond(error(&CallError::new(refusal.code, refusal.message)));
            Some(refusal.code)
        };
        if let Some(observe) = &shared.observer {
            observe(&Observed {
                webview: label,
                via: Via::ChannelPull,
                body: request.body(),
                refused,
            });
        }
        return;
    }
    let body = request.into_body();
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
                return responder.respond(error(&CallError::new(
                    ErrorCode::Cancelled,
                    "the page that sent this chunk went away before it was decided",
                )));
            }
            answer(&moved, &label_owned, origin, body, responder)
        });
        if let Err(job) = decoder().try_send(job) {
            let job = match job {
                TrySendError::Full(job) | TrySendError::Disconnected(job) => job,
            };
            job(true);
        }
        return;
    }
    answer(shared, label, origin, body, responder);
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
    responder: RequestAsyncResponder,
) {
    let mut stamps = Stamps::start();
    let admitted = match receive(shared, label, origin, body, Via::Protocol) {
        Ok(Inbound::Call(admitted)) => admitted,
        Ok(Inbound::Cancel(cancel)) => return responder.respond(cancelled(shared, &cancel)),
        Ok(Inbound::Chunk(chunk)) => return chunk_in(shared, chunk, responder),
        Err(e) => return responder.respond(error(&e)),
    };
    stamps.mark();
    let dispatched = shared.router.dispatch(admitted);
    stamps.mark();
    match dispatched {
        // The core audited every refusal in these answers where it made it.
        Dispatch::Ready(reply) => responder.respond(reply_response(reply)),
        Dispatch::Stream(work, call) => {
            // The open is answered now: the page may send chunks. The handler's result
            // is the answer to the stream's end.
            responder.respond(reply_response(call.opened()));
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
                .start(work, call, timeout, move |reply| {
                    shared.router.streams().finished(&key, reply.result);
                });
        }
        Dispatch::Started(work, call) => {
            let limit = call
                .timeout_ms()
                .unwrap_or(shared.gate.limits().call_timeout_ms);
            let timeout = Duration::from_millis(u64::from(limit));
            shared.runtime.start(work, call, timeout, move |reply| {
                stamps.mark();
                responder.respond(reply_response(reply));
                stamps.mark();
                stamps.done();
            });
        }
    }
}

/// Where a page pulls a channel's messages (`POST`, body `pull <id>`, `close <id>`, or
/// `done <id>`: the call that carried it was answered).
pub const CHANNEL_PATH: &str = "/__portcullis/channel";

/// Whether `uri` names the host the transport serves, exactly (no other host, no port,
/// no user part).
fn served_here(uri: &wry::http::Uri) -> bool {
    engine::handler_uri_is(Served::Ipc, uri)
}

/// A pull of channel messages (PROTOCOL.md §12), served by the core for the webview's
/// current page load; the core audits its refusals.
fn pull(
    shared: &Arc<Shared>,
    label: &str,
    body: &[u8],
    responder: RequestAsyncResponder,
) -> Option<ErrorCode> {
    let origin = shared.pages.origin(label);
    shared.gate.pull(
        shared.router.channels(),
        label,
        origin.as_ref(),
        body,
        Box::new(move |answer| {
            responder.respond(match answer {
                PullAnswer::Frames(frames) => {
                    content(StatusCode::OK, "application/octet-stream", frames)
                }
                PullAnswer::Taken => json(StatusCode::OK, b"null".to_vec()),
                PullAnswer::Refused(e) => error(&e),
            })
        }),
    )
}

/// A chunk of one of the page load's streams: answered once it is queued for the
/// handler (or, for the end, with the handler's result); the core audits refusals.
fn chunk_in(shared: &Arc<Shared>, chunk: Chunk, responder: RequestAsyncResponder) {
    let stream = chunk.at().stream;
    shared.router.chunk(
        chunk,
        Box::new(move |result| {
            responder.respond(reply_response(Reply {
                request_id: stream,
                kind: Kind::Stream,
                result,
            }))
        }),
    );
}

/// A cancel from a page load: honoured for one of its own calls in flight; anything
/// else is refused with `E_NO_SUCH_CALL` (and audited by the core).
fn cancelled(shared: &Arc<Shared>, cancel: &Cancel) -> Response<Body> {
    match shared.router.cancel(cancel) {
        Ok(()) => json(StatusCode::OK, b"null".to_vec()),
        Err(e) => error(&e),
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
                "{name:?} arrived on wry's IPC handler, which Portcullis never sends to: it answers only on ipc://"
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

/// The header that carries a short JSON reply (see the module's documentation).
pub const INLINE_REPLY: &str = "portcullis-reply";
/// The longest reply that also travels in [`INLINE_REPLY`].
pub const INLINE_REPLY_MAX: usize = 2048;

fn reply_response(reply: Reply) -> Response<Body> {
    match reply.result {
        Ok(Payload::Json(text)) => json(StatusCode::OK, text.into_bytes()),
        Ok(Payload::Bytes(bytes)) => content(StatusCode::OK, "application/octet-stream", bytes),
        Err(e) => error(&e),
    }
}

/// The HTTP status for a code: 4xx for refusals caused by the message, 5xx otherwise.
pub fn status_for(code: ErrorCode) -> StatusCode {
    match code {
        ErrorCode::NotAllowed
        | ErrorCode::Denied
        | ErrorCode::NotGranted
        | ErrorCode::GrantRevoked
        | ErrorCode::OutOfScope => StatusCode::FORBIDDEN,
        ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::BadMethod => StatusCode::METHOD_NOT_ALLOWED,
        ErrorCode::UnknownCommand | ErrorCode::NoSuchCall => StatusCode::NOT_FOUND,
        ErrorCode::Timeout => StatusCode::GATEWAY_TIMEOUT,
        ErrorCode::Cancelled => StatusCode::CONFLICT,
        ErrorCode::Handler | ErrorCode::HandlerPanicked | ErrorCode::Internal => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::BAD_REQUEST,
    }
}

fn error(e: &CallError) -> Response<Body> {
    let body = serde_json::to_vec(e).unwrap_or_default();
    json(status_for(e.code), body)
}

/// A JSON reply: in the body, and in the header too when it is short printable ASCII
/// (a header value can hold nothing else as it is; longer or other text is read from the
/// body).
fn json(status: StatusCode, text: Vec<u8>) -> Response<Body> {
    let printable = text.len() <= INLINE_REPLY_MAX && text.iter().all(|b| (0x20..0x7f).contains(b));
    let value = match std::str::from_utf8(&text) {
        Ok(value) if printable => value.to_owned(),
        _ => return content(status, "application/json", text),
    };
    response(
        status,
        &[
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
            (header::ACCESS_CONTROL_EXPOSE_HEADERS, INLINE_REPLY),
            (header::HeaderName::from_static(INLINE_REPLY), &value),
        ],
        Cow::Owned(text),
    )
}

/// A reply that carries a body: typed, and never cached.
fn content(status: StatusCode, mime: &str, body: Vec<u8>) -> Response<Body> {
    response(
        status,
        &[
            (header::CONTENT_TYPE, mime),
            (header::CACHE_CONTROL, "no-store"),
        ],
        Cow::Owned(body),
    )
}

fn preflight() -> Response<Body> {
    response(
        StatusCode::NO_CONTENT,
        &[
            (header::ACCESS_CONTROL_ALLOW_METHODS, "POST"),
            (header::ACCESS_CONTROL_MAX_AGE, "600"),
        ],
        Cow::Borrowed(&b""[..]),
    )
}

/// Every response of the transport: `status`, `headers`, and CORS open to any origin
/// (the isolation frame posts from an opaque one).
fn response(
    status: StatusCode,
    headers: &[(header::HeaderName, &str)],
    body: Body,
) -> Response<Body> {
    let mut builder = Response::builder()
        .status(status)
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    for (name, value) in headers {
        builder = builder.header(name, *value);
    }
    builder
        .body(body)
        .unwrap_or_else(|_| Response::new(Cow::Borrowed(&b""[..])))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_pulls_are_served_at_the_transports_host_only() {
        let served = |uri: &str| served_here(&uri.parse().unwrap());
        assert!(served("ipc://localhost/__portcullis/channel"));
        for other in [
            "ipc://evil/__portcullis/channel",
            "ipc://localhost.evil/__portcullis/channel",
            "ipc://localhost:8080/__portcullis/channel",
            "ipc://user@localhost/__portcullis/channel",
            "ipc://evil@localhost/__portcullis/channel",
            "/__portcullis/channel",
        ] {
            assert!(!served(other), "{other}");
        }
    }

    fn headers(response: &Response<Body>) -> Vec<(String, String)> {
        let mut all: Vec<_> = response
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
            .collect();
        all.sort();
        all
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn a_result_is_typed_uncached_and_open_to_the_opaque_frame() {
        let response = content(StatusCode::OK, "application/octet-stream", vec![1, 2]);
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.body().as_ref(), [1, 2]);
        assert_eq!(
            headers(&response),
            pairs(&[
                ("access-control-allow-origin", "*"),
                ("cache-control", "no-store"),
                ("content-type", "application/octet-stream"),
            ])
        );
    }

    #[test]
    fn an_error_is_json_with_the_status_for_its_code() {
        let response = error(&CallError::new(ErrorCode::NotAllowed, "no"));
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(body["code"], "E_NOT_ALLOWED");
        let text = String::from_utf8(response.body().to_vec()).unwrap();
        assert_eq!(
            headers(&response),
            pairs(&[
                ("access-control-allow-origin", "*"),
                ("access-control-expose-headers", INLINE_REPLY),
                ("cache-control", "no-store"),
                ("content-type", "application/json"),
                (INLINE_REPLY, &text),
            ])
        );
    }

    #[test]
    fn a_short_ascii_json_reply_travels_in_the_header_too_and_nothing_else_does() {
        let inline = |response: &Response<Body>| {
            response
                .headers()
                .get(INLINE_REPLY)
                .map(|v| v.to_str().unwrap().to_owned())
        };
        let short = json(StatusCode::OK, br#"{"a":"b \"c\""}"#.to_vec());
        assert_eq!(inline(&short).as_deref(), Some(r#"{"a":"b \"c\""}"#));
        assert_eq!(short.body().as_ref(), br#"{"a":"b \"c\""}"#);
        let longest = format!("\"{}\"", "x".repeat(INLINE_REPLY_MAX - 2));
        assert!(inline(&json(StatusCode::OK, longest.clone().into_bytes())).is_some());
        // Too long, not ASCII, a control character: the body alone.
        let too_long = format!("\"{}\"", "x".repeat(INLINE_REPLY_MAX - 1));
        for text in [too_long, "\"é\"".to_owned(), "\"\t\"".to_owned()] {
            let response = json(StatusCode::OK, text.clone().into_bytes());
            assert_eq!(inline(&response), None, "{text}");
            assert_eq!(response.body().as_ref(), text.as_bytes());
            assert!(
                !response
                    .headers()
                    .contains_key(header::ACCESS_CONTROL_EXPOSE_HEADERS)
            );
        }
        // Bytes never do.
        let bytes = reply_response(Reply {
            request_id: 1,
            kind: Kind::Command,
            result: Ok(Payload::Bytes(b"null".to_vec())),
        });
        assert_eq!(inline(&bytes), None);
    }

    #[test]
    fn the_preflight_allows_post_only_and_has_no_body() {
        let response = preflight();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert!(response.body().is_empty());
        assert_eq!(
            headers(&response),
            pairs(&[
                ("access-control-allow-methods", "POST"),
                ("access-control-allow-origin", "*"),
                ("access-control-max-age", "600"),
            ])
        );
    }
}
