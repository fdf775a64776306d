//! The gate: the one entry point from the transport into the core.
//!
//! Raw bytes plus the facts the embedder attests (webview label, page origin) go in;
//! out comes an [`Admitted`] request or a [`Rejection`] (its code goes back to the
//! caller, and the refusal is audited). The gate composes the steps and
//! owns none of their logic; each lives in the module named for it:
//!
//! 1. [`crate::envelope`]: size limit, decode (binary or JSON), version, nonce;
//! 2. [`crate::session`]: a live session of this webview and origin, which asks
//!    3. [`crate::replay`] whether the sequence number is fresh, and opens under
//!    4. [`crate::aead`] with the webview label bound in the associated data;
//! 5. [`crate::request`]: decode the plaintext request, strict JSON with a depth limit;
//! 6. [`crate::policy`]: the allowlist.
//!
//! What the gate itself adds is the audit: every refusal, whichever step made it.
//!
//! Every refusal is an audit event: a `tracing` event at WARN on target
//! `portcullis::audit` and a call to the app's audit sink. Neither ever contains key
//! material or argument values.

use std::fmt;
use std::sync::Arc;

use crate::aead::{AeadBackend, default_backend};
use crate::config::{Config, ConfigErrors, Limits};
use crate::envelope::{Sealed, SessionId, check_size};
use crate::error::{ErrorCode, Rejection};
use crate::grants::Grants;
use crate::origin::Origin;
use crate::policy::{Admitted, Caller, Policy};
use crate::request::{Kind, Opened, Report, Request};
use crate::scope::ScopeVars;
pub use crate::session::Attested;
use crate::session::{KeyGrant, SessionTable};
use crate::stream::{CHUNK_NAME, Chunk, parse_op};

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

