//! The chunks a stream's handler has not taken yet, and backpressure on the page.
//!
//! A data chunk is answered once it is queued for the handler; while the handler has
//! [`QUEUE_CHUNKS`] chunks it has not taken, a chunk's answer is held until it takes one,
//! so the page waits (PROTOCOL.md §6.3).
//!
//! Invariant: `held.len() == chunks.len().saturating_sub(QUEUE_CHUNKS)`: the answers held
//! are those of the chunks queued beyond the first `QUEUE_CHUNKS`, oldest first.

use std::collections::VecDeque;

use super::answer::Answer;
use super::limits::QUEUE_CHUNKS;

/// Data in order, waiting for the handler, and the answers held back meanwhile.
#[derive(Default)]
pub(crate) struct HandlerQueue {
    /// The chunks' bytes, in their numbers' order.
    chunks: VecDeque<Vec<u8>>,
    /// Answers of the chunks queued beyond [`QUEUE_CHUNKS`], oldest first.
    held: VecDeque<Answer>,
}

impl HandlerQueue {
    /// Queues `data`: its answer comes back to be given now, or `None` when it is held
    /// until the handler takes a chunk.
    pub(crate) fn push(&mut self, data: Vec<u8>, answer: Answer) -> Option<Answer> {
        self.chunks.push_back(data);
        if self.chunks.len() > QUEUE_CHUNKS {
            self.held.push_back(answer);
            None
        } else {
            Some(answer)
        }
    }

    /// The handler takes the oldest chunk; with one fewer queued, the oldest answer held
    /// (if any) comes with it, to be given now.
    pub(crate) fn take(&mut self) -> Option<(Vec<u8>, Option<Answer>)> {
        let chunk = self.chunks.pop_front()?;
        let release = self.held.len() > self.chunks.len().saturating_sub(QUEUE_CHUNKS);
        Some((chunk, if release { self.held.pop_front() } else { None }))
    }

    /// How many chunks are queued.
    pub(crate) fn len(&self) -> usize {
        self.chunks.len()
    }

    /// The bytes queued.
    pub(crate) fn bytes(&self) -> usize {
        self.chunks.iter().map(Vec::len).sum()
    }

    /// Parts the queue: the chunks stay for the handler, the answers held are given now
    /// (the stream broke: the page sends no more, so nothing waits on the handler).
    pub(crate) fn release(self) -> (VecDeque<Vec<u8>>, VecDeque<Answer>) {
        (self.chunks, self.held)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;
    use crate::stream::answer::null;

    /// Answers that record their number in `log` when given.
    fn answer(log: &Arc<Mutex<Vec<u8>>>, n: u8) -> Answer {
        let log = Arc::clone(log);
        Box::new(move |_| log.lock().unwrap().push(n))
    }

    #[test]
    fn the_first_chunks_are_answered_at_once() {
        let log = Arc::default();
        let mut q = HandlerQueue::default();
        for n in 0..QUEUE_CHUNKS as u8 {
            let now = q.push(vec![n], answer(&log, n)).expect("answered at once");
            now(Ok(null()));
        }
        assert_eq!(
            *log.lock().unwrap(),
            (0..QUEUE_CHUNKS as u8).collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_chunk_past_the_queue_is_answered_when_the_handler_takes_one() {
        let log = Arc::default();
        let mut q = HandlerQueue::default();
        for n in 0..QUEUE_CHUNKS as u8 {
            assert!(q.push(vec![n], answer(&log, n)).is_some());
        }
        assert!(q.push(vec![9], answer(&log, 9)).is_none(), "held");
        assert!(q.push(vec![10], answer(&log, 10)).is_none(), "held");
        // Each take releases the oldest held answer, and the chunks come in order.
        let (chunk, released) = q.take().unwrap();
        assert_eq!(chunk, vec![0]);
        released.expect("the oldest held answer")(Ok(null()));
        assert_eq!(*log.lock().unwrap(), vec![9]);
        let (_, released) = q.take().unwrap();
        assert!(released.is_some());
        let (_, released) = q.take().unwrap();
        assert!(released.is_none(), "nothing is held any more");
        assert_eq!(q.len(), 1);
        assert_eq!(q.bytes(), 1);
    }

    #[test]
    fn release_keeps_the_chunks_and_hands_the_held_answers_back() {
        let log = Arc::default();
        let mut q = HandlerQueue::default();
        for n in 0..=QUEUE_CHUNKS as u8 {
            let _ = q.push(vec![n; 2], answer(&log, n));
        }
        assert_eq!(q.bytes(), 2 * (QUEUE_CHUNKS + 1));
        let (chunks, held) = q.release();
        assert_eq!(chunks.len(), QUEUE_CHUNKS + 1);
        assert_eq!(held.len(), 1);
    }
}
