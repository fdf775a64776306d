//! A stream's state: [`StreamState`], one enum whose variants are the only states a stream
//! can be in, and every transition between them, here and nowhere else. The table keeps
//! each stream's state under a lock and swaps it for the one a transition returns, with
//! the answers to give once the lock is released.
//!
//! ```text
//!        data, or a chunk ahead (it waits in the window)
//!        ┌──┐
//!        ▼  │       the end, in its number's order
//!        Open ─────────────────────────────────────► Ended
//!        │  abort, a number taken or too far ahead,     │
//!        │  past maxBytes or the page budget            │
//!        ▼                                              │
//!        Broken                                         │
//!        │  its handler finished, or its page went away │
//!        └──────────────────────► Closed ◄──────────────┘
//! ```
//!
//! Open also goes straight to Closed when its handler finishes before the page's end, or
//! its page goes away. Every chunk after Ended or Broken is refused (`E_STREAM_CLOSED`);
//! a chunk that finds a Closed stream goes back to the table, which keeps what a late
//! chunk is told. The handler reads in every state: the chunks queued, then what ended
//! its reading (the end, the error, or nothing yet). Every answer a state holds is given
//! by the transition that leaves it, so none is lost and none given twice.

use std::collections::VecDeque;

use crate::error::ErrorCode;
use crate::reply::{CallError, Payload};
use crate::wire::chunk::ChunkOp;

use super::answer::{Answer, Replies, closed, ended, null, page_gone, refusal};
use super::budget::PageShare;
use super::error::StreamError;
use super::limits::{MAX_WAITING, WINDOW};
use super::queue::HandlerQueue;
use super::window::{Place, ReorderWindow};

/// The legal states of a stream.
pub(crate) enum StreamState {
    /// Taking chunks: the page sent neither its end nor an abort, nothing broke the
    /// stream, and its handler runs.
    Open(Receiving),
    /// The page's end came, in its number's order: every data chunk before it is queued
    /// (nothing waits in a window), and the end's answer waits for the handler's result.
    Ended {
        /// Data the handler has not taken (with their held answers).
        queue: HandlerQueue,
        /// The end's answer.
        end: Answer,
    },
    /// An abort, a gap or a limit broke the stream: no answer waits; the handler reads
    /// the chunks taken before the break, then `error`.
    Broken {
        /// Data the handler has not taken (their answers were given).
        chunks: VecDeque<Vec<u8>>,
        /// What the handler reads after them.
        error: StreamError,
    },
    /// The stream left the table: its handler finished, or its page went away. Nothing
    /// is held and no answer waits; a reader still left reads `last`.
    Closed {
        /// What a reader still left gets.
        last: Last,
    },
}

/// What the handler of a stream reads once it took every chunk, in [`StreamState::Closed`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Last {
    /// The page's end.
    End,
    /// What broke the stream.
    Error(StreamError),
    /// Nothing: the handler finished before the page's end, and a reader still left waits
    /// until its call is cancelled.
    Nothing,
}

/// What an open stream keeps.
pub(crate) struct Receiving {
    /// Chunks that came ahead of the next number, with their answers.
    window: ReorderWindow<(InOrder, Answer)>,
    /// Data in order the handler has not taken.
    queue: HandlerQueue,
    /// Bytes of data taken in order, the chunk that passed `limit` included.
    received: u64,
    /// The rule's `maxBytes`.
    limit: Option<u64>,
}

/// A chunk that waits in the window for its turn: data or the end (an abort acts at once
/// and never waits).
pub(crate) enum InOrder {
    /// Data for the handler.
    Data(Vec<u8>),
    /// The page's end.
    End,
}

/// A chunk for a stream, as the table hands it over.
pub(crate) struct Arrival {
    /// The stream's id (for the refusals' messages).
    pub(crate) stream: u64,
    /// The chunk's number.
    pub(crate) number: u64,
    /// What it carries.
    pub(crate) op: ChunkOp,
    /// Its answer.
    pub(crate) answer: Answer,
}

/// What a chunk's transition asks of the table.
#[must_use]
pub(crate) enum ChunkStep {
    /// Give these answers; `wake` the reader when what it can read changed.
    Answered {
        /// The answers, in order.
        replies: Replies,
        /// Whether the reader may have something new.
        wake: bool,
    },
    /// The stream left the table after the chunk found it there: the table answers it.
    LookAgain(ChunkOp, Answer),
}

/// What the handler reads now.
pub(crate) enum Read {
    /// A chunk, and the held answer its taking releases (to give now).
    Chunk(Vec<u8>, Option<Answer>),
    /// The page's end.
    End,
    /// What broke the stream.
    Error(StreamError),
    /// Nothing yet.
    Wait,
}

/// What the handler's finishing asks of the table.
#[must_use]
pub(crate) struct Finishing {
    /// The answers that waited, in order (the end's last, with the handler's result).
    pub(crate) replies: Replies,
    /// The handler's result, to keep for the page's end (when no answer carried it).
    pub(crate) kept: Option<Result<Payload, CallError>>,
}

