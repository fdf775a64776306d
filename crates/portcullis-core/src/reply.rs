//! What a handler gives back, and how it reaches the frontend: a [`Payload`] (JSON text or
//! bytes) or a [`CallError`] with its stable code.
//!
//! A handler may return anything `Serialize` (sent as JSON), [`Bytes`] or `Vec<u8>` (sent
//! as bytes, not as a JSON array of numbers), or a `Result` of those whose error type
//! implements [`AppError`]. The app's own error types implement [`AppError`] (its code,
//! its message, optional structured data) and travel through `?` like any error;
//! [`HandlerError`] is the ready-made one.

use std::any::Any;
use std::fmt;
use std::ops::Deref;

use serde::Serialize;
use serde_json::Value;

use crate::error::ErrorCode;
use crate::wire::request::Kind;

/// A successful result.
#[derive(Clone, Debug, PartialEq)]
pub enum Payload {
    /// JSON text.
    Json(String),
    /// Raw bytes.
    Bytes(Vec<u8>),
}

/// A failed call, as the frontend sees it: `{code, message, appCode?, data?}`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CallError {
    /// The stable code.
    pub code: ErrorCode,
    /// Message for the caller.
    pub message: String,
    /// The app's own code, for `E_HANDLER`.
    #[serde(rename = "appCode", skip_serializing_if = "Option::is_none")]
    pub app_code: Option<String>,
    /// Structured data the app's error carries, for `E_HANDLER`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    /// Whether the audit recorded this refusal already: a stream's answer is relayed to
    /// the chunks that wait for it, and must not be recorded again for each.
    #[serde(skip)]
    pub(crate) audited: Audited,
}

/// The audit's mark on a [`CallError`]: not part of what the error says, so two errors
/// that say the same are equal whether or not one was recorded.
#[derive(Clone, Copy, Default)]
pub(crate) struct Audited(pub(crate) bool);

impl PartialEq for Audited {
    fn eq(&self, _: &Audited) -> bool {
        true
    }
}

impl fmt::Debug for Audited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl CallError {
    /// An error with `code` and `message`.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        CallError {
            code,
            message: message.into(),
            app_code: None,
            data: None,
            audited: Audited::default(),
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

/// An error type of the app's, as the frontend sees it: `E_HANDLER` with this message,
/// the app's code (`error.appCode` in JS) and structured data (`error.data`).
///
/// Every method but the message has a default, so a `thiserror` enum needs one line
/// (`impl AppError for MyError {}`) and a match where it has codes:
///
/// ```
/// use portcullis_core::router::AppError;
///
/// #[derive(Debug)]
/// enum NotesError { NotFound(u32), Io(std::io::Error) }
/// # impl std::fmt::Display for NotesError {
/// #     fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { write!(f, "notes error") }
/// # }
///
/// impl AppError for NotesError {
///     fn app_code(&self) -> Option<String> {
///         Some(match self { NotesError::NotFound(_) => "NOT_FOUND", NotesError::Io(_) => "IO" }.into())
///     }
///     fn data(&self) -> Option<serde_json::Value> {
///         match self { NotesError::NotFound(id) => Some(serde_json::json!({ "id": id })), _ => None }
///     }
/// }
/// ```
pub trait AppError: fmt::Display {
    /// The app's own code (e.g. `"NOTE_NOT_FOUND"`); none by default.
    fn app_code(&self) -> Option<String> {
        None
    }

    /// The message the caller sees; the `Display` text by default. Override it when the
    /// `Display` text holds what the page must not learn (paths, internal ids).
    fn message(&self) -> String {
        self.to_string()
    }

    /// Structured data for the caller; none by default.
    fn data(&self) -> Option<Value> {
        None
    }
}

/// The ready-made [`AppError`]: a message, optionally the app's code and data. Any
/// `std::error::Error` converts into it with `?` (message only).
#[derive(Clone, Debug, PartialEq)]
pub struct HandlerError {
    /// The app's own code, if it has one (e.g. `"NOTE_NOT_FOUND"`).
    pub app_code: Option<String>,
    /// Message for the caller.
    pub message: String,
    /// Structured data for the caller.
    pub data: Option<Value>,
}

impl HandlerError {
    /// An error with a message only.
    pub fn new(message: impl Into<String>) -> Self {
        HandlerError {
            app_code: None,
            message: message.into(),
            data: None,
        }
    }

