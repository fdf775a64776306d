//! Streams: bytes from the page to a handler, chunk by chunk, under one open.
//!
//! `openStream(cmd, meta)` in `@portcullis/api` sends a stream **open**: a request of
//! kind 5 whose body is the JSON metadata. It passes the validation hook (which sees
//! `kind: "stream"`) and the allowlist (`streams` rules, which may give a `maxBytes`)
//! like a command; its request id is the stream's id. The gate answers the open at once
//! with `{"stream": id}` once the handler started; the handler takes the chunks with the
//! [`Upload`] extractor.
//!
//! Every **chunk** is then sealed under the same page load's key in a chunk envelope
//! (PROTOCOL.md §6.3) whose header carries the stream id and the chunk's number, both in
//! the associated data: a chunk cannot be moved to another stream or number without
//! failing authentication (`E_TAMPERED`); replayed, it fails the replay window
//! (`E_REPLAY`). Here, after it opened, a chunk must name a stream of its own page load
//! (`E_NO_SUCH_STREAM`), arrive before the stream ended (`E_STREAM_CLOSED`), carry a
//! number the stream has not taken and at most [`WINDOW`] ahead of the next
//! (`E_STREAM_ORDER`, which aborts the stream) and keep the stream within its rule's
//! `maxBytes` (`E_TOO_LARGE`, which aborts it too). Chunks within the window may arrive
//! in any order (the sealer keeps a few in flight, and the engine need not deliver
//! requests in the order they were made): the handler receives them in their numbers'
//! order, never with a gap.
//!
//! A chunk is one of: data, the end (its reply is the handler's result), or an abort
//! (with the page's reason). The page load going away aborts every stream it had, and
//! its handlers are cancelled with its other calls.
//!
//! **Backpressure.** A chunk is answered once it is queued for the handler; while the
//! handler has [`QUEUE_CHUNKS`] chunks it has not taken, the answer waits until it takes
//! one. The isolation frame keeps at most [`WINDOW`] chunks of a stream unanswered, and a
//! chunk beyond `QUEUE_CHUNKS + WINDOW` waiting ones is refused (`E_BAD_REQUEST`), so a
//! stream holds at most that many chunks in memory.
//!
//! **Layout**, each file keeping one invariant, each importing only those before it:
//! `limits` (the bounds: [`WINDOW`], [`QUEUE_CHUNKS`], [`MAX_STREAMS`],
//! [`DEFAULT_PAGE_BUDGET`]), `error` ([`StreamError`]), `key`
//! ([`StreamKey`]), `answer` ([`Answer`]: a chunk's answer, given once, never under a
//! lock), `window` (the reorder window of §6.3), `queue` (the chunks a handler has not
//! taken, and the answers held meanwhile), `budget` (a page's bytes), `state` (the
//! stream's state as one enum, and every transition), `entry` (a stream under its lock),
//! `upload` ([`Upload`]), `left` (what a late chunk is told), and this file: the table of
//! streams, which looks a chunk's stream up and hands the chunk to its state.

mod answer;
mod budget;
mod entry;
mod error;
mod key;
mod left;
mod limits;
mod queue;
mod state;
mod upload;
mod window;

use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::FastMap;
use crate::authentic::Chunk;
use crate::error::ErrorCode;
use crate::reply::{CallError, Payload};

pub use answer::Answer;
pub use error::StreamError;
pub use key::StreamKey;
pub use limits::{DEFAULT_PAGE_BUDGET, MAX_STREAMS, QUEUE_CHUNKS, WINDOW};
pub use upload::Upload;

use answer::refusal;
use budget::PageBytes;
use entry::StreamEntry;
use left::LeftStreams;
use state::{Arrival, Finishing};

/// What [`Streams`] keeps behind its lock.
#[derive(Default)]
struct Registry {
    /// The open streams: admitted, their handler not finished, their page still here.
    open: FastMap<StreamKey, Arc<StreamEntry>>,
    /// What a late chunk is told of the streams that left.
    left: LeftStreams,
    /// The bytes each webview's streams hold.
    pages: FastMap<Arc<str>, PageBytes>,
    /// What the bytes of one webview's streams may not pass.
    budget: Option<usize>,
}

/// Every open stream. Cheap to clone (one table).
#[derive(Clone, Default)]
pub struct Streams {
    registry: Arc<Mutex<Registry>>,
}

impl fmt::Debug for Streams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Streams")
            .field("open", &self.open_count())
            .finish()
    }
}

impl Streams {
    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets what the chunks one webview's streams hold may not pass together
    /// (`limits.maxBufferedStreamBytes`; [`DEFAULT_PAGE_BUDGET`] until set). A data chunk
    /// that would pass it is refused before it is kept (`E_TOO_LARGE`).
    pub fn set_page_budget(&self, bytes: usize) {
        self.registry().budget = Some(bytes);
    }

