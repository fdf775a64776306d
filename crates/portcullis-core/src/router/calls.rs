//! The commands in flight, so that a cancel can find its call.
//!
//! A call is known by its page load and its request id: the attested webview, the
//! session that sealed it (`None` only in brownfield mode) and the id the frontend gave
//! it. A cancel is honoured only when all three match, so a page load can cancel its own
//! calls and nothing else: not another webview's, not an earlier page load's, not one
//! that already finished. While a call with an id is in flight, a second call with the
//! same id is refused: a cancel must never have two calls to choose from.
//!
//! A call's [`CancellationToken`] is made only when someone asks for it (a handler's
//! extractor, the embedder that watches the call): until then the table keeps whether a
//! cancel came, and a token made after it is born cancelled. A call nobody watches costs
//! no token. An embedder that watches every call says so, and each call's token is then
//! made as it is registered, where it costs least.
//!
//! The table is split into [`SHARDS`] shards, each behind its own lock, and the two
//! operations that read every shard, [`Calls::cancel_webview`] and [`Calls::len`], lock
//! the 8 one after another, never all at once. So `cancel_webview` cancels every call of
//! the webview registered before it started; a call registered while it runs may or may
//! not be cancelled, as its shard was or was not passed already. And `len`, while calls
//! begin and end on other threads, is not a count at any one instant: each shard is
//! counted when it is read.

use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use hashbrown::HashTable;
use hashbrown::hash_table::Entry as Slot;
use tokio_util::sync::CancellationToken;

use crate::caller::Caller;
use crate::envelope::SessionId;

/// Where a call came from and what it is called.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct CallKey {
    webview: Arc<str>,
    session: Option<SessionId>,
    id: u64,
}

/// A call in flight: who made it, its cancellation, the key's hash (kept, so the table
/// never hashes a key twice) and the ticket number that registered it (so a ticket only
/// ever removes its own entry, found by that number without comparing keys).
struct Entry {
    key: CallKey,
    hash: u64,
    cancel: Cancel,
    ticket: u64,
}

/// A call's cancellation as the table keeps it.
enum Cancel {
    /// Nobody asked for its token yet; whether a cancel came meanwhile.
    Unasked {
        /// A cancel came: the token, once made, is born cancelled.
        cancelled: bool,
    },
    /// The token every handle of the call shares; a cancel fires it.
    Token(CancellationToken),
}

impl Cancel {
    fn cancel(&mut self) {
        match self {
            Cancel::Unasked { cancelled } => *cancelled = true,
            Cancel::Token(token) => token.cancel(),
        }
    }

    /// The call's token, made now if nobody asked for it before (born cancelled if a
    /// cancel came first) and kept, so every later ask shares it.
    fn token(&mut self) -> CancellationToken {
        match self {
            Cancel::Token(token) => token.clone(),
            Cancel::Unasked { cancelled } => {
                let token = if *cancelled {
                    cancelled_token()
                } else {
                    CancellationToken::new()
                };
                *self = Cancel::Token(token.clone());
                token
            }
        }
    }

    fn is_cancelled(&self) -> bool {
        match self {
            Cancel::Unasked { cancelled } => *cancelled,
            Cancel::Token(token) => token.is_cancelled(),
        }
    }
}

/// A token that is cancelled already: a call given one answers `E_CANCELLED` instead of
/// running.
fn cancelled_token() -> CancellationToken {
    let token = CancellationToken::new();
    token.cancel();
    token
}

/// How many parts the table is split into, by the key's hash: calls that start and end
/// on different threads rarely wait for the same lock.
const SHARDS: usize = 8;

/// The table. Invariant: an entry exists exactly while the [`Ticket`] that made it lives,
/// in the shard its key's hash picks.
#[derive(Default)]
pub(crate) struct Calls {
    shards: [Mutex<HashTable<Entry>>; SHARDS],
    /// Seeded per process: the key holds an id the page chose.
    hasher: foldhash::fast::RandomState,
    next_ticket: AtomicU64,
}

/// Why a call could not be registered, or a cancel matched nothing.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CallsError {
    /// A call with this id is in flight for this page load already.
    Duplicate,
    /// No call with this id is in flight for this page load.
    NoSuchCall,
}

