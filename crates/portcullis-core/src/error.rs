//! Stable rejection codes.
//!
//! Every way a message can be refused has exactly one [`ErrorCode`]. The string form
//! (`E_REPLAY`, `E_NOT_ALLOWED`, ...) is part of the public contract: it is what the
//! frontend's rejected promise carries in `error.code`, what audit events record, and
//! what security tests assert. Codes are never renamed or reused; new ones may be added,
//! hence `#[non_exhaustive]`.

use std::fmt;

/// Why a message was refused, or why a call failed.
///
/// The variants are ordered by the step of the pipeline that produces them:
/// transport, envelope, session, replay window, request, policy, router, handler, and
/// finally the codes only the JS side produces (hook and timeouts).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrorCode {
    /// The transport was asked with a method other than POST (or OPTIONS, its preflight).
    BadMethod,
    /// The webview's current page has no origin Portcullis understands (e.g. `about:blank`
    /// or a URL that failed to parse), so nothing it sends can be attributed.
    NoPageOrigin,
    /// The body is not a sealed envelope at all: empty, or a plain unsealed request.
    Unsealed,
    /// The body exceeds `limits.maxMessageBytes`.
    TooLarge,
    /// The body starts like a sealed envelope but cannot be decoded (truncated, bad
    /// base64, wrong field types, unknown fields, duplicate keys, non-zero reserved bits).
    Malformed,
    /// The envelope names a protocol version this build does not speak.
    UnsupportedVersion,
    /// The envelope's nonce is not the one its sequence number determines.
    BadNonce,
    /// No live session has this id (it never existed here).
    UnknownSession,
    /// The session existed but was revoked (reload, navigation, webview closed).
    SessionRevoked,
    /// The session belongs to another webview than the one the message arrived from.
    WrongWebview,
    /// The page origin the embedder attests differs from the one the session was issued to.
    OriginMismatch,
    /// A sequence number this session has already accepted.
    Replay,
    /// A sequence number older than the replay window still remembers.
    Stale,
    /// Authentication failed: the ciphertext, tag or any authenticated field was altered,
    /// or the message was sealed under another key or for another webview.
    Tampered,
    /// The decrypted request is not a valid v1 request (bad framing, bad name, bad JSON),
    /// or the isolation frame refused a value JSON would not carry unchanged.
    BadRequest,
    /// The request's JSON nests deeper than `limits.maxDepth`.
    TooDeep,
    /// No capability that applies to this webview and origin allows this command/event.
    NotAllowed,
    /// A capability that applies explicitly denies this command/event.
    Denied,
    /// Only a capability granted at run time (`"runtimeGrant": true`) would allow this,
    /// and the app has not granted it to this window.
    NotGranted,
    /// Only a capability granted at run time would allow this, and the app revoked it
    /// from this window: after the revoke returned, no call it admits starts.
    GrantRevoked,
    /// The arguments (or event payload) violate the schema the allowlist gives.
    InvalidArgs,
    /// A path argument lies outside the scope the allowlist gives.
    OutOfScope,
    /// The command is allowed but no handler is registered for it.
    UnknownCommand,
    /// The handler ran and returned an error.
    Handler,
    /// The handler panicked; the core caught it and keeps serving.
    HandlerPanicked,
    /// The call was cancelled before it finished: its caller aborted it (an
    /// `AbortSignal`) or its page went away. The handler was told to stop: an async
    /// handler's future was dropped, a sync handler's cancellation token fired.
    Cancelled,
    /// A cancel named no call in flight for its page load: the call finished already, or
    /// belongs to another webview or page load (which no page can cancel).
    NoSuchCall,
    /// A stream chunk names no stream of its page load: its open was refused, never
    /// made, or made by another page load or webview.
    NoSuchStream,
    /// A stream chunk out of order: not the next number of its stream (the stream is
    /// aborted, its handler sees the gap).
    StreamOrder,
    /// A stream chunk after its stream ended: closed or aborted by the page, or its
    /// handler finished.
    StreamClosed,
    /// A channel pull or close names no channel of its page load: no handler took a
    /// channel of that id (yet), it ended and its end was pulled, or it belongs to
    /// another page load or webview. A pull never makes a channel.
    NoSuchChannel,
    /// The app's validation hook threw, rejected or returned `false` (JS side).
    HookRejected,
    /// The app's validation hook did not settle within `limits.hookTimeoutMs` (JS side).
    HookTimeout,
    /// The call did not finish in time: within its command's `timeoutMs` or
    /// `limits.callTimeoutMs` (the core answers, and cancels the handler), or within the
    /// caller's own `timeoutMs` (the JS side answers, and sends a cancel).
    Timeout,
    /// The isolation frame is missing or could not be started (JS side).
    IsolationUnavailable,
    /// An internal failure (for example the OS random source failed). Never caused by input.
    Internal,
}

