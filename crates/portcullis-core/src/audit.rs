//! The audit: every refusal the core makes, at any step, is recorded here exactly once.
//!
//! A refusal is a `tracing` event at WARN on target `portcullis::audit` and a call to the
//! app's audit sink. Neither ever holds key material or argument values: messages that
//! quote text a page chose are escaped ([`escape`]), and a refusal made after admission
//! is recorded with a fixed text per code ([`ErrorCode::audited_after_admission`]), never
//! with the handler's or a deserializer's words.
//!
//! The gate holds the [`Audit`] and hands a clone of it to every message it lets past
//! (inside [`crate::Admitted`], [`crate::Cancel`], [`crate::Chunk`]), so each later step
//! (the router, the grants' last look, the streams, the channels, the calls in flight)
//! records its own refusals: no embedder decides which refusals are audited.

use std::sync::Arc;

use crate::caller::Caller;
use crate::envelope::SessionId;
use crate::error::{ErrorCode, Rejection};
use crate::origin::Origin;
use crate::reply::CallError;
use crate::wire::request::Kind;

/// What the app's audit sink receives for every refusal.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AuditEvent<'a> {
    /// The stable code.
    pub code: ErrorCode,
    /// The human-readable message (never argument values).
    pub message: &'a str,
    /// Attested webview label.
    pub webview: &'a str,
    /// Attested origin (`None` when the page had none Portcullis understands).
    pub origin: Option<String>,
    /// Session named by the envelope, if decodable (first 8 bytes, hex).
    pub session: Option<String>,
    /// Sequence number, if decodable.
    pub seq: Option<u64>,
    /// Kind, once decrypted.
    pub kind: Option<Kind>,
    /// The caller's request id, once decrypted (the id the frontend's call carries).
    pub request_id: Option<u64>,
    /// Command/event name, once decrypted.
    pub name: Option<&'a str>,
    /// For a refusal the isolation frame reported: its own words (the hook's error
    /// message for `E_HOOK_REJECTED`, where the value was for `E_BAD_REQUEST`). The hook
    /// is the app's code, so this holds whatever the app's hook puts in its messages;
    /// Portcullis adds no argument values. Escaped like `message`, at most 512 bytes.
    pub detail: Option<&'a str>,
}

/// The app's audit sink.
pub type AuditSink = Arc<dyn Fn(&AuditEvent<'_>) + Send + Sync>;

/// Where refusals go: `tracing`, and the app's sink if it set one. Cheap to clone (one
/// reference count), and cloned into every message the gate lets past.
#[derive(Clone, Default)]
pub struct Audit {
    sink: Option<AuditSink>,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit")
            .field("sink", &self.sink.is_some())
            .finish()
    }
}

impl Audit {
    /// An audit that also calls `sink`.
    pub(crate) fn with_sink(sink: AuditSink) -> Audit {
        Audit { sink: Some(sink) }
    }

    /// Records the outcome `code` of call `(kind, request_id, name)` of `caller`'s page
    /// load, which the gate admitted and a later step answered, if that code is a refusal
    /// ([`ErrorCode::audited_after_admission`]), with that code's fixed text.
    pub(crate) fn after_admission(
        &self,
        caller: &Caller,
        (kind, request_id, name): (Kind, u64, &str),
        code: ErrorCode,
    ) {
        let Some(what) = code.audited_after_admission() else {
            return;
        };
        let trace = Trace {
            session: caller.session,
            seq: Some(caller.seq),
            kind: Some(kind),
            request_id: Some(request_id),
            name: Some(name.to_owned()),
            detail: None,
        };
        self.record(
            &Rejection::new(code, what),
            &caller.webview,
            Some(&caller.origin),
            &trace,
        );
    }

    /// Records one refusal: a `tracing` event and a call to the app's sink.
    pub(crate) fn record(
        &self,
        rejection: &Rejection,
        webview: &str,
        origin: Option<&Origin>,
        trace: &Trace,
    ) {
        // Messages can quote text the page chose (keys, names of JSON types): escaped, so
        // no line of a log can be forged through them.
        let message = escape(&rejection.message);
        let detail = trace.detail.as_deref().map(escape);
        let event = AuditEvent {
            code: rejection.code,
            message: &message,
            webview,
            origin: origin.map(Origin::to_string),
            session: trace.session.map(|s| s.to_string()),
            seq: trace.seq,
            kind: trace.kind,
            request_id: trace.request_id,
            name: trace.name.as_deref(),
            detail: detail.as_deref(),
        };
        tracing::warn!(
            target: "portcullis::audit",
            code = event.code.as_str(),
            webview = event.webview,
            origin = event.origin.as_deref(),
            session = event.session.as_deref(),
            seq = event.seq,
            kind = event.kind.map(Kind::as_str),
            request_id = event.request_id,
            name = event.name,
            detail = event.detail,
            "refused: {}",
            event.message
        );
        if let Some(sink) = &self.sink {
            sink(&event);
        }
    }
}

/// A call the gate admitted, as the audit names it: the steps after admission record
/// their refusals of it here, each once, with its code's fixed text.
pub(crate) struct CallRecord {
    pub(crate) audit: Audit,
    pub(crate) caller: Caller,
    pub(crate) kind: Kind,
    pub(crate) request_id: u64,
    pub(crate) name: String,
}

impl CallRecord {
    /// Records the call's answer `error`, if it is a refusal, and marks it recorded: a
    /// stream's answer is relayed to the chunks that wait for it, and is not recorded
    /// again for each ([`crate::Router::chunk`]).
    pub(crate) fn answered(&self, error: &mut CallError) {
        self.audit.after_admission(
            &self.caller,
            (self.kind, self.request_id, &self.name),
            error.code,
        );
        error.audited.0 = true;
    }
}

/// `text` with control characters, line and paragraph separators and bidirectional
/// controls written as `\u{..}` escapes: what an audit event may show of text a page
/// chose.
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(
                c,
                '\u{2028}' | '\u{2029}' | '\u{200e}' | '\u{200f}' | '\u{061c}'
            )
            || ('\u{202a}'..='\u{202e}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
    };
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:04x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// What the gate learned of a message before it refused it.
#[derive(Default)]
pub(crate) struct Trace {
    pub(crate) session: Option<SessionId>,
    pub(crate) seq: Option<u64>,
    pub(crate) kind: Option<Kind>,
    pub(crate) request_id: Option<u64>,
    pub(crate) name: Option<String>,
    pub(crate) detail: Option<String>,
}
