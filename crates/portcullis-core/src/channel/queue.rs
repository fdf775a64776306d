//! One channel's queue: its bound, its phase, and the way out into frames.
//!
//! The queue keeps two invariants:
//!
//! - **Bounded.** It holds at most [`QUEUE_MESSAGES`] messages and [`QUEUE_BYTES`]
//!   bytes, except that an empty queue takes one message of up to [`MAX_MESSAGE`] bytes
//!   whatever its size (so a large message always goes, alone). A push that does not
//!   fit is refused with the message handed back ([`TrySendError::Full`], as tokio's
//!   `try_send` does): nothing is dropped, the sender keeps it for the next try.
//! - **One phase at a time**, as one enum ([`Phase`]): open (senders push, the page
//!   pulls), ended (no sender is left: the page gets what is queued, then the end) or
//!   closed (the page went away or closed it: nothing is queued, kept or delivered but
//!   the end). Every change of phase is a method here.
//!
//! The queue knows nothing of who waits on it: the channel's entry wakes senders and
//! answers the page's waiting pull.

use std::collections::VecDeque;

use super::frames::{end_frame, push_end, push_message};
use super::message::{Message, TrySendError};

/// The most messages a channel queues for its page.
pub const QUEUE_MESSAGES: usize = 64;
/// The most bytes a channel queues for its page (one larger message fits an empty queue).
pub const QUEUE_BYTES: usize = 8 << 20;
/// The longest single message (a larger one is [`ChannelError::TooLong`]).
///
/// [`ChannelError::TooLong`]: super::ChannelError::TooLong
pub const MAX_MESSAGE: usize = QUEUE_BYTES;
/// A pull is answered with the queued messages up to about this many bytes (at least one).
pub const PULL_BYTES: usize = 8 << 20;

/// Whether `message` is longer than any channel takes ([`MAX_MESSAGE`]).
pub(crate) fn too_long(message: &Message) -> bool {
    message.len() > MAX_MESSAGE
}

/// Where a channel is in its life. It only moves forward: open, then ended or closed;
/// ended, then closed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Senders may push; the page pulls what is queued.
    #[default]
    Open,
    /// Every sender is gone: nothing more is pushed, and the page gets the end once it
    /// has taken what is queued.
    Ended,
    /// The page went away or closed the channel: the queue is empty and stays so, and a
    /// pull gets the end at once.
    Closed,
}

/// What a take drained: the frames, and whether the end is among them (the page needs
/// nothing more of this channel).
pub(crate) struct Taken {
    pub(crate) frames: Vec<u8>,
    pub(crate) done: bool,
}

/// A channel's bounded queue of messages for its page.
#[derive(Debug, Default)]
pub(crate) struct Queue {
    /// Oldest first.
    messages: VecDeque<Message>,
    /// The sum of the lengths of `messages`.
    bytes: usize,
    phase: Phase,
}

impl Queue {
    /// A queue closed from the start: for a call whose page load is gone already.
    pub(crate) fn closed() -> Queue {
        Queue {
            phase: Phase::Closed,
            ..Queue::default()
        }
    }

    /// Whether the page went away or closed the channel.
    pub(crate) fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Queues `message` at the back, or hands it back: too long for any queue, the
    /// channel closed (or ended), or the queue full.
    pub(crate) fn push(&mut self, message: Message) -> Result<(), TrySendError> {
        if too_long(&message) {
            return Err(TrySendError::TooLong(message));
        }
        if self.phase != Phase::Open {
            return Err(TrySendError::Closed(message));
        }
        let full = !self.messages.is_empty()
            && (self.messages.len() >= QUEUE_MESSAGES || self.bytes + message.len() > QUEUE_BYTES);
        if full {
            return Err(TrySendError::Full(message));
        }
        self.bytes += message.len();
        self.messages.push_back(message);
        Ok(())
    }

    /// Every sender is gone: the page gets the end after what is queued. Returns
    /// whether the phase changed (a closed channel stays closed).
    pub(crate) fn end(&mut self) -> bool {
        let open = self.phase == Phase::Open;
        if open {
            self.phase = Phase::Ended;
        }
        open
    }

    /// The page went away or closed the channel: what is queued is dropped, and nothing
    /// more is taken.
    pub(crate) fn close(&mut self) {
        self.phase = Phase::Closed;
        self.messages.clear();
        self.bytes = 0;
    }

    /// What a pull gets now: queued messages as frames, oldest first, up to
    /// [`PULL_BYTES`] (at least one), with the end after the last once the channel ended;
    /// the end alone once it closed. `None` while it is open and empty: the pull waits.
    pub(crate) fn take(&mut self) -> Option<Taken> {
        match self.phase {
            Phase::Closed => Some(Taken {
                frames: end_frame(),
                done: true,
            }),
            Phase::Open if self.messages.is_empty() => None,
            Phase::Open | Phase::Ended => Some(self.drain()),
        }
    }

