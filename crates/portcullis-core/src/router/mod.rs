//! The router: a table from command name to typed handler, and from event name to
//! listeners.
//!
//! ```
//! use portcullis_core::router::{HandlerError, Router};
//! # #[derive(serde::Deserialize)] struct AddNote { title: String }
//! # #[derive(serde::Serialize)] struct Note { id: u32 }
//! fn add_note(args: AddNote) -> Result<Note, HandlerError> { Ok(Note { id: 1 }) }
//!
//! let router = Router::new()
//!     .command("notes.add", add_note)
//!     .command("notes.count", |(): ()| Ok::<_, HandlerError>(3))
//!     .on_event("note-opened", |_caller, id: u32| { let _ = id; });
//! ```
//!
//! Handlers only ever receive requests the gate admitted: [`Router::dispatch`] takes an
//! [`Admitted`]. Arguments are deserialized for the handler and results serialized for
//! it. A handler that panics becomes an `E_HANDLER_PANICKED` response and the router
//! keeps serving. Async handlers return a future that the embedder drives; the core
//! depends on no runtime.

use std::any::{Any, TypeId};
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;

use futures_util::FutureExt as _;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::FastMap;
use crate::error::ErrorCode;
use crate::name::{NAME_RULE, is_valid_name};
use crate::policy::{Admitted, Caller};
use crate::request::{Body, Kind, json_type};

/// An error a handler returns. Reaches the frontend as `{code: "E_HANDLER", message,
/// appCode}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HandlerError {
    /// The app's own code, if it has one (e.g. `"NOTE_NOT_FOUND"`).
    pub app_code: Option<String>,
    /// Message for the caller.
    pub message: String,
}

impl HandlerError {
    /// An error with a message only.
    pub fn new(message: impl Into<String>) -> Self {
        HandlerError {
            app_code: None,
            message: message.into(),
        }
    }

    /// An error with the app's own code.
    pub fn with_code(app_code: impl Into<String>, message: impl Into<String>) -> Self {
        HandlerError {
            app_code: Some(app_code.into()),
            message: message.into(),
        }
    }
}

impl<E: std::error::Error> From<E> for HandlerError {
    fn from(e: E) -> Self {
        HandlerError::new(e.to_string())
    }
}

/// A successful result.
#[derive(Clone, Debug, PartialEq)]
pub enum Payload {
    /// JSON text.
    Json(String),
    /// Raw bytes.
    Bytes(Vec<u8>),
}

/// A failed call, as the frontend sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CallError {
    /// The stable code.
    pub code: ErrorCode,
    /// Message for the caller.
    pub message: String,
    /// The app's own code, for `E_HANDLER`.
    #[serde(rename = "appCode", skip_serializing_if = "Option::is_none")]
    pub app_code: Option<String>,
}

impl CallError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        CallError {
            code,
            message: message.into(),
            app_code: None,
        }
    }
}

/// The reply to one request.
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    /// The request id it answers.
    pub request_id: u64,
    /// Command or event (an event's reply only acknowledges delivery to listeners).
    pub kind: Kind,
    /// Result.
    pub result: Result<Payload, CallError>,
}

/// A boxed future of a [`Response`].
pub type ResponseFuture = Pin<Box<dyn Future<Output = Response> + Send + 'static>>;

/// What dispatch produced: a response now, or one to await.
pub enum Dispatch {
    /// The handler was synchronous (or the request was refused).
    Ready(Response),
    /// The handler is async; the embedder drives this future on its executor.
    Pending(ResponseFuture),
}

impl fmt::Debug for Dispatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dispatch::Ready(r) => f.debug_tuple("Ready").field(r).finish(),
            Dispatch::Pending(_) => f.write_str("Pending(..)"),
        }
    }
}

impl Dispatch {
    /// Blocks on a pending response with a minimal executor. For tests and for
    /// embedders without a runtime; prefer spawning the future.
    pub fn wait(self) -> Response {
        match self {
            Dispatch::Ready(r) => r,
            Dispatch::Pending(f) => futures_executor::block_on(f),
        }
    }
}

type CommandFn = dyn Fn(Admitted) -> Dispatch + Send + Sync;
type ListenerFn = dyn Fn(&Caller, &Body) -> Result<(), CallError> + Send + Sync;

