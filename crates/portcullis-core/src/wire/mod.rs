//! The plaintext inside an envelope (PROTOCOL.md §2): one framing for every kind.
//!
//! ```text
//! kind (1) | body type (1: 0=JSON, 1=bytes) | request id (u64 BE)
//! | name length (u16 BE, 1..=128) | name (UTF-8, [A-Za-z0-9_.:|/-]) | body (rest)
//! ```
//!
//! The kinds ([`MessageKind`]) and every other constant the scripts share are in
//! [`constants`]. [`Plaintext::decode`] reads the first byte and hands the plaintext to
//! the one module that reads that kind:
//!
//! - 1, 2, 5: a call ([`request`]: command, event, the open of a stream), for the policy;
//! - 3: a refusal the isolation frame reports ([`report`]), for the audit only, and only
//!   sealed;
//! - 4: a cancel of one of the page load's calls, framed under [`CANCEL_NAME`] with no
//!   body; it never reaches the policy, and the router honours it only for a call of the
//!   same page load;
//! - 6: a brownfield stream chunk ([`chunk`]); sealed chunks travel in chunk envelopes
//!   instead, and their plaintext is read by the same module.

pub mod body;
pub mod chunk;
pub mod constants;
mod frame;
pub mod report;
pub mod request;

use crate::envelope::ChunkAt;
use crate::error::Rejection;

use chunk::ChunkOp;
use constants::BODY_JSON;
pub use constants::{CANCEL_NAME, CHUNK_NAME, MessageKind, REPORT_NAME};
use frame::bad;
use report::Report;
use request::Request;

/// What an authentic plaintext turned out to be.
#[derive(Debug)]
pub(crate) enum Plaintext {
    /// A command, event or stream open, for the policy.
    Call(Request),
    /// A refusal report, for the audit only.
    Report(Report),
    /// A cancel of the call with this request id, for the router.
    Cancel(u64),
    /// A stream chunk (brownfield framing), for the streams.
    Chunk(ChunkAt, ChunkOp),
}

impl Plaintext {
    /// Decodes the plaintext at `start` in `buf`: a call, a cancel, a brownfield chunk
    /// or, only when it was `sealed` by the isolation frame, a report.
    pub(crate) fn decode(
        buf: Vec<u8>,
        start: usize,
        max_depth: u32,
        sealed: bool,
    ) -> Result<Plaintext, Rejection> {
        let plain = buf.get(start..).unwrap_or_default();
        match plain.first().copied().and_then(MessageKind::from_byte) {
            Some(MessageKind::Report) if sealed => {
                let framing = frame::read(plain)?;
                Report::decode(
                    &plain[framing.body_at..],
                    framing.id,
                    framing.name,
                    framing.body_type,
                )
                .map(Plaintext::Report)
            }
            Some(MessageKind::Cancel) => {
                let framing = frame::read(plain)?;
                if framing.name != CANCEL_NAME
                    || framing.body_type != BODY_JSON
                    || plain.len() != framing.body_at
                {
                    return Err(bad(format!(
                        "a cancel is framed under the name {CANCEL_NAME:?}, with no body"
                    )));
                }
                Ok(Plaintext::Cancel(framing.id))
            }
            Some(MessageKind::Chunk) if sealed => Err(bad(
                "a sealed stream chunk travels in a chunk envelope (flags 1), not as a request",
            )),
            Some(MessageKind::Chunk) => {
                let framing = frame::read(plain)?;
                let at = chunk::read_clear(&framing, plain)?;
                let op_at = start + framing.body_at + 8;
                chunk::read_op(buf, op_at).map(|op| Plaintext::Chunk(at, op))
            }
            _ => Request::decode_at(buf, start, max_depth).map(Plaintext::Call),
        }
    }
}
