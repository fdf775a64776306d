//! Extractors: what a handler's arguments may be, in any order.
//!
//! | extractor | gives the handler |
//! |---|---|
//! | [`Args<T>`] | the admitted JSON arguments, deserialized into `T` |
//! | [`Bytes`] | the call's bytes body (`invoke(cmd, uint8Array)`) |
//! | [`Body`] | the body as it came, JSON or bytes |
//! | [`Caller`] | the attested webview, origin and session |
//! | [`State<T>`] | state the app registered once with [`Router::state`](super::Router::state) |
//! | [`Scoped`] | the path arguments the policy checked against their scope |
//! | [`CancellationToken`] | cancelled when the caller aborts or the call times out |
//! | [`Grants`] | the gate's run-time grants, to grant or revoke (e.g. on sign-in) |
//! | [`Channel`] | a channel the page passed as an argument, to send it messages |
//! | [`Upload`] | a stream's chunks (stream handlers only, [`Router::stream`](super::Router::stream)) |
//!
//! At most one extractor may take the body (`Args`, `Bytes` or `Body`), and every `State<T>` must
//! be registered: both are checked when the routing table is finished, not per call. A
//! handler that takes no body refuses arguments other than `{}` with `E_INVALID_ARGS`.

use std::any::{Any, TypeId};
use std::ops::Deref;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::DeserializeOwned;
pub use tokio_util::sync::CancellationToken;

use super::calls::Ticket;
use crate::FastMap;
use crate::caller::Caller;
use crate::channel::{Channel, ChannelId, Channels};
use crate::error::ErrorCode;
use crate::policy::grants::{Grants, Holds};
use crate::reply::{Bytes, CallError};
use crate::stream::Upload;
use crate::wire::request::{Body, JsonText};

/// The parts of one admitted call that extractors take from.
pub struct Parts {
    pub(crate) caller: Caller,
    /// `None` once an extractor took it.
    pub(crate) body: Option<Body>,
    pub(crate) paths: Vec<(String, PathBuf)>,
    pub(crate) state: Arc<StateMap>,
    /// The call's registration in the table of calls in flight, which gives its
    /// [`CancellationToken`] to the extractors that take one (made on the first ask).
    pub(crate) call: Ticket,
    pub(crate) grants: Option<Grants>,
    /// The grants the call relied on: the handler's work looks at them before it runs.
    pub(crate) holds: Holds,
    /// The channels the arguments name, not yet taken (found only for a handler that
    /// takes a [`Channel`]).
    pub(crate) channel_ids: std::vec::IntoIter<ChannelId>,
    /// The router's channels, for a handler that takes a [`Channel`] (else `None`: no
    /// reference taken per call).
    pub(crate) channels: Option<Channels>,
    /// The channels this call's extractors took so far: a call refused after taking
    /// them gives them up (they would hold a place in the page's table).
    pub(crate) attached: Vec<ChannelId>,
    /// A stream's chunks, for its handler's [`Upload`].
    pub(crate) upload: Option<Upload>,
}

/// State registered with the router, by type.
pub(crate) type StateMap = FastMap<TypeId, Arc<dyn Any + Send + Sync>>;

/// What a handler's extractors need from the routing table, gathered at registration.
#[derive(Default, Debug)]
pub struct Needs {
    pub(crate) body_takers: Vec<&'static str>,
    pub(crate) states: Vec<(TypeId, &'static str)>,
    /// How many [`Channel`]s the handler takes.
    pub(crate) channels: usize,
    /// How many [`Upload`]s the handler takes (a stream's handler: one).
    pub(crate) uploads: usize,
    /// Whether the handler takes [`Scoped`] (the path arguments the policy checked).
    pub(crate) scoped: bool,
}

impl Needs {
    /// Whether the handler reads anything of the call's arguments: the body
    /// (`Args`, `Bytes`, `Body`), its checked paths (`Scoped`) or its channels.
    pub(crate) fn reads_arguments(&self) -> bool {
        !self.body_takers.is_empty() || self.scoped || self.channels > 0
    }
}

/// A handler argument built from the admitted call.
pub trait FromCall: Sized + Send + 'static {
    /// Builds the argument, or refuses the call (e.g. arguments that do not fit).
    fn from_call(parts: &mut Parts) -> Result<Self, CallError>;

