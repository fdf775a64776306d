//! A pull's answer as bytes: one frame per message, then the end (PROTOCOL.md §12).
//!
//! A frame is `type (1) || length (u32, big-endian) || data`. The types are the
//! protocol's ([`FRAME_JSON`], [`FRAME_BYTES`], [`FRAME_END`], defined once in
//! [`crate::wire::constants`] and handed to the bridge from there): JSON text, bytes,
//! and the end, which carries no data and is the last frame of the last answer.
//! Nothing is base64 or a JSON array of numbers. The invariant: [`read_frames`] reads
//! back exactly what [`push_message`] and [`push_end`] wrote, and refuses anything else
//! whole (no half-read answer).

use crate::wire::constants::{FRAME_BYTES, FRAME_END, FRAME_JSON};

use super::message::Message;

/// The bytes a frame adds to its data: the type and the length.
pub(crate) const FRAME_HEADER: usize = 1 + 4;

/// Appends `message`'s frame to `frames`. A queue takes no message of 4 GiB or more
/// (its limit is far below), so the length always fits.
pub(crate) fn push_message(frames: &mut Vec<u8>, message: &Message) {
    let (kind, data) = match message {
        Message::Json(text) => (FRAME_JSON, text.as_bytes()),
        Message::Bytes(bytes) => (FRAME_BYTES, bytes.as_slice()),
    };
    frames.push(kind);
    frames.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
    frames.extend_from_slice(data);
}

/// Appends the end frame: every sender is gone, or the channel closed.
pub(crate) fn push_end(frames: &mut Vec<u8>) {
    frames.push(FRAME_END);
    frames.extend_from_slice(&0u32.to_be_bytes());
}

/// An answer that is the end alone.
pub(crate) fn end_frame() -> Vec<u8> {
    let mut frames = Vec::with_capacity(FRAME_HEADER);
    push_end(&mut frames);
    frames
}

/// Reads a pull's answer back into messages and whether it ended (the JS package does
/// the same): for tests and native clients. `None` if any frame is malformed: cut
/// short, of an unknown type, JSON that is not UTF-8, or an end that carries data or is
/// not last.
pub fn read_frames(mut frames: &[u8]) -> Option<(Vec<Message>, bool)> {
    let mut messages = Vec::new();
    while !frames.is_empty() {
        let (&kind, rest) = frames.split_first()?;
        let len = u32::from_be_bytes(rest.get(..4)?.try_into().ok()?) as usize;
        let data = rest.get(4..4 + len)?;
        frames = &rest[4 + len..];
        match kind {
            FRAME_JSON => messages.push(Message::Json(String::from_utf8(data.to_vec()).ok()?)),
            FRAME_BYTES => messages.push(Message::Bytes(data.to_vec())),
            FRAME_END if len == 0 && frames.is_empty() => return Some((messages, true)),
            _ => return None,
        }
    }
    Some((messages, false))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn framed(messages: &[Message], end: bool) -> Vec<u8> {
        let mut frames = Vec::new();
        for m in messages {
            push_message(&mut frames, m);
        }
        if end {
            push_end(&mut frames);
        }
        frames
    }

    #[test]
    fn frames_are_type_length_data() {
        let frames = framed(
            &[Message::Json("1".into()), Message::Bytes(vec![9, 8])],
            true,
        );
        assert_eq!(
            frames,
            [
                &[FRAME_JSON, 0, 0, 0, 1, b'1'][..],
                &[FRAME_BYTES, 0, 0, 0, 2, 9, 8],
                &[FRAME_END, 0, 0, 0, 0],
            ]
            .concat()
        );
        assert_eq!(end_frame(), [FRAME_END, 0, 0, 0, 0]);
        assert_eq!(end_frame().len(), FRAME_HEADER);
    }

    #[test]
    fn what_is_written_reads_back() {
        let messages = vec![
            Message::Json(r#"{"a":"é"}"#.into()),
            Message::Bytes(Vec::new()),
            Message::Bytes((0..=255).collect()),
            Message::Json(String::new()),
        ];
        for end in [false, true] {
            assert_eq!(
                read_frames(&framed(&messages, end)),
                Some((messages.clone(), end))
            );
        }
        assert_eq!(read_frames(&[]), Some((Vec::new(), false)));
        assert_eq!(read_frames(&end_frame()), Some((Vec::new(), true)));
    }

    #[test]
    fn a_malformed_answer_reads_as_nothing() {
        let good = framed(&[Message::Bytes(vec![1, 2, 3])], true);
        // Cut anywhere short of whole: inside a header, inside the data, inside the end.
        for cut in 1..good.len() {
            if cut == FRAME_HEADER + 3 {
                continue; // a whole message frame, without the end: a fine answer
            }
            assert_eq!(read_frames(&good[..cut]), None, "cut at {cut}");
        }
        // A type that is none of the three.
        assert_eq!(read_frames(&[0, 0, 0, 0, 0]), None);
        assert_eq!(read_frames(&[FRAME_END + 1, 0, 0, 0, 0]), None);
        // JSON that is not UTF-8.
        assert_eq!(read_frames(&[FRAME_JSON, 0, 0, 0, 1, 0xff]), None);
        // An end with data, and an end that is not last.
        assert_eq!(read_frames(&[FRAME_END, 0, 0, 0, 1, 0]), None);
        assert_eq!(read_frames(&[end_frame(), end_frame()].concat()), None);
        let mut after_end = end_frame();
        push_message(&mut after_end, &Message::Bytes(vec![1]));
        assert_eq!(read_frames(&after_end), None);
        // A length far past the answer.
        assert_eq!(read_frames(&[FRAME_BYTES, 0xff, 0xff, 0xff, 0xff, 1]), None);
    }
}
