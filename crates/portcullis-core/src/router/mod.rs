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
//! The same handlers registered with [`Router::command_typed`] (and `stream_typed`,
//! `on_event_typed`, `emits`) also record their types ([`typed`]), which
//! [`Router::manifest`] hands to the bindings generator and the drift check.
//!
//! Mistakes in the table (a name registered twice, a name no request can carry, two
//! extractors that both take the body, a `State<T>` never registered) are collected and
//! reported by [`Router::check`], which the embedder calls when it builds: the app does
//! not start. A table with mistakes refuses every call.

mod calls;
mod dispatch;
pub mod extract;
pub mod handler;
mod inflight;
pub mod typed;

use std::any::TypeId;
use std::collections::HashSet;
use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::de::DeserializeOwned;

pub use crate::reply::{AppError, Bytes, CallError, HandlerError, IntoReply, Payload, Response};
pub use extract::{Args, CancellationToken, FromCall, Parts, Scoped, State};
pub use handler::{Handler, Work};
pub use inflight::{Dispatch, InFlight};
pub use typed::{DescribeArg, DescribeReply, TypedError, TypedHandler};

use crate::FastMap;
use crate::caller::Caller;
use crate::channel::Channels;
use crate::error::ErrorCode;
use crate::name::{NAME_RULE, is_valid_name};
use crate::policy::grants::Grants;
use crate::stream::Streams;
use crate::wire::request::{Body, Kind};
use calls::Calls;
use extract::{Needs, StateMap, bad_args};
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
    /// The embedder asks for every call's token ([`Router::watches_calls`]).
    watches_calls: bool,
    /// The gate's run-time grants, once the embedder attached them ([`Router::grants`]).
    grants: Option<Grants>,
    /// The channels handlers send on, and the pages pull from.
    channels: Channels,
    /// The streams pages send chunks on.
    streams: Streams,
    /// The types of the handlers registered typed ([`Router::manifest`]).
    types: typed::Types,
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

    /// Says that the embedder asks for every started call's [`InFlight::token`] (to watch
    /// its deadline and its cancel, as `portcullis-wry` does): each call's token is then
    /// made as the call is registered, where it costs least. Without it a token is made
    /// only for a call someone asks it of, and a call nobody watches
    /// ([`Dispatch::wait`]) costs none. Cancels behave the same either way.
    pub fn watches_calls(mut self) -> Self {
        self.watches_calls = true;
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
