//! A call between dispatch and its answer: [`Dispatch`] says what dispatch produced (an
//! answer now, or a handler's work for the embedder to run), and [`InFlight`] is a
//! started call until [`InFlight::finish`] turns its result into the answer, auditing a
//! refusal in it once.

use std::fmt;

use super::extract::CancellationToken;

use super::calls::Ticket;
use super::handler::Work;
use crate::audit::CallRecord;
use crate::error::ErrorCode;
use crate::reply::{CallError, Payload, Response};
use crate::stream::{StreamKey, Streams};
use crate::wire::request::Kind;

/// What dispatch produced: a response now, or a started call.
pub enum Dispatch {
    /// The call was refused before any handler code ran, or the request was an event
    /// (listeners run at once).
    Ready(Response),
    /// A handler's work, for the embedder to run, and the call it belongs to.
    Started(Work, InFlight),
    /// A stream's handler: the embedder answers the open at once with
    /// [`InFlight::opened`], runs the work, and hands its result to
    /// [`Streams::finished`] with [`InFlight::stream`] (the end's reply).
    Stream(Work, InFlight),
}

impl fmt::Debug for Dispatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dispatch::Ready(r) => f.debug_tuple("Ready").field(r).finish(),
            Dispatch::Started(_, call) => f.debug_tuple("Started").field(call).finish(),
            Dispatch::Stream(_, call) => f.debug_tuple("Stream").field(call).finish(),
        }
    }
}

impl Dispatch {
    /// Runs a started call to its end on this thread ([`Work::run_here`]). For tests and
    /// embedders without a runtime. A stream's handler would wait for chunks this thread
    /// cannot deliver: the stream is refused (`E_INTERNAL`) and its work dropped.
    pub fn wait(self) -> Response {
        match self {
            Dispatch::Ready(r) => r,
            Dispatch::Started(work, call) => {
                let result = work.run_here();
                call.finish(result)
            }
            Dispatch::Stream(_, call) => call.abandon_stream(),
        }
    }
}

/// A call whose handler started: cancellable (by its page load, a timeout, or its page
/// going away) until [`InFlight::finish`] turns its result into the response.
pub struct InFlight {
    pub(super) request_id: u64,
    /// Keeps the call registered, and gives its token.
    pub(super) ticket: Ticket,
    pub(super) timeout_ms: Option<u32>,
    pub(super) stream: Option<(StreamKey, Streams)>,
    /// Whose call it is, for the audit of a refusal in its answer.
    pub(super) record: CallRecord,
}

impl fmt::Debug for InFlight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InFlight")
            .field("request_id", &self.request_id)
            .field("cancelled", &self.ticket.is_cancelled())
            .field("timeout_ms", &self.timeout_ms)
            .finish()
    }
}

impl InFlight {
    /// The request id the response will answer.
    pub fn request_id(&self) -> u64 {
        self.request_id
    }

    /// Cancelled when the caller cancels the call or its page goes away; the embedder
    /// cancels it on a timeout. Handlers see the same token through their extractor.
    /// Made on the first ask (a cancel that came before is kept for it).
    pub fn token(&self) -> &CancellationToken {
        self.ticket.token()
    }

    /// The admitting rule's `timeoutMs`, if it has one (else `limits.callTimeoutMs`).
    pub fn timeout_ms(&self) -> Option<u32> {
        self.timeout_ms
    }

    /// For a stream's handler, the stream it reads.
    pub fn stream(&self) -> Option<&StreamKey> {
        self.stream.as_ref().map(|(key, _)| key)
    }

    /// A stream whose handler will not run here: forgotten, and refused.
    fn abandon_stream(self) -> Response {
        let error = CallError::new(
            ErrorCode::Internal,
            "a stream's handler needs an embedder that runs it while chunks arrive",
        );
        if let Some((key, streams)) = &self.stream {
            streams.finished(key, Err(error.clone()));
            streams.forget(key);
        }
        self.finish(Err(error))
    }

    /// The answer to a stream's open: `{"stream": id}` (the id its chunks name).
    pub fn opened(&self) -> Response {
        Response {
            request_id: self.request_id,
            kind: Kind::Stream,
            result: Ok(Payload::Json(format!(
                r#"{{"stream":{}}}"#,
                self.request_id
            ))),
        }
    }

    /// The response for `result`; the call is no longer in flight. A refusal in it (the
    /// grants' last look, arguments that did not fit, a stream's limit) is audited here,
    /// once; the handler's own errors, cancels and timeouts are not refusals.
    pub fn finish(self, mut result: Result<Payload, CallError>) -> Response {
        if let Err(e) = &mut result {
            self.record.answered(e);
        }
        Response {
            request_id: self.request_id,
            kind: Kind::Command,
            result,
        }
    }
}