/// The gate. One per app; shared by all webviews.
pub struct Gate {
    limits: Limits,
    isolation: bool,
    sessions: SessionTable,
    policy: Policy,
    audit: Option<AuditSink>,
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate")
            .field("isolation", &self.isolation)
            .field("limits", &self.limits)
            .field("sessions", &self.sessions)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Gate {
    /// A gate for `config`, with path scope variables `vars`, on the default AEAD backend.
    pub fn new(config: &Config, vars: &ScopeVars) -> Result<Gate, ConfigErrors> {
        Gate::with_backend(config, vars, default_backend())
    }

    /// A gate on a chosen AEAD backend.
    pub fn with_backend(
        config: &Config,
        vars: &ScopeVars,
        backend: &'static dyn AeadBackend,
    ) -> Result<Gate, ConfigErrors> {
        let limits = config.app.security.limits;
        Ok(Gate {
            limits,
            isolation: config.isolation(),
            sessions: SessionTable::new(backend, limits.replay_window),
            policy: Policy::compile(config, vars)?,
            audit: None,
        })
    }

    /// Sends every audit event to `sink` as well as to `tracing`.
    pub fn with_audit_sink(mut self, sink: AuditSink) -> Self {
        self.audit = Some(sink);
        self
    }

    /// The limits in force.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Whether messages must be sealed (isolation) or are taken in clear (brownfield).
    pub fn isolation(&self) -> bool {
        self.isolation
    }

    /// The compiled allowlist.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The run-time grants: grant and revoke `"runtimeGrant"` capabilities per window,
    /// add paths to one window's scope. Clones of it share the table.
    pub fn grants(&self) -> &Grants {
        self.policy.grants()
    }

    /// The session table.
    pub fn sessions(&self) -> &SessionTable {
        &self.sessions
    }

    /// A new page load in webview `label` at `origin`: revokes its previous session and
    /// returns the new session's key for its isolation frame.
    pub fn begin_page_load(&self, label: &str, origin: Origin) -> Result<KeyGrant, Rejection> {
        self.sessions.begin_page_load(label, origin)
    }

    /// Webview `label` closed or left its page: revokes its session.
    pub fn end_webview(&self, label: &str) -> bool {
        self.sessions.end_webview(label)
    }

    /// Decides on the raw bytes of one message that must be a call (a cancel is refused
    /// here: transports take cancels through [`Gate::receive_owned`]).
    pub fn admit(&self, body: &[u8], facts: Attested<'_>) -> Result<Admitted, Rejection> {
        // The size is checked before the copy: nothing is allocated in proportion to an
        // oversized input.
        if let Err(rejection) = check_size(body, self.limits.max_message_bytes) {
            return Err(self.refused(rejection, facts, &Trace::default()));
        }
        self.admit_owned(body.to_vec(), facts)
    }

    /// [`Gate::admit`], taking the bytes.
    pub fn admit_owned(&self, body: Vec<u8>, facts: Attested<'_>) -> Result<Admitted, Rejection> {
        match self.receive_owned(body, facts)? {
            Inbound::Call(admitted) => Ok(admitted),
            Inbound::Cancel(cancel) => {
                let rejection =
                    Rejection::new(ErrorCode::BadRequest, "a cancel where a call was expected");
                let trace = Trace {
                    session: cancel.caller.session,
                    seq: Some(cancel.caller.seq),
                    request_id: Some(cancel.request_id),
                    ..Trace::default()
                };
                Err(self.refused(rejection, facts, &trace))
            }
            Inbound::Chunk(chunk) => {
                let rejection = Rejection::new(
                    ErrorCode::BadRequest,
                    "a stream chunk where a call was expected",
                );
                let trace = Trace {
                    session: chunk.caller.session,
                    seq: Some(chunk.caller.seq),
                    request_id: Some(chunk.at.stream),
                    name: Some(CHUNK_NAME.to_owned()),
                    ..Trace::default()
                };
                Err(self.refused(rejection, facts, &trace))
            }
        }
    }

    /// Decides on one message, taking its bytes: a binary envelope is decrypted where it
    /// lies (no copy of its ciphertext). An admitted call, or a cancel of one for the
    /// router. For transports that own the body, like wry's.
    pub fn receive_owned(&self, body: Vec<u8>, facts: Attested<'_>) -> Result<Inbound, Rejection> {
        let mut trace = Trace::default();
        let result = if self.isolation {
            Sealed::decode_owned(body, self.limits.max_message_bytes)
                .and_then(|sealed| self.open(sealed, facts, &mut trace))
        } else {
            check_size(&body, self.limits.max_message_bytes)
                .and_then(|()| self.admit_clear(body, facts, &mut trace))
        };
        result.map_err(|rejection| self.refused(rejection, facts, &trace))
    }

    fn refused(&self, rejection: Rejection, facts: Attested<'_>, trace: &Trace) -> Rejection {
        self.record(&rejection, facts, trace);
        rejection
    }

    fn open(
        &self,
        sealed: Sealed,
        facts: Attested<'_>,
        trace: &mut Trace,
    ) -> Result<Inbound, Rejection> {
        trace.session = Some(sealed.session);
        trace.seq = Some(sealed.seq);
        let unsealed = self.sessions.open(sealed, facts)?;
        let caller = Caller {
            webview: Arc::clone(&unsealed.session.label),
            origin: Arc::clone(&unsealed.session.origin),
            session: Some(unsealed.session.id),
            seq: unsealed.seq,
        };
        if let Some(at) = unsealed.chunk {
            trace.request_id = Some(at.stream);
            trace.name = Some(CHUNK_NAME.to_owned());
            let op = parse_op(unsealed.buf, unsealed.start)?;
            return Ok(Inbound::Chunk(Chunk { caller, at, op }));
        }
        let opened = Request::open_at(unsealed.buf, unsealed.start, self.limits.max_depth, true)?;
        self.route(caller, opened, trace)
    }

    /// A call goes to the policy; a cancel goes to the router as it is; a report ends
    /// here.
    fn route(
        &self,
        caller: Caller,
        opened: Opened,
        trace: &mut Trace,
    ) -> Result<Inbound, Rejection> {
        match opened {
            Opened::Call(request) => self.decide(caller, request, trace).map(Inbound::Call),
            Opened::Cancel(request_id) => Ok(Inbound::Cancel(Cancel { caller, request_id })),
            Opened::Chunk(at, op) => {
                trace.request_id = Some(at.stream);
                trace.name = Some(CHUNK_NAME.to_owned());
                Ok(Inbound::Chunk(Chunk { caller, at, op }))
            }
            Opened::Report(report) => Err(self.reported(report, trace)),
        }
    }

    /// A refusal the isolation frame reported: authentic (it opened under the session
    /// key), so it is recorded with the frame's own code, and never goes further.
    fn reported(&self, report: Report, trace: &mut Trace) -> Rejection {
        trace.kind = report.kind;
        trace.request_id = Some(report.request_id);
        trace.name = report.name;
        trace.detail = Some(report.message);
        let what = match report.code {
            ErrorCode::HookRejected => "the validation hook refused the call",
            ErrorCode::HookTimeout => "the validation hook did not settle in time",
            ErrorCode::TooDeep => "the arguments nest deeper than limits.maxDepth",
            ErrorCode::TooLarge => "the arguments are larger than limits.maxMessageBytes",
            _ => "the arguments hold a value JSON would not carry unchanged",
        };
        Rejection::new(
            report.code,
            format!("refused in the isolation frame: {what}"),
        )
    }

    /// Refuses a message the transport could not hand to the gate at all (a request
    /// that is not a POST, a webview whose page has no origin): audited like every other
    /// refusal. `origin` is the page's origin when there is one.
    pub fn refuse_at_transport(
        &self,
        rejection: Rejection,
        webview: &str,
        origin: Option<&Origin>,
    ) -> Rejection {
        self.audit(&rejection, webview, origin, &Trace::default());
        rejection
    }

    /// Records a call that the gate admitted but the router refused (arguments that do
    /// not deserialize into the handler's type, a command without a handler): the
    /// request's kind, id and name, and the router's rejection.
    pub fn refuse_after_admission(
        &self,
        caller: &Caller,
        (kind, request_id, name): (Kind, u64, &str),
        rejection: &Rejection,
    ) {
        let trace = Trace {
            session: caller.session,
            seq: Some(caller.seq),
            kind: Some(kind),
            request_id: Some(request_id),
            name: Some(name.to_owned()),
            detail: None,
        };
        self.audit(rejection, &caller.webview, Some(&caller.origin), &trace);
    }

    /// Audits the outcome of message `call` of `caller`'s page load that the gate admitted
    /// and a later step (router, grants, stream, channel, cancel) answered with `code`,
    /// if that code is a refusal ([`ErrorCode::audited_after_admission`]). The embedder
    /// calls it with every failed answer; the core decides which are audited and with
    /// what text.
    pub fn audit_outcome(&self, caller: &Caller, call: (Kind, u64, &str), code: ErrorCode) {
        if let Some(what) = code.audited_after_admission() {
            self.refuse_after_admission(caller, call, &Rejection::new(code, what));
        }
    }

    fn decide(
        &self,
        caller: Caller,
        request: Request,
        trace: &mut Trace,
    ) -> Result<Admitted, Rejection> {
        trace.kind = Some(request.kind);
        trace.request_id = Some(request.id);
        match self.policy.evaluate(&caller, &request) {
            Ok(grant) => Ok(Admitted::new(caller, request, grant)),
            Err(rejection) => {
                trace.name = Some(request.name);
                Err(rejection)
            }
        }
    }

    fn admit_clear(
        &self,
        body: Vec<u8>,
        facts: Attested<'_>,
        trace: &mut Trace,
    ) -> Result<Inbound, Rejection> {
        let opened = Request::open_at(body, 0, self.limits.max_depth, false)?;
        let caller = Caller {
            webview: Arc::from(facts.webview),
            origin: Arc::new(facts.origin.clone()),
            session: None,
            seq: 0,
        };
        self.route(caller, opened, trace)
    }

    fn record(&self, rejection: &Rejection, facts: Attested<'_>, trace: &Trace) {
        self.audit(rejection, facts.webview, Some(facts.origin), trace);
    }

    fn audit(&self, rejection: &Rejection, webview: &str, origin: Option<&Origin>, trace: &Trace) {
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
        if let Some(sink) = &self.audit {
            sink(&event);
        }
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

/// What an authentic message asks for.
#[derive(Debug)]
pub enum Inbound {
    /// A call the policy admitted, for the router.
    Call(Admitted),
    /// A cancel of one of the page load's calls, for [`crate::Router::cancel`].
    Cancel(Cancel),
    /// A chunk of one of the page load's streams, for [`crate::Router::chunk`].
    Chunk(Chunk),
}

/// A page load asking to cancel one of its calls: only the gate builds one, from a
/// message that opened under that page load's session (or, in brownfield mode, arrived
/// from that webview).
#[derive(Debug)]
pub struct Cancel {
    caller: Caller,
    request_id: u64,
}

impl Cancel {
    /// The page load that asked.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// The id of the call to cancel.
    pub fn request_id(&self) -> u64 {
        self.request_id
    }
}

#[derive(Default)]
struct Trace {
    session: Option<SessionId>,
    seq: Option<u64>,
    kind: Option<Kind>,
    request_id: Option<u64>,
    name: Option<String>,
    detail: Option<String>,
}
