//! Channels: messages from a handler to the page load that asked for them.
//!
//! The page creates a channel (`new Channel(onmessage)` in `@portcullis/api`) and passes
//! it as a top-level member of a command's arguments, where it travels as the string
//! `"portcullis:channel:<32 hex digits>"` (the id is 128 random bits, so the hook and the
//! allowlist's schema see a plain string). A handler takes it with the [`Channel`]
//! extractor and sends JSON or bytes; the page pulls them (PROTOCOL.md §12).
//!
//! - **Only to its page load.** A channel belongs to the webview and the session (page
//!   load) of the call that carried it, and a pull is served only for the webview's
//!   current session. A new page load or a closed webview closes every channel of the
//!   page that made it ([`Channels::close_webview`]); a handler's later `send` returns
//!   [`ChannelError::Closed`], as it does after the page called `channel.close()`.
//! - **In order**, each message whole: one queue per channel, drained front first.
//! - **Backpressure.** The queue holds at most [`QUEUE_MESSAGES`] messages or
//!   [`QUEUE_BYTES`] bytes (a single larger message is taken when the queue is empty).
//!   [`Channel::send`] waits while it is full, so a handler never runs ahead of a page
//!   that does not keep up by more than that; [`Channel::try_send`] fails with
//!   [`ChannelError::Full`] instead. A page that stops pulling holds the handler at
//!   `send`: it ends when the page goes away or closes the channel (or the handler's own
//!   cancellation token fires).
//! - **Bytes as bytes.** A pull's answer is one binary body: frames
//!   `type (1) || length (u32, big-endian) || data`, type 1 JSON text, 2 bytes, 3 the
//!   end (every sender dropped; no data). Nothing is base64 or a JSON array of numbers.

use std::collections::VecDeque;
use std::fmt;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use futures_util::future::{Either, select};
use serde::Serialize;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::FastMap;
use crate::caller::Caller;
use crate::envelope::SessionId;
use crate::error::ErrorCode;
use crate::reply::CallError;

/// The prefix of a channel argument; 32 lowercase hex digits follow.
pub const CHANNEL_PREFIX: &str = "portcullis:channel:";
/// The most messages a channel queues for its page.
pub const QUEUE_MESSAGES: usize = 64;
/// The most bytes a channel queues for its page (one larger message fits an empty queue).
pub const QUEUE_BYTES: usize = 8 << 20;
/// The longest single message (a larger one is [`ChannelError::TooLong`]).
pub const MAX_MESSAGE: usize = QUEUE_BYTES;
/// A pull is answered with the queued messages up to about this many bytes (at least one).
pub const PULL_BYTES: usize = 8 << 20;
/// The most channels one webview may have open or waiting at once (with
/// [`QUEUE_BYTES`], what one page can make the core hold: 256 MiB).
pub const MAX_CHANNELS: usize = 32;

/// Frame types of a pull's answer.
const FRAME_JSON: u8 = 1;
const FRAME_BYTES: u8 = 2;
const FRAME_END: u8 = 3;

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

    fn len(&self) -> usize {
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
    /// [`Channel::try_send`] only: the queue is full (the page has not caught up).
    #[error("the channel's queue is full: the page has not taken the messages before")]
    Full,
    /// [`Channel::send_json`] only: the value cannot be written as JSON.
    #[error("the message cannot be written as JSON: {0}")]
    Encode(String),
    /// A message longer than [`MAX_MESSAGE`].
    #[error("a channel message is limited to 8 MiB: send it in parts")]
    TooLong,
}

/// Why [`Channel::try_send`] did not queue a message; the message comes back in it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrySendError {
    /// The queue is full: the page has not taken the messages before.
    #[error("the channel's queue is full: the page has not taken the messages before")]
    Full(Message),
    /// The page went away or closed the channel.
    #[error("the channel is closed: its page went away or closed it")]
    Closed(Message),
    /// Longer than [`MAX_MESSAGE`].
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
            .field("id", &self.sender.slot.id)
            .field("closed", &self.is_closed())
            .finish()
    }
}

/// Ends the channel when the last [`Channel`] clone goes.
struct Sender {
    slot: Arc<Slot>,
    /// The token of the call that took the channel: a cancelled call (aborted by its
    /// page, timed out, its page gone) closes its channel for the handler.
    token: CancellationToken,
}

impl Drop for Sender {
    fn drop(&mut self) {
        self.slot.end();
    }
}

impl<T> Channel<T> {
    fn new(sender: Sender) -> Self {
        Channel {
            sender: Arc::new(sender),
            message: PhantomData,
        }
    }

