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
//! 5. [`crate::wire`]: decode the plaintext (a call, a cancel, a chunk, a report),
//!    strict JSON with a depth limit;
//! 6. [`crate::policy`]: the allowlist.
//!
//! What the gate itself adds is the audit ([`crate::audit`]): every refusal, whichever
//! step made it, and a handle on it inside every message it lets past, so that the steps
//! after admission record their own refusals too.

mod pull;

use std::fmt;
use std::sync::Arc;

use crate::aead::{AeadBackend, default_backend};
use crate::audit::{Audit, Trace};
pub use crate::audit::{AuditEvent, AuditSink};
pub use crate::authentic::{Cancel, Chunk};
use crate::caller::Caller;
use crate::config::{Config, ConfigErrors, Limits};
use crate::envelope::{FLAG_CHUNK, Sealed, check_size};
use crate::error::{ErrorCode, Rejection};
use crate::origin::Origin;
use crate::policy::grants::Grants;
use crate::policy::{Admitted, Policy};
use crate::scope::ScopeVars;
pub use crate::session::Attested;
use crate::session::{PageKey, SessionTable};
use crate::wire::report::Report;
use crate::wire::request::Request;
use crate::wire::{CHUNK_NAME, MessageKind, Plaintext, chunk};
pub use pull::{PullAnswer, PullResponder};

/// The gate. One per app; shared by all webviews.
pub struct Gate {
    limits: Limits,
    isolation: bool,
    sessions: SessionTable,
    policy: Policy,
    audit: Audit,
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
            audit: Audit::default(),
        })
    }

    /// Sends every audit event to `sink` as well as to `tracing`.
    pub fn with_audit_sink(mut self, sink: AuditSink) -> Self {
        self.audit = Audit::with_sink(sink);
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
    pub fn begin_page_load(&self, label: &str, origin: Origin) -> Result<PageKey, Rejection> {
        self.sessions.begin_page_load(label, origin)
    }

    /// Webview `label` closed or left its page: revokes its session.
    pub fn end_webview(&self, label: &str) -> bool {
        self.sessions.end_webview(label)
    }

    /// Whether `body` says it is a stream chunk (a chunk envelope, or with brownfield a
    /// plaintext of the chunk kind). Only a hint for where to decide on it (a transport
    /// may open large chunks off its webviews' thread): the gate decides what it is.
    pub fn claims_chunk(&self, body: &[u8]) -> bool {
        if self.isolation {
            body.starts_with(&crate::envelope::MAGIC) && body.get(3) == Some(&FLAG_CHUNK)
        } else {
            body.first() == Some(&MessageKind::Chunk.byte())
        }
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
                    session: cancel.caller().session,
                    seq: Some(cancel.caller().seq),
                    request_id: Some(cancel.request_id()),
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
                    session: chunk.caller().session,
                    seq: Some(chunk.caller().seq),
                    request_id: Some(chunk.at().stream),
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
            let op = chunk::read_op(unsealed.buf, unsealed.start)?;
            return Ok(Inbound::Chunk(self.chunk(caller, at, op)));
        }
        let opened = Plaintext::decode(unsealed.buf, unsealed.start, self.limits.max_depth, true)?;
        self.route(caller, opened, trace)
    }

    /// A call goes to the policy; a cancel goes to the router as it is; a report ends
    /// here.
    fn route(
        &self,
        caller: Caller,
        opened: Plaintext,
        trace: &mut Trace,
    ) -> Result<Inbound, Rejection> {
        match opened {
            Plaintext::Call(request) => {
                self.check_policy(caller, request, trace).map(Inbound::Call)
            }
            Plaintext::Cancel(request_id) => Ok(Inbound::Cancel(Cancel {
                caller,
                request_id,
                audit: self.audit.clone(),
            })),
            Plaintext::Chunk(at, op) => {
                trace.request_id = Some(at.stream);
                trace.name = Some(CHUNK_NAME.to_owned());
                Ok(Inbound::Chunk(self.chunk(caller, at, op)))
            }
            Plaintext::Report(report) => Err(self.reported(report, trace)),
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
        self.audit
            .record(&rejection, webview, origin, &Trace::default());
        rejection
    }

    fn check_policy(
        &self,
        caller: Caller,
        request: Request,
        trace: &mut Trace,
    ) -> Result<Admitted, Rejection> {
        trace.kind = Some(request.kind);
        trace.request_id = Some(request.id);
        match self.policy.evaluate(&caller, &request) {
            Ok(grant) => Ok(Admitted::new(caller, request, grant, self.audit.clone())),
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
        let opened = Plaintext::decode(body, 0, self.limits.max_depth, false)?;
        let caller = Caller {
            webview: Arc::from(facts.webview),
            origin: Arc::new(facts.origin.clone()),
            session: None,
            seq: 0,
        };
        self.route(caller, opened, trace)
    }

    fn record(&self, rejection: &Rejection, facts: Attested<'_>, trace: &Trace) {
        self.audit
            .record(rejection, facts.webview, Some(facts.origin), trace);
    }

    fn chunk(&self, caller: Caller, at: crate::envelope::ChunkAt, op: chunk::ChunkOp) -> Chunk {
        Chunk {
            caller,
            at,
            op,
            audit: self.audit.clone(),
        }
    }
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