    /// The bytes of chunks `webview`'s streams hold now.
    pub fn held_bytes(&self, webview: &str) -> usize {
        self.registry()
            .pages
            .get(webview)
            .map_or(0, |b| b.load(std::sync::atomic::Ordering::Acquire))
    }

    /// Opens stream `key` (its open was admitted, its handler is about to start), with
    /// the rule's byte limit.
    pub(crate) fn begin(&self, key: StreamKey, limit: Option<u64>) -> Result<Upload, CallError> {
        let mut registry = self.registry();
        if registry.open.contains_key(&key) || registry.left.knows(&key) {
            return Err(refusal(
                ErrorCode::BadRequest,
                format!("stream {} of this page load is open already", key.id),
            ));
        }
        if registry
            .open
            .keys()
            .filter(|k| k.webview == key.webview)
            .count()
            >= MAX_STREAMS
        {
            return Err(refusal(
                ErrorCode::TooLarge,
                format!("a page may have at most {MAX_STREAMS} streams open at once"),
            ));
        }
        let page = Arc::clone(registry.pages.entry(Arc::clone(&key.webview)).or_default());
        let entry = Arc::new(StreamEntry::open(limit, page));
        registry.open.insert(key, Arc::clone(&entry));
        Ok(Upload::new(entry))
    }

    /// Takes one authenticated chunk; `answer` is called with its reply (at once, once
    /// the handler caught up, or for the end with the handler's result).
    pub fn chunk(&self, chunk: Chunk, answer: Answer) {
        let key = StreamKey::of(&chunk.caller, chunk.at.stream);
        let (entry, budget) = {
            let registry = self.registry();
            let budget = registry.budget.unwrap_or(DEFAULT_PAGE_BUDGET);
            (registry.open.get(&key).cloned(), budget)
        };
        let arrival = Arrival {
            stream: key.id,
            number: chunk.at.number,
            op: chunk.op,
            answer,
        };
        let late = match entry {
            Some(entry) => entry.chunk(arrival, budget),
            None => Some((arrival.op, arrival.answer)),
        };
        // Not in the table (or it left since): what the table remembers answers it.
        if let Some((op, answer)) = late {
            let result = self.registry().left.late_chunk(&key, &op);
            answer(result);
        }
    }

    /// The handler of stream `key` finished with `result`: the stream leaves the open
    /// ones at once (its place is free for another), and its result answers the end now,
    /// or when the end arrives (a data chunk before it is taken and dropped, or gets the
    /// handler's error).
    pub fn finished(&self, key: &StreamKey, result: Result<Payload, CallError>) {
        let replies = {
            let mut registry = self.registry();
            let Some(entry) = registry.open.remove(key) else {
                return;
            };
            registry.left.ended(key.clone());
            // Under the table's lock: a chunk that finds the stream closed looks here
            // next, and finds the result kept.
            let Finishing { replies, kept } = entry.finish(result);
            if let Some(result) = kept {
                registry.left.keep_result(key.clone(), result);
            }
            replies
        };
        replies.send();
    }

    /// Forgets stream `key` (its handler never started; called after
    /// [`Streams::finished`]): the result kept for its end goes, and a later chunk names
    /// no stream.
    pub(crate) fn forget(&self, key: &StreamKey) {
        let replies = {
            let mut registry = self.registry();
            let open = registry.open.remove(key);
            registry.left.drop_result(key);
            open.map(|entry| {
                let never = refusal(ErrorCode::Internal, "the stream's handler never started");
                entry.finish(Err(never)).replies
            })
        };
        if let Some(replies) = replies {
            replies.send();
        }
    }

    /// The page of `webview` went away: every stream it had breaks (its handler's next
    /// read sees [`StreamError::PageGone`]) and answers still waiting are refused.
    /// Returns how many.
    pub fn close_webview(&self, webview: &str) -> usize {
        let entries: Vec<_> = {
            let mut registry = self.registry();
            let keys: Vec<_> = registry
                .open
                .keys()
                .filter(|k| k.in_webview(webview))
                .cloned()
                .collect();
            let entries = keys
                .iter()
                .filter_map(|k| registry.open.remove(k))
                .collect();
            // A page load that is gone sends nothing more: its ended streams and kept
            // results go too.
            registry.left.forget_webview(webview);
            entries
        };
        for entry in &entries {
            entry.page_gone().send();
        }
        entries.len()
    }

    /// How many streams are open, in every webview.
    pub fn open_count(&self) -> usize {
        self.registry().open.len()
    }

    /// How many finished handlers' results wait for their page's end, in every webview.
    pub fn results_waiting(&self) -> usize {
        self.registry().left.results_waiting()
    }
}