    /// Queues `message` for the page, waiting while the queue is full. Fails with
    /// [`ChannelError::Closed`] once the page went away or closed the channel (also while
    /// waiting).
    pub async fn send(&self, message: impl Into<Message>) -> Result<(), ChannelError> {
        let mut message = message.into();
        check_len(&message)?;
        let (slot, token) = (&self.sender.slot, &self.sender.token);
        let mut cancelled = std::pin::pin!(token.cancelled());
        loop {
            let mut space = std::pin::pin!(slot.space.notified());
            // Registered before the look at the queue, so a pull between the look and the
            // wait still wakes this sender.
            space.as_mut().enable();
            if token.is_cancelled() {
                return Err(ChannelError::Closed);
            }
            message = match slot.push(Some(message)) {
                Pushed::Done => return Ok(()),
                Pushed::Closed(_) => return Err(ChannelError::Closed),
                Pushed::Full(message) => message,
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
        if check_len(&message).is_err() {
            return Err(TrySendError::TooLong(message));
        }
        if self.sender.token.is_cancelled() {
            return Err(TrySendError::Closed(message));
        }
        match self.sender.slot.push(Some(message)) {
            Pushed::Done => Ok(()),
            Pushed::Closed(message) => Err(TrySendError::Closed(
                message.unwrap_or_else(|| Message::Bytes(Vec::new())),
            )),
            Pushed::Full(message) => Err(TrySendError::Full(message)),
        }
    }

    /// [`Channel::send`] for a sync handler (it runs on a blocking thread, where waiting
    /// is fine). Never call it from async code.
    pub fn send_blocking(&self, message: impl Into<Message>) -> Result<(), ChannelError> {
        futures_executor::block_on(self.send(message))
    }

    /// Whether the page went away or closed the channel, or the call was cancelled.
    pub fn is_closed(&self) -> bool {
        self.sender.token.is_cancelled() || self.sender.slot.state().closed
    }

    /// Resolves once the channel is closed (the page went away or closed it, or the call
    /// was cancelled): a producer can stop then instead of at its next `send`.
    pub async fn closed(&self) {
        let (slot, token) = (&self.sender.slot, &self.sender.token);
        let mut cancelled = std::pin::pin!(token.cancelled());
        loop {
            let mut space = std::pin::pin!(slot.space.notified());
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

fn check_len(message: &Message) -> Result<(), ChannelError> {
    if message.len() > MAX_MESSAGE {
        return Err(ChannelError::TooLong);
    }
    Ok(())
}

/// A pull's waiting answer: called once, with the frames or a refusal.
pub type Puller = Box<dyn FnOnce(Result<Vec<u8>, CallError>) + Send>;

enum Pushed {
    Done,
    /// The queue is full: the message comes back for the next try.
    Full(Message),
    /// The channel is closed: what was pushed comes back.
    Closed(Option<Message>),
}

/// One channel's queue.
struct Slot {
    id: ChannelId,
    webview: Arc<str>,
    /// The page load it belongs to.
    session: Option<SessionId>,
    state: Mutex<SlotState>,
    /// Woken when the queue has room or the channel closed.
    space: Notify,
    /// The table the slot is in, to leave it once it ended and its end was pulled.
    hub: Weak<Mutex<Table>>,
}

#[derive(Default)]
struct SlotState {
    queue: VecDeque<Message>,
    bytes: usize,
    /// Every sender dropped: the page gets the end after the queue.
    ended: bool,
    /// The page went away or closed it: nothing more is queued or delivered.
    closed: bool,
    /// The page's pull waiting for a message.
    waiting: Option<Puller>,
}

impl Slot {
    fn state(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a message (or, with `None`, marks the end) and answers a waiting pull.
    fn push(&self, message: Option<Message>) -> Pushed {
        let (puller, frames, done) = {
            let mut state = self.state();
            if state.closed {
                return Pushed::Closed(message);
            }
            match message {
                None => state.ended = true,
                Some(message) => {
                    let full = !state.queue.is_empty()
                        && (state.queue.len() >= QUEUE_MESSAGES
                            || state.bytes + message.len() > QUEUE_BYTES);
                    if full {
                        return Pushed::Full(message);
                    }
                    state.bytes += message.len();
                    state.queue.push_back(message);
                }
            }
            match state.waiting.take() {
                Some(puller) => {
                    let (frames, done) = drain(&mut state);
                    (Some(puller), frames, done)
                }
                None => (None, Vec::new(), false),
            }
        };
        if let Some(puller) = puller {
            self.space.notify_waiters();
            puller(Ok(frames));
            if done {
                self.leave();
            }
        }
        Pushed::Done
    }

    fn end(&self) {
        let _ = self.push(None);
    }

    /// Closes the channel: senders fail from now on, a waiting pull gets the end.
    fn close(&self) {
        let puller = {
            let mut state = self.state();
            state.closed = true;
            state.queue.clear();
            state.bytes = 0;
            state.waiting.take()
        };
        self.space.notify_waiters();
        if let Some(puller) = puller {
            puller(Ok(end_frame()));
        }
    }

    /// Leaves the table once the page has the end (if the table still holds this slot).
    fn leave(&self) {
        let Some(hub) = self.hub.upgrade() else {
            return;
        };
        let mut table = hub.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(page) = table.get_mut(&(Arc::clone(&self.webview), self.session))
            && page
                .slots
                .get(&self.id)
                .is_some_and(|s| std::ptr::eq(Arc::as_ptr(s), self))
        {
            page.slots.remove(&self.id);
            if page.slots.is_empty() {
                table.remove(&(Arc::clone(&self.webview), self.session));
            }
        }
    }
}

/// Takes queued messages (up to [`PULL_BYTES`], at least one) as frames; the end frame
/// follows when the queue is empty and every sender is gone. Returns whether the end
/// was included.
fn drain(state: &mut SlotState) -> (Vec<u8>, bool) {
    let mut frames = Vec::new();
    while let Some(message) = state.queue.front() {
        if !frames.is_empty() && frames.len() + message.len() > PULL_BYTES {
            break;
        }
        let Some(message) = state.queue.pop_front() else {
            break;
        };
        state.bytes -= message.len();
        let (kind, data) = match &message {
            Message::Json(text) => (FRAME_JSON, text.as_bytes()),
            Message::Bytes(bytes) => (FRAME_BYTES, bytes.as_slice()),
        };
        frames.push(kind);
        // check_len keeps every message under 4 GiB.
        frames.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
        frames.extend_from_slice(data);
    }
    let done = state.queue.is_empty() && state.ended;
    if done {
        frames.extend_from_slice(&end_frame());
    }
    (frames, done)
}

fn end_frame() -> Vec<u8> {
    let mut frame = vec![FRAME_END];
    frame.extend_from_slice(&0u32.to_be_bytes());
    frame
}

/// One page load's channels.
#[derive(Default)]
struct Page {
    slots: FastMap<ChannelId, Arc<Slot>>,
}

/// Channels by webview and page load (its session; `None` in brownfield mode). Only a
/// handler taking a [`Channel`] makes an entry: pulls, closes and notices only look.
type Table = FastMap<(Arc<str>, Option<SessionId>), Page>;

/// Every webview's channels. Cheap to clone (one table).
#[derive(Clone, Default)]
pub struct Channels {
    table: Arc<Mutex<Table>>,
}

impl fmt::Debug for Channels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channels")
            .field("open", &self.open())
            .finish()
    }
}

impl Channels {
    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The handler side of channel `id` for a call from `caller`: the only place a
    /// channel is made. A call whose page load is gone (its token cancelled) gets it
    /// closed: its sends fail, nothing is delivered.
    pub(crate) fn attach<T>(
        &self,
        caller: &Caller,
        id: ChannelId,
        token: CancellationToken,
    ) -> Result<Channel<T>, CallError> {
        if token.is_cancelled() {
            let slot = Arc::new(Slot {
                id,
                webview: Arc::clone(&caller.webview),
                session: caller.session,
                state: Mutex::new(SlotState {
                    closed: true,
                    ..SlotState::default()
                }),
                space: Notify::new(),
                hub: Weak::new(),
            });
            return Ok(Channel::new(Sender { slot, token }));
        }
        let mut table = self.table();
        let page = table
            .entry((Arc::clone(&caller.webview), caller.session))
            .or_default();
        if page.slots.contains_key(&id) {
            return Err(CallError::new(
                ErrorCode::BadRequest,
                "this channel was passed to another call already: a channel serves one call",
            ));
        }
        if page.slots.len() >= MAX_CHANNELS {
            return Err(CallError::new(
                ErrorCode::TooLarge,
                format!("a page may have at most {MAX_CHANNELS} channels open at once"),
            ));
        }
        let slot = Arc::new(Slot {
            id,
            webview: Arc::clone(&caller.webview),
            session: caller.session,
            state: Mutex::new(SlotState::default()),
            space: Notify::new(),
            hub: Arc::downgrade(&self.table),
        });
        page.slots.insert(id, Arc::clone(&slot));
        Ok(Channel::new(Sender { slot, token }))
    }

    /// Channel `id` of `webview`'s page load `session`, if a handler made it. A pull
    /// comes from the webview's current page load: channels an earlier one left (the
    /// page-load event not seen yet) are closed on the way.
    fn find(&self, webview: &str, session: Option<SessionId>, id: ChannelId) -> Option<Arc<Slot>> {
        let (found, left) = {
            let mut table = self.table();
            let stale: Vec<_> = table
                .keys()
                .filter(|(w, s)| &**w == webview && *s != session)
                .cloned()
                .collect();
            let left: Vec<Arc<Slot>> = stale
                .iter()
                .filter_map(|k| table.remove(k))
                .flat_map(|p| p.slots.into_values())
                .collect();
            let key = (Arc::from(webview), session);
            (
                table.get(&key).and_then(|p| p.slots.get(&id)).cloned(),
                left,
            )
        };
        // Closed once the table is unlocked: closing answers a waiting pull.
        for slot in left {
            slot.close();
        }
        found
    }

    /// A pull from `webview`, whose current page load is `session` (the embedder knows
    /// it; `None` in brownfield mode): `answer` is called with the queued messages at
    /// once, or when the first arrives, or with the end. A pull for a channel no handler
    /// of this page load took is refused (`E_NO_SUCH_CHANNEL`) and makes nothing: the
    /// page pulls again once its call was admitted. A pull while another waits takes its
    /// place; the earlier one is answered with no messages (the page pulls one at a
    /// time, so it is that page's own earlier pull, or a stray one).
    pub fn pull(&self, webview: &str, session: Option<SessionId>, id: ChannelId, answer: Puller) {
        let Some(slot) = self.find(webview, session, id) else {
            return answer(Err(no_such_channel()));
        };
        let (answer, frames, done, replaced) = {
            let mut state = slot.state();
            if state.closed {
                (answer, end_frame(), true, None)
            } else if state.queue.is_empty() && !state.ended {
                let replaced = state.waiting.replace(answer);
                drop(state);
                if let Some(earlier) = replaced {
                    earlier(Ok(Vec::new()));
                }
                return;
            } else {
                let (frames, done) = drain(&mut state);
                (answer, frames, done, state.waiting.take())
            }
        };
        slot.space.notify_waiters();
        if let Some(earlier) = replaced {
            earlier(Ok(Vec::new()));
        }
        answer(Ok(frames));
        if done {
            slot.leave();
        }
    }

    /// The page closed channel `id` (or gave it up: the call carrying it was refused).
    /// `E_NO_SUCH_CHANNEL` if its page load has no such channel.
    pub fn close(
        &self,
        webview: &str,
        session: Option<SessionId>,
        id: ChannelId,
    ) -> Result<(), CallError> {
        let slot = {
            let mut table = self.table();
            table
                .get_mut(&(Arc::from(webview), session))
                .and_then(|page| page.slots.remove(&id))
        };
        let slot = slot.ok_or_else(no_such_channel)?;
        slot.close();
        Ok(())
    }

    /// The call that carried channel `id` was answered (the page says so). A handler
    /// that took the channel did so before its call was answered, so there is nothing
    /// to end: a pull for a channel no handler took is refused already. Kept so the
    /// page can say so; answers whether the channel exists.
    pub fn call_done(
        &self,
        webview: &str,
        session: Option<SessionId>,
        id: ChannelId,
    ) -> Result<(), CallError> {
        let table = self.table();
        table
            .get(&(Arc::from(webview), session))
            .and_then(|page| page.slots.get(&id))
            .map(|_| ())
            .ok_or_else(no_such_channel)
    }

    /// The page of `webview` went away (new page load, webview closed): every channel it
    /// had closes. Returns how many.
    pub fn close_webview(&self, webview: &str) -> usize {
        let slots: Vec<_> = {
            let mut table = self.table();
            let keys: Vec<_> = table
                .keys()
                .filter(|(w, _)| &**w == webview)
                .cloned()
                .collect();
            keys.iter()
                .filter_map(|k| table.remove(k))
                .flat_map(|p| p.slots.into_values())
                .collect()
        };
        for slot in &slots {
            slot.close();
        }
        slots.len()
    }

    /// How many channels are open, in every webview.
    pub fn open(&self) -> usize {
        self.table().values().map(|p| p.slots.len()).sum()
    }
}

fn no_such_channel() -> CallError {
    CallError::new(
        ErrorCode::NoSuchChannel,
        "no channel of that id is open for this page load: no handler took it (yet), it ended, or it is another page's",
    )
}

/// Reads a pull's answer back into messages and whether it ended (the JS package does
/// the same): for tests and native clients.
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