/// The routing table.
#[derive(Default, Clone)]
pub struct Router {
    commands: FastMap<String, Arc<CommandFn>>,
    listeners: FastMap<String, Vec<Arc<ListenerFn>>>,
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
            .finish()
    }
}

impl Router {
    /// An empty table.
    pub fn new() -> Self {
        Router::default()
    }

    /// `name` → a synchronous handler taking typed arguments.
    ///
    /// Panics if `name` is already registered or is not a valid name.
    pub fn command<A, R, F>(self, name: &str, handler: F) -> Self
    where
        A: DeserializeOwned + 'static,
        R: Serialize,
        F: Fn(A) -> Result<R, HandlerError> + Send + Sync + 'static,
    {
        self.command_with_caller(name, move |_: &Caller, args: A| handler(args))
    }

    /// `name` → a synchronous handler that also sees who called.
    ///
    /// Panics if `name` is already registered or is not a valid name.
    pub fn command_with_caller<A, R, F>(mut self, name: &str, handler: F) -> Self
    where
        A: DeserializeOwned + 'static,
        R: Serialize,
        F: Fn(&Caller, A) -> Result<R, HandlerError> + Send + Sync + 'static,
    {
        let f = move |admitted: Admitted| {
            let (id, caller, body) = split(admitted);
            let result = args_of::<A>(body).and_then(|args| {
                guard(|| handler(&caller, args)).and_then(|r| r.map_err(handler_error))
            });
            Dispatch::Ready(Response {
                request_id: id,
                kind: Kind::Command,
                result: result.and_then(to_json),
            })
        };
        self.register(name, Arc::new(f));
        self
    }

    /// `name` → an async handler taking typed arguments.
    ///
    /// Panics if `name` is already registered or is not a valid name.
    pub fn command_async<A, R, F, Fut>(mut self, name: &str, handler: F) -> Self
    where
        A: DeserializeOwned + 'static,
        R: Serialize,
        F: Fn(A) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<R, HandlerError>> + Send + 'static,
    {
        let f = move |admitted: Admitted| {
            let (id, _caller, body) = split(admitted);
            let respond = move |result| Response {
                request_id: id,
                kind: Kind::Command,
                result,
            };
            let fut = match args_of::<A>(body).and_then(|args| guard(|| handler(args))) {
                Ok(fut) => fut,
                Err(e) => return Dispatch::Ready(respond(Err(e))),
            };
            Dispatch::Pending(Box::pin(AssertUnwindSafe(fut).catch_unwind().map(
                move |outcome| {
                    let result = match outcome {
                        Ok(r) => r.map_err(handler_error).and_then(to_json),
                        Err(panic) => Err(panicked(&*panic)),
                    };
                    respond(result)
                },
            )))
        };
        self.register(name, Arc::new(f));
        self
    }

    /// `name` → a handler with full control: it gets the admitted request (JSON or bytes
    /// body, caller, scoped paths) and returns a JSON or bytes payload.
    ///
    /// Panics if `name` is already registered or is not a valid name.
    pub fn command_raw<F>(mut self, name: &str, handler: F) -> Self
    where
        F: Fn(Admitted) -> Result<Payload, HandlerError> + Send + Sync + 'static,
    {
        let f = move |admitted: Admitted| {
            let id = admitted.request().id;
            let result = guard(|| handler(admitted)).and_then(|r| r.map_err(handler_error));
            Dispatch::Ready(Response {
                request_id: id,
                kind: Kind::Command,
                result,
            })
        };
        self.register(name, Arc::new(f));
        self
    }

