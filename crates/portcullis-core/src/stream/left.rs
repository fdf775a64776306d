//! What the table remembers of streams that left it, so a late chunk is told the truth:
//! the streams that ended (a chunk after them is `E_STREAM_CLOSED`, not
//! `E_NO_SUCH_STREAM`), and the results of handlers that finished before the page's end
//! (the end gets the result, PROTOCOL.md §6.3).
//!
//! Invariant: at most [`REMEMBERED`] ended streams, oldest forgotten first; at most
//! [`MAX_STREAMS`] results per webview, oldest dropped first (a page that never ends its
//! streams loses them); a result is taken by the chunk that gets it, at most once.

use std::collections::VecDeque;

use crate::error::ErrorCode;
use crate::reply::{CallError, Payload};
use crate::wire::chunk::ChunkOp;

use super::answer::{ended, null, refusal};
use super::key::StreamKey;
use super::limits::MAX_STREAMS;

/// How many ended streams are remembered.
pub(crate) const REMEMBERED: usize = 1024;

/// Streams that left the table, as far as a late chunk needs them.
#[derive(Default)]
pub(crate) struct LeftStreams {
    /// The most recently ended streams, oldest first.
    ended: VecDeque<StreamKey>,
    /// Results of handlers that finished before the page's end arrived, oldest first.
    results: VecDeque<(StreamKey, Result<Payload, CallError>)>,
}

impl LeftStreams {
    /// Remembers that `key` ended.
    pub(crate) fn ended(&mut self, key: StreamKey) {
        if self.ended.len() == REMEMBERED {
            self.ended.pop_front();
        }
        self.ended.push_back(key);
    }

    /// Keeps a finished handler's result for the page's end.
    pub(crate) fn keep_result(&mut self, key: StreamKey, result: Result<Payload, CallError>) {
        let mine = self
            .results
            .iter()
            .filter(|(k, _)| k.webview == key.webview)
            .count();
        if mine >= MAX_STREAMS
            && let Some(oldest) = self
                .results
                .iter()
                .position(|(k, _)| k.webview == key.webview)
        {
            self.results.remove(oldest);
        }
        self.results.push_back((key, result));
    }

    /// Whether `key` was a stream once (its id cannot open another).
    pub(crate) fn knows(&self, key: &StreamKey) -> bool {
        self.ended.contains(key) || self.results.iter().any(|(k, _)| k == key)
    }

    /// Drops the result kept for `key`, if any.
    pub(crate) fn drop_result(&mut self, key: &StreamKey) {
        self.take_result(key);
    }

    /// Forgets every stream of `webview` (its page load is gone and sends nothing more).
    pub(crate) fn forget_webview(&mut self, webview: &str) {
        self.ended.retain(|k| !k.in_webview(webview));
        self.results.retain(|(k, _)| !k.in_webview(webview));
    }

    /// How many results wait, in every webview.
    pub(crate) fn results_waiting(&self) -> usize {
        self.results.len()
    }

    /// The answer to chunk `op` for `key`, which is not in the table: the handler's
    /// result if it finished (a data chunk after a handler that succeeded is taken and
    /// dropped, the result staying for the end; anything else takes the result),
    /// `E_STREAM_CLOSED` if it ended, else `E_NO_SUCH_STREAM`.
    pub(crate) fn late_chunk(
        &mut self,
        key: &StreamKey,
        op: &ChunkOp,
    ) -> Result<Payload, CallError> {
        let succeeded = self.results.iter().any(|(k, r)| k == key && r.is_ok());
        if succeeded && matches!(op, ChunkOp::Data(_)) {
            return Ok(null());
        }
        match self.take_result(key) {
            Some(Ok(_)) if matches!(op, ChunkOp::Abort(_)) => Ok(null()),
            Some(result) => result,
            None if self.ended.contains(key) => Err(ended(key.id)),
            None => Err(refusal(
                ErrorCode::NoSuchStream,
                format!(
                    "no stream {} is open for this page load: its open was refused, or never made here",
                    key.id
                ),
            )),
        }
    }

    /// Takes the result kept for `key` out.
    fn take_result(&mut self, key: &StreamKey) -> Option<Result<Payload, CallError>> {
        let at = self.results.iter().position(|(k, _)| k == key)?;
        self.results.remove(at).map(|(_, r)| r)
    }
}
