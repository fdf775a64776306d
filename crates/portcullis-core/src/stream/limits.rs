//! The bounds every stream keeps, in one file so that each module of the folder takes
//! them from below it (`mod.rs` re-exports them as `stream::WINDOW` and so on).
//!
//! Together they bound what the core holds for a page: at most [`MAX_STREAMS`] open
//! streams per webview, each holding at most `QUEUE_CHUNKS + WINDOW` chunks, and all of
//! a webview's streams at most their page budget of bytes ([`DEFAULT_PAGE_BUDGET`] until
//! `limits.maxBufferedStreamBytes` sets another).

use crate::wire::constants::STREAM_WINDOW;

/// Chunks a handler may leave untaken before a chunk's answer waits.
pub const QUEUE_CHUNKS: usize = 2;

/// How far ahead of the next number a chunk may arrive ([`STREAM_WINDOW`], PROTOCOL.md
/// §6.3): a chunk numbered `next + WINDOW` or more breaks its stream.
pub const WINDOW: u64 = STREAM_WINDOW;

/// The most streams one webview may have open at once (each holds at most
/// `QUEUE_CHUNKS + WINDOW` chunks of up to `limits.maxMessageBytes`, and all of a page's
/// together at most `limits.maxBufferedStreamBytes`). A stream whose handler finished is
/// no longer open: only its result waits for the page's end (at most this many per
/// webview too).
pub const MAX_STREAMS: usize = 32;

/// The bytes of chunks the core holds for one webview's streams at once when nobody set
/// another bound (`Streams::set_page_budget`): `limits.maxBufferedStreamBytes`'s default.
pub const DEFAULT_PAGE_BUDGET: usize = 128 << 20;

/// The chunks one stream may have waiting at once (queued for its handler, or held in
/// its window): a chunk past them is refused without changing the stream.
pub(crate) const MAX_WAITING: usize = QUEUE_CHUNKS + WINDOW as usize;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_budget_is_the_configs_default() {
        // config/mod.rs comes before this module in the walk and keeps its own figure.
        assert_eq!(
            DEFAULT_PAGE_BUDGET,
            crate::config::Limits::default().max_buffered_stream_bytes
        );
    }
}