    /// Adds a listener for frontend event `name`, with a typed payload.
    pub fn on_event<P, F>(mut self, name: &str, listener: F) -> Self
    where
        P: DeserializeOwned,
        F: Fn(&Caller, P) + Send + Sync + 'static,
    {
        let f = move |caller: &Caller, body: &Body| {
            let payload = match body {
                Body::Json(v) => P::deserialize(v).map_err(|e| bad_args(e, json_type(v))),
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

    /// Adds `handler` for command `name`, like axum's routes: a name registered twice, or
    /// one no request can carry, is a mistake in the app's own table, found at start-up.
    fn register(&mut self, name: &str, handler: Arc<CommandFn>) {
        if !is_valid_name(name) {
            panic!(
                "Router: {name:?} is not a command name ({NAME_RULE}): no request could reach this handler"
            );
        }
        if self.commands.insert(name.to_owned(), handler).is_some() {
            panic!(
                "Router: command {name:?} is registered twice: the second handler would silently replace the first"
            );
        }
    }

    /// Whether a handler is registered for command `name`.
    pub fn has_command(&self, name: &str) -> bool {
        self.commands.contains_key(name)
    }

    /// Runs the handler (command) or the listeners (event) for an admitted request.
    pub fn dispatch(&self, admitted: Admitted) -> Dispatch {
        let request = admitted.request();
        let (id, kind) = (request.id, request.kind);
        match kind {
            Kind::Command => match self.commands.get(&request.name) {
                Some(handler) => handler(admitted),
                None => Dispatch::Ready(Response {
                    request_id: id,
                    kind,
                    result: Err(CallError::new(
                        ErrorCode::UnknownCommand,
                        format!(
                            "command {:?} is allowed but the app registered no handler for it",
                            request.name
                        ),
                    )),
                }),
            },
            Kind::Event => {
                let mut result = Ok(Payload::Json("null".to_owned()));
                for listener in self.listeners.get(&request.name).into_iter().flatten() {
                    if let Err(e) = listener(admitted.caller(), &request.body) {
                        result = result.and(Err(e));
                    }
                }
                Dispatch::Ready(Response {
                    request_id: id,
                    kind,
                    result,
                })
            }
        }
    }
}

fn split(admitted: Admitted) -> (u64, Caller, Body) {
    let caller = admitted.caller().clone();
    let request = admitted.into_request();
    (request.id, caller, request.body)
}

/// Deserializes the arguments. An empty object also counts as "no arguments", so a
/// handler taking `()` or an `Option` accepts the `{}` that `invoke(cmd)` sends.
fn args_of<A: DeserializeOwned + 'static>(body: Body) -> Result<A, CallError> {
    match body {
        // A handler that takes the arguments as a `Value` gets the parsed tree itself;
        // going through serde would rebuild every object of it.
        Body::Json(v) if TypeId::of::<A>() == TypeId::of::<serde_json::Value>() => {
            let any: Box<dyn Any> = Box::new(v);
            any.downcast::<A>()
                .map(|a| *a)
                .map_err(|_| CallError::new(ErrorCode::Internal, "argument type check failed"))
        }
        Body::Json(v) => {
            // The value is moved into `A` (strings are not copied); what the error
            // message and the `{}`-means-no-arguments rule need is noted first.
            let kind = json_type(&v);
            let empty_object = matches!(&v, serde_json::Value::Object(m) if m.is_empty());
            serde_json::from_value(v).or_else(|e| {
                if empty_object {
                    A::deserialize(serde_json::Value::Null).map_err(|_| bad_args(e, kind))
                } else {
                    Err(bad_args(e, kind))
                }
            })
        }
        Body::Bytes(_) => Err(CallError::new(
            ErrorCode::InvalidArgs,
            "this command takes JSON arguments, not bytes",
        )),
    }
}

fn bad_args(e: serde_json::Error, kind: &str) -> CallError {
    // serde's message names the field and expected type; values it may quote came from
    // the caller itself.
    CallError::new(
        ErrorCode::InvalidArgs,
        format!("arguments ({kind}) do not fit the handler: {e}"),
    )
}

fn to_json<R: Serialize>(r: R) -> Result<Payload, CallError> {
    serde_json::to_string(&r).map(Payload::Json).map_err(|e| {
        CallError::new(
            ErrorCode::Internal,
            format!("result is not serializable: {e}"),
        )
    })
}

fn handler_error(e: HandlerError) -> CallError {
    CallError {
        code: ErrorCode::Handler,
        message: e.message,
        app_code: e.app_code,
    }
}

fn guard<T>(f: impl FnOnce() -> T) -> Result<T, CallError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| panicked(&*panic))
}

fn panicked(panic: &(dyn std::any::Any + Send)) -> CallError {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    // The panic text stays in the app's log; the caller only learns that it happened.
    tracing::error!(target: "portcullis::router", panic = %what, "handler panicked");
    CallError::new(
        ErrorCode::HandlerPanicked,
        "the handler panicked; the app keeps running",
    )
}

// Unit tests only (`#[cfg(test)]`, not compiled into the library): their `unwrap`s run
// on fixed, valid inputs written here, never on anything a webview sends.
#[cfg(test)]
mod tests;