impl StreamState {
    /// A stream whose open was admitted, under its rule's `maxBytes`.
    pub(crate) fn open(limit: Option<u64>) -> StreamState {
        StreamState::Open(Receiving {
            window: ReorderWindow::default(),
            queue: HandlerQueue::default(),
            received: 0,
            limit,
        })
    }

    /// A chunk arrives; a data chunk's bytes are counted in `share` if they stay within
    /// `budget`. Checked in the order of PROTOCOL.md §6.3.
    pub(crate) fn chunk(
        self,
        chunk: Arrival,
        share: &mut PageShare,
        budget: usize,
    ) -> (StreamState, ChunkStep) {
        let Arrival {
            stream: id,
            number,
            op,
            answer,
        } = chunk;
        let mut open = match self {
            StreamState::Open(open) => open,
            StreamState::Closed { .. } => return (self, ChunkStep::LookAgain(op, answer)),
            StreamState::Ended { .. } | StreamState::Broken { .. } => {
                return (self, refused(answer, ended(id)));
            }
        };
        match open.window.place(number) {
            Place::Next | Place::Later => {}
            Place::Taken | Place::TooFar => {
                // Not a number this stream can still take: it breaks, its handler never
                // sees a gap.
                let expected = open.window.next();
                let error = refusal(
                    ErrorCode::StreamOrder,
                    format!(
                        "chunk {number} of stream {id} is not one it can take (chunk {expected} is next, at most {WINDOW} ahead): the stream is aborted"
                    ),
                );
                return open.break_on(StreamError::OutOfOrder, id, answer, Err(error));
            }
        }
        let op = match op {
            // An abort acts at once, whatever came before it.
            ChunkOp::Abort(reason) => {
                return open.break_on(StreamError::Aborted(reason), id, answer, Ok(null()));
            }
            ChunkOp::Data(data) => InOrder::Data(data),
            ChunkOp::End => InOrder::End,
        };
        if open.queue.len() + open.window.len() >= MAX_WAITING {
            // A sender that does not wait for its answers: refused before anything
            // changes (the number stays free), so memory stays bounded.
            let error = refusal(
                ErrorCode::BadRequest,
                format!(
                    "stream {id} has {MAX_WAITING} chunks waiting: send the next once one is answered"
                ),
            );
            return (StreamState::Open(open), refused(answer, error));
        }
        if let InOrder::Data(data) = &op
            && !share.reserve(data.len(), budget)
        {
            // Past what this page's streams may hold together: refused before it is
            // kept, and the stream breaks as at its maxBytes, so no stream waits for a
            // number the page will never send again.
            let error = refusal(
                ErrorCode::TooLarge,
                format!(
                    "this page's streams would hold more than {budget} bytes their handlers have not taken (limits.maxBufferedStreamBytes): the stream is aborted"
                ),
            );
            return open.break_on(StreamError::TooLarge(budget as u64), id, answer, Err(error));
        }
        open.window.hold(number, (op, answer));
        open.take_in_order(id)
    }

    /// The handler reads: the oldest chunk queued, else what ended its reading, else
    /// nothing yet.
    pub(crate) fn read(&mut self) -> Read {
        let taken = match self {
            StreamState::Open(open) => open.queue.take(),
            StreamState::Ended { queue, .. } => queue.take(),
            StreamState::Broken { chunks, .. } => chunks.pop_front().map(|c| (c, None)),
            StreamState::Closed { .. } => None,
        };
        if let Some((chunk, released)) = taken {
            return Read::Chunk(chunk, released);
        }
        match self {
            StreamState::Open(_)
            | StreamState::Closed {
                last: Last::Nothing,
            } => Read::Wait,
            StreamState::Ended { .. } | StreamState::Closed { last: Last::End } => Read::End,
            StreamState::Broken { error, .. }
            | StreamState::Closed {
                last: Last::Error(error),
            } => Read::Error(error.clone()),
        }
    }

    /// The handler finished with `result`: the stream closes. The answers still waiting
    /// get the handler's error if it failed (the page learns it from them), else a plain
    /// answer (the page goes on to its end); the end, if it came, gets the result. A
    /// result no answer carried is kept for the end, unless the stream broke (the page
    /// sends no end).
    pub(crate) fn finish(self, result: Result<Payload, CallError>) -> (StreamState, Finishing) {
        let verdict = || match &result {
            Ok(_) => Ok(null()),
            Err(e) => Err(e.clone()),
        };
        let mut replies = Replies::default();
        let (last, kept) = match self {
            StreamState::Open(mut open) => {
                let (_, held) = open.queue.release();
                replies.each(held, verdict);
                replies.each(open.window.drain().map(|(_, a)| a), verdict);
                let told = !replies.is_empty() && result.is_err();
                (Last::Nothing, (!told).then_some(result))
            }
            StreamState::Ended { queue, end } => {
                let (_, held) = queue.release();
                replies.each(held, verdict);
                replies.push(end, result);
                (Last::End, None)
            }
            StreamState::Broken { error, .. } => (Last::Error(error), None),
            StreamState::Closed { last } => (last, None),
        };
        let finishing = Finishing { replies, kept };
        (StreamState::Closed { last }, finishing)
    }

