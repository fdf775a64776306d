//! Dispatch: an admitted request to its handler (command, stream) or its listeners
//! (event), in the order a call passes the steps:
//!
//! 1. the grants' first look after admission: a grant revoked since, and no app code runs;
//! 2. an event goes to its listeners, each started only while the grants still hold;
//! 3. the handler for the name, in a table [`Router::check`] found sound;
//! 4. the call is registered so its page load can cancel it ([`super::calls`]), and a
//!    stream gets its entry in the streams' table;
//! 5. the extractors take what the handler asked for; the grants' last look is the
//!    handler's first step ([`Work::after_grants`]);
//! 6. the work goes to the embedder, or the refusal is answered.
//!
//! Every refusal here is audited once, where it is made ([`CallRecord`]); the embedder
//! never decides which are.

use std::sync::Arc;

use super::calls::CallsError;
use super::extract::{Parts, channel_ids};
use super::handler::Work;
use super::inflight::{Dispatch, InFlight};
use super::{Route, Router};
use crate::audit::CallRecord;
use crate::authentic::{Cancel, Chunk};
use crate::channel::ChannelId;
use crate::error::ErrorCode;
use crate::policy::Admitted;
use crate::policy::admitted::AdmittedParts;
use crate::policy::grants::Holds;
use crate::reply::{CallError, Payload, Response};
use crate::stream::{Answer, StreamKey};
use crate::wire::request::{Body, Kind, Request};
use crate::wire::{CANCEL_NAME, CHUNK_NAME};

/// The answer to a call refused at dispatch, audited once.
fn refused(record: &CallRecord, mut error: CallError) -> Dispatch {
    record.answered(&mut error);
    Dispatch::Ready(Response {
        request_id: record.request_id,
        kind: record.kind,
        result: Err(error),
    })
}

impl Router {
    /// Starts the handler (command, stream) or runs the listeners (event) of an admitted
    /// request.
    pub fn dispatch(&self, admitted: Admitted) -> Dispatch {
        let (timeout_ms, max_bytes) = (admitted.timeout_ms(), admitted.max_bytes());
        let AdmittedParts {
            caller,
            request,
            paths,
            holds,
            audit,
        } = admitted.into_parts();
        let Request {
            kind,
            id,
            name,
            body,
        } = request;
        let mut record = CallRecord {
            audit,
            caller,
            kind,
            request_id: id,
            name,
        };
        // 1. A grant revoked since admission refuses the call before any of the app's
        // code (extractors, listeners) runs; a command looks again just before its handler.
        if let Err(e) = holds.check() {
            return refused(&record, CallError::new(e.code, e.message));
        }
        // 2.
        if kind == Kind::Event {
            return self.deliver(&record, &body, &holds);
        }
        // 3.
        let route = match self.route_for(kind, &record.name) {
            Ok(route) => route,
            Err(e) => return refused(&record, e),
        };
        // 4.
        let Ok(ticket) = self.calls.begin(&record.caller, id, self.watches_calls) else {
            return refused(
                &record,
                CallError::new(
                    ErrorCode::BadRequest,
                    format!("call {id} of this page load is still running: ids name one call"),
                ),
            );
        };
        let (upload, stream) = if kind == Kind::Stream {
            let key = StreamKey::of(&record.caller, id);
            match self.streams.begin(key.clone(), max_bytes) {
                Ok(upload) => (Some(upload), Some((key, self.streams.clone()))),
                Err(e) => return refused(&record, e),
            }
        } else {
            (None, None)
        };
        // 5. Arguments no extractor takes are dropped: the policy admitted them, and a
        // handler that takes none (or only `Scoped`, whose paths are in them) ignores
        // them, as a web framework ignores a body nobody reads.
        // The caller is lent to the extractors and taken back for the record: no copy.
        let takes_channels = route.needs.channels > 0;
        let mut parts = Parts {
            caller: record.caller,
            channel_ids: if takes_channels {
                channel_ids(Some(&body)).into_iter()
            } else {
                Vec::new().into_iter()
            },
            channels: takes_channels.then(|| self.channels.clone()),
            body: Some(body),
            paths,
            state: Arc::clone(&self.state),
            call: ticket,
            grants: self.grants.clone(),
            holds,
            upload,
            attached: Vec::new(),
        };
        let work = start(route, &mut parts);
        record.caller = parts.caller;
        let call = InFlight {
            request_id: id,
            ticket: parts.call,
            timeout_ms,
            stream,
            record,
        };
        // 6.
        match work {
            Ok(work) if call.stream.is_some() => Dispatch::Stream(work, call),
            Ok(work) => Dispatch::Started(work, call),
            Err(e) => self.refused_at_start(call, parts.attached, e),
        }
    }