impl Calls {
    fn shard(&self, hash: u64) -> MutexGuard<'_, HashTable<Entry>> {
        // Bits the shard's own table does not read (it takes the low ones for the bucket
        // and the top seven for its tags) pick the shard.
        let shard = &self.shards[(hash >> 32) as usize % SHARDS];
        // A panic while the lock was held cannot leave the table half-changed (every
        // change is one insert or remove), so a poisoned lock is still sound.
        shard.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers call `id` of `caller`'s page load; the call stays cancellable until the
    /// ticket is dropped. With `watched`, its token is made now (someone will ask for it).
    pub(crate) fn begin(
        self: &Arc<Self>,
        caller: &Caller,
        id: u64,
        watched: bool,
    ) -> Result<Ticket, CallsError> {
        let key = CallKey::of(caller, id);
        let hash = self.hasher.hash_one(&key);
        let ticket = self.next_ticket.fetch_add(1, Ordering::Relaxed);
        let (cancel, token) = if watched {
            let token = CancellationToken::new();
            (Cancel::Token(token.clone()), OnceLock::from(token))
        } else {
            (Cancel::Unasked { cancelled: false }, OnceLock::new())
        };
        let mut shard = self.shard(hash);
        match shard.entry(hash, |e| e.key == key, |e| e.hash) {
            Slot::Occupied(_) => return Err(CallsError::Duplicate),
            Slot::Vacant(slot) => {
                slot.insert(Entry {
                    key,
                    hash,
                    cancel,
                    ticket,
                });
            }
        }
        drop(shard);
        Ok(Ticket {
            calls: Arc::clone(self),
            hash,
            ticket,
            token,
        })
    }

    /// Cancels call `id` of `caller`'s page load.
    pub(crate) fn cancel(&self, caller: &Caller, id: u64) -> Result<(), CallsError> {
        let key = CallKey::of(caller, id);
        let hash = self.hasher.hash_one(&key);
        let mut shard = self.shard(hash);
        let entry = shard
            .find_mut(hash, |e| e.key == key)
            .ok_or(CallsError::NoSuchCall)?;
        entry.cancel.cancel();
        Ok(())
    }

    /// Cancels every call of webview `label` (its page went away); returns how many.
    pub(crate) fn cancel_webview(&self, label: &str) -> usize {
        let mut n = 0;
        for shard in &self.shards {
            let mut shard = shard.lock().unwrap_or_else(|p| p.into_inner());
            for entry in shard.iter_mut().filter(|e| &*e.key.webview == label) {
                entry.cancel.cancel();
                n += 1;
            }
        }
        n
    }

    /// How many calls are in flight.
    pub(crate) fn len(&self) -> usize {
        self.shards
            .iter()
            .map(|s| s.lock().unwrap_or_else(|p| p.into_inner()).len())
            .sum()
    }
}

impl CallKey {
    fn of(caller: &Caller, id: u64) -> CallKey {
        CallKey {
            webview: Arc::clone(&caller.webview),
            session: caller.session,
            id,
        }
    }
}

/// Keeps a call registered; dropping it (the call finished, however) removes it.
pub(crate) struct Ticket {
    calls: Arc<Calls>,
    /// The hash of the call's key: where its entry is.
    hash: u64,
    /// The number of its own entry (ticket numbers are never reused).
    ticket: u64,
    /// The call's token, once this ticket asked the table for it.
    token: OnceLock<CancellationToken>,
}

impl Ticket {
    /// The call's token (made by the table on the first ask): cancelled when the page
    /// load cancels the call or goes away, and by whoever holds a clone.
    pub(crate) fn token(&self) -> &CancellationToken {
        self.token.get_or_init(|| {
            let token = self.with_entry(|cancel| cancel.token());
            // The entry lives as long as the ticket, so it is found. Were it not, no cancel
            // could reach a fresh token: a cancelled one has the call answered
            // `E_CANCELLED` rather than run a handler nobody can stop.
            debug_assert!(token.is_some(), "a live ticket's entry is gone");
            token.unwrap_or_else(cancelled_token)
        })
    }

    /// Whether the call was cancelled, without making its token.
    pub(crate) fn is_cancelled(&self) -> bool {
        match self.token.get() {
            Some(token) => token.is_cancelled(),
            None => self.with_entry(|cancel| cancel.is_cancelled()) == Some(true),
        }
    }

