//! What a handler sends on a channel, and why a send fails.
//!
//! A [`Message`] is JSON text or bytes, whole: the page gets it as one value, never in
//! parts. A send that fails says why with a [`ChannelError`]; a
//! [`Channel::try_send`](super::Channel::try_send) that fails hands the message back in
//! a [`TrySendError`], so nothing the handler made is lost to a full queue. Both reach
//! the page as `E_HANDLER` with an app code of their own when a handler returns them.

use serde::Serialize;

/// One message for the page: JSON text (delivered parsed) or bytes (a `Uint8Array`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Message {
    /// JSON text, delivered to `onmessage` as the value it encodes.
    Json(String),
    /// Bytes, delivered to `onmessage` as a `Uint8Array`.
    Bytes(Vec<u8>),
}

impl Message {
    /// A JSON message of `value`.
    pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<Message, ChannelError> {
        serde_json::to_string(value)
            .map(Message::Json)
            .map_err(|e| ChannelError::Encode(e.to_string()))
    }

    /// The message's length in bytes: what it weighs in a queue and in a frame.
    pub(crate) fn len(&self) -> usize {
        match self {
            Message::Json(text) => text.len(),
            Message::Bytes(bytes) => bytes.len(),
        }
    }
}

impl From<Vec<u8>> for Message {
    fn from(bytes: Vec<u8>) -> Self {
        Message::Bytes(bytes)
    }
}

impl From<crate::reply::Bytes> for Message {
    fn from(bytes: crate::reply::Bytes) -> Self {
        Message::Bytes(bytes.0)
    }
}

/// Why a message was not sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChannelError {
    /// The page went away (a new page load, the webview closed) or closed the channel:
    /// nothing sent now can reach it.
    #[error("the channel is closed: its page went away or closed it")]
    Closed,
    /// [`Channel::try_send`](super::Channel::try_send) only: the queue is full (the page
    /// has not caught up).
    #[error("the channel's queue is full: the page has not taken the messages before")]
    Full,
    /// [`Channel::send_json`](super::Channel::send_json) only: the value cannot be
    /// written as JSON.
    #[error("the message cannot be written as JSON: {0}")]
    Encode(String),
    /// A message longer than [`MAX_MESSAGE`](super::MAX_MESSAGE).
    #[error("a channel message is limited to 8 MiB: send it in parts")]
    TooLong,
}

/// Why [`Channel::try_send`](super::Channel::try_send) did not queue a message; the
/// message comes back in it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrySendError {
    /// The queue is full: the page has not taken the messages before.
    #[error("the channel's queue is full: the page has not taken the messages before")]
    Full(Message),
    /// The page went away or closed the channel.
    #[error("the channel is closed: its page went away or closed it")]
    Closed(Message),
    /// Longer than [`MAX_MESSAGE`](super::MAX_MESSAGE).
    #[error("a channel message is limited to 8 MiB: send it in parts")]
    TooLong(Message),
}

impl TrySendError {
    /// The message that was not sent.
    pub fn into_message(self) -> Message {
        match self {
            TrySendError::Full(m) | TrySendError::Closed(m) | TrySendError::TooLong(m) => m,
        }
    }
}

impl From<TrySendError> for ChannelError {
    fn from(e: TrySendError) -> Self {
        match e {
            TrySendError::Full(_) => ChannelError::Full,
            TrySendError::Closed(_) => ChannelError::Closed,
            TrySendError::TooLong(_) => ChannelError::TooLong,
        }
    }
}

/// A handler may return it with `?`, as a [`ChannelError`].
impl crate::reply::AppError for TrySendError {
    fn app_code(&self) -> Option<String> {
        ChannelError::from(self.clone()).app_code()
    }
}

/// A handler may return it with `?`: the caller sees `E_HANDLER` with app code
/// `CHANNEL_CLOSED`, `CHANNEL_FULL`, `CHANNEL_ENCODE` or `CHANNEL_TOO_LONG`.
impl crate::reply::AppError for ChannelError {
    fn app_code(&self) -> Option<String> {
        Some(
            match self {
                ChannelError::Closed => "CHANNEL_CLOSED",
                ChannelError::Full => "CHANNEL_FULL",
                ChannelError::Encode(_) => "CHANNEL_ENCODE",
                ChannelError::TooLong => "CHANNEL_TOO_LONG",
            }
            .to_owned(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reply::AppError;

    #[test]
    fn a_message_weighs_its_text_or_its_bytes() {
        assert_eq!(Message::json(&"é").unwrap(), Message::Json("\"é\"".into()));
        assert_eq!(Message::json(&"é").unwrap().len(), 4);
        assert_eq!(Message::from(vec![0u8; 3]).len(), 3);
        assert_eq!(
            Message::from(crate::reply::Bytes(vec![1])),
            Message::Bytes(vec![1])
        );
    }

    #[test]
    fn a_value_json_cannot_write_is_an_encode_error() {
        let mut map = std::collections::HashMap::new();
        map.insert((1, 2), 3);
        assert!(matches!(Message::json(&map), Err(ChannelError::Encode(_))));
    }

    #[test]
    fn a_refused_try_send_hands_its_message_back_and_maps_to_its_error() {
        let m = || Message::Bytes(vec![7]);
        for (e, plain, code) in [
            (TrySendError::Full(m()), ChannelError::Full, "CHANNEL_FULL"),
            (
                TrySendError::Closed(m()),
                ChannelError::Closed,
                "CHANNEL_CLOSED",
            ),
            (
                TrySendError::TooLong(m()),
                ChannelError::TooLong,
                "CHANNEL_TOO_LONG",
            ),
        ] {
            assert_eq!(e.app_code().as_deref(), Some(code));
            assert_eq!(ChannelError::from(e.clone()), plain);
            assert_eq!(e.into_message(), m());
        }
        assert_eq!(
            ChannelError::Encode(String::new()).app_code().as_deref(),
            Some("CHANNEL_ENCODE")
        );
    }
}
