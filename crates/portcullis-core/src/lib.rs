//! Portcullis core: the gate between an untrusted web frontend and native code.
//!
//! This crate knows nothing of webviews, windows or JavaScript. It takes the raw bytes a
//! webview hands over plus the facts the embedder attests (webview label, page origin)
//! and returns either an [`Admitted`] request or a [`Rejection`] with a stable
//! [`ErrorCode`]. Read the modules in the order a message passes them
//! (`docs/ARCHITECTURE.md` has the whole walk, webview included):
//!
//! 1. [`gate`]: the steps below composed into one call, and the audit of every refusal;
//! 2. [`envelope`]: wire format v1, decoding, associated data, nonces;
//! 3. [`session`]: a live session of the attested webview and origin, which asks
//! 4. [`replay`]: the anti-replay window, and opens with
//! 5. [`aead`]: AES-256-GCM providers (ring, RustCrypto);
//! 6. [`request`]: the plaintext request, its [`name`] grammar and strict [`json`];
//! 7. [`policy`]: the allowlist, with [`origin`]s and path [`scope`]s, from the [`config`],
//!    and the run-time [`grants`];
//! 8. [`router`]: the handlers.
//!
//! Beside the walk: [`seal`] (the sending side, for tests and native clients) and
//! [`emit`] (core-to-frontend events).

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod aead;
pub mod audit;
pub mod authentic;
pub mod caller;
pub mod channel;
pub mod config;
pub mod emit;
pub mod envelope;
pub mod error;
pub mod gate;
pub mod json;
pub mod manifest;
pub mod name;
pub mod origin;
pub mod policy;
pub mod replay;
pub mod reply;
pub mod router;
pub mod scope;
pub mod seal;
pub mod session;
pub mod stream;
pub mod wire;

pub use policy::grants;
pub use wire::request;

pub use audit::AuditEvent;
pub use authentic::{Cancel, Chunk};
pub use caller::Caller;
pub use channel::{Channel, ChannelArg, ChannelError, Channels, Message, TrySendError, Untyped};
pub use config::{Config, ConfigError, ConfigErrors, Limits};
pub use emit::{EmitTarget, Emitter, EventSink};
pub use envelope::{Encoding, SessionId};
pub use error::{ErrorCode, Rejection};
pub use gate::{Gate, Inbound};
pub use grants::{GrantError, GrantEvent, Grants, Reach, WindowGrants};
pub use origin::Origin;
pub use policy::{Admitted, Policy};
pub use router::{
    AppError, Args, Bytes, CancellationToken, Dispatch, HandlerError, Payload, Response, Router,
    Scoped, State, TypedError,
};
pub use scope::{InvalidAppId, ScopeVars};
pub use seal::Sealer;
pub use session::{Attested, PageKey};
pub use stream::{StreamError, Upload};
pub use wire::report::Report;
pub use wire::request::{Body, Kind, Request};

/// The hash map of the per-message lookups (allowlist, handlers, sessions). Its keys come
/// from the config, the app and our own random session ids, never from a page, so a
/// fast non-cryptographic hasher is safe here; SipHash was 6% of a 200 B message.
pub(crate) type FastMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
