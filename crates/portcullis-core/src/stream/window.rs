//! The reorder window of one stream (PROTOCOL.md §6.3): chunks may arrive out of order
//! (the sealer keeps up to `STREAM_WINDOW` in flight, and the engine need not deliver
//! them in the order they were sent), and the handler gets them in their numbers' order,
//! never with a gap.
//!
//! Invariant: every number below `next` was taken, in order, once; every number held is
//! in `next .. next + WINDOW`, each once. A stream takes the next number out
//! ([`ReorderWindow::pop_next`]) as soon as it is held, so between chunks a window holds
//! at most `WINDOW - 1`.

use std::collections::BTreeMap;

use super::limits::WINDOW;

/// Where a chunk's number stands in its stream's window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Place {
    /// The next number: the chunk is taken now.
    Next,
    /// Ahead of the next, within the window, and not held yet: the chunk waits for the
    /// ones before it.
    Later,
    /// Below the next (taken already), or held already: a second chunk with a number
    /// breaks the stream.
    Taken,
    /// `WINDOW` or more ahead of the next: the page sent more than it may keep in flight.
    TooFar,
}

/// The next number a stream takes and the chunks that came ahead of it.
#[derive(Debug)]
pub(crate) struct ReorderWindow<T> {
    /// Every number below it was taken, in order.
    next: u64,
    /// Chunks numbered `next .. next + WINDOW`, each once.
    held: BTreeMap<u64, T>,
}

impl<T> Default for ReorderWindow<T> {
    fn default() -> Self {
        ReorderWindow {
            next: 0,
            held: BTreeMap::new(),
        }
    }
}

impl<T> ReorderWindow<T> {
    /// The next number to take.
    pub(crate) fn next(&self) -> u64 {
        self.next
    }

    /// How many chunks wait for the ones before them.
    pub(crate) fn len(&self) -> usize {
        self.held.len()
    }

    /// Where `number` stands.
    pub(crate) fn place(&self, number: u64) -> Place {
        match number.checked_sub(self.next) {
            None => Place::Taken,
            Some(0) => Place::Next,
            Some(ahead) if ahead >= WINDOW => Place::TooFar,
            Some(_) if self.held.contains_key(&number) => Place::Taken,
            Some(_) => Place::Later,
        }
    }

    /// Keeps `item` under `number`, which [`ReorderWindow::place`] put
    /// [`Place::Next`] or [`Place::Later`]; [`ReorderWindow::pop_next`] gives it back in
    /// its turn.
    pub(crate) fn hold(&mut self, number: u64, item: T) {
        debug_assert!(matches!(self.place(number), Place::Next | Place::Later));
        self.held.insert(number, item);
    }

    /// The chunk numbered next, if it is here: the number after it becomes the next.
    pub(crate) fn pop_next(&mut self) -> Option<T> {
        let item = self.held.remove(&self.next)?;
        self.next += 1;
        Some(item)
    }

    /// The chunks held, in their numbers' order.
    pub(crate) fn held(&self) -> impl Iterator<Item = &T> {
        self.held.values()
    }

    /// Takes every chunk held out, in their numbers' order (the stream ended or broke:
    /// none of them will be taken).
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = T> {
        std::mem::take(&mut self.held).into_values()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A window whose next number is `next` (every number below it taken).
    fn at(next: u64) -> ReorderWindow<u64> {
        let mut w = ReorderWindow::default();
        for n in 0..next {
            w.hold(n, n);
            assert_eq!(w.pop_next(), Some(n));
        }
        w
    }

    #[test]
    fn left_edge_the_next_number_is_taken_at_once() {
        let mut w = at(7);
        assert_eq!(w.place(7), Place::Next);
        w.hold(7, 70);
        assert_eq!(w.pop_next(), Some(70));
        assert_eq!(w.next(), 8);
        assert_eq!(w.len(), 0);
    }

    #[test]
    fn right_edge_next_plus_window_minus_one_waits() {
        let mut w = at(7);
        assert_eq!(w.place(7 + WINDOW - 1), Place::Later);
        w.hold(7 + WINDOW - 1, 1);
        assert_eq!(w.len(), 1);
        // It waits for the ones before it.
        assert_eq!(w.pop_next(), None);
        assert_eq!(w.next(), 7);
    }

    #[test]
    fn right_edge_next_plus_window_is_too_far() {
        let w = at(7);
        assert_eq!(w.place(7 + WINDOW), Place::TooFar);
    }

    #[test]
    fn too_far_ahead_even_at_the_top_of_the_numbers() {
        let w = at(0);
        assert_eq!(w.place(WINDOW + 1), Place::TooFar);
        assert_eq!(w.place(u64::MAX), Place::TooFar);
    }

    #[test]
    fn a_number_below_the_next_is_taken_already() {
        let w = at(3);
        assert_eq!(w.place(2), Place::Taken);
        assert_eq!(w.place(0), Place::Taken);
        assert_eq!(w.next(), 3);
    }

    #[test]
    fn a_number_held_already_is_taken_already() {
        let mut w = at(3);
        w.hold(5, 50);
        assert_eq!(w.place(5), Place::Taken);
        assert_eq!(w.held().copied().collect::<Vec<_>>(), vec![50]);
    }

    #[test]
    fn held_chunks_come_out_in_order_once_the_gap_fills() {
        let mut w = at(0);
        for n in [3, 1, 2] {
            w.hold(n, n * 10);
        }
        assert_eq!(w.pop_next(), None);
        w.hold(0, 0);
        let out: Vec<_> = std::iter::from_fn(|| w.pop_next()).collect();
        assert_eq!(out, vec![0, 10, 20, 30]);
        assert_eq!(w.next(), 4);
        // The window moved: what was too far is now within it.
        assert_eq!(w.place(4 + WINDOW - 1), Place::Later);
    }

    #[test]
    fn drain_empties_the_window_in_order_and_keeps_the_next_number() {
        let mut w = at(1);
        for n in [3, 2] {
            w.hold(n, n);
        }
        assert_eq!(w.drain().collect::<Vec<_>>(), vec![2, 3]);
        assert_eq!(w.len(), 0);
        assert_eq!(w.next(), 1);
    }
}
