//! One stream as the table keeps it: its [`StreamState`] under a lock, its share of its
//! page's bytes, and the signal its reader waits on.
//!
//! Invariant: the state changes only by a transition of [`StreamState`]; after each, the
//! share is settled to what the state holds, and the reader is woken when what it can
//! read may have changed. Answers are given after the lock is released.

use std::sync::{Mutex, MutexGuard};

use tokio::sync::Notify;
use tokio::sync::futures::Notified;

use crate::reply::{CallError, Payload};
use crate::wire::chunk::ChunkOp;

use super::answer::{Answer, Replies};
use super::budget::{PageBytes, PageShare};
use super::state::{Arrival, ChunkStep, Finishing, Last, Read, StreamState};

/// A stream in the table, shared by the table and the stream's `Upload`.
pub(crate) struct StreamEntry {
    guarded: Mutex<Guarded>,
    /// Woken when a chunk, the end or a break arrives, or the stream closes.
    arrived: Notify,
}

/// What the entry's lock keeps together.
struct Guarded {
    state: StreamState,
    /// Counts, in the page's bytes, what `state` holds.
    share: PageShare,
}

impl StreamEntry {
    /// An open stream under its rule's `maxBytes`, counted in `page`.
    pub(crate) fn open(limit: Option<u64>, page: PageBytes) -> StreamEntry {
        StreamEntry {
            guarded: Mutex::new(Guarded {
                state: StreamState::open(limit),
                share: PageShare::new(page),
            }),
            arrived: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Guarded> {
        self.guarded.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies `transition` to the state and settles the share.
    fn step<R>(
        &self,
        transition: impl FnOnce(StreamState, &mut PageShare) -> (StreamState, R),
    ) -> R {
        let mut guarded = self.lock();
        let Guarded { state, share } = &mut *guarded;
        // What a transition that panics leaves: a closed stream, holding nothing.
        let before = std::mem::replace(
            state,
            StreamState::Closed {
                last: Last::Nothing,
            },
        );
        let (after, out) = transition(before, share);
        *state = after;
        share.settle(state.held_bytes());
        out
    }

    /// A chunk arrives (the page's streams may hold `budget` bytes): answered, or handed
    /// back when the stream left the table since it was looked up.
    pub(crate) fn chunk(&self, chunk: Arrival, budget: usize) -> Option<(ChunkOp, Answer)> {
        match self.step(|state, share| state.chunk(chunk, share, budget)) {
            ChunkStep::Answered { replies, wake } => {
                if wake {
                    self.arrived.notify_waiters();
                }
                replies.send();
                None
            }
            ChunkStep::LookAgain(op, answer) => Some((op, answer)),
        }
    }

    /// The handler finished with `result`: the answers to give (once the caller released
    /// its own lock) and the result to keep for the page's end, if any.
    pub(crate) fn finish(&self, result: Result<Payload, CallError>) -> Finishing {
        let finishing = self.step(|state, _| state.finish(result));
        self.arrived.notify_waiters();
        finishing
    }

    /// The page went away: the answers to give.
    pub(crate) fn page_gone(&self) -> Replies {
        let replies = self.step(|state, _| state.page_gone());
        self.arrived.notify_waiters();
        replies
    }

    /// What the handler reads now.
    pub(crate) fn read(&self) -> Read {
        let mut guarded = self.lock();
        let read = guarded.state.read();
        if let Read::Chunk(..) = read {
            let now = guarded.state.held_bytes();
            guarded.share.settle(now);
        }
        read
    }

    /// Resolves when the entry is next woken (enable it before reading, so a wake
    /// between the read and the wait is not lost).
    pub(crate) fn arrived(&self) -> Notified<'_> {
        self.arrived.notified()
    }
}
