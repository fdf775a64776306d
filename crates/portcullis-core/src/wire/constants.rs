//! The protocol's constants, defined once (PROTOCOL.md §5, §6.3, §12).
//!
//! Rust is the one source: the message kinds, body types, chunk operations, the stream
//! window, the largest chunk data a message limit leaves room for, and the channel frame
//! types are defined here, and the bridge and the isolation runtime receive them as data
//! ([`for_scripts`], with the envelope's layout) when the webview is set up, never
//! written into their code. portcullis-wry's `protocol` module hands them over and its
//! tests fail if a script still states one itself; `tests/protocol.rs` checks the
//! scripts' known answers (`fixtures/vectors/messages-v1.json`) against the core's
//! encoders.

use crate::aead::{NONCE_LEN, TAG_LEN};
use crate::envelope::{CHUNK_HEADER_LEN, FLAG_CHUNK, HEADER_LEN, MAGIC, VERSION};

/// What a plaintext is: its first byte. Every kind the wire carries is a variant, so
/// nothing else in the core writes a kind as a number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum MessageKind {
    /// A command: a call that expects a reply.
    Command = 1,
    /// An event: fire and forget.
    Event = 2,
    /// A refusal the isolation frame reports (taken only sealed).
    Report = 3,
    /// A cancel of one of the page load's calls.
    Cancel = 4,
    /// The open of a frontend-to-core stream.
    Stream = 5,
    /// A stream chunk in brownfield framing (sealed chunks travel in chunk envelopes).
    Chunk = 6,
}

impl MessageKind {
    /// Every kind, in byte order.
    pub const ALL: [MessageKind; 6] = [
        MessageKind::Command,
        MessageKind::Event,
        MessageKind::Report,
        MessageKind::Cancel,
        MessageKind::Stream,
        MessageKind::Chunk,
    ];

    /// The kind's byte.
    pub const fn byte(self) -> u8 {
        self as u8
    }

    /// The kind a first byte names, if any.
    pub const fn from_byte(byte: u8) -> Option<MessageKind> {
        Some(match byte {
            1 => MessageKind::Command,
            2 => MessageKind::Event,
            3 => MessageKind::Report,
            4 => MessageKind::Cancel,
            5 => MessageKind::Stream,
            6 => MessageKind::Chunk,
            _ => return None,
        })
    }

    /// The kind's name as the scripts know it.
    pub const fn as_str(self) -> &'static str {
        match self {
            MessageKind::Command => "command",
            MessageKind::Event => "event",
            MessageKind::Report => "report",
            MessageKind::Cancel => "cancel",
            MessageKind::Stream => "stream",
            MessageKind::Chunk => "chunk",
        }
    }
}

/// Body type byte: the body is JSON text.
pub const BODY_JSON: u8 = 0;
/// Body type byte: the body is raw bytes.
pub const BODY_BYTES: u8 = 1;

/// The name a cancel is framed under.
pub const CANCEL_NAME: &str = "portcullis.cancel";
/// The name a report is framed under.
pub const REPORT_NAME: &str = "portcullis.report";
/// The name brownfield chunks are framed under (kind [`MessageKind::Chunk`]).
pub const CHUNK_NAME: &str = "portcullis.chunk";

/// Chunk operation byte: data for the handler.
pub const OP_DATA: u8 = 0;
/// Chunk operation byte: the stream's end.
pub const OP_END: u8 = 1;
/// Chunk operation byte: the page aborted the stream.
pub const OP_ABORT: u8 = 2;

/// How far ahead of a stream's next number a chunk may arrive: the sealer keeps at most
/// this many of a stream's chunks in flight, and the engine may deliver them in any
/// order.
pub const STREAM_WINDOW: u64 = 4;

/// Channel frame type: a JSON message.
pub const FRAME_JSON: u8 = 1;
/// Channel frame type: a bytes message.
pub const FRAME_BYTES: u8 = 2;
/// Channel frame type: the channel ended.
pub const FRAME_END: u8 = 3;

