//! [`ChannelArg<T>`]: where a channel sits in a command's typed arguments.
//!
//! A page passes a channel as a top-level member of the arguments
//! (`invoke("notes.export", {path, progress})`); the handler sends on it through its
//! [`Channel<T>`](super::Channel) extractor. The member's name lives only in the
//! arguments, so a typed `Args` struct names it with a `ChannelArg<T>` field: it
//! deserializes from the channel's argument string, and its JSON Schema is that
//! string's pattern carrying `T`'s schema under [`CHANNEL_KEYWORD`], which the bindings
//! generator turns into `Channel<T>` on the page.

use std::fmt;
use std::marker::PhantomData;

use schemars::{JsonSchema, SchemaGenerator};
use serde::{Deserialize, Deserializer};

use super::id::{CHANNEL_PREFIX, ChannelId};
use super::sender::Untyped;

/// The schema keyword that marks a channel argument and holds its message's schema.
pub const CHANNEL_KEYWORD: &str = "x-portcullis-channel";

/// The pattern every channel argument matches.
pub const CHANNEL_PATTERN: &str = "^portcullis:channel:[0-9a-f]{32}$";

/// A channel's member in a command's arguments: its id, typed by the messages it
/// carries. The handler sends with its `Channel<T>` extractor; this field only names
/// where the page puts the channel.
pub struct ChannelArg<T = Untyped> {
    id: ChannelId,
    message: PhantomData<fn(T)>,
}

impl<T> ChannelArg<T> {
    /// The channel's id.
    pub fn id(&self) -> ChannelId {
        self.id
    }
}

impl<T> fmt::Debug for ChannelArg<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ChannelArg").field(&self.id).finish()
    }
}

impl<'de, T> Deserialize<'de> for ChannelArg<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        ChannelId::from_argument(&text)
            .map(|id| ChannelArg {
                id,
                message: PhantomData,
            })
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "expected a channel ({CHANNEL_PREFIX}<32 hex digits>)"
                ))
            })
    }
}

impl<T: JsonSchema> JsonSchema for ChannelArg<T> {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Channel_{}", T::schema_name()).into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(generator: &mut SchemaGenerator) -> schemars::Schema {
        let message = generator.subschema_for::<T>();
        schemars::json_schema!({
            "type": "string",
            "pattern": CHANNEL_PATTERN,
            CHANNEL_KEYWORD: message,
        })
    }
}

/// The messages of an untyped channel: any JSON value.
impl JsonSchema for Untyped {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Json".into()
    }

    fn inline_schema() -> bool {
        true
    }

    fn json_schema(_: &mut SchemaGenerator) -> schemars::Schema {
        schemars::Schema::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_channel_argument_reads_the_id_and_says_its_message_type() {
        let hex = "0123456789abcdef0123456789abcdef";
        let arg: ChannelArg<u8> =
            serde_json::from_value(serde_json::json!(format!("{CHANNEL_PREFIX}{hex}"))).unwrap();
        assert_eq!(arg.id(), ChannelId::parse(hex).unwrap());
        assert!(serde_json::from_value::<ChannelArg<u8>>(serde_json::json!(hex)).is_err());
        let schema = SchemaGenerator::default().into_root_schema_for::<ChannelArg<u8>>();
        assert_eq!(schema.get("pattern").unwrap(), CHANNEL_PATTERN);
        assert_eq!(schema.get(CHANNEL_KEYWORD).unwrap()["type"], "integer");
    }
}
