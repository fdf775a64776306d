//! The framing every plaintext shares (PROTOCOL.md §2): kind, body type, request id,
//! name, then the body. Read once here for every kind; written here for every kind.

use crate::error::{ErrorCode, Rejection};
use crate::name::{NAME_RULE, is_valid_name};

use super::constants::{MessageKind, PREFIX_LEN};

/// The prefix of a plaintext, read and checked: its name is in the grammar.
#[derive(Debug)]
pub(crate) struct Framing<'a> {
    /// The first byte (a [`MessageKind`] if it names one).
    pub(crate) kind: u8,
    /// The body type byte.
    pub(crate) body_type: u8,
    /// The request id.
    pub(crate) id: u64,
    /// The name.
    pub(crate) name: &'a str,
    /// Where the body starts in the plaintext.
    pub(crate) body_at: usize,
}

#[inline]
pub(crate) fn bad(msg: impl Into<String>) -> Rejection {
    Rejection::new(ErrorCode::BadRequest, msg)
}

/// Reads the prefix of `plain`.
#[inline]
pub(crate) fn read(plain: &[u8]) -> Result<Framing<'_>, Rejection> {
    if plain.len() < PREFIX_LEN {
        return Err(bad(format!(
            "request of {} bytes is shorter than its {PREFIX_LEN}-byte prefix",
            plain.len()
        )));
    }
    let mut id = [0u8; 8];
    id.copy_from_slice(&plain[2..10]);
    let id = u64::from_be_bytes(id);
    let name_len = u16::from_be_bytes([plain[10], plain[11]]) as usize;
    let name_end = PREFIX_LEN + name_len;
    let name = plain
        .get(PREFIX_LEN..name_end)
        .ok_or_else(|| bad("name runs past the end of the request"))?;
    let name = std::str::from_utf8(name)
        .ok()
        .filter(|n| is_valid_name(n))
        .ok_or_else(|| bad(format!("name must be {NAME_RULE}")))?;
    Ok(Framing {
        kind: plain[0],
        body_type: plain[1],
        id,
        name,
        body_at: name_end,
    })
}

/// Writes the prefix of a plaintext of `kind`. A name outside the grammar is written as
/// the empty name, which every gate refuses (`E_BAD_REQUEST`): never truncated or
/// coerced into some other, valid name.
pub(crate) fn write(kind: MessageKind, body_type: u8, id: u64, name: &str) -> Vec<u8> {
    let name = if is_valid_name(name) {
        name.as_bytes()
    } else {
        &[]
    };
    let mut out = Vec::with_capacity(PREFIX_LEN + name.len() + 64);
    out.push(kind.byte());
    out.push(body_type);
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&(name.len() as u16).to_be_bytes());
    out.extend_from_slice(name);
    out
}
