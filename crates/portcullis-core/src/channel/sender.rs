//! The handler's side of a channel: [`Channel<T>`] and its sends.
//!
//! The invariants:
//!
//! - **The end comes once, after everything sent.** Clones share one [`Sender`]; the
//!   page is told the channel ended when the last clone goes, after every message
//!   queued before.
//! - **A full queue holds the handler, never loses its message.** [`Channel::send`]
//!   waits for room and ends with [`ChannelError::Closed`] when the page goes away or
//!   the call is cancelled; [`Channel::try_send`] hands the message back
//!   ([`TrySendError`]).
//! - **A cancelled call's channel is closed for its handler** (aborted by its page,
//!   timed out, its page gone), whatever the queue says.

use std::fmt;
use std::marker::PhantomData;
use std::sync::Arc;

use futures_util::future::{Either, select};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::entry::ChannelEntry;
use super::message::{ChannelError, Message, TrySendError};
use super::queue::too_long;

/// What a handler sends on: the channel the call's arguments named. Clones send on the
/// same channel; when the last one is dropped the page is told the channel ended (after
/// every message queued before).
///
/// `Channel` takes any JSON value ([`Channel::send_json`]) and bytes ([`Channel::send`]);
/// `Channel<T>` is typed: its [`send_json`](Channel::send_json) takes a `T` only (the
/// page declares the same type, `Channel<T>` in `@portcullis/api`), bytes still go as
/// bytes.
pub struct Channel<T = Untyped> {
    sender: Arc<Sender>,
    message: PhantomData<fn(T)>,
}

/// The message type of a [`Channel`] that takes any JSON value.
#[derive(Clone, Copy, Debug)]
pub enum Untyped {}

impl<T> Clone for Channel<T> {
    fn clone(&self) -> Self {
        Channel {
            sender: Arc::clone(&self.sender),
            message: PhantomData,
        }
    }
}

impl<T> fmt::Debug for Channel<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channel")
            .field("id", &self.sender.entry.id)
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Ends the channel when the last [`Channel`] clone goes.
struct Sender {
    entry: Arc<ChannelEntry>,
    /// The token of the call that took the channel: a cancelled call (aborted by its
    /// page, timed out, its page gone) closes its channel for the handler.
    token: CancellationToken,
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.entry.end();
    }
}

impl<T> Channel<T> {
    /// The only sender of `entry`, for the call whose cancellation is `token`.
    pub(super) fn new(entry: Arc<ChannelEntry>, token: CancellationToken) -> Self {
        Channel {
            sender: Arc::new(Sender { entry, token }),
            message: PhantomData,
        }
    }

    /// Queues `message` for the page, waiting while the queue is full. Fails with
    /// [`ChannelError::Closed`] once the page went away or closed the channel (also while
    /// waiting).
    pub async fn send(&self, message: impl Into<Message>) -> Result<(), ChannelError> {
        let mut message = message.into();
        if too_long(&message) {
            return Err(ChannelError::TooLong);
        }
        let (entry, token) = (&self.sender.entry, &self.sender.token);
        let mut cancelled = std::pin::pin!(token.cancelled());
        loop {
            let mut space = std::pin::pin!(entry.space.notified());
            // Registered before the look at the queue, so a pull between the look and the
            // wait still wakes this sender.
            space.as_mut().enable();
            if token.is_cancelled() {
                return Err(ChannelError::Closed);
            }
            message = match entry.push(message) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Full(message)) => message,
                Err(e) => return Err(e.into()),
            };
            if let Either::Right(_) = select(space, cancelled.as_mut()).await {
                return Err(ChannelError::Closed);
            }
        }
    }

    /// Queues `message` if the queue has room, without waiting; otherwise the message
    /// comes back in the error, to send later or elsewhere (as tokio's `try_send` does).
    pub fn try_send(&self, message: impl Into<Message>) -> Result<(), TrySendError> {
        let message = message.into();
        if too_long(&message) {
            return Err(TrySendError::TooLong(message));
        }
        if self.sender.token.is_cancelled() {
            return Err(TrySendError::Closed(message));
        }
        self.sender.entry.push(message)
    }

    /// [`Channel::send`] for a sync handler (it runs on a blocking thread, where waiting
    /// is fine). Never call it from async code.
    pub fn send_blocking(&self, message: impl Into<Message>) -> Result<(), ChannelError> {
        futures_executor::block_on(self.send(message))
    }

    /// Whether the page went away or closed the channel, or the call was cancelled.
    pub fn is_closed(&self) -> bool {
        self.sender.token.is_cancelled() || self.sender.entry.state().queue.is_closed()
    }

    /// Resolves once the channel is closed (the page went away or closed it, or the call
    /// was cancelled): a producer can stop then instead of at its next `send`.
    pub async fn closed(&self) {
        let (entry, token) = (&self.sender.entry, &self.sender.token);
        let mut cancelled = std::pin::pin!(token.cancelled());
        loop {
            let mut space = std::pin::pin!(entry.space.notified());
            space.as_mut().enable();
            if self.is_closed() {
                return;
            }
            if let Either::Right(_) = select(space, cancelled.as_mut()).await {
                return;
            }
        }
    }
}

