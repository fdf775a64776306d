//! The tests' rig: one stream driven by hand through its transitions, recording every
//! answer it gives, what its reader reads, and its page's count (settled as the entry
//! settles it).

use std::sync::{Arc, Mutex};

use super::*;
use crate::stream::budget::{PageBytes, PageShare};

/// An answer as the page sees it: the reply's text, or the refusal's code.
pub(super) type Said = Result<String, ErrorCode>;

pub(super) fn said(result: Result<Payload, CallError>) -> Said {
    match result {
        Ok(Payload::Json(text)) => Ok(text),
        Ok(Payload::Bytes(bytes)) => Ok(format!("{bytes:?}")),
        Err(e) => Err(e.code),
    }
}

pub(super) fn null_said() -> Said {
    Ok("null".to_owned())
}

/// What a reader got: a chunk's text, `"<end>"`, `"<wait>"`, or the error.
pub(super) fn read_one(state: &mut StreamState) -> Result<String, StreamError> {
    match state.read() {
        Read::Chunk(chunk, released) => {
            if let Some(answer) = released {
                answer(Ok(null()));
            }
            Ok(String::from_utf8(chunk).unwrap())
        }
        Read::End => Ok("<end>".to_owned()),
        Read::Wait => Ok("<wait>".to_owned()),
        Read::Error(e) => Err(e),
    }
}

/// One stream, driven by hand, recording every answer it gives.
pub(super) struct Rig {
    pub(super) state: StreamState,
    /// Answers given, in order: the chunk's tag and what it was told.
    pub(super) log: Arc<Mutex<Vec<(String, Said)>>>,
    pub(super) page: PageBytes,
    pub(super) share: PageShare,
    pub(super) budget: usize,
    /// Whether the last chunk woke the reader.
    pub(super) woke: bool,
}

impl Rig {
    pub(super) fn new(limit: Option<u64>) -> Rig {
        let page = PageBytes::default();
        Rig {
            state: StreamState::open(limit),
            log: Arc::default(),
            share: PageShare::new(Arc::clone(&page)),
            page,
            budget: usize::MAX,
            woke: false,
        }
    }

    /// An answer that records `tag` and what it was told.
    pub(super) fn answer(&self, tag: &str) -> Answer {
        let (log, tag) = (Arc::clone(&self.log), tag.to_owned());
        Box::new(move |result| log.lock().unwrap().push((tag, said(result))))
    }

    /// The state, with a placeholder left behind for the transition to replace.
    pub(super) fn take(&mut self) -> StreamState {
        std::mem::replace(
            &mut self.state,
            StreamState::Closed {
                last: Last::Nothing,
            },
        )
    }

    /// Chunk `number` with `op`, tagged `tag`: the answers it gave are sent; `Some` with
    /// the chunk when the stream sent it back to the table.
    pub(super) fn send(
        &mut self,
        number: u64,
        op: ChunkOp,
        tag: &str,
    ) -> Option<(ChunkOp, Answer)> {
        let chunk = Arrival {
            stream: 9,
            number,
            op,
            answer: self.answer(tag),
        };
        let (state, step) = self.take().chunk(chunk, &mut self.share, self.budget);
        self.state = state;
        self.share.settle(self.state.held_bytes());
        match step {
            ChunkStep::Answered { replies, wake } => {
                self.woke = wake;
                replies.send();
                None
            }
            ChunkStep::LookAgain(op, answer) => Some((op, answer)),
        }
    }

    pub(super) fn data(&mut self, number: u64, text: &str) {
        let tag = format!("{number}:{text}");
        let back = self.send(number, ChunkOp::Data(text.as_bytes().to_vec()), &tag);
        assert!(back.is_none(), "an open stream takes its chunks");
    }

    pub(super) fn end(&mut self, number: u64) {
        assert!(
            self.send(number, ChunkOp::End, &format!("{number}:end"))
                .is_none()
        );
    }

    pub(super) fn abort(&mut self, number: u64) {
        let op = ChunkOp::Abort("changed my mind".to_owned());
        assert!(self.send(number, op, &format!("{number}:abort")).is_none());
    }

    /// The handler finishes with `result`; what it keeps for the end.
    pub(super) fn finish(&mut self, result: Result<Payload, CallError>) -> Option<Said> {
        let (state, finishing) = self.take().finish(result);
        self.state = state;
        self.share.settle(self.state.held_bytes());
        finishing.replies.send();
        finishing.kept.map(said)
    }

    pub(super) fn page_gone(&mut self) {
        let (state, replies) = self.take().page_gone();
        self.state = state;
        self.share.settle(self.state.held_bytes());
        replies.send();
    }

    /// Answers given since the last look, in order.
    pub(super) fn answers(&self) -> Vec<(String, Said)> {
        std::mem::take(&mut *self.log.lock().unwrap())
    }

    /// The handler reads once (its page's count follows, as the entry's does).
    pub(super) fn read_one(&mut self) -> Result<String, StreamError> {
        let item = read_one(&mut self.state);
        self.share.settle(self.state.held_bytes());
        item
    }

    /// Reads until the reader would wait, or its reading ends.
    pub(super) fn read_all(&mut self) -> Vec<Result<String, StreamError>> {
        let mut out = Vec::new();
        loop {
            let item = self.read_one();
            let stop = !matches!(&item, Ok(s) if s != "<wait>" && s != "<end>");
            out.push(item);
            if stop {
                return out;
            }
        }
    }

    pub(super) fn variant(&self) -> &'static str {
        match &self.state {
            StreamState::Open(_) => "open",
            StreamState::Ended { .. } => "ended",
            StreamState::Broken { .. } => "broken",
            StreamState::Closed { .. } => "closed",
        }
    }

    pub(super) fn page_bytes(&self) -> usize {
        self.page.load(std::sync::atomic::Ordering::Acquire)
    }
}

pub(super) fn ok(text: &str) -> Result<String, StreamError> {
    Ok(text.to_owned())
}

pub(super) fn told(tag: &str, said: Said) -> (String, Said) {
    (tag.to_owned(), said)
}

pub(super) fn failed(code: ErrorCode) -> CallError {
    CallError::new(code, "the handler gave up")
}

/// A rig whose stream broke with `how`: "abort", "order" or "too large".
pub(super) fn broken(how: &str) -> Rig {
    let mut rig = Rig::new(Some(4));
    rig.data(0, "ab");
    match how {
        "abort" => rig.abort(1),
        "order" => rig.data(1 + WINDOW, "x"),
        "too large" => rig.data(1, "xyz"),
        _ => unreachable!(),
    }
    assert_eq!(rig.variant(), "broken", "{how}");
    rig.answers();
    rig
}