impl ErrorCode {
    /// Every code, in declaration order. Used by docs and tests to keep the table complete.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::BadMethod,
        ErrorCode::NoPageOrigin,
        ErrorCode::Unsealed,
        ErrorCode::TooLarge,
        ErrorCode::Malformed,
        ErrorCode::UnsupportedVersion,
        ErrorCode::BadNonce,
        ErrorCode::UnknownSession,
        ErrorCode::SessionRevoked,
        ErrorCode::WrongWebview,
        ErrorCode::OriginMismatch,
        ErrorCode::Replay,
        ErrorCode::Stale,
        ErrorCode::Tampered,
        ErrorCode::BadRequest,
        ErrorCode::TooDeep,
        ErrorCode::NotAllowed,
        ErrorCode::Denied,
        ErrorCode::NotGranted,
        ErrorCode::GrantRevoked,
        ErrorCode::InvalidArgs,
        ErrorCode::OutOfScope,
        ErrorCode::UnknownCommand,
        ErrorCode::Handler,
        ErrorCode::HandlerPanicked,
        ErrorCode::Cancelled,
        ErrorCode::NoSuchCall,
        ErrorCode::NoSuchStream,
        ErrorCode::StreamOrder,
        ErrorCode::StreamClosed,
        ErrorCode::NoSuchChannel,
        ErrorCode::HookRejected,
        ErrorCode::HookTimeout,
        ErrorCode::Timeout,
        ErrorCode::IsolationUnavailable,
        ErrorCode::Internal,
    ];

    /// The stable string form, e.g. `"E_REPLAY"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadMethod => "E_BAD_METHOD",
            ErrorCode::NoPageOrigin => "E_NO_PAGE_ORIGIN",
            ErrorCode::Unsealed => "E_UNSEALED",
            ErrorCode::TooLarge => "E_TOO_LARGE",
            ErrorCode::Malformed => "E_MALFORMED",
            ErrorCode::UnsupportedVersion => "E_UNSUPPORTED_VERSION",
            ErrorCode::BadNonce => "E_BAD_NONCE",
            ErrorCode::UnknownSession => "E_UNKNOWN_SESSION",
            ErrorCode::SessionRevoked => "E_SESSION_REVOKED",
            ErrorCode::WrongWebview => "E_WRONG_WEBVIEW",
            ErrorCode::OriginMismatch => "E_ORIGIN_MISMATCH",
            ErrorCode::Replay => "E_REPLAY",
            ErrorCode::Stale => "E_STALE",
            ErrorCode::Tampered => "E_TAMPERED",
            ErrorCode::BadRequest => "E_BAD_REQUEST",
            ErrorCode::TooDeep => "E_TOO_DEEP",
            ErrorCode::NotAllowed => "E_NOT_ALLOWED",
            ErrorCode::Denied => "E_DENIED",
            ErrorCode::NotGranted => "E_NOT_GRANTED",
            ErrorCode::GrantRevoked => "E_GRANT_REVOKED",
            ErrorCode::InvalidArgs => "E_INVALID_ARGS",
            ErrorCode::OutOfScope => "E_OUT_OF_SCOPE",
            ErrorCode::UnknownCommand => "E_UNKNOWN_COMMAND",
            ErrorCode::Handler => "E_HANDLER",
            ErrorCode::HandlerPanicked => "E_HANDLER_PANICKED",
            ErrorCode::Cancelled => "E_CANCELLED",
            ErrorCode::NoSuchCall => "E_NO_SUCH_CALL",
            ErrorCode::NoSuchStream => "E_NO_SUCH_STREAM",
            ErrorCode::StreamOrder => "E_STREAM_ORDER",
            ErrorCode::StreamClosed => "E_STREAM_CLOSED",
            ErrorCode::NoSuchChannel => "E_NO_SUCH_CHANNEL",
            ErrorCode::HookRejected => "E_HOOK_REJECTED",
            ErrorCode::HookTimeout => "E_HOOK_TIMEOUT",
            ErrorCode::Timeout => "E_TIMEOUT",
            ErrorCode::IsolationUnavailable => "E_ISOLATION_UNAVAILABLE",
            ErrorCode::Internal => "E_INTERNAL",
        }
    }

    /// How a refusal with this code, made after the gate admitted the message (by the
    /// router, the grants' last look, a stream, a channel, a cancel), is audited: a fixed
    /// text (never the handler's or serde's words, which may quote argument values), or
    /// `None` for an outcome that is not a refusal (the handler's own error or panic, a
    /// cancel the page asked for, a deadline). Every code is decided here, so a code
    /// added later is audited unless someone says here that it is not.
    pub const fn audited_after_admission(self) -> Option<&'static str> {
        Some(match self {
            ErrorCode::Handler
            | ErrorCode::HandlerPanicked
            | ErrorCode::Cancelled
            | ErrorCode::Timeout => return None,
            ErrorCode::InvalidArgs => "the arguments do not fit the handler's type",
            ErrorCode::UnknownCommand => "allowed, but the app registered no handler",
            ErrorCode::BadRequest => {
                "refused after admission: an id of a call still running, a chunk while its stream's handler catches up, or a channel passed to a second call"
            }
            ErrorCode::GrantRevoked => {
                "admitted, but its run-time grant was revoked before it started"
            }
            ErrorCode::OutOfScope => {
                "admitted, but the run-time path it relied on was forgotten before it started"
            }
            ErrorCode::NoSuchCall => "a cancel for no call of this page load in flight",
            ErrorCode::NoSuchStream => "a chunk for no stream of this page load",
            ErrorCode::StreamOrder => "a chunk out of order: the stream was aborted",
            ErrorCode::StreamClosed => "a chunk after its stream ended",
            ErrorCode::NoSuchChannel => "no channel of that id for this page load",
            ErrorCode::TooLarge => {
                "too large after admission: a stream past its rule's maxBytes or its page's maxBufferedStreamBytes (aborted), or a page past its channels"
            }
            ErrorCode::Internal => "the app's routing table or the core failed after admission",
            ErrorCode::BadMethod
            | ErrorCode::NoPageOrigin
            | ErrorCode::Unsealed
            | ErrorCode::Malformed
            | ErrorCode::UnsupportedVersion
            | ErrorCode::BadNonce
            | ErrorCode::UnknownSession
            | ErrorCode::SessionRevoked
            | ErrorCode::WrongWebview
            | ErrorCode::OriginMismatch
            | ErrorCode::Replay
            | ErrorCode::Stale
            | ErrorCode::Tampered
            | ErrorCode::TooDeep
            | ErrorCode::NotAllowed
            | ErrorCode::NotGranted
            | ErrorCode::Denied
            | ErrorCode::HookRejected
            | ErrorCode::HookTimeout
            | ErrorCode::IsolationUnavailable => "refused after admission",
        })
    }

    /// Parses the stable string form back into a code.
    pub fn from_code_str(s: &str) -> Option<ErrorCode> {
        ErrorCode::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl serde::Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A refused message: the stable code plus a message a person can act on.
///
/// The message never contains key material or argument values.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {message}")]
pub struct Rejection {
    /// The stable code.
    pub code: ErrorCode,
    /// What went wrong and, where possible, what to do about it.
    pub message: String,
}

impl Rejection {
    /// A rejection with `code` and a human-readable `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Rejection {
            code,
            message: message.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_is_decided_for_the_audit_after_admission() {
        let outcomes = [
            ErrorCode::Handler,
            ErrorCode::HandlerPanicked,
            ErrorCode::Cancelled,
            ErrorCode::Timeout,
        ];
        for code in ErrorCode::ALL {
            match code.audited_after_admission() {
                None => assert!(outcomes.contains(code), "{code} is not audited"),
                Some(text) => {
                    assert!(
                        !outcomes.contains(code),
                        "{code} is an outcome, not a refusal"
                    );
                    assert!(!text.is_empty() && !text.contains('{'), "{code}: {text}");
                }
            }
        }
        // The codes the steps after admission make have texts of their own.
        for code in [
            ErrorCode::InvalidArgs,
            ErrorCode::UnknownCommand,
            ErrorCode::BadRequest,
            ErrorCode::GrantRevoked,
            ErrorCode::OutOfScope,
            ErrorCode::NoSuchCall,
            ErrorCode::NoSuchStream,
            ErrorCode::StreamOrder,
            ErrorCode::StreamClosed,
            ErrorCode::NoSuchChannel,
            ErrorCode::TooLarge,
            ErrorCode::Internal,
        ] {
            assert_ne!(
                code.audited_after_admission(),
                Some("refused after admission"),
                "{code}"
            );
        }
    }

    #[test]
    fn codes_are_unique_and_round_trip() {
        let mut seen = HashSet::new();
        for &code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "duplicate {code}");
            assert!(code.as_str().starts_with("E_"));
            assert_eq!(ErrorCode::from_code_str(code.as_str()), Some(code));
        }
        assert_eq!(ErrorCode::from_code_str("E_NOPE"), None);
    }

    #[test]
    fn serializes_as_stable_string() {
        let json = serde_json::to_string(&ErrorCode::Replay).unwrap();
        assert_eq!(json, "\"E_REPLAY\"");
    }
}
