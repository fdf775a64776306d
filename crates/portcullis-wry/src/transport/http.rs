//! The fetch way: `POST ipc://localhost/` carries one envelope and its HTTP response
//! carries the answer; `POST ipc://localhost/__portcullis/channel` carries a channel
//! pull's text. Used where the engine has no native handler with replies, or when the app
//! asks for it ([`super::Transport::Fetch`]).
//!
//! Where the message travels: in the `Portcullis-Body` request header, base64, when the
//! engine cannot read request bodies safely (WebKitGTK: the only reader wry has there
//! crashes the process on a `Blob` body, so Portcullis builds wry without it and no
//! custom-scheme body is ever read); in the request body elsewhere. A request with both
//! is refused.
//!
//! Answer mapping (read by `isolation-app/runtime.js` and the bridge):
//! - `200`, `application/json`: the command's JSON result (`null` for events);
//! - `200`, `application/octet-stream`: the command's bytes result;
//! - `4xx`/`5xx`, `application/json`: `{"code": "E_...", "message": "...", "appCode"?}`.
//!
//! A JSON reply (result or error) of up to [`INLINE_REPLY_MAX`] bytes of printable ASCII
//! also travels in the `Portcullis-Reply` header. The engine hands a page the response
//! headers a task or more before its body, so the isolation frame and the bridge settle
//! the call from the header without waiting for the body (about 45 µs a call here, by
//! the e2e bench's profile). The body carries the same text, for any other reader.

use std::borrow::Cow;
use std::sync::Arc;

use portcullis_core::router::CallError;
use portcullis_core::{ErrorCode, Rejection};
use wry::RequestAsyncResponder;
use wry::http::{Method, Request, Response, StatusCode, header};

use super::{Answer, Replier};
use crate::Shared;
use crate::engine::{self, Served};

type Body = Cow<'static, [u8]>;

/// Where a page pulls a channel's messages (`POST`, body `pull <id>`, `close <id>`, or
/// `done <id>`: the call that carried it was answered).
pub const CHANNEL_PATH: &str = "/__portcullis/channel";

/// The request header that carries the message, base64, on engines whose request bodies
/// are not read (see the module's documentation).
pub const BODY_HEADER: &str = "portcullis-body";

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
    let reply: Replier = Box::new(move |answer| responder.respond(render(answer)));
    if request.method() != Method::POST {
        let rejection = Rejection::new(
            ErrorCode::BadMethod,
            format!(
                "the ipc transport takes POST requests carrying a sealed envelope, not {}",
                request.method()
            ),
        );
        return super::refuse(shared, label, rejection, reply);
    }
    let channel = request.uri().path() == CHANNEL_PATH;
    let message = match message_of(&request, shared.gate.limits().max_message_bytes) {
        Ok(message) => message,
        Err(rejection) => {
            if channel {
                super::observe_pull(shared, label, &[], Some(rejection.code));
            }
            return super::refuse(shared, label, rejection, reply);
        }
    };
    if !channel {
        return super::envelope(shared, label, message, reply);
    }
    if !served_here(request.uri()) {
        // Only the address the transport serves: a page that made up another host
        // (`ipc://evil/...`) is not asking Portcullis.
        let rejection = Rejection::new(
            ErrorCode::BadRequest,
            format!(
                "channel pulls are served at {} only",
                engine::CURRENT.origin(Served::Ipc)
            ),
        );
        super::observe_pull(shared, label, &message, Some(rejection.code));
        return super::refuse(shared, label, rejection, reply);
    }
    super::channel(shared, label, &message, reply);
}

/// The message a request carries: its `Portcullis-Body` header decoded (refused
/// `E_TOO_LARGE` before decoding when it cannot fit `max_bytes`), or its body.
fn message_of(request: &Request<Vec<u8>>, max_bytes: usize) -> Result<Vec<u8>, Rejection> {
    let mut carried = request.headers().get_all(BODY_HEADER).iter();
    let Some(value) = carried.next() else {
        return Ok(request.body().clone());
    };
    if carried.next().is_some() || !request.body().is_empty() {
        return Err(Rejection::new(
            ErrorCode::BadRequest,
            format!(
                "a request carries its message once: in one {BODY_HEADER} header or in its body"
            ),
        ));
    }
    super::base64::decode(
        value.as_bytes(),
        max_bytes,
        &format!("the {BODY_HEADER} header"),
    )
}

/// Whether `uri` names the host the transport serves, exactly (no other host, no port,
/// no user part).
fn served_here(uri: &wry::http::Uri) -> bool {
    engine::handler_uri_is(Served::Ipc, uri)
}

/// An answer as the HTTP response the page reads.
fn render(answer: Answer) -> Response<Body> {
    match answer {
        Answer::Json(text) => json(StatusCode::OK, text),
        Answer::Bytes(bytes) => content(StatusCode::OK, "application/octet-stream", bytes),
        Answer::Error(e) => error(&e),
    }
}

/// The header that carries a short JSON reply (see the module's documentation).
pub const INLINE_REPLY: &str = "portcullis-reply";
/// The longest reply that also travels in [`INLINE_REPLY`].
pub const INLINE_REPLY_MAX: usize = 2048;

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
            (header::ACCESS_CONTROL_ALLOW_HEADERS, BODY_HEADER),
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
        let bytes = render(Answer::Bytes(b"null".to_vec()));
        assert_eq!(inline(&bytes), None);
    }

    fn message_of_(request: &Request<Vec<u8>>) -> Result<Vec<u8>, Rejection> {
        message_of(request, 1 << 20)
    }

    fn request(headers: &[&str], body: &[u8]) -> Request<Vec<u8>> {
        let mut builder = Request::builder().method("POST").uri("ipc://localhost/");
        for value in headers {
            builder = builder.header(BODY_HEADER, *value);
        }
        builder.body(body.to_vec()).unwrap()
    }

    #[test]
    fn a_message_travels_in_the_body_header_or_in_the_body_never_both() {
        assert_eq!(
            message_of_(&request(&["AAEC/w=="], b"")).unwrap(),
            [0, 1, 2, 255]
        );
        assert_eq!(message_of_(&request(&[""], b"")).unwrap(), b"");
        assert_eq!(message_of_(&request(&[], b"body")).unwrap(), b"body");
        for (headers, body) in [
            (&["AAEC"][..], &b"body"[..]),
            (&["AAEC", "AAEC"][..], &b""[..]),
            (&["not base64!"][..], &b""[..]),
            (&["AAE"][..], &b""[..]),
        ] {
            let refused = message_of_(&request(headers, body)).unwrap_err();
            assert_eq!(refused.code, ErrorCode::BadRequest, "{headers:?} {body:?}");
        }
    }

    #[test]
    fn the_preflight_allows_post_and_the_body_header_only_and_has_no_body() {
        let response = preflight();
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert!(response.body().is_empty());
        assert_eq!(
            headers(&response),
            pairs(&[
                ("access-control-allow-headers", BODY_HEADER),
                ("access-control-allow-methods", "POST"),
                ("access-control-allow-origin", "*"),
                ("access-control-max-age", "600"),
            ])
        );
    }
}