    /// Records what the argument needs from the table (the body, a registered state).
    fn declare(needs: &mut Needs) {
        let _ = needs;
    }
}

/// The admitted JSON arguments, deserialized into `T`. `{}` (what `invoke(cmd)` sends)
/// also fits a `T` that takes no arguments (`()`, an `Option`).
#[derive(Debug)]
pub struct Args<T>(pub T);

impl<T> Deref for Args<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned + Send + 'static> FromCall for Args<T> {
    fn from_call(parts: &mut Parts) -> Result<Self, CallError> {
        match parts.body.take() {
            Some(Body::Json(text)) => args_of(&text).map(Args),
            Some(Body::Bytes(_)) => Err(CallError::new(
                ErrorCode::InvalidArgs,
                "this command takes JSON arguments, not bytes",
            )),
            None => Err(taken_twice()),
        }
    }

    fn declare(needs: &mut Needs) {
        needs.body_takers.push("Args");
    }
}

impl FromCall for Bytes {
    fn from_call(parts: &mut Parts) -> Result<Self, CallError> {
        match parts.body.take() {
            Some(Body::Bytes(b)) => Ok(Bytes(b.into_vec())),
            Some(Body::Json(text)) => Err(CallError::new(
                ErrorCode::InvalidArgs,
                format!(
                    "this command takes bytes (a Uint8Array or ArrayBuffer), not JSON ({})",
                    text.json_type()
                ),
            )),
            None => Err(taken_twice()),
        }
    }

    fn declare(needs: &mut Needs) {
        needs.body_takers.push("Bytes");
    }
}

/// The body as it came, JSON or bytes: for handlers that take either (echo and audit
/// tools). A handler that knows its arguments takes `Args<T>` or `Bytes`.
impl FromCall for Body {
    fn from_call(parts: &mut Parts) -> Result<Self, CallError> {
        parts.body.take().ok_or_else(taken_twice)
    }

    fn declare(needs: &mut Needs) {
        needs.body_takers.push("Body");
    }
}

impl FromCall for Caller {
    fn from_call(parts: &mut Parts) -> Result<Self, CallError> {
        Ok(parts.caller.clone())
    }
}

/// The gate's run-time grants: a sign-in handler grants a capability to its caller's
/// window with `grants.grant(&caller.webview, "export")`.
impl FromCall for Grants {
    fn from_call(parts: &mut Parts) -> Result<Self, CallError> {
        parts.grants.clone().ok_or_else(|| {
            CallError::new(
                ErrorCode::Internal,
                "this router was never attached to a gate's grants (Router::grants): the embedder does that when it builds",
            )
        })
    }
}

/// A channel the page passed as a top-level argument (`invoke(cmd, {progress: channel})`).
/// A handler taking several gets them in the order of their argument names.
impl<T: Send + 'static> FromCall for Channel<T> {
    fn from_call(parts: &mut Parts) -> Result<Self, CallError> {
        let id = parts.channel_ids.next().ok_or_else(|| {
            CallError::new(
                ErrorCode::InvalidArgs,
                "this command takes a channel: pass a Channel from @portcullis/api as one of its arguments",
            )
        })?;
        let channels = parts.channels.as_ref().ok_or_else(|| {
            CallError::new(ErrorCode::Internal, "this route was not given the channels")
        })?;
        let channel = channels.attach(&parts.caller, id, parts.call.token().clone())?;
        parts.attached.push(id);
        Ok(channel)
    }

    fn declare(needs: &mut Needs) {
        needs.channels += 1;
    }
}

/// The chunks of the stream this handler was opened for.
impl FromCall for Upload {
    fn from_call(parts: &mut Parts) -> Result<Self, CallError> {
        parts
            .upload
            .take()
            .map(|u| u.cancelled_by(parts.call.token().clone()))
            .ok_or_else(|| {
                CallError::new(
                    ErrorCode::Internal,
                    "an Upload is taken once, by a stream's handler (Router::stream)",
                )
            })
    }

