//! What one webview's streams hold together, against its page budget
//! (`limits.maxBufferedStreamBytes`, PROTOCOL.md §6.3).
//!
//! Each webview has one counter of the chunk bytes its streams hold; each stream counts
//! its share in it through a [`PageShare`]. Invariant: a page's counter is the sum of its
//! streams' `counted`, and a stream's `counted` is what its queue and window hold once it
//! [settled](PageShare::settle). A data chunk is counted
//! ([`reserve`](PageShare::reserve)) before it is kept, and only if the page stays
//! within its budget; a stream that goes gives its share back (on drop).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The bytes one webview's streams hold, shared by their [`PageShare`]s.
pub(crate) type PageBytes = Arc<AtomicUsize>;

/// One stream's part of its page's [`PageBytes`].
#[derive(Debug)]
pub(crate) struct PageShare {
    page: PageBytes,
    /// What this stream added to `page` and has not taken back.
    counted: usize,
}

impl PageShare {
    /// A stream of the page counted by `page`, holding nothing yet.
    pub(crate) fn new(page: PageBytes) -> PageShare {
        PageShare { page, counted: 0 }
    }

    /// Counts `len` more bytes if the page stays within `budget`; nothing changes if not.
    pub(crate) fn reserve(&mut self, len: usize, budget: usize) -> bool {
        let taken = self
            .page
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(len).filter(|total| *total <= budget)
            })
            .is_ok();
        if taken {
            self.counted += len;
        }
        taken
    }

    /// Brings the page's count in line with the `now` bytes the stream holds (after
    /// chunks were taken, dropped or queued).
    pub(crate) fn settle(&mut self, now: usize) {
        let before = std::mem::replace(&mut self.counted, now);
        if now > before {
            self.page.fetch_add(now - before, Ordering::AcqRel);
        } else {
            self.page.fetch_sub(before - now, Ordering::AcqRel);
        }
    }
}

impl Drop for PageShare {
    fn drop(&mut self) {
        self.page.fetch_sub(self.counted, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(page: &PageBytes) -> usize {
        page.load(Ordering::Acquire)
    }

    #[test]
    fn a_reservation_up_to_the_budget_is_counted() {
        let page = PageBytes::default();
        let mut a = PageShare::new(Arc::clone(&page));
        let mut b = PageShare::new(Arc::clone(&page));
        assert!(a.reserve(6, 10));
        assert!(b.reserve(4, 10), "exactly the budget");
        assert_eq!(held(&page), 10);
    }

    #[test]
    fn a_reservation_past_the_budget_changes_nothing() {
        let page = PageBytes::default();
        let mut a = PageShare::new(Arc::clone(&page));
        assert!(a.reserve(6, 10));
        assert!(!a.reserve(5, 10));
        assert!(!a.reserve(usize::MAX, usize::MAX), "no overflow");
        assert_eq!(held(&page), 6);
        drop(a);
        assert_eq!(held(&page), 0, "only what was counted is given back");
    }

    #[test]
    fn settling_follows_what_the_stream_holds_both_ways() {
        let page = PageBytes::default();
        let mut a = PageShare::new(Arc::clone(&page));
        let _b = {
            let mut b = PageShare::new(Arc::clone(&page));
            b.settle(3);
            b
        };
        a.settle(5);
        assert_eq!(held(&page), 8);
        a.settle(1);
        assert_eq!(held(&page), 4);
    }

    #[test]
    fn a_stream_that_goes_gives_its_share_back() {
        let page = PageBytes::default();
        let mut a = PageShare::new(Arc::clone(&page));
        let mut b = PageShare::new(Arc::clone(&page));
        a.settle(5);
        b.settle(2);
        drop(a);
        assert_eq!(held(&page), 2);
    }
}