    /// The page went away: the stream closes, its reader's next read is
    /// [`StreamError::PageGone`] (or what broke it before), and every answer still waiting
    /// is refused (`E_CANCELLED`).
    pub(crate) fn page_gone(self) -> (StreamState, Replies) {
        let mut replies = Replies::default();
        let last = match self {
            StreamState::Open(mut open) => {
                let (_, held) = open.queue.release();
                replies.each(held, || Err(page_gone()));
                replies.each(open.window.drain().map(|(_, a)| a), || Err(page_gone()));
                Last::Error(StreamError::PageGone)
            }
            StreamState::Ended { queue, end } => {
                let (_, held) = queue.release();
                replies.each(held, || Err(page_gone()));
                replies.push(end, Err(page_gone()));
                Last::Error(StreamError::PageGone)
            }
            StreamState::Broken { error, .. } => Last::Error(error),
            StreamState::Closed { last } => last,
        };
        (StreamState::Closed { last }, replies)
    }

    /// The bytes of data the stream holds: queued for the handler or waiting in its
    /// window (what its page's count should say for it).
    pub(crate) fn held_bytes(&self) -> usize {
        match self {
            StreamState::Open(open) => {
                let waiting = open.window.held().map(|(op, _)| match op {
                    InOrder::Data(d) => d.len(),
                    InOrder::End => 0,
                });
                open.queue.bytes() + waiting.sum::<usize>()
            }
            StreamState::Ended { queue, .. } => queue.bytes(),
            StreamState::Broken { chunks, .. } => chunks.iter().map(Vec::len).sum(),
            StreamState::Closed { .. } => 0,
        }
    }
}

impl Receiving {
    /// Takes the chunks the window has in order, from the next number on: data is
    /// queued for the handler (its answer given, or held while the queue is full), the
    /// end ends the stream.
    fn take_in_order(mut self, id: u64) -> (StreamState, ChunkStep) {
        let mut replies = Replies::default();
        while let Some((op, answer)) = self.window.pop_next() {
            match op {
                InOrder::Data(data) => {
                    self.received = self.received.saturating_add(data.len() as u64);
                    if let Some(limit) = self.limit.filter(|l| self.received > *l) {
                        let error = refusal(
                            ErrorCode::TooLarge,
                            format!(
                                "stream {id} passed its rule's maxBytes ({limit}): the stream is aborted"
                            ),
                        );
                        // The chunk that broke the stream is answered first.
                        replies.push_first(answer, Err(error));
                        let (state, rest) = self.cut(StreamError::TooLarge(limit), id);
                        replies.append(rest);
                        return (
                            state,
                            ChunkStep::Answered {
                                replies,
                                wake: true,
                            },
                        );
                    }
                    if let Some(now) = self.queue.push(data, answer) {
                        replies.push(now, Ok(null()));
                    }
                }
                InOrder::End => {
                    // Chunks numbered after the end will not be taken.
                    replies.each(self.window.drain().map(|(_, a)| a), || Err(closed(id)));
                    let ended = StreamState::Ended {
                        queue: self.queue,
                        end: answer,
                    };
                    return (
                        ended,
                        ChunkStep::Answered {
                            replies,
                            wake: true,
                        },
                    );
                }
            }
        }
        (
            StreamState::Open(self),
            ChunkStep::Answered {
                replies,
                wake: true,
            },
        )
    }

    /// Breaks the stream with `error` because of the chunk whose `answer` gets `result`,
    /// first: its code is the one the page should see.
    fn break_on(
        self,
        error: StreamError,
        id: u64,
        answer: Answer,
        result: Result<Payload, CallError>,
    ) -> (StreamState, ChunkStep) {
        let (state, rest) = self.cut(error, id);
        let mut replies = Replies::one(answer, result);
        replies.append(rest);
        (
            state,
            ChunkStep::Answered {
                replies,
                wake: true,
            },
        )
    }

    /// Breaks the stream with `error`: the chunks waiting in the window are refused (they
    /// will not be taken), the held answers given (their chunks are queued: the handler
    /// reads them before the error).
    fn cut(mut self, error: StreamError, id: u64) -> (StreamState, Replies) {
        let mut replies = Replies::default();
        replies.each(self.window.drain().map(|(_, a)| a), || Err(closed(id)));
        let (chunks, held) = self.queue.release();
        replies.each(held, || Ok(null()));
        (StreamState::Broken { chunks, error }, replies)
    }
}

/// A chunk refused without changing the stream.
fn refused(answer: Answer, error: CallError) -> ChunkStep {
    ChunkStep::Answered {
        replies: Replies::one(answer, Err(error)),
        wake: false,
    }
}

#[cfg(test)]
mod rig;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_end;
