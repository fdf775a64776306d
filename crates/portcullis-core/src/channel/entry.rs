//! One channel as the core holds it: its queue, the page's waiting pull, the wake-up of
//! senders waiting for room, and its place in the table of its page load.
//!
//! The invariants:
//!
//! - **A waiting pull means nothing to give.** The page's pull waits here only while
//!   the queue is open and empty; whatever changes that (a push, the end, a close)
//!   answers it at once, in the same step, so no message sits behind a waiting pull.
//! - **Senders are woken whenever room may have appeared** (a pull took messages, or
//!   the channel closed): a sender waiting on a full queue never misses it.
//! - **An entry leaves its page's table once the page has the end** (and only the entry
//!   the table holds under its id leaves: never a newer one of the same id).
//!
//! Pull answers are called with no lock held: they may do anything.

use std::sync::{Arc, Mutex, MutexGuard, Weak};

use tokio::sync::Notify;

use crate::FastMap;
use crate::caller::Caller;
use crate::envelope::SessionId;
use crate::reply::CallError;

use super::frames::end_frame;
use super::id::ChannelId;
use super::message::{Message, TrySendError};
use super::queue::{Queue, Taken};

/// A pull's waiting answer: called once, with the frames or a refusal.
pub type Puller = Box<dyn FnOnce(Result<Vec<u8>, CallError>) + Send>;

/// One page load's channels, by id.
#[derive(Default)]
pub(crate) struct PageChannels {
    pub(crate) entries: FastMap<ChannelId, Arc<ChannelEntry>>,
}

/// Channels by webview and page load (its session; `None` in brownfield mode). Only a
/// handler taking a [`Channel`](super::Channel) makes an entry: pulls, closes and
/// notices only look.
pub(crate) type ChannelTable = FastMap<(Arc<str>, Option<SessionId>), PageChannels>;

/// Locks `mutex`, whatever a panic left: every change under these locks is whole
/// before anything that can panic (a pull's answer runs unlocked).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// One channel: shared by its senders and its page load's table.
pub(crate) struct ChannelEntry {
    pub(crate) id: ChannelId,
    webview: Arc<str>,
    /// The page load it belongs to.
    session: Option<SessionId>,
    state: Mutex<ChannelState>,
    /// Woken when the queue has room or the channel closed.
    pub(crate) space: Notify,
    /// The table the entry is in, to leave it once it ended and its end was pulled.
    table: Weak<Mutex<ChannelTable>>,
}

/// What an entry's lock guards.
#[derive(Default)]
pub(crate) struct ChannelState {
    pub(crate) queue: Queue,
    /// The page's pull waiting for a message: only while the queue is open and empty.
    waiting: Option<Puller>,
}

impl ChannelState {
    /// The waiting pull with what it gets now, if one waits and there is something.
    fn answer_waiting(&mut self) -> Option<(Puller, Taken)> {
        self.waiting.as_ref()?;
        let taken = self.queue.take()?;
        Some((self.waiting.take()?, taken))
    }
}

impl ChannelEntry {
    /// Channel `id` of `caller`'s page load, with `queue`, in `table` (`Weak::new()` for
    /// one no table holds).
    pub(crate) fn new(
        id: ChannelId,
        caller: &Caller,
        queue: Queue,
        table: Weak<Mutex<ChannelTable>>,
    ) -> Arc<ChannelEntry> {
        Arc::new(ChannelEntry {
            id,
            webview: Arc::clone(&caller.webview),
            session: caller.session,
            state: Mutex::new(ChannelState {
                queue,
                waiting: None,
            }),
            space: Notify::new(),
            table,
        })
    }

    pub(crate) fn state(&self) -> MutexGuard<'_, ChannelState> {
        lock(&self.state)
    }

    /// Queues a message (see [`Queue::push`]) and answers a waiting pull.
    pub(crate) fn push(&self, message: Message) -> Result<(), TrySendError> {
        let answer = {
            let mut state = self.state();
            state.queue.push(message)?;
            state.answer_waiting()
        };
        self.deliver(answer);
        Ok(())
    }

    /// Every sender is gone: the page gets the end after what is queued (a waiting pull
    /// gets it now).
    pub(crate) fn end(&self) {
        let answer = {
            let mut state = self.state();
            if !state.queue.end() {
                return;
            }
            state.answer_waiting()
        };
        self.deliver(answer);
    }

    /// Closes the channel: senders fail from now on, a waiting pull gets the end.
    pub(crate) fn close(&self) {
        let waiting = {
            let mut state = self.state();
            state.queue.close();
            state.waiting.take()
        };
        self.space.notify_waiters();
        if let Some(puller) = waiting {
            puller(Ok(end_frame()));
        }
    }

    /// The page pulls: `answer` gets what is queued now, or waits for the next change.
    /// A pull while another waits takes its place; the earlier one is answered with no
    /// messages.
    pub(crate) fn pull(&self, answer: Puller) {
        let (taken, earlier) = {
            let mut state = self.state();
            match state.queue.take() {
                Some(taken) => (taken, state.waiting.take()),
                None => {
                    let earlier = state.waiting.replace(answer);
                    drop(state);
                    if let Some(earlier) = earlier {
                        earlier(Ok(Vec::new()));
                    }
                    return;
                }
            }
        };
        self.space.notify_waiters();
        if let Some(earlier) = earlier {
            earlier(Ok(Vec::new()));
        }
        answer(Ok(taken.frames));
        if taken.done {
            self.leave();
        }
    }

    /// Hands a waiting pull what it was given, unlocked.
    fn deliver(&self, answer: Option<(Puller, Taken)>) {
        if let Some((puller, taken)) = answer {
            self.space.notify_waiters();
            puller(Ok(taken.frames));
            if taken.done {
                self.leave();
            }
        }
    }

    /// Leaves the table once the page has the end (if the table still holds this entry).
    fn leave(&self) {
        let Some(table) = self.table.upgrade() else {
            return;
        };
        let mut table = lock(&table);
        let key = (Arc::clone(&self.webview), self.session);
        if let Some(page) = table.get_mut(&key)
            && page
                .entries
                .get(&self.id)
                .is_some_and(|e| std::ptr::eq(Arc::as_ptr(e), self))
        {
            page.entries.remove(&self.id);
            if page.entries.is_empty() {
                table.remove(&key);
            }
        }
    }
}
