//! The router: a table from command name to handler, and from event name to listeners.
//!
//! ```
//! # fn main() -> Result<(), portcullis_core::router::RouterErrors> {
//! use portcullis_core::router::{Args, HandlerError, Router, State};
//! # #[derive(serde::Deserialize)] struct AddNote { title: String }
//! # #[derive(serde::Serialize)] struct Note { id: u32 }
//! struct Notes(std::sync::Mutex<Vec<String>>);
//!
//! fn add_note(notes: State<Notes>, Args(note): Args<AddNote>) -> Result<Note, HandlerError> {
//!     let mut all = notes.0.lock().map_err(|_| HandlerError::new("notes unavailable"))?;
//!     all.push(note.title);
//!     Ok(Note { id: all.len() as u32 })
//! }
//!
//! async fn count(notes: State<Notes>) -> usize {
//!     notes.0.lock().map(|n| n.len()).unwrap_or(0)
//! }
//!
//! let router = Router::new()
//!     .state(Notes(Default::default()))
//!     .command("notes.add", add_note)
//!     .command("notes.count", count)
//!     .on_event("note-opened", |_caller, id: u32| { let _ = id; });
//! router.check()?; // the embedder does this when it builds
//! # Ok(()) }
//! ```
//!
//! A handler is a sync or async function whose arguments are extractors
//! ([`extract`]) in any order and whose result is anything [`IntoReply`] takes
//! ([`reply`]). Handlers only ever receive requests the gate admitted:
//! [`Router::dispatch`] takes an [`Admitted`], runs the extractors, registers the call
//! so it can be cancelled ([`calls`]), and hands the embedder the [`Work`] left: a sync
//! handler to run on a blocking thread, or an async one's future. The core depends on
//! no runtime; `portcullis-wry` drives the work on tokio.
//!
//! Mistakes in the table (a name registered twice, a name no request can carry, two
//! extractors that both take the body, a `State<T>` never registered) are collected and
//! reported by [`Router::check`], which the embedder calls when it builds: the app does
//! not start. A table with mistakes refuses every call.

mod calls;
pub mod extract;
pub mod handler;

use std::any::TypeId;
use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::de::DeserializeOwned;

pub use crate::reply::{AppError, Bytes, CallError, HandlerError, IntoReply, Payload, Response};
pub use extract::{Args, CancellationToken, FromCall, Parts, Scoped, State};
pub use handler::{Handler, Work};

use crate::FastMap;
use crate::audit::CallRecord;
use crate::authentic::{Cancel, Chunk};
use crate::caller::Caller;
use crate::channel::Channels;
use crate::error::ErrorCode;
use crate::name::{NAME_RULE, is_valid_name};
use crate::policy::Admitted;
use crate::policy::admitted::AdmittedParts;
use crate::policy::grants::{Grants, Holds};
use crate::stream::{Answer, StreamKey, Streams};
use crate::wire::request::{Body, Kind};
use crate::wire::{CANCEL_NAME, CHUNK_NAME};
use calls::{Calls, CallsError, Ticket};
use extract::{Needs, StateMap, bad_args, channel_ids};
use handler::guard;

/// The prefix of Portcullis's own commands; an app cannot register a name with it.
pub const RESERVED_PREFIX: &str = "portcullis:";

/// The built-in command a page calls to learn its window's run-time grants
/// (`grants()` in `@portcullis/api`): `{"capabilities": [...], "paths": [...]}`.
pub const GRANTS_COMMAND: &str = "portcullis:grants";

type StartFn = dyn Fn(&mut Parts) -> Result<Work, CallError> + Send + Sync;
type ListenerFn = dyn Fn(&Caller, &Body) -> Result<(), CallError> + Send + Sync;

/// One command's handler and what its extractors need.
struct Route {
    start: Arc<StartFn>,
    needs: Arc<Needs>,
}

impl Clone for Route {
    fn clone(&self) -> Self {
        Route {
            start: Arc::clone(&self.start),
            needs: Arc::clone(&self.needs),
        }
    }
}

