//! The chunk codec (PROTOCOL.md §6.3, §8): what a stream chunk carries, read from a
//! sealed chunk's plaintext or from a brownfield chunk, and written for sealers.
//!
//! A sealed chunk travels in a chunk envelope whose header names its stream and number
//! (`envelope::ChunkAt`); its plaintext is one operation byte and the data. In brownfield
//! mode a chunk is a plaintext of kind [`MessageKind::Chunk`] under [`CHUNK_NAME`] whose
//! request id is the stream's and whose bytes body is the chunk number (u64, big-endian)
//! followed by the same operation byte and data. Both are read here, and only here.

use crate::envelope::ChunkAt;
use crate::error::{ErrorCode, Rejection};

pub use super::constants::CHUNK_NAME;
use super::constants::{BODY_BYTES, MessageKind, OP_ABORT, OP_DATA, OP_END};
use super::frame::{self, Framing, bad};

/// The longest abort reason kept (bytes, cut at a character boundary).
pub const MAX_REASON: usize = 512;

/// What a chunk carries.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChunkOp {
    /// Data for the handler.
    Data(Vec<u8>),
    /// The page closed the stream: no more data. Answered with the handler's result.
    End,
    /// The page aborted the stream, with its reason.
    Abort(String),
}

/// The plaintext of a chunk (PROTOCOL.md §6.3): one operation byte, then the data (or
/// the abort's reason in UTF-8).
pub fn chunk_plaintext(op: &ChunkOp) -> Vec<u8> {
    match op {
        ChunkOp::Data(data) => {
            let mut out = Vec::with_capacity(1 + data.len());
            out.push(OP_DATA);
            out.extend_from_slice(data);
            out
        }
        ChunkOp::End => vec![OP_END],
        ChunkOp::Abort(reason) => {
            let mut out = vec![OP_ABORT];
            out.extend_from_slice(reason.as_bytes());
            out
        }
    }
}

/// A chunk as brownfield mode takes it, unsealed (PROTOCOL.md §8).
pub fn encode_clear_chunk(at: ChunkAt, op: &ChunkOp) -> Vec<u8> {
    let mut out = frame::write(MessageKind::Chunk, BODY_BYTES, at.stream, CHUNK_NAME);
    out.extend_from_slice(&at.number.to_be_bytes());
    out.extend_from_slice(&chunk_plaintext(op));
    out
}

/// Reads a chunk's operation, at `start` in its decryption buffer.
pub(crate) fn read_op(mut buf: Vec<u8>, start: usize) -> Result<ChunkOp, Rejection> {
    let bad = |m: &str| Rejection::new(ErrorCode::BadRequest, m);
    match buf.get(start) {
        Some(&OP_DATA) => {
            // The data moves to the front of the buffer it was decrypted in.
            buf.drain(..=start);
            Ok(ChunkOp::Data(buf))
        }
        Some(&OP_END) if buf.len() == start + 1 => Ok(ChunkOp::End),
        Some(&OP_END) => Err(bad("a stream's end carries no data")),
        Some(&OP_ABORT) => {
            let text = std::str::from_utf8(&buf[start + 1..])
                .map_err(|_| bad("an abort's reason must be UTF-8"))?;
            Ok(ChunkOp::Abort(shorten(text)))
        }
        Some(_) => Err(bad("unknown chunk operation")),
        None => Err(bad("an empty chunk")),
    }
}

/// Where a brownfield chunk belongs, read from its prefix `framing` and its plaintext
/// `plain`: the operation follows the chunk number, at `framing.body_at + 8`.
pub(crate) fn read_clear(framing: &Framing<'_>, plain: &[u8]) -> Result<ChunkAt, Rejection> {
    let number = plain
        .get(framing.body_at..framing.body_at + 8)
        .filter(|_| framing.name == CHUNK_NAME && framing.body_type == BODY_BYTES);
    let Some(number) = number else {
        return Err(bad(format!(
            "a chunk is framed under the name {CHUNK_NAME:?} with a bytes body: number (u64), operation, data"
        )));
    };
    let mut n = [0u8; 8];
    n.copy_from_slice(number);
    Ok(ChunkAt {
        stream: framing.id,
        number: u64::from_be_bytes(n),
    })
}

fn shorten(text: &str) -> String {
    let mut end = text.len().min(MAX_REASON);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_reads_back_as_written() {
        for op in [
            ChunkOp::Data(vec![0, 1, 255]),
            ChunkOp::Data(Vec::new()),
            ChunkOp::End,
            ChunkOp::Abort("stopped".into()),
        ] {
            let mut buf = vec![9, 9];
            buf.extend_from_slice(&chunk_plaintext(&op));
            assert_eq!(read_op(buf, 2).unwrap(), op);
        }
    }

    #[test]
    fn malformed_operations_are_bad_requests() {
        for plain in [vec![], vec![OP_END, 0], vec![OP_ABORT, 0xff], vec![7]] {
            let code = read_op(plain.clone(), 0).unwrap_err().code;
            assert_eq!(code, ErrorCode::BadRequest, "{plain:?}");
        }
    }

    #[test]
    fn a_long_reason_is_cut_at_a_character_boundary() {
        let reason = "é".repeat(MAX_REASON);
        let mut plain = vec![OP_ABORT];
        plain.extend_from_slice(reason.as_bytes());
        match read_op(plain, 0).unwrap() {
            ChunkOp::Abort(kept) => {
                assert!(kept.len() <= MAX_REASON && kept.len() >= MAX_REASON - 1)
            }
            other => panic!("{other:?}"),
        }
    }
}