    fn with_entry<T>(&self, f: impl FnOnce(&mut Cancel) -> T) -> Option<T> {
        let mut shard = self.calls.shard(self.hash);
        shard
            .find_mut(self.hash, |e| e.ticket == self.ticket)
            .map(|entry| f(&mut entry.cancel))
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut shard = self.calls.shard(self.hash);
        if let Ok(entry) = shard.find_entry(self.hash, |e| e.ticket == self.ticket) {
            entry.remove();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::origin::Origin;

    fn caller(webview: &str, session: u8) -> Caller {
        Caller {
            webview: webview.into(),
            origin: Arc::new(Origin::parse("app://localhost").unwrap()),
            session: Some(SessionId([session; 16])),
            seq: 0,
        }
    }

    #[test]
    fn a_call_is_cancelled_by_its_own_page_load_only() {
        let calls = Arc::new(Calls::default());
        let ticket = calls.begin(&caller("main", 1), 7, false).unwrap();
        let token = ticket.token();
        for (other, why) in [
            (caller("other", 1), "another webview"),
            (caller("main", 2), "another page load"),
        ] {
            assert_eq!(
                calls.cancel(&other, 7),
                Err(CallsError::NoSuchCall),
                "{why}"
            );
            assert!(!token.is_cancelled(), "{why} cancelled the call");
        }
        assert_eq!(
            calls.cancel(&caller("main", 1), 8),
            Err(CallsError::NoSuchCall)
        );
        assert!(!token.is_cancelled());
        assert_eq!(calls.cancel(&caller("main", 1), 7), Ok(()));
        assert!(token.is_cancelled());
    }

    #[test]
    fn a_finished_call_cannot_be_cancelled_and_its_id_is_free_again() {
        let calls = Arc::new(Calls::default());
        let ticket = calls.begin(&caller("main", 1), 7, false).unwrap();
        let token = ticket.token().clone();
        assert!(matches!(
            calls.begin(&caller("main", 1), 7, false),
            Err(CallsError::Duplicate)
        ));
        // The same id in another page load is another call.
        let _other = calls.begin(&caller("main", 2), 7, false).unwrap();
        drop(ticket);
        assert_eq!(
            calls.cancel(&caller("main", 1), 7),
            Err(CallsError::NoSuchCall)
        );
        assert!(!token.is_cancelled());
        assert!(calls.begin(&caller("main", 1), 7, false).is_ok());
        assert_eq!(
            calls.len(),
            1,
            "the second begin's ticket was dropped at once"
        );
    }

    #[test]
    fn a_page_going_away_cancels_its_calls_only() {
        let calls = Arc::new(Calls::default());
        let a = calls.begin(&caller("main", 1), 1, false).unwrap();
        let b = calls.begin(&caller("settings", 3), 1, true).unwrap();
        let (mine, theirs) = (a.token(), b.token());
        assert_eq!(calls.cancel_webview("main"), 1);
        assert!(mine.is_cancelled() && !theirs.is_cancelled());
    }

    #[test]
    fn a_cancel_before_anyone_asked_for_the_token_is_kept_for_it() {
        let calls = Arc::new(Calls::default());
        let ticket = calls.begin(&caller("main", 1), 7, false).unwrap();
        assert!(!ticket.is_cancelled());
        assert_eq!(calls.cancel(&caller("main", 1), 7), Ok(()));
        assert!(ticket.is_cancelled(), "seen without a token");
        assert!(ticket.token().is_cancelled(), "the token is born cancelled");
        // A page going away, before and after the token was made.
        let early = calls.begin(&caller("main", 1), 8, false).unwrap();
        let late = calls.begin(&caller("main", 1), 9, true).unwrap();
        let token = late.token().clone();
        assert_eq!(calls.cancel_webview("main"), 3);
        assert!(early.token().is_cancelled() && token.is_cancelled());
    }

    #[test]
    fn unasked_and_not_cancelled_the_token_is_made_live_and_kept() {
        let mut cancel = Cancel::Unasked { cancelled: false };
        let first = cancel.token();
        assert!(!first.is_cancelled());
        assert!(matches!(&cancel, Cancel::Token(_)), "the token is kept");
        let second = cancel.token();
        cancel.cancel();
        assert!(
            first.is_cancelled() && second.is_cancelled(),
            "both asks got the one token the table cancels"
        );
    }

    #[test]
    fn unasked_and_cancelled_the_token_is_born_cancelled_and_kept() {
        let mut cancel = Cancel::Unasked { cancelled: true };
        assert!(cancel.token().is_cancelled());
        assert!(matches!(&cancel, Cancel::Token(kept) if kept.is_cancelled()));
        assert!(cancel.token().is_cancelled(), "and so on every later ask");
    }

    #[test]
    fn asked_before_the_token_kept_is_given_again() {
        let kept = CancellationToken::new();
        let mut cancel = Cancel::Token(kept.clone());
        let given = cancel.token();
        assert!(!given.is_cancelled());
        kept.cancel();
        assert!(given.is_cancelled(), "the token given is the one kept");
    }

    /// No code path removes an entry while its ticket lives; were one to, the call's
    /// token is cancelled (a debug build stops at the `debug_assert!` first).
    #[test]
    fn a_ticket_whose_entry_is_gone_gets_a_cancelled_token() {
        let calls = Arc::new(Calls::default());
        let ticket = calls.begin(&caller("main", 1), 7, false).unwrap();
        let removed = calls
            .shard(ticket.hash)
            .find_entry(ticket.hash, |e| e.ticket == ticket.ticket)
            .map(|entry| drop(entry.remove()))
            .is_ok();
        assert!(removed);
        let asked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ticket.token().is_cancelled()
        }));
        if cfg!(debug_assertions) {
            assert!(asked.is_err(), "the debug_assert! did not fire");
        } else {
            assert_eq!(asked.ok(), Some(true), "a token no cancel reaches");
        }
        assert!(cancelled_token().is_cancelled());
    }
}