    fn declare(needs: &mut Needs) {
        needs.uploads += 1;
    }
}

/// The channel ids among the top-level members of JSON arguments, by member name.
pub(crate) fn channel_ids(body: Option<&Body>) -> Vec<ChannelId> {
    let Some(Body::Json(text)) = body else {
        return Vec::new();
    };
    match text.value() {
        serde_json::Value::Object(members) => members
            .values()
            .filter_map(|v| v.as_str().and_then(ChannelId::from_argument))
            .collect(),
        _ => Vec::new(),
    }
}

impl FromCall for CancellationToken {
    fn from_call(parts: &mut Parts) -> Result<Self, CallError> {
        Ok(parts.call.token().clone())
    }
}

/// State the app registered once with [`Router::state`](super::Router::state), shared by
/// every handler that takes it (like Tauri's `State<T>` and axum's `State`).
#[derive(Debug)]
pub struct State<T: ?Sized>(Arc<T>);

impl<T: ?Sized> Clone for State<T> {
    fn clone(&self) -> Self {
        State(Arc::clone(&self.0))
    }
}

impl<T: ?Sized> Deref for State<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: Send + Sync + 'static> FromCall for State<T> {
    fn from_call(parts: &mut Parts) -> Result<Self, CallError> {
        parts
            .state
            .get(&TypeId::of::<T>())
            .and_then(|any| Arc::clone(any).downcast::<T>().ok())
            .map(State)
            .ok_or_else(|| {
                CallError::new(
                    ErrorCode::Internal,
                    format!(
                        "no state of type {} is registered",
                        std::any::type_name::<T>()
                    ),
                )
            })
    }

    fn declare(needs: &mut Needs) {
        needs
            .states
            .push((TypeId::of::<T>(), std::any::type_name::<T>()));
    }
}

/// The path arguments the policy checked against their scope (symlinks resolved, `..`
/// refused): the paths a handler may open, by the JSON pointer the rule's `paths` names.
#[derive(Debug, Default)]
pub struct Scoped(Vec<(String, PathBuf)>);

impl Scoped {
    /// The checked path at `pointer` (e.g. `"/path"`), if the rule declared one there.
    pub fn get(&self, pointer: &str) -> Option<&Path> {
        self.0
            .iter()
            .find(|(p, _)| p == pointer)
            .map(|(_, path)| path.as_path())
    }
}

impl FromCall for Scoped {
    fn from_call(parts: &mut Parts) -> Result<Self, CallError> {
        Ok(Scoped(std::mem::take(&mut parts.paths)))
    }

    fn declare(needs: &mut Needs) {
        needs.scoped = true;
    }
}

fn taken_twice() -> CallError {
    CallError::new(
        ErrorCode::Internal,
        "two extractors take the body of this call",
    )
}

/// Deserializes the arguments straight from their text. An empty object also counts as
/// "no arguments", so a handler taking `()` or an `Option` accepts the `{}` that
/// `invoke(cmd)` sends.
fn args_of<A: DeserializeOwned + 'static>(text: &JsonText) -> Result<A, CallError> {
    // A handler that takes the arguments as a `Value` gets it built from the tree
    // directly, not through serde's visitors.
    let mut value = None;
    if let Some(slot) = (&mut value as &mut dyn Any).downcast_mut::<Option<serde_json::Value>>() {
        *slot = Some(text.value());
    }
    if let Some(value) = value {
        return Ok(value);
    }
    text.deserialize().or_else(|e| {
        if text.is_empty_object() {
            A::deserialize(serde_json::Value::Null).map_err(|_| bad_args(e, text.json_type()))
        } else {
            Err(bad_args(e, text.json_type()))
        }
    })
}

pub(crate) fn bad_args(e: serde_json::Error, kind: &str) -> CallError {
    // serde's message names the field and expected type; values it may quote came from
    // the caller itself.
    CallError::new(
        ErrorCode::InvalidArgs,
        format!("arguments ({kind}) do not fit the handler: {e}"),
    )
}
