//! A channel's id, as the page names it in a call's arguments.
//!
//! The page picks 128 random bits and sends them as `"portcullis:channel:<32 hex
//! digits>"`, lowercase (PROTOCOL.md §12). The invariant: a [`ChannelId`] is only ever
//! made from exactly 32 lowercase hex digits, so every id the core holds has one
//! spelling, and the same channel cannot be named two ways.

use std::fmt;

/// The prefix of a channel argument; 32 lowercase hex digits follow.
pub const CHANNEL_PREFIX: &str = "portcullis:channel:";

/// A channel's id: 128 bits the page chose at random.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct ChannelId([u8; 16]);

impl ChannelId {
    /// Parses the 32 lowercase hex digits of an id.
    pub fn parse(hex: &str) -> Option<ChannelId> {
        let digits = hex.as_bytes();
        if digits.len() != 32 {
            return None;
        }
        let nibble = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        let mut id = [0u8; 16];
        for (i, pair) in digits.chunks_exact(2).enumerate() {
            id[i] = (nibble(pair[0])? << 4) | nibble(pair[1])?;
        }
        Some(ChannelId(id))
    }

    /// The id in a channel argument (`"portcullis:channel:<hex>"`), if `value` is one.
    pub fn from_argument(value: &str) -> Option<ChannelId> {
        value
            .strip_prefix(CHANNEL_PREFIX)
            .and_then(ChannelId::parse)
    }
}

impl fmt::Debug for ChannelId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ChannelId(")?;
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        write!(f, ")")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEX: &str = "00112233445566778899aabbccddeeff";

    #[test]
    fn thirty_two_lowercase_hex_digits_are_an_id() {
        let id = ChannelId::parse(HEX).unwrap();
        assert_eq!(format!("{id:?}"), format!("ChannelId({HEX})"));
        assert_eq!(
            ChannelId::parse(&"f".repeat(32)),
            Some(ChannelId([0xff; 16]))
        );
    }

    #[test]
    fn every_other_spelling_is_not_an_id() {
        // Uppercase would name the same bits a second way.
        assert_eq!(ChannelId::parse(&HEX.to_uppercase()), None);
        // One digit short, one too many, and a digit that is not hex at either end.
        assert_eq!(ChannelId::parse(&HEX[..31]), None);
        assert_eq!(ChannelId::parse(&format!("{HEX}0")), None);
        assert_eq!(ChannelId::parse(&format!("g{}", &HEX[1..])), None);
        assert_eq!(ChannelId::parse(&format!("{}g", &HEX[..31])), None);
        assert_eq!(ChannelId::parse(""), None);
        // 32 bytes that are not 32 digits.
        assert_eq!(ChannelId::parse(&format!("{}é", &HEX[..30])), None);
    }

    #[test]
    fn an_argument_is_the_prefix_then_the_id() {
        let id = ChannelId::parse(HEX).unwrap();
        assert_eq!(
            ChannelId::from_argument(&format!("{CHANNEL_PREFIX}{HEX}")),
            Some(id)
        );
        assert_eq!(ChannelId::from_argument(HEX), None);
        assert_eq!(
            ChannelId::from_argument(&format!("portcullis:stream:{HEX}")),
            None
        );
        assert_eq!(
            ChannelId::from_argument(&format!(" {CHANNEL_PREFIX}{HEX}")),
            None
        );
    }
}