    fn drain(&mut self) -> Taken {
        let mut frames = Vec::new();
        while let Some(message) = self.messages.front() {
            if !frames.is_empty() && frames.len() + message.len() > PULL_BYTES {
                break;
            }
            let Some(message) = self.messages.pop_front() else {
                break;
            };
            self.bytes -= message.len();
            push_message(&mut frames, &message);
        }
        let done = self.messages.is_empty() && self.phase == Phase::Ended;
        if done {
            push_end(&mut frames);
        }
        Taken { frames, done }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::frames::read_frames;

    fn small(n: u8) -> Message {
        Message::Bytes(vec![n])
    }

    fn taken(queue: &mut Queue) -> (Vec<Message>, bool) {
        let taken = queue.take().expect("something to take");
        let (messages, ended) = read_frames(&taken.frames).expect("well-formed frames");
        assert_eq!(ended, taken.done);
        (messages, ended)
    }

    #[test]
    fn the_bound_in_messages_hands_the_next_one_back() {
        let mut q = Queue::default();
        for n in 0..QUEUE_MESSAGES {
            assert_eq!(q.push(small(n as u8)), Ok(()), "message {n}");
        }
        assert_eq!(q.push(small(200)), Err(TrySendError::Full(small(200))));
        assert_eq!(q.messages.len(), QUEUE_MESSAGES);
        // One taken, one more fits.
        let _ = q.take();
        assert_eq!(q.push(small(201)), Ok(()));
    }

    #[test]
    fn the_bound_in_bytes_hands_the_next_one_back() {
        let mut q = Queue::default();
        let half = Message::Bytes(vec![0; QUEUE_BYTES / 2]);
        assert_eq!(q.push(half.clone()), Ok(()));
        assert_eq!(q.push(half.clone()), Ok(()));
        assert_eq!(q.bytes, QUEUE_BYTES);
        // Exactly at the bound: one byte more does not fit, whatever the message count.
        assert_eq!(q.push(small(1)), Err(TrySendError::Full(small(1))));
        assert_eq!(q.messages.len(), 2);
    }

    #[test]
    fn an_empty_queue_takes_one_message_of_any_allowed_size() {
        let mut q = Queue::default();
        let largest = Message::Bytes(vec![0; MAX_MESSAGE]);
        assert_eq!(q.push(largest), Ok(()));
        assert_eq!(q.push(small(0)), Err(TrySendError::Full(small(0))));
        let (messages, _) = taken(&mut q);
        assert_eq!(messages.len(), 1);
        assert_eq!(q.bytes, 0);
        assert_eq!(q.push(small(0)), Ok(()));
    }

    #[test]
    fn a_message_longer_than_the_limit_is_handed_back_even_to_an_empty_queue() {
        let mut q = Queue::default();
        let long = Message::Json("x".repeat(MAX_MESSAGE + 1));
        assert_eq!(
            q.push(long.clone()),
            Err(TrySendError::TooLong(long.clone()))
        );
        assert!(too_long(&long));
        assert!(!too_long(&Message::Bytes(vec![0; MAX_MESSAGE])));
        assert_eq!(q.bytes, 0);
        // Too long wins over closed: the sender learns what to fix.
        q.close();
        assert!(matches!(q.push(long), Err(TrySendError::TooLong(_))));
    }

    #[test]
    fn a_closed_queue_drops_what_it_held_and_hands_every_push_back() {
        let mut q = Queue::default();
        q.push(small(1)).unwrap();
        q.close();
        assert!(q.is_closed());
        assert_eq!((q.messages.len(), q.bytes), (0, 0));
        assert_eq!(q.push(small(2)), Err(TrySendError::Closed(small(2))));
        // A pull gets the end alone, and again.
        assert_eq!(taken(&mut q), (Vec::new(), true));
        assert_eq!(taken(&mut q), (Vec::new(), true));
        // Ending a closed queue changes nothing.
        assert!(!q.end());
        assert!(q.is_closed());
        assert!(Queue::closed().is_closed());
    }

    #[test]
    fn an_open_empty_queue_has_nothing_to_take() {
        let mut q = Queue::default();
        assert!(q.take().is_none());
        q.push(small(1)).unwrap();
        q.push(small(2)).unwrap();
        assert_eq!(taken(&mut q), (vec![small(1), small(2)], false));
        assert!(q.take().is_none());
    }

    #[test]
    fn the_end_follows_the_last_message_and_no_push_after_it() {
        let mut q = Queue::default();
        q.push(small(1)).unwrap();
        assert!(q.end());
        assert!(!q.end());
        assert_eq!(q.push(small(2)), Err(TrySendError::Closed(small(2))));
        assert_eq!(taken(&mut q), (vec![small(1)], true));
        // Ended and empty: the end again, never a wait.
        assert_eq!(taken(&mut q), (Vec::new(), true));
        // An ended queue still closes (the page went away before it pulled the end).
        q.close();
        assert!(q.is_closed());
    }

    #[test]
    fn a_take_stops_near_the_pull_bound_but_gives_at_least_one() {
        let mut q = Queue::default();
        let big = Message::Bytes(vec![0; PULL_BYTES / 2]);
        for _ in 0..2 {
            q.push(big.clone()).unwrap();
        }
        assert!(q.end());
        // The first frame's header puts the second just past the bound.
        assert_eq!(taken(&mut q), (vec![big.clone()], false));
        assert_eq!(q.bytes, PULL_BYTES / 2);
        assert_eq!(taken(&mut q), (vec![big], true));
        assert_eq!(q.bytes, 0);
    }
}
