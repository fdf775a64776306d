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
//!   that does not keep up by more than that; [`Channel::try_send`] hands the message
//!   back ([`TrySendError::Full`]) instead. A page that stops pulling holds the handler
//!   at `send`: it ends when the page goes away or closes the channel (or the handler's
//!   own cancellation token fires).
//! - **Bytes as bytes.** A pull's answer is one binary body of frames (see
//!   [`read_frames`]). Nothing is base64 or a JSON array of numbers.
//! - **Bounded per page.** A webview's page load has at most [`MAX_CHANNELS`] channels.
//!
//! Read in this order: `id` (the channel's name), `message` (what is sent, and why a
//! send fails), `frames` (a pull's answer as bytes), `queue` (one channel's bound and
//! phase), `entry` (one channel, its waiting pull and its place in the table), `sender`
//! (the handler's [`Channel`]), then [`Channels`] here: every page's table.

mod arg;
mod entry;
mod frames;
mod id;
mod message;
mod queue;
mod sender;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use tokio_util::sync::CancellationToken;

use crate::caller::Caller;
use crate::envelope::SessionId;
use crate::error::ErrorCode;
use crate::reply::CallError;

use entry::{ChannelEntry, ChannelTable, lock};
use queue::Queue;

pub use arg::{CHANNEL_KEYWORD, CHANNEL_PATTERN, ChannelArg};
pub use entry::Puller;
pub use frames::read_frames;
pub use id::{CHANNEL_PREFIX, ChannelId};
pub use message::{ChannelError, Message, TrySendError};
pub use queue::{MAX_MESSAGE, PULL_BYTES, QUEUE_BYTES, QUEUE_MESSAGES};
pub use sender::{Channel, Untyped};

/// The most channels one webview may have open or waiting at once (with
/// [`QUEUE_BYTES`], what one page can make the core hold: 256 MiB).
pub const MAX_CHANNELS: usize = 32;

/// Every webview's channels. Cheap to clone (one table).
#[derive(Clone, Default)]
pub struct Channels {
    table: Arc<Mutex<ChannelTable>>,
}

impl fmt::Debug for Channels {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Channels")
            .field("open", &self.open())
            .finish()
    }
}

impl Channels {
    fn table(&self) -> MutexGuard<'_, ChannelTable> {
        lock(&self.table)
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
            let entry = ChannelEntry::new(id, caller, Queue::closed(), Weak::new());
            return Ok(Channel::new(entry, token));
        }
        let mut table = self.table();
        let page = table
            .entry((Arc::clone(&caller.webview), caller.session))
            .or_default();
        if page.entries.contains_key(&id) {
            return Err(CallError::new(
                ErrorCode::BadRequest,
                "this channel was passed to another call already: a channel serves one call",
            ));
        }
        if page.entries.len() >= MAX_CHANNELS {
            return Err(CallError::new(
                ErrorCode::TooLarge,
                format!("a page may have at most {MAX_CHANNELS} channels open at once"),
            ));
        }
        let entry = ChannelEntry::new(id, caller, Queue::default(), Arc::downgrade(&self.table));
        page.entries.insert(id, Arc::clone(&entry));
        Ok(Channel::new(entry, token))
    }

    /// Channel `id` of `webview`'s page load `session`, if a handler made it. A pull
    /// comes from the webview's current page load: channels an earlier one left (the
    /// page-load event not seen yet) are closed on the way.
    fn find(
        &self,
        webview: &str,
        session: Option<SessionId>,
        id: ChannelId,
    ) -> Option<Arc<ChannelEntry>> {
        let (found, left) = {
            let mut table = self.table();
            let stale: Vec<_> = table
                .keys()
                .filter(|(w, s)| &**w == webview && *s != session)
                .cloned()
                .collect();
            let left: Vec<Arc<ChannelEntry>> = stale
                .iter()
                .filter_map(|k| table.remove(k))
                .flat_map(|p| p.entries.into_values())
                .collect();
            let key = (Arc::from(webview), session);
            (
                table.get(&key).and_then(|p| p.entries.get(&id)).cloned(),
                left,
            )
        };
        // Closed once the table is unlocked: closing answers a waiting pull.
        for entry in left {
            entry.close();
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
        match self.find(webview, session, id) {
            Some(entry) => entry.pull(answer),
            None => answer(Err(no_such_channel())),
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
        let entry = {
            let mut table = self.table();
            table
                .get_mut(&(Arc::from(webview), session))
                .and_then(|page| page.entries.remove(&id))
        };
        let entry = entry.ok_or_else(no_such_channel)?;
        entry.close();
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
            .and_then(|page| page.entries.get(&id))
            .map(|_| ())
            .ok_or_else(no_such_channel)
    }

    /// The page of `webview` went away (new page load, webview closed): every channel it
    /// had closes. Returns how many.
    pub fn close_webview(&self, webview: &str) -> usize {
        let entries: Vec<_> = {
            let mut table = self.table();
            let keys: Vec<_> = table
                .keys()
                .filter(|(w, _)| &**w == webview)
                .cloned()
                .collect();
            keys.iter()
                .filter_map(|k| table.remove(k))
                .flat_map(|p| p.entries.into_values())
                .collect()
        };
        for entry in &entries {
            entry.close();
        }
        entries.len()
    }

    /// How many channels are open, in every webview.
    pub fn open(&self) -> usize {
        self.table().values().map(|p| p.entries.len()).sum()
    }
}

fn no_such_channel() -> CallError {
    CallError::new(
        ErrorCode::NoSuchChannel,
        "no channel of that id is open for this page load: no handler took it (yet), it ended, or it is another page's",
    )
}

#[cfg(test)]
mod tests;
