//! The commands in flight, so that a cancel can find its call.
//!
//! A call is known by its page load and its request id: the attested webview, the
//! session that sealed it (`None` only in brownfield mode) and the id the frontend gave
//! it. A cancel is honoured only when all three match, so a page load can cancel its own
//! calls and nothing else: not another webview's, not an earlier page load's, not one
//! that already finished. While a call with an id is in flight, a second call with the
//! same id is refused: a cancel must never have two calls to choose from.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use tokio_util::sync::CancellationToken;

use crate::FastMap;
use crate::caller::Caller;
use crate::envelope::SessionId;

/// Where a call came from and what it is called.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct CallKey {
    webview: Arc<str>,
    session: Option<SessionId>,
    id: u64,
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

/// A call in flight: its token, and the ticket number that registered it (so a ticket
/// only ever removes its own entry).
struct Entry {
    token: CancellationToken,
    ticket: u64,
}

/// The table. Invariant: an entry exists exactly while the [`Ticket`] that made it lives.
#[derive(Default)]
pub(crate) struct Calls {
    live: Mutex<FastMap<CallKey, Entry>>,
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
    fn live(&self) -> MutexGuard<'_, FastMap<CallKey, Entry>> {
        // A panic while the lock was held cannot leave the map half-changed (every
        // change is one insert or remove), so a poisoned lock is still sound.
        self.live.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers call `id` of `caller`'s page load; the call stays cancellable until the
    /// ticket is dropped.
    pub(crate) fn begin(
        self: &Arc<Self>,
        caller: &Caller,
        id: u64,
    ) -> Result<(Ticket, CancellationToken), CallsError> {
        let key = CallKey::of(caller, id);
        let token = CancellationToken::new();
        let ticket = self.next_ticket.fetch_add(1, Ordering::Relaxed);
        let mut live = self.live();
        if live.contains_key(&key) {
            return Err(CallsError::Duplicate);
        }
        live.insert(
            key.clone(),
            Entry {
                token: token.clone(),
                ticket,
            },
        );
        drop(live);
        let ticket = Ticket {
            calls: Arc::clone(self),
            key,
            ticket,
        };
        Ok((ticket, token))
    }

    /// Cancels call `id` of `caller`'s page load.
    pub(crate) fn cancel(&self, caller: &Caller, id: u64) -> Result<(), CallsError> {
        let key = CallKey::of(caller, id);
        let live = self.live();
        let entry = live.get(&key).ok_or(CallsError::NoSuchCall)?;
        entry.token.cancel();
        Ok(())
    }

    /// Cancels every call of webview `label` (its page went away); returns how many.
    pub(crate) fn cancel_webview(&self, label: &str) -> usize {
        let live = self.live();
        let mut n = 0;
        for (key, entry) in live.iter() {
            if &*key.webview == label {
                entry.token.cancel();
                n += 1;
            }
        }
        n
    }

    /// How many calls are in flight.
    pub(crate) fn len(&self) -> usize {
        self.live().len()
    }
}

/// Keeps a call registered; dropping it (the call finished, however) removes it.
pub(crate) struct Ticket {
    calls: Arc<Calls>,
    key: CallKey,
    ticket: u64,
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let mut live = self.calls.live();
        // One lookup: the entry is this ticket's own (the invariant), and put back in the
        // case that cannot happen, where it is another's.
        if let Some(entry) = live.remove(&self.key)
            && entry.ticket != self.ticket
        {
            live.insert(self.key.clone(), entry);
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
        let (_ticket, token) = calls.begin(&caller("main", 1), 7).unwrap();
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
        let (ticket, token) = calls.begin(&caller("main", 1), 7).unwrap();
        assert!(matches!(
            calls.begin(&caller("main", 1), 7),
            Err(CallsError::Duplicate)
        ));
        // The same id in another page load is another call.
        let (_other, _) = calls.begin(&caller("main", 2), 7).unwrap();
        drop(ticket);
        assert_eq!(
            calls.cancel(&caller("main", 1), 7),
            Err(CallsError::NoSuchCall)
        );
        assert!(!token.is_cancelled());
        assert!(calls.begin(&caller("main", 1), 7).is_ok());
        assert_eq!(
            calls.len(),
            1,
            "the second begin's ticket was dropped at once"
        );
    }

    #[test]
    fn a_page_going_away_cancels_its_calls_only() {
        let calls = Arc::new(Calls::default());
        let (_a, mine) = calls.begin(&caller("main", 1), 1).unwrap();
        let (_b, theirs) = calls.begin(&caller("settings", 3), 1).unwrap();
        assert_eq!(calls.cancel_webview("main"), 1);
        assert!(mine.is_cancelled() && !theirs.is_cancelled());
    }
}
