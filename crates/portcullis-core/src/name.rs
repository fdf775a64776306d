//! The name grammar for commands and events (PROTOCOL.md §2), written once: 1 to
//! [`MAX_NAME_LEN`] bytes, each an ASCII letter or digit or one of [`NAME_PUNCTUATION`].
//! The request decoder, the config check, the config's JSON Schema and the router use
//! these items; the isolation frame's copy (`isolation-app/sealer.js`, `NAME_PATTERN`
//! and `NAME_RULE`) is checked against [`NAME_PATTERN`] and [`NAME_RULE`] by a test.

/// Longest command or event name, in bytes.
pub const MAX_NAME_LEN: usize = 128;

/// The characters a name may use besides ASCII letters and digits.
pub const NAME_PUNCTUATION: &str = "_.:|/-";

// The table below takes the punctuation byte by byte: a character beyond ASCII would
// let its UTF-8 bytes into names one by one, in any combination.
const _: () = assert!(
    NAME_PUNCTUATION.is_ascii(),
    "NAME_PUNCTUATION must be ASCII"
);

/// The grammar as a regular expression (JSON Schema `pattern`, the sealer's `RegExp`).
pub const NAME_PATTERN: &str = "^[A-Za-z0-9_.:|/-]{1,128}$";

/// The grammar in words, for error messages.
pub const NAME_RULE: &str = "1-128 characters from [A-Za-z0-9_.:|/-]";

/// Whether `name` is a valid command or event name.
pub fn is_valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_NAME_LEN && name.bytes().all(|b| NAME_BYTES[b as usize])
}

/// The bytes a name may use, by value: the class above, worked out once at compile time
/// (every message's name is checked; a lookup per byte instead of a scan of the
/// punctuation).
const NAME_BYTES: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = (b as u8).is_ascii_alphanumeric();
        b += 1;
    }
    let punctuation = NAME_PUNCTUATION.as_bytes();
    let mut i = 0;
    while i < punctuation.len() {
        table[punctuation[i] as usize] = true;
        i += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    /// The pattern and the words say exactly what [`is_valid_name`] checks.
    #[test]
    fn the_pattern_and_the_rule_are_the_function() {
        let class = format!("A-Za-z0-9{NAME_PUNCTUATION}");
        assert_eq!(NAME_PATTERN, format!("^[{class}]{{1,{MAX_NAME_LEN}}}$"));
        assert_eq!(
            NAME_RULE,
            format!("1-{MAX_NAME_LEN} characters from [{class}]")
        );
        // Every byte, alone: valid exactly when the character class has it.
        for b in 0u8..=127 {
            let c = b as char;
            let in_class = c.is_ascii_alphanumeric() || NAME_PUNCTUATION.contains(c);
            assert_eq!(is_valid_name(&c.to_string()), in_class, "{c:?}");
        }
        assert!(!is_valid_name("é") && !is_valid_name(""));
        assert!(is_valid_name(&"x".repeat(MAX_NAME_LEN)));
        assert!(!is_valid_name(&"x".repeat(MAX_NAME_LEN + 1)));
    }

    /// The table says, for every byte value, what the check it replaced said: an ASCII
    /// letter or digit, or a byte of the punctuation.
    #[test]
    fn the_byte_table_is_the_class_for_every_byte() {
        for b in 0..=u8::MAX {
            let in_class = b.is_ascii_alphanumeric() || NAME_PUNCTUATION.as_bytes().contains(&b);
            assert_eq!(NAME_BYTES[usize::from(b)], in_class, "byte {b:#04x}");
        }
        assert_eq!(
            NAME_BYTES.iter().filter(|&&ok| ok).count(),
            26 + 26 + 10 + NAME_PUNCTUATION.len()
        );
    }

    /// The isolation frame's sealer states the same grammar, character for character.
    #[test]
    fn the_sealer_states_the_same_grammar() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../isolation-app/sealer.js");
        let sealer = std::fs::read_to_string(path).unwrap();
        assert!(
            sealer.contains(&format!("export const NAME_PATTERN = /{NAME_PATTERN}/;")),
            "sealer.js must export NAME_PATTERN = /{NAME_PATTERN}/"
        );
        assert!(
            sealer.contains(&format!("export const NAME_RULE = \"{NAME_RULE}\";")),
            "sealer.js must export NAME_RULE = \"{NAME_RULE}\""
        );
    }
}