/// Length of the fixed part of a plaintext before its name: kind, body type, request
/// id (u64), name length (u16).
pub const PREFIX_LEN: usize = 1 + 1 + 8 + 2;

/// The most bytes a sealed chunk's envelope adds to its data: the chunk header, the
/// operation byte and the tag.
pub const SEALED_CHUNK_OVERHEAD: usize = CHUNK_HEADER_LEN + 1 + TAG_LEN;
/// The most bytes a brownfield chunk's framing adds to its data: the prefix, the name,
/// the chunk number and the operation byte.
pub const CLEAR_CHUNK_OVERHEAD: usize = PREFIX_LEN + CHUNK_NAME.len() + 8 + 1;

/// The most data one chunk may carry when messages are at most `max_message_bytes`
/// (at least 1, so a stream always moves).
pub const fn max_chunk_data(max_message_bytes: usize) -> usize {
    let overhead = if SEALED_CHUNK_OVERHEAD > CLEAR_CHUNK_OVERHEAD {
        SEALED_CHUNK_OVERHEAD
    } else {
        CLEAR_CHUNK_OVERHEAD
    };
    let data = max_message_bytes.saturating_sub(overhead);
    if data == 0 { 1 } else { data }
}

/// The constants the scripts need, as the JSON object they receive at set-up: the
/// message kinds and body types, the reserved names, the chunk operations, the stream
/// window, the channel frame types, the plaintext prefix's length, and the envelope's
/// layout (magic, version, header lengths, the chunk flag, nonce and tag lengths).
pub fn for_scripts() -> serde_json::Value {
    let kinds: serde_json::Map<String, serde_json::Value> = MessageKind::ALL
        .into_iter()
        .map(|k| (k.as_str().to_owned(), k.byte().into()))
        .collect();
    serde_json::json!({
        "kinds": kinds,
        "bodyTypes": { "json": BODY_JSON, "bytes": BODY_BYTES },
        "names": { "cancel": CANCEL_NAME, "report": REPORT_NAME, "chunk": CHUNK_NAME },
        "chunkOps": { "data": OP_DATA, "end": OP_END, "abort": OP_ABORT },
        "streamWindow": STREAM_WINDOW,
        "channelFrames": { "json": FRAME_JSON, "bytes": FRAME_BYTES, "end": FRAME_END },
        "prefixLen": PREFIX_LEN,
        "envelope": {
            "magic": MAGIC,
            "version": VERSION,
            "headerLen": HEADER_LEN,
            "chunkHeaderLen": CHUNK_HEADER_LEN,
            "chunkFlag": FLAG_CHUNK,
            "nonceLen": NONCE_LEN,
            "tagLen": TAG_LEN,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_byte_and_no_other_byte_is_a_kind() {
        for kind in MessageKind::ALL {
            assert_eq!(MessageKind::from_byte(kind.byte()), Some(kind));
        }
        for byte in [0u8, 7, 255] {
            assert_eq!(MessageKind::from_byte(byte), None);
        }
    }

    #[test]
    fn the_largest_chunk_leaves_room_for_either_framing() {
        let limit = 1 << 20;
        let data = max_chunk_data(limit);
        assert!(data + SEALED_CHUNK_OVERHEAD <= limit);
        assert!(data + CLEAR_CHUNK_OVERHEAD <= limit);
        assert_eq!(max_chunk_data(3), 1);
    }

    #[test]
    fn the_scripts_get_every_kind_and_the_envelope_as_numbers() {
        let scripts = for_scripts();
        for kind in MessageKind::ALL {
            assert_eq!(scripts["kinds"][kind.as_str()], kind.byte());
        }
        assert_eq!(
            scripts["envelope"]["magic"],
            serde_json::json!([0x50, 0x43])
        );
        assert_eq!(scripts["envelope"]["headerLen"], HEADER_LEN);
        assert_eq!(scripts["streamWindow"], STREAM_WINDOW);
    }
}
