//! The handler's side of a stream: [`Upload`], the extractor a stream's handler takes,
//! which gives the chunks in their numbers' order, then the end or what broke the
//! stream, once. Taking a chunk is what releases a held answer (the page's backpressure).

use std::fmt;
use std::sync::Arc;

use futures_util::future::{Either, select};
use tokio_util::sync::CancellationToken;

use super::answer::null;
use super::entry::StreamEntry;
use super::error::StreamError;
use super::state::Read;

/// The chunks of the stream a handler was opened for, in order: `next().await` gives
/// each chunk's bytes, `None` after the page's end, or the error that broke the stream
/// (an abort, the page going away, a limit, a gap), once.
pub struct Upload {
    entry: Arc<StreamEntry>,
    received: u64,
    done: bool,
    /// The call's token: a cancelled call ends the reading with [`StreamError::Cancelled`].
    token: CancellationToken,
}

impl fmt::Debug for Upload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upload")
            .field("received", &self.received)
            .field("done", &self.done)
            .finish()
    }
}

impl Upload {
    /// The reader of the stream in `entry`.
    pub(crate) fn new(entry: Arc<StreamEntry>) -> Upload {
        Upload {
            entry,
            received: 0,
            done: false,
            token: CancellationToken::new(),
        }
    }

    /// The same reader, ended by `token` (its call's).
    pub(crate) fn cancelled_by(mut self, token: CancellationToken) -> Upload {
        self.token = token;
        self
    }

    /// The next chunk, `None` at the end, or what broke the stream.
    pub async fn next(&mut self) -> Option<Result<Vec<u8>, StreamError>> {
        if self.done {
            return None;
        }
        let token = self.token.clone();
        let mut cancelled = std::pin::pin!(token.cancelled());
        loop {
            let mut arrived = std::pin::pin!(self.entry.arrived());
            arrived.as_mut().enable();
            if token.is_cancelled() {
                self.done = true;
                return Some(Err(StreamError::Cancelled));
            }
            // Chunks taken before the stream broke come first (the page was told they
            // were taken); the page going away drops them.
            match self.entry.read() {
                Read::Chunk(chunk, released) => {
                    if let Some(answer) = released {
                        answer(Ok(null()));
                    }
                    self.received += chunk.len() as u64;
                    return Some(Ok(chunk));
                }
                Read::Error(error) => {
                    self.done = true;
                    return Some(Err(error));
                }
                Read::End => {
                    self.done = true;
                    return None;
                }
                Read::Wait => {
                    if let Either::Right(_) = select(arrived, cancelled.as_mut()).await {
                        self.done = true;
                        return Some(Err(StreamError::Cancelled));
                    }
                }
            }
        }
    }

    /// [`Upload::next`] for a sync handler (it runs on a blocking thread).
    pub fn next_blocking(&mut self) -> Option<Result<Vec<u8>, StreamError>> {
        futures_executor::block_on(self.next())
    }

    /// Reads the whole stream into one buffer (within the rule's `maxBytes`).
    pub async fn collect(mut self) -> Result<Vec<u8>, StreamError> {
        let mut all = Vec::new();
        while let Some(chunk) = self.next().await {
            all.extend_from_slice(&chunk?);
        }
        Ok(all)
    }

    /// Bytes taken so far.
    pub fn received(&self) -> u64 {
        self.received
    }
}