/// The routing table.
#[derive(Default, Clone)]
pub struct Router {
    commands: FastMap<String, Route>,
    /// Stream handlers, by the name `openStream` opens.
    stream_routes: FastMap<String, Route>,
    listeners: FastMap<String, Vec<Arc<ListenerFn>>>,
    state: Arc<StateMap>,
    /// Mistakes found while the table was built, for [`Router::check`].
    mistakes: Vec<String>,
    /// [`Router::check`]'s verdict, taken on the first call (the table no longer
    /// changes then); every method that changes the table clears it.
    checked: OnceLock<Result<(), RouterErrors>>,
    calls: Arc<Calls>,
    /// The gate's run-time grants, once the embedder attached them ([`Router::grants`]).
    grants: Option<Grants>,
    /// The channels handlers send on, and the pages pull from.
    channels: Channels,
    /// The streams pages send chunks on.
    streams: Streams,
}

impl fmt::Debug for Router {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut commands: Vec<_> = self.commands.keys().collect();
        commands.sort();
        let mut events: Vec<_> = self.listeners.keys().collect();
        events.sort();
        f.debug_struct("Router")
            .field("commands", &commands)
            .field("events", &events)
            .field("mistakes", &self.mistakes)
            .finish()
    }
}

/// What [`Router::check`] found wrong with the table, one sentence per mistake.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouterErrors(pub Vec<String>);

impl fmt::Display for RouterErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("; "))
    }
}

impl std::error::Error for RouterErrors {}

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
    request_id: u64,
    token: CancellationToken,
    timeout_ms: Option<u32>,
    stream: Option<(StreamKey, Streams)>,
    _ticket: Ticket,
    /// Whose call it is, for the audit of a refusal in its answer.
    record: CallRecord,
}

impl fmt::Debug for InFlight {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InFlight")
            .field("request_id", &self.request_id)
            .field("cancelled", &self.token.is_cancelled())
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
    pub fn token(&self) -> &CancellationToken {
        &self.token
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
    pub fn finish(self, result: Result<Payload, CallError>) -> Response {
        if let Err(e) = &result {
            self.record.answered(e.code);
        }
        Response {
            request_id: self.request_id,
            kind: Kind::Command,
            result,
        }
    }
}

impl Router {
    /// An empty table.
    pub fn new() -> Self {
        Router::default()
    }

    /// `name` → `handler`: a sync or async function of extractors (see [`extract`]).
    /// A sync handler runs on a blocking thread, an async one on the embedder's runtime.
    pub fn command<M, H: Handler<M>>(self, name: &str, handler: H) -> Self {
        self.route(Kind::Command, name, handler)
    }

    /// `name` → the handler of the streams `openStream(name, meta)` opens: a sync or
    /// async function of extractors, one of them the [`Upload`](crate::stream::Upload)
    /// it reads the chunks from (`Args<T>` gives the metadata). Its result is the answer
    /// to the stream's end.
    pub fn stream<M, H: Handler<M>>(self, name: &str, handler: H) -> Self {
        self.route(Kind::Stream, name, handler)
    }

    fn route<M, H: Handler<M>>(mut self, kind: Kind, name: &str, handler: H) -> Self {
        self.checked = OnceLock::new();
        let what = kind.as_str();
        if name.starts_with(RESERVED_PREFIX) {
            self.mistakes.push(format!(
                "{what} {name:?}: names starting with {RESERVED_PREFIX:?} are Portcullis's own"
            ));
            return self;
        }
        let mut needs = Needs::default();
        H::declare(&mut needs);
        if needs.body_takers.len() > 1 {
            self.mistakes.push(format!(
                "{what} {name:?}: its handler takes the body twice ({}): take Args or Bytes once",
                needs.body_takers.join(", ")
            ));
        }
        match (kind, needs.uploads) {
            (Kind::Stream, 1) | (Kind::Command, 0) => {}
            (Kind::Stream, _) => self.mistakes.push(format!(
                "stream {name:?}: its handler must take exactly one Upload (the chunks)"
            )),
            _ => self.mistakes.push(format!(
                "command {name:?}: its handler takes an Upload, which only a stream has: register it with .stream()"
            )),
        }
        let handler = Arc::new(handler);
        let route = Route {
            start: Arc::new(move |parts: &mut Parts| handler.start(parts)),
            needs: Arc::new(needs),
        };
        let table = if kind == Kind::Stream {
            &mut self.stream_routes
        } else {
            &mut self.commands
        };
        if !is_valid_name(name) {
            self.mistakes.push(format!(
                "{name:?} is not a {what} name ({NAME_RULE}): no request could reach its handler"
            ));
        } else if table.insert(name.to_owned(), route).is_some() {
            self.mistakes.push(format!(
                "{what} {name:?} is registered twice: the second handler would replace the first"
            ));
        }
        self
    }