    /// An error with the app's own code.
    pub fn with_code(app_code: impl Into<String>, message: impl Into<String>) -> Self {
        HandlerError {
            app_code: Some(app_code.into()),
            ..HandlerError::new(message)
        }
    }

    /// The same error carrying structured `data`.
    pub fn data(mut self, data: Value) -> Self {
        self.data = Some(data);
        self
    }
}

impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl AppError for HandlerError {
    fn app_code(&self) -> Option<String> {
        self.app_code.clone()
    }

    fn message(&self) -> String {
        self.message.clone()
    }

    fn data(&self) -> Option<Value> {
        self.data.clone()
    }
}

impl<E: std::error::Error> From<E> for HandlerError {
    fn from(e: E) -> Self {
        HandlerError::new(e.to_string())
    }
}

/// Binary data: as an extractor, the call's bytes body (`invoke(cmd, uint8Array)`); as a
/// return value, sent as bytes (a `Uint8Array` in JS).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bytes(pub Vec<u8>);

impl Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl From<Vec<u8>> for Bytes {
    fn from(v: Vec<u8>) -> Self {
        Bytes(v)
    }
}

/// Inside a larger value (a field of a struct), bytes serialize as serde bytes; at the
/// top of a reply they are sent as bytes.
impl Serialize for Bytes {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(&self.0)
    }
}

/// Marks [`IntoReply`] for a plain value.
#[doc(hidden)]
pub struct Plain;
/// Marks [`IntoReply`] for a ready [`Payload`].
#[doc(hidden)]
pub struct Raw;
/// Marks [`IntoReply`] for a `Result` of what `M` marks.
#[doc(hidden)]
pub struct Fallible<M>(std::marker::PhantomData<M>);

/// What a handler may return: a `Serialize` value (`M` = [`Plain`]), a [`Payload`] it
/// built itself, or a `Result` of either with an [`AppError`] (`M` = [`Fallible`]). The marker only tells the two apart; an
/// error type that is also `Serialize` would make a `Result` both, so the compiler asks
/// for annotations: keep `Serialize` off error types and give their data in
/// [`AppError::data`].
pub trait IntoReply<M>: Send + 'static {
    /// The payload, or the call's error.
    fn into_reply(self) -> Result<Payload, CallError>;
}

impl<T: Serialize + Send + 'static> IntoReply<Plain> for T {
    fn into_reply(self) -> Result<Payload, CallError> {
        payload_of(self)
    }
}

impl IntoReply<Raw> for Payload {
    fn into_reply(self) -> Result<Payload, CallError> {
        Ok(self)
    }
}

impl<M: 'static, T: IntoReply<M>, E: AppError + Send + 'static> IntoReply<Fallible<M>>
    for Result<T, E>
{
    fn into_reply(self) -> Result<Payload, CallError> {
        self.map_err(|e| handler_error(&e))
            .and_then(IntoReply::into_reply)
    }
}

/// Bytes (`Vec<u8>` or [`Bytes`]) as bytes, anything else as JSON. The type is looked at
/// through `Any` on the stack: no allocation, no copy.
fn payload_of<T: Serialize + 'static>(value: T) -> Result<Payload, CallError> {
    let mut slot = Some(value);
    let any: &mut dyn Any = &mut slot;
    if let Some(v) = any.downcast_mut::<Option<Vec<u8>>>() {
        return Ok(Payload::Bytes(v.take().unwrap_or_default()));
    }
    if let Some(b) = any.downcast_mut::<Option<Bytes>>() {
        return Ok(Payload::Bytes(b.take().map(|b| b.0).unwrap_or_default()));
    }
    serde_json::to_string(&slot)
        .map(Payload::Json)
        .map_err(|e| {
            CallError::new(
                ErrorCode::Internal,
                format!("result is not serializable: {e}"),
            )
        })
}

fn handler_error<E: AppError + ?Sized>(e: &E) -> CallError {
    CallError {
        code: ErrorCode::Handler,
        message: e.message(),
        app_code: e.app_code(),
        data: e.data(),
        audited: Audited::default(),
    }
}
