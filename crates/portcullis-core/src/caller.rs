//! Who sent a message, as far as the embedder attests and the session proves.
//!
//! Only the gate makes a [`Caller`] for a message: from the session it opened under, or,
//! in brownfield mode, from the attested webview. Every step after the gate takes it
//! from here, below all of them.

use std::sync::Arc;

use crate::envelope::SessionId;
use crate::origin::Origin;

/// Who sent a request, as far as the embedder attests and the session proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The webview label the embedder attests (shared with the session: no copy per message).
    pub webview: Arc<str>,
    /// The page origin the embedder attests (and, with isolation, the session's origin).
    pub origin: Arc<Origin>,
    /// The session that sealed the request; `None` only in brownfield mode.
    pub session: Option<SessionId>,
    /// The request's sequence number in that session (0 in brownfield mode).
    pub seq: u64,
}
