//! A chunk's answer and the refusals a stream answers with.
//!
//! Every chunk the router hands over comes with an [`Answer`], called exactly once: at
//! once, when the handler catches up, or (for the end) with the handler's result. The
//! transitions of a stream decide the answers under its lock and return them as
//! [`Replies`]; they are given once the lock is released, in the order decided, so an
//! answer never runs under a stream's or the table's lock.

use crate::error::ErrorCode;
use crate::reply::{CallError, Payload};

/// A chunk's or an end's answer, called once.
pub type Answer = Box<dyn FnOnce(Result<Payload, CallError>) + Send>;

/// Answers decided, not yet given: in the order they are to be given.
#[must_use = "answers are given with Replies::send"]
#[derive(Default)]
pub(crate) struct Replies(Vec<(Answer, Result<Payload, CallError>)>);

impl Replies {
    /// One answer.
    pub(crate) fn one(answer: Answer, result: Result<Payload, CallError>) -> Replies {
        Replies(vec![(answer, result)])
    }

    /// Gives `answer` `result` after the answers already here.
    pub(crate) fn push(&mut self, answer: Answer, result: Result<Payload, CallError>) {
        self.0.push((answer, result));
    }

    /// Gives `answer` `result` before the answers already here (the chunk that broke a
    /// stream is answered first: its code is the one the page should see).
    pub(crate) fn push_first(&mut self, answer: Answer, result: Result<Payload, CallError>) {
        self.0.insert(0, (answer, result));
    }

    /// Gives each of `answers` its own `result()`, after the answers already here.
    pub(crate) fn each(
        &mut self,
        answers: impl IntoIterator<Item = Answer>,
        mut result: impl FnMut() -> Result<Payload, CallError>,
    ) {
        self.0.extend(answers.into_iter().map(|a| (a, result())));
    }

    /// Gives `more` after the answers already here.
    pub(crate) fn append(&mut self, more: Replies) {
        self.0.extend(more.0);
    }

    /// Whether there are none.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Gives every answer, in order.
    pub(crate) fn send(self) {
        for (answer, result) in self.0 {
            answer(result);
        }
    }
}

/// The answer of a chunk that was taken: `200 null`.
pub(crate) fn null() -> Payload {
    Payload::Json("null".to_owned())
}

/// A refusal with `code`.
pub(crate) fn refusal(code: ErrorCode, message: impl Into<String>) -> CallError {
    CallError::new(code, message)
}

/// A chunk after the stream's end or break: `E_STREAM_CLOSED`.
pub(crate) fn ended(id: u64) -> CallError {
    refusal(
        ErrorCode::StreamClosed,
        format!("stream {id} has ended: no chunk is taken after it"),
    )
}

/// A chunk that waited in the window when the stream ended or broke: `E_STREAM_CLOSED`.
pub(crate) fn closed(id: u64) -> CallError {
    refusal(
        ErrorCode::StreamClosed,
        format!("stream {id} ended before its handler took this chunk"),
    )
}

/// A chunk still waiting when its page went away: `E_CANCELLED`.
pub(crate) fn page_gone() -> CallError {
    refusal(
        ErrorCode::Cancelled,
        "the page that opened the stream went away",
    )
}