impl Channel<Untyped> {
    /// Queues `value` as JSON (see [`Channel::send`]).
    pub async fn send_json<U: Serialize + ?Sized>(&self, value: &U) -> Result<(), ChannelError> {
        self.send(Message::json(value)?).await
    }
}

impl<T: Serialize> Channel<T> {
    /// Queues `value`, of the channel's message type, as JSON (see [`Channel::send`]).
    pub async fn send_json(&self, value: &T) -> Result<(), ChannelError> {
        self.send(Message::json(value)?).await
    }

    /// [`Channel::send_json`] for a sync handler.
    pub fn send_json_blocking(&self, value: &T) -> Result<(), ChannelError> {
        futures_executor::block_on(self.send_json(value))
    }

    /// Queues `value` as JSON if the queue has room, without waiting (the value stays
    /// the caller's).
    pub fn try_send_json(&self, value: &T) -> Result<(), ChannelError> {
        Ok(self.try_send(Message::json(value)?)?)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Weak;
    use std::sync::mpsc;
    use std::thread;
    use std::time::Duration;

    use super::*;
    use crate::caller::Caller;
    use crate::channel::entry::Puller;
    use crate::channel::frames::read_frames;
    use crate::channel::id::ChannelId;
    use crate::channel::queue::{MAX_MESSAGE, QUEUE_MESSAGES, Queue};
    use crate::origin::Origin;

    /// A channel no table holds, and its entry (to pull and close as the page would).
    fn channel<T>(token: CancellationToken) -> (Channel<T>, Arc<ChannelEntry>) {
        let caller = Caller {
            webview: "main".into(),
            origin: Arc::new(Origin::parse("app://localhost").unwrap()),
            session: None,
            seq: 0,
        };
        let id = ChannelId::parse(&"ab".repeat(16)).unwrap();
        let entry = ChannelEntry::new(id, &caller, Queue::default(), Weak::new());
        (Channel::new(Arc::clone(&entry), token), entry)
    }

    fn pull(entry: &ChannelEntry) -> (Vec<Message>, bool) {
        let (tx, rx) = mpsc::channel();
        let answer: Puller = Box::new(move |a| {
            let _ = tx.send(a);
        });
        entry.pull(answer);
        read_frames(&rx.try_recv().unwrap().unwrap()).unwrap()
    }

    fn msg(n: u8) -> Message {
        Message::Bytes(vec![n])
    }

    fn fill(ch: &Channel) {
        for n in 0..QUEUE_MESSAGES {
            ch.try_send(msg(n as u8)).unwrap();
        }
    }

    #[test]
    fn try_send_hands_the_message_back_when_full_closed_or_too_long() {
        let (ch, entry) = channel::<Untyped>(CancellationToken::new());
        fill(&ch);
        assert_eq!(ch.try_send(msg(99)), Err(TrySendError::Full(msg(99))));
        let long = Message::Bytes(vec![0; MAX_MESSAGE + 1]);
        assert_eq!(ch.try_send(long.clone()), Err(TrySendError::TooLong(long)));
        entry.close();
        assert_eq!(ch.try_send(msg(99)), Err(TrySendError::Closed(msg(99))));
        assert!(ch.is_closed());
    }

    #[test]
    fn send_waits_while_full_and_goes_on_once_the_page_pulls() {
        let (ch, entry) = channel::<Untyped>(CancellationToken::new());
        fill(&ch);
        let (done_tx, done) = mpsc::channel();
        let sender = ch.clone();
        let waiter = thread::spawn(move || {
            let _ = done_tx.send(sender.send_blocking(msg(200)));
        });
        assert!(done.recv_timeout(Duration::from_millis(100)).is_err());
        let (first, ended) = pull(&entry);
        assert_eq!((first.len(), ended), (QUEUE_MESSAGES, false));
        assert_eq!(done.recv_timeout(Duration::from_secs(10)), Ok(Ok(())));
        waiter.join().unwrap();
        assert_eq!(pull(&entry), (vec![msg(200)], false));
    }

    #[test]
    fn a_send_waiting_on_a_full_queue_fails_when_the_page_closes_or_the_call_is_cancelled() {
        for cancel in [false, true] {
            let token = CancellationToken::new();
            let (ch, entry) = channel::<Untyped>(token.clone());
            fill(&ch);
            let (done_tx, done) = mpsc::channel();
            let sender = ch.clone();
            let waiter = thread::spawn(move || {
                let _ = done_tx.send(sender.send_blocking(msg(200)));
            });
            assert!(done.recv_timeout(Duration::from_millis(50)).is_err());
            if cancel {
                token.cancel();
            } else {
                entry.close();
            }
            let sent = done.recv_timeout(Duration::from_secs(10));
            assert_eq!(sent, Ok(Err(ChannelError::Closed)), "cancel: {cancel}");
            waiter.join().unwrap();
        }
    }

    #[test]
    fn a_cancelled_call_closes_its_channel_but_too_long_is_said_first() {
        let token = CancellationToken::new();
        let (ch, entry) = channel::<Untyped>(token.clone());
        token.cancel();
        assert!(ch.is_closed());
        assert!(!entry.state().queue.is_closed());
        assert_eq!(ch.try_send(msg(1)), Err(TrySendError::Closed(msg(1))));
        assert_eq!(ch.send_blocking(msg(1)), Err(ChannelError::Closed));
        let long = Message::Bytes(vec![0; MAX_MESSAGE + 1]);
        assert_eq!(ch.send_blocking(long), Err(ChannelError::TooLong));
        futures_executor::block_on(ch.closed());
    }

    #[test]
    fn the_end_comes_once_the_last_clone_goes_after_every_message() {
        let (ch, entry) = channel::<Untyped>(CancellationToken::new());
        let clone = ch.clone();
        ch.try_send(msg(1)).unwrap();
        drop(ch);
        clone.try_send(msg(2)).unwrap();
        assert_eq!(pull(&entry), (vec![msg(1), msg(2)], false));
        drop(clone);
        assert_eq!(pull(&entry), (Vec::new(), true));
    }

    #[test]
    fn closed_resolves_once_the_page_closes() {
        let (ch, entry) = channel::<Untyped>(CancellationToken::new());
        let watcher = ch.clone();
        let (done_tx, done) = mpsc::channel();
        let waiter = thread::spawn(move || {
            futures_executor::block_on(watcher.closed());
            let _ = done_tx.send(());
        });
        assert!(done.recv_timeout(Duration::from_millis(50)).is_err());
        entry.close();
        assert_eq!(done.recv_timeout(Duration::from_secs(10)), Ok(()));
        waiter.join().unwrap();
    }

    #[derive(serde::Serialize)]
    struct Progress {
        done: u32,
    }

    #[test]
    fn a_typed_channel_sends_its_type_as_json_and_bytes_as_bytes() {
        let (ch, entry) = channel::<Progress>(CancellationToken::new());
        ch.try_send_json(&Progress { done: 1 }).unwrap();
        ch.send_json_blocking(&Progress { done: 2 }).unwrap();
        ch.try_send(vec![3u8]).unwrap();
        let json = |t: &str| Message::Json(t.to_owned());
        assert_eq!(
            pull(&entry),
            (
                vec![json(r#"{"done":1}"#), json(r#"{"done":2}"#), msg(3)],
                false
            )
        );
        let (any, entry) = channel::<Untyped>(CancellationToken::new());
        futures_executor::block_on(any.send_json(&[1, 2])).unwrap();
        assert_eq!(pull(&entry), (vec![json("[1,2]")], false));
        assert!(format!("{any:?}").contains("closed: false"));
    }
}