    /// The handler of command (or stream) `name`, in a table without mistakes.
    fn route_for(&self, kind: Kind, name: &str) -> Result<&Route, CallError> {
        let routes = if kind == Kind::Stream {
            &self.stream_routes
        } else {
            &self.commands
        };
        let route = routes.get(name).ok_or_else(|| {
            CallError::new(
                ErrorCode::UnknownCommand,
                format!(
                    "{} {name:?} is allowed but the app registered no handler for it",
                    kind.as_str()
                ),
            )
        })?;
        if let Err(errors) = self.checked.get_or_init(|| self.check()) {
            return Err(CallError::new(
                ErrorCode::Internal,
                format!("the app's routing table has mistakes: {errors}"),
            ));
        }
        Ok(route)
    }

    /// An extractor refused the call: what was set up for it is given up (its stream's
    /// entry, the channels earlier extractors took), and the refusal answered.
    fn refused_at_start(
        &self,
        call: InFlight,
        attached: Vec<ChannelId>,
        mut error: CallError,
    ) -> Dispatch {
        // Recorded (and marked) before a stream relays it to chunks that wait for it.
        call.record.answered(&mut error);
        if let Some((key, streams)) = &call.stream {
            streams.finished(key, Err(error.clone()));
            streams.forget(key);
        }
        // No handler will send on them: they leave the page's table now.
        let caller = &call.record.caller;
        for id in attached {
            let _ = self.channels.close(&caller.webview, caller.session, id);
        }
        Dispatch::Ready(Response {
            request_id: call.record.request_id,
            kind: call.record.kind,
            result: Err(error),
        })
    }

    /// Runs the listeners of an event, each only while the grants it relied on hold.
    fn deliver(&self, record: &CallRecord, body: &Body, holds: &Holds) -> Dispatch {
        let mut result = Ok(Payload::Json("null".to_owned()));
        for listener in self.listeners.get(&record.name).into_iter().flatten() {
            if let Err(e) = holds.check() {
                // An earlier listener's error, if any, stays the answer.
                result = result.and(Err(CallError::new(e.code, e.message)));
                break;
            }
            if let Err(e) = listener(&record.caller, body) {
                result = result.and(Err(e));
            }
        }
        if let Err(e) = &mut result {
            record.answered(e);
        }
        Dispatch::Ready(Response {
            request_id: record.request_id,
            kind: Kind::Event,
            result,
        })
    }

    /// Cancels the call a [`Cancel`] names, if its page load has it in flight; a refusal
    /// is audited here.
    pub fn cancel(&self, cancel: &Cancel) -> Result<(), CallError> {
        let result = self
            .calls
            .cancel(cancel.caller(), cancel.request_id())
            .map_err(|e| match e {
                CallsError::NoSuchCall | CallsError::Duplicate => CallError::new(
                    ErrorCode::NoSuchCall,
                    format!(
                        "no call {} of this page load is in flight: it finished, or was never made here",
                        cancel.request_id()
                    ),
                ),
            });
        if let Err(e) = &result {
            cancel.audit.after_admission(
                cancel.caller(),
                (Kind::Command, cancel.request_id(), CANCEL_NAME),
                e.code,
            );
        }
        result
    }

    /// A chunk of one of the page load's streams: `answer` gets its reply (see
    /// [`crate::stream`]); a refusal is audited here.
    pub fn chunk(&self, chunk: Chunk, answer: Answer) {
        let (audit, caller, stream) = (chunk.audit.clone(), chunk.caller.clone(), chunk.at.stream);
        let answer: Answer = Box::new(move |result| {
            // A refusal the streams made for this chunk; not the stream's own answer
            // relayed to it, which was recorded when its call was answered.
            if let Some(e) = result.as_ref().err().filter(|e| !e.audited.0) {
                audit.after_admission(&caller, (Kind::Stream, stream, CHUNK_NAME), e.code);
            }
            answer(result)
        });
        self.streams.chunk(chunk, answer);
    }

    /// Cancels every call in flight from webview `label` (its page went away or it
    /// closed) and closes its channels and streams; returns how many calls.
    pub fn cancel_webview(&self, label: &str) -> usize {
        self.channels.close_webview(label);
        self.streams.close_webview(label);
        self.calls.cancel_webview(label)
    }
}

/// Runs the route's extractors. A route that left the holds untaken (the built-in one,
/// an app's own `Handler` impl) still gets the last look before it starts.
fn start(route: &Route, parts: &mut Parts) -> Result<Work, CallError> {
    (route.start)(parts).map(|work| {
        let holds = std::mem::take(&mut parts.holds);
        if holds.is_empty() {
            work
        } else {
            work.after_grants(holds)
        }
    })
}
