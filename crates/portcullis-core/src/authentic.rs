//! The two authentic messages that are not calls: a [`Cancel`] and a [`Chunk`].
//!
//! Only the gate makes them, from a message that opened under a live session (or, in
//! brownfield mode, arrived from the attested webview); each carries its [`Caller`] and
//! the gate's [`Audit`], so the step that takes it (the calls in flight, the streams)
//! records its own refusal of it. They sit below every such step.

use crate::audit::Audit;
pub use crate::caller::Caller;
use crate::envelope::ChunkAt;
use crate::wire::CHUNK_NAME;
use crate::wire::chunk::ChunkOp;

/// A page load asking to cancel one of its calls: only the gate builds one, from a
/// message that opened under that page load's session (or, in brownfield mode, arrived
/// from that webview).
#[derive(Debug)]
pub struct Cancel {
    pub(crate) caller: Caller,
    pub(crate) request_id: u64,
    /// Where a refusal of it is recorded.
    pub(crate) audit: Audit,
}

impl Cancel {
    /// The page load that asked.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// The id of the call to cancel.
    pub fn request_id(&self) -> u64 {
        self.request_id
    }
}

/// A chunk the gate authenticated, for the streams (through the router).
#[derive(Debug)]
pub struct Chunk {
    pub(crate) caller: Caller,
    pub(crate) at: ChunkAt,
    pub(crate) op: ChunkOp,
    /// Where a refusal of it is recorded.
    pub(crate) audit: Audit,
}

impl Chunk {
    /// The page load that sealed it.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// Its stream and number.
    pub fn at(&self) -> ChunkAt {
        self.at
    }

    /// The name it is audited under: [`CHUNK_NAME`].
    pub fn name(&self) -> &'static str {
        CHUNK_NAME
    }
}