    /// Registers `value` as the state handlers take with [`State<T>`]: one value per
    /// type, shared by every handler (wrap what changes in a `Mutex` or an atomic).
    pub fn state<T: Send + Sync + 'static>(mut self, value: T) -> Self {
        self.checked = OnceLock::new();
        let map = Arc::make_mut(&mut self.state);
        if map.insert(TypeId::of::<T>(), Arc::new(value)).is_some() {
            self.mistakes.push(format!(
                "state of type {} is registered twice: the second would replace the first",
                std::any::type_name::<T>()
            ));
        }
        self
    }

    /// Adds a listener for frontend event `name`, with a typed payload. Listeners run
    /// when the event arrives, in the order they were added.
    pub fn on_event<P, F>(mut self, name: &str, listener: F) -> Self
    where
        P: DeserializeOwned,
        F: Fn(&Caller, P) + Send + Sync + 'static,
    {
        self.checked = OnceLock::new();
        if !is_valid_name(name) {
            self.mistakes.push(format!(
                "{name:?} is not an event name ({NAME_RULE}): no event could reach its listener"
            ));
        }
        if name.starts_with(RESERVED_PREFIX) {
            self.mistakes.push(format!(
                "event {name:?}: names starting with {RESERVED_PREFIX:?} are Portcullis's own"
            ));
        }
        let f = move |caller: &Caller, body: &Body| {
            let payload = match body {
                Body::Json(text) => text
                    .deserialize()
                    .map_err(|e| bad_args(e, text.json_type())),
                Body::Bytes(_) => Err(CallError::new(
                    ErrorCode::InvalidArgs,
                    "this listener takes a JSON payload, not bytes",
                )),
            }?;
            guard(|| listener(caller, payload))
        };
        self.listeners
            .entry(name.to_owned())
            .or_default()
            .push(Arc::new(f));
        self
    }

    /// Attaches the gate's run-time grants (the embedder does this when it builds): the
    /// [`Grants`] extractor gives handlers this handle, and the built-in command
    /// [`GRANTS_COMMAND`] answers a page with its own window's grants (it still needs a
    /// capability that allows it, like any command).
    pub fn grants(mut self, grants: Grants) -> Self {
        self.checked = OnceLock::new();
        self.grants = Some(grants);
        let route = Route {
            start: Arc::new(|parts: &mut Parts| {
                // Its answer is the calling window's own grants, whatever was asked: a
                // page naming another window is told so rather than answered.
                match parts.body.take() {
                    None => {}
                    Some(Body::Json(text)) if text.is_no_args() => {}
                    Some(_) => {
                        return Err(CallError::new(
                            ErrorCode::InvalidArgs,
                            "portcullis:grants takes no arguments: it answers with the calling window's own grants",
                        ));
                    }
                }
                let grants = Grants::from_call(parts)?;
                let webview = Arc::clone(&parts.caller.webview);
                // Read when the work runs: the grants as they are then.
                Ok(Work::Blocking(Box::new(move || {
                    serde_json::to_string(&grants.of(&webview))
                        .map(Payload::Json)
                        .map_err(|e| CallError::new(ErrorCode::Internal, e.to_string()))
                })))
            }),
            needs: Arc::new(Needs::default()),
        };
        self.commands.insert(GRANTS_COMMAND.to_owned(), route);
        self
    }

    /// Every mistake in the table, or `Ok` when calls can be served.
    pub fn check(&self) -> Result<(), RouterErrors> {
        let mut mistakes = self.mistakes.clone();
        let mut missing = HashSet::new();
        let mut names: Vec<_> = self.commands.iter().chain(&self.stream_routes).collect();
        names.sort_by_key(|(name, _)| *name);
        for (name, route) in names {
            for (id, type_name) in &route.needs.states {
                if !self.state.contains_key(id) && missing.insert(*type_name) {
                    mistakes.push(format!(
                        "command {name:?} takes State<{type_name}>, which was never registered: add .state(value) to the router"
                    ));
                }
            }
        }
        if mistakes.is_empty() {
            Ok(())
        } else {
            Err(RouterErrors(mistakes))
        }
    }

    /// Whether a handler is registered for command `name`.
    pub fn has_command(&self, name: &str) -> bool {
        self.commands.contains_key(name)
    }

    /// Whether the handler of command (or, with `stream`, stream) `name` reads its
    /// arguments at all (`Args`, `Bytes`, `Body`, `Scoped` or a `Channel`); `None` when
    /// no handler has that name. A rule whose schema constrains arguments no handler
    /// reads checks something nobody uses: `portcullis-wry` warns of it at build.
    pub fn reads_arguments(&self, name: &str, stream: bool) -> Option<bool> {
        let routes = if stream {
            &self.stream_routes
        } else {
            &self.commands
        };
        routes.get(name).map(|route| route.needs.reads_arguments())
    }

    /// Starts the handler (command) or runs the listeners (event) of an admitted request.
    pub fn dispatch(&self, admitted: Admitted) -> Dispatch {
        let (timeout_ms, max_bytes) = (admitted.timeout_ms(), admitted.max_bytes());
        let AdmittedParts {
            caller,
            request,
            paths,
            holds,
            audit,
        } = admitted.into_parts();
        let (id, kind) = (request.id, request.kind);
        // Every refusal from here on is recorded once, where it is made.
        let refuse = |caller: &Caller, name: &str, e: CallError| {
            audit.after_admission(caller, (kind, id, name), e.code);
            Dispatch::Ready(Response {
                request_id: id,
                kind,
                result: Err(e),
            })
        };
        // A grant revoked since admission refuses the call before any of the app's code
        // (extractors, listeners) runs; a command looks again just before its handler.
        if let Err(e) = holds.check() {
            return refuse(&caller, &request.name, CallError::new(e.code, e.message));
        }
        if kind == Kind::Event {
            let delivered = self.deliver(&caller, id, &request.name, &request.body, &holds);
            if let Dispatch::Ready(Response { result: Err(e), .. }) = &delivered {
                audit.after_admission(&caller, (kind, id, &request.name), e.code);
            }
            return delivered;
        }
        let routes = if kind == Kind::Stream {
            &self.stream_routes
        } else {
            &self.commands
        };
        let Some(route) = routes.get(&request.name) else {
            return refuse(
                &caller,
                &request.name,
                CallError::new(
                    ErrorCode::UnknownCommand,
                    format!(
                        "{} {:?} is allowed but the app registered no handler for it",
                        kind.as_str(),
                        request.name
                    ),
                ),
            );
        };
        if let Err(errors) = self.checked.get_or_init(|| self.check()) {
            return refuse(
                &caller,
                &request.name,
                CallError::new(
                    ErrorCode::Internal,
                    format!("the app's routing table has mistakes: {errors}"),
                ),
            );
        }
        let (ticket, token) = match self.calls.begin(&caller, id) {
            Ok(registered) => registered,
            Err(_) => {
                return refuse(
                    &caller,
                    &request.name,
                    CallError::new(
                        ErrorCode::BadRequest,
                        format!("call {id} of this page load is still running: ids name one call"),
                    ),
                );
            }
        };
        let (upload, stream) = if kind == Kind::Stream {
            let key = StreamKey::of(&caller, id);
            match self.streams.begin(key.clone(), max_bytes) {
                Ok(upload) => (Some(upload), Some((key, self.streams.clone()))),
                Err(e) => return refuse(&caller, &request.name, e),
            }
        } else {
            (None, None)
        };
        let takes_channels = route.needs.channels > 0;
        let (channel_ids, channels) = if takes_channels {
            (
                channel_ids(Some(&request.body)),
                Some(self.channels.clone()),
            )
        } else {
            (Vec::new(), None)
        };
        let record = CallRecord {
            audit: audit.clone(),
            caller: caller.clone(),
            kind,
            request_id: id,
            name: request.name,
        };
        let mut parts = Parts {
            caller,
            body: Some(request.body),
            paths,
            state: Arc::clone(&self.state),
            cancel: token.clone(),
            grants: self.grants.clone(),
            holds,
            channel_ids: channel_ids.into_iter(),
            channels,
            upload,
            attached: Vec::new(),
        };
        // Arguments no extractor takes are dropped: the policy admitted them, and a
        // handler that takes none (or only `Scoped`, whose paths are in them) ignores
        // them, as a web framework ignores a body nobody reads.
        let work = (route.start)(&mut parts)
            // A route that left the holds untaken (the built-in one, an app's own
            // `Handler` impl) still gets the last look before it starts.
            .map(|work| {
                let holds = std::mem::take(&mut parts.holds);
                if holds.is_empty() {
                    work
                } else {
                    work.after_grants(holds)
                }
            });
        let call = InFlight {
            request_id: id,
            token,
            timeout_ms,
            stream,
            _ticket: ticket,
            record,
        };
        match work {
            Ok(work) if call.stream.is_some() => Dispatch::Stream(work, call),
            Ok(work) => Dispatch::Started(work, call),
            Err(e) => {
                if let Some((key, streams)) = &call.stream {
                    streams.finished(key, Err(e.clone()));
                    streams.forget(key);
                }
                // Channels an extractor took before a later one refused the call: no
                // handler will send on them, and they leave the page's table now.
                for id in parts.attached.drain(..) {
                    let _ = self
                        .channels
                        .close(&parts.caller.webview, parts.caller.session, id);
                }
                call.record.answered(e.code);
                Dispatch::Ready(Response {
                    request_id: id,
                    kind,
                    result: Err(e),
                })
            }
        }
    }

    fn deliver(
        &self,
        caller: &Caller,
        id: u64,
        name: &str,
        body: &Body,
        holds: &Holds,
    ) -> Dispatch {
        let mut result = Ok(Payload::Json("null".to_owned()));
        for listener in self.listeners.get(name).into_iter().flatten() {
            // Each listener starts only while the grants the event relied on hold.
            if let Err(e) = holds.check() {
                // An earlier listener's error, if any, stays the answer.
                result = result.and(Err(CallError::new(e.code, e.message)));
                break;
            }
            if let Err(e) = listener(caller, body) {
                result = result.and(Err(e));
            }
        }
        Dispatch::Ready(Response {
            request_id: id,
            kind: Kind::Event,
            result,
        })
    }

    /// Cancels the call a [`Cancel`] names, if its page load has it in flight.
    /// A refusal is audited here.
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

    /// Cancels every call in flight from webview `label` (its page went away or it
    /// closed) and closes its channels; returns how many calls.
    pub fn cancel_webview(&self, label: &str) -> usize {
        self.channels.close_webview(label);
        self.streams.close_webview(label);
        self.calls.cancel_webview(label)
    }

    /// A chunk of one of the page load's streams: `answer` gets its reply (see
    /// [`crate::stream`]).
    /// A refusal is audited here.
    pub fn chunk(&self, chunk: Chunk, answer: Answer) {
        let (audit, caller, stream) = (chunk.audit.clone(), chunk.caller.clone(), chunk.at.stream);
        let answer: Answer = Box::new(move |result| {
            if let Err(e) = &result {
                audit.after_admission(&caller, (Kind::Stream, stream, CHUNK_NAME), e.code);
            }
            answer(result)
        });
        self.streams.chunk(chunk, answer);
    }

    /// The streams pages send chunks on: the embedder hands a stream handler's result
    /// to [`Streams::finished`].
    pub fn streams(&self) -> &Streams {
        &self.streams
    }

    /// The channels handlers send on: the embedder serves the pages' pulls from here.
    pub fn channels(&self) -> &Channels {
        &self.channels
    }

    /// How many commands are in flight.
    pub fn in_flight(&self) -> usize {
        self.calls.len()
    }
}

// Unit tests only (`#[cfg(test)]`, not compiled into the library): their `unwrap`s run
// on fixed, valid inputs written here, never on anything a webview sends.
#[cfg(test)]
mod tests;
