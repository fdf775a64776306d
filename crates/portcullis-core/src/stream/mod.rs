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

use std::collections::{BTreeMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use futures_util::future::{Either, select};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::FastMap;
use crate::authentic::Chunk;
use crate::caller::Caller;
use crate::envelope::SessionId;
use crate::error::ErrorCode;
use crate::reply::{CallError, Payload};
use crate::wire::chunk::ChunkOp;
use crate::wire::constants::STREAM_WINDOW;

/// Chunks a handler may leave untaken before a chunk's answer waits.
pub const QUEUE_CHUNKS: usize = 2;
/// How far ahead of the next number a chunk may arrive ([`STREAM_WINDOW`]).
pub const WINDOW: u64 = STREAM_WINDOW;
/// The most streams one webview may have open at once (each holds at most
/// `QUEUE_CHUNKS + WINDOW` chunks of up to `limits.maxMessageBytes`, and all of a page's
/// together at most `limits.maxBufferedStreamBytes`). A stream whose handler finished is
/// no longer open: only its result waits for the page's end (at most this many per
/// webview too).
pub const MAX_STREAMS: usize = 32;
/// The bytes of chunks the core holds for one webview's streams at once when nobody set
/// another bound ([`Streams::set_page_budget`]): `limits.maxBufferedStreamBytes`'s default.
pub const DEFAULT_PAGE_BUDGET: usize = 128 << 20;
/// Why an [`Upload`] ended without the page's end.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The page aborted the stream (`writer.abort(reason)`).
    #[error("the page aborted the stream: {0}")]
    Aborted(String),
    /// The page went away (a new page load, the webview closed).
    #[error("the page that opened the stream went away")]
    PageGone,
    /// The stream passed its rule's `maxBytes`, or a chunk would have passed what the
    /// page's streams may hold together (`limits.maxBufferedStreamBytes`).
    #[error("the stream passed its limit of {0} bytes")]
    TooLarge(u64),
    /// A chunk came out of order: the stream has a gap.
    #[error("a chunk came out of order: the stream was aborted")]
    OutOfOrder,
    /// The call was cancelled: timed out, or its page aborted it or went away.
    #[error("the stream's call was cancelled")]
    Cancelled,
}

/// A handler may return it with `?`: `E_HANDLER` with app code `STREAM_ABORTED`,
/// `STREAM_PAGE_GONE`, `STREAM_TOO_LARGE` or `STREAM_OUT_OF_ORDER`.
impl crate::reply::AppError for StreamError {
    fn app_code(&self) -> Option<String> {
        Some(
            match self {
                StreamError::Aborted(_) => "STREAM_ABORTED",
                StreamError::PageGone => "STREAM_PAGE_GONE",
                StreamError::TooLarge(_) => "STREAM_TOO_LARGE",
                StreamError::OutOfOrder => "STREAM_OUT_OF_ORDER",
                StreamError::Cancelled => "STREAM_CANCELLED",
            }
            .to_owned(),
        )
    }
}

/// A chunk's or an end's answer, called once.
pub type Answer = Box<dyn FnOnce(Result<Payload, CallError>) + Send>;

/// The key of a stream: its webview, page load and id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StreamKey {
    webview: Arc<str>,
    session: Option<SessionId>,
    id: u64,
}

impl StreamKey {
    /// The stream `id` of `caller`'s page load.
    pub fn of(caller: &Caller, id: u64) -> StreamKey {
        StreamKey {
            webview: Arc::clone(&caller.webview),
            session: caller.session,
            id,
        }
    }
}

struct Slot {
    state: Mutex<SlotState>,
    /// Woken when a chunk, the end or an abort arrives.
    arrived: Notify,
    /// The bytes every stream of this slot's webview holds: this slot's share is
    /// `SlotState::bytes`, kept equal to what its queue and pending chunks hold.
    page_bytes: Arc<AtomicUsize>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let bytes = self
            .state
            .get_mut()
            .map_or_else(|p| p.into_inner().bytes, |s| s.bytes);
        self.page_bytes.fetch_sub(bytes, Ordering::AcqRel);
    }
}

#[derive(Default)]
struct SlotState {
    next: u64,
    received: u64,
    limit: Option<u64>,
    queue: VecDeque<Vec<u8>>,
    /// Answers to chunks queued beyond [`QUEUE_CHUNKS`], released as the handler takes
    /// chunks (the page waits meanwhile).
    held: VecDeque<Answer>,
    /// Chunks that arrived ahead of the next number, with their answers.
    pending: BTreeMap<u64, (ChunkOp, Answer)>,
    /// The page's end arrived (all data is in the queue).
    ended: bool,
    /// Why the stream broke, for the handler (its next read sees it once).
    broken: Option<StreamError>,
    /// The end's answer, waiting for the handler's result.
    waiting_end: Option<Answer>,
    /// The slot left the table (its handler finished, the page aborted or went away): a
    /// chunk that found it just before looks again.
    gone: bool,
    /// The bytes its queue and pending data chunks hold (counted in the page's bytes).
    bytes: usize,
}

type Replies = Vec<(Answer, Result<Payload, CallError>)>;

fn reply_all(replies: Replies) {
    for (answer, result) in replies {
        answer(result);
    }
}

impl SlotState {
    /// Breaks the stream with `error` (its handler sees the chunks taken before, then
    /// the error); the answers still waiting are refused.
    fn cut(&mut self, error: StreamError, id: u64) -> Replies {
        self.broken.get_or_insert(error);
        let mut replies = self.cut_pending(id);
        // Held chunks are queued: the handler reads them before the error.
        replies.extend(self.held.drain(..).map(|a| (a, Ok(null()))));
        replies
    }

    /// Refuses the chunks that arrived ahead and will not be taken now.
    fn cut_pending(&mut self, id: u64) -> Replies {
        std::mem::take(&mut self.pending)
            .into_values()
            .map(|(_, a)| (a, Err(closed(id))))
            .collect()
    }
}

impl Slot {
    fn state(&self) -> MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Brings the page's count in line with what `state` holds now (after chunks were
    /// taken, dropped or queued).
    fn settle(&self, state: &mut SlotState) {
        let data = |op: &ChunkOp| match op {
            ChunkOp::Data(d) => d.len(),
            _ => 0,
        };
        let now = state.queue.iter().map(Vec::len).sum::<usize>()
            + state
                .pending
                .values()
                .map(|(op, _)| data(op))
                .sum::<usize>();
        let before = std::mem::replace(&mut state.bytes, now);
        if now > before {
            self.page_bytes.fetch_add(now - before, Ordering::AcqRel);
        } else {
            self.page_bytes.fetch_sub(before - now, Ordering::AcqRel);
        }
    }

    /// Counts `len` more bytes for the page if they stay within `budget`.
    fn reserve(&self, state: &mut SlotState, len: usize, budget: usize) -> bool {
        let taken = self
            .page_bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |held| {
                held.checked_add(len).filter(|total| *total <= budget)
            })
            .is_ok();
        if taken {
            state.bytes += len;
        }
        taken
    }
}

/// How many ended streams are remembered, so a chunk after the end is told so
/// (`E_STREAM_CLOSED`) rather than that there is no such stream.
const REMEMBERED: usize = 1024;

#[derive(Default)]
struct Table {
    open: FastMap<StreamKey, Arc<Slot>>,
    /// The most recently ended streams, oldest first.
    ended: VecDeque<StreamKey>,
    /// Results of handlers that finished before the page's end arrived, oldest first:
    /// the end (or a data chunk, for an error) gets it. At most [`MAX_STREAMS`] per
    /// webview; a page that never ends its streams loses the oldest.
    results: VecDeque<(StreamKey, Result<Payload, CallError>)>,
    /// The bytes each webview's streams hold.
    pages: FastMap<Arc<str>, Arc<AtomicUsize>>,
    /// What the bytes of one webview's streams may not pass.
    budget: Option<usize>,
}

impl Table {
    fn get(&self, key: &StreamKey) -> Option<&Arc<Slot>> {
        self.open.get(key)
    }

    /// Takes `key` out of the open streams and remembers it ended.
    fn remove(&mut self, key: &StreamKey) -> Option<Arc<Slot>> {
        let slot = self.open.remove(key)?;
        if self.ended.len() == REMEMBERED {
            self.ended.pop_front();
        }
        self.ended.push_back(key.clone());
        Some(slot)
    }

    /// Keeps a finished handler's result for the page's end.
    fn keep_result(&mut self, key: StreamKey, result: Result<Payload, CallError>) {
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

    /// The result kept for `key`, taken out when `take`.
    fn result(&mut self, key: &StreamKey, take: bool) -> Option<Result<Payload, CallError>> {
        let at = self.results.iter().position(|(k, _)| k == key)?;
        if take {
            self.results.remove(at).map(|(_, r)| r)
        } else {
            self.results.get(at).map(|(_, r)| r.clone())
        }
    }
}

/// Every open stream. Cheap to clone (one table).
#[derive(Clone, Default)]
pub struct Streams {
    table: Arc<Mutex<Table>>,
}

impl fmt::Debug for Streams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Streams")
            .field("open", &self.open_count())
            .finish()
    }
}

fn refusal(code: ErrorCode, message: impl Into<String>) -> CallError {
    CallError::new(code, message)
}

impl Streams {
    fn table(&self) -> MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sets what the chunks one webview's streams hold may not pass together
    /// (`limits.maxBufferedStreamBytes`; [`DEFAULT_PAGE_BUDGET`] until set). A data chunk
    /// that would pass it is refused before it is kept (`E_TOO_LARGE`).
    pub fn set_page_budget(&self, bytes: usize) {
        self.table().budget = Some(bytes);
    }

    /// The bytes of chunks `webview`'s streams hold now.
    pub fn held_bytes(&self, webview: &str) -> usize {
        self.table()
            .pages
            .get(webview)
            .map_or(0, |b| b.load(Ordering::Acquire))
    }

    /// Opens stream `key` (its open was admitted, its handler is about to start), with
    /// the rule's byte limit.
    pub(crate) fn begin(&self, key: StreamKey, limit: Option<u64>) -> Result<Upload, CallError> {
        let mut table = self.table();
        if table.open.contains_key(&key)
            || table.ended.contains(&key)
            || table.results.iter().any(|(k, _)| *k == key)
        {
            return Err(refusal(
                ErrorCode::BadRequest,
                format!("stream {} of this page load is open already", key.id),
            ));
        }
        if table
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
        let page_bytes = Arc::clone(table.pages.entry(Arc::clone(&key.webview)).or_default());
        let slot = Arc::new(Slot {
            state: Mutex::new(SlotState {
                limit,
                ..SlotState::default()
            }),
            arrived: Notify::new(),
            page_bytes,
        });
        table.open.insert(key.clone(), Arc::clone(&slot));
        Ok(Upload {
            slot,
            received: 0,
            done: false,
            token: CancellationToken::new(),
        })
    }

    /// A chunk for a stream that is not open: its handler's result if it finished, else
    /// why nothing takes it.
    fn not_open(&self, key: &StreamKey, op: ChunkOp, answer: Answer) {
        let kept = {
            let mut table = self.table();
            // A data chunk after a handler that succeeded is taken and dropped (the page
            // goes on to its end, which gets the result); anything else takes the result.
            let keep = matches!(op, ChunkOp::Data(_))
                && table.result(key, false).is_some_and(|r| r.is_ok());
            table.result(key, !keep).map(|r| (r, keep)).or_else(|| {
                table
                    .ended
                    .contains(key)
                    .then(|| (Err(ended(key.id)), false))
            })
        };
        answer(match kept {
            Some((_, true)) => Ok(null()),
            Some((result, false)) => match op {
                ChunkOp::Abort(_) if result.is_ok() => Ok(null()),
                _ => result,
            },
            None => Err(refusal(
                ErrorCode::NoSuchStream,
                format!(
                    "no stream {} is open for this page load: its open was refused, or never made here",
                    key.id
                ),
            )),
        })
    }

    /// Takes one authenticated chunk; `answer` is called with its reply (at once, once
    /// the handler caught up, or for the end with the handler's result).
    pub fn chunk(&self, chunk: Chunk, answer: Answer) {
        let key = StreamKey::of(&chunk.caller, chunk.at.stream);
        let (slot, budget) = {
            let table = self.table();
            (
                table.get(&key).cloned(),
                table.budget.unwrap_or(DEFAULT_PAGE_BUDGET),
            )
        };
        let Some(slot) = slot else {
            return self.not_open(&key, chunk.op, answer);
        };
        let mut state = slot.state();
        if state.gone {
            // It left the table since: its result (or end) is kept there now.
            drop(state);
            return self.not_open(&key, chunk.op, answer);
        }
        if state.ended || state.broken.is_some() {
            drop(state);
            return answer(Err(ended(key.id)));
        }
        let number = chunk.at.number;
        let ahead = number.checked_sub(state.next);
        if ahead.is_none_or(|a| a >= WINDOW) || state.pending.contains_key(&number) {
            // Not a number this stream can still take: the stream breaks, its handler
            // never sees a gap.
            let expected = state.next;
            let replies = state.cut(StreamError::OutOfOrder, key.id);
            slot.settle(&mut state);
            drop(state);
            slot.arrived.notify_waiters();
            // The chunk that broke the stream is answered first: its code is the one
            // the page should see.
            answer(Err(refusal(
                ErrorCode::StreamOrder,
                format!(
                    "chunk {number} of stream {} is not one it can take (chunk {expected} is next, at most {WINDOW} ahead): the stream is aborted",
                    key.id
                ),
            )));
            return reply_all(replies);
        }
        if let ChunkOp::Abort(reason) = chunk.op {
            // An abort acts at once, whatever came before it. The stream stays in the
            // table (counted among the page's open ones, later chunks E_STREAM_CLOSED)
            // until its handler finishes.
            let replies = state.cut(StreamError::Aborted(reason), key.id);
            slot.settle(&mut state);
            drop(state);
            slot.arrived.notify_waiters();
            answer(Ok(null()));
            return reply_all(replies);
        }
        if state.queue.len() + state.pending.len() >= QUEUE_CHUNKS + WINDOW as usize {
            // A sender that does not wait for its answers: refused before anything
            // changes (the number stays free), so memory stays bounded.
            drop(state);
            return answer(Err(refusal(
                ErrorCode::BadRequest,
                format!(
                    "stream {} has {} chunks waiting: send the next once one is answered",
                    key.id,
                    QUEUE_CHUNKS + WINDOW as usize
                ),
            )));
        }
        if let ChunkOp::Data(data) = &chunk.op
            && !slot.reserve(&mut state, data.len(), budget)
        {
            // Past what this page's streams may hold together: refused before it is
            // kept, and the stream breaks as at its maxBytes (its handler reads what it
            // was given, then the error; the chunks sent after it are refused), so no
            // stream waits for a number the page will never send again.
            let replies = state.cut(StreamError::TooLarge(budget as u64), key.id);
            slot.settle(&mut state);
            drop(state);
            slot.arrived.notify_waiters();
            answer(Err(refusal(
                ErrorCode::TooLarge,
                format!(
                    "this page's streams would hold more than {budget} bytes their handlers have not taken (limits.maxBufferedStreamBytes): the stream is aborted"
                ),
            )));
            return reply_all(replies);
        }
        // Chunks may arrive out of order (the sealer keeps a few in flight): each waits
        // for the ones before it, and they reach the handler in their numbers' order.
        state.pending.insert(number, (chunk.op, answer));
        let mut replies = Vec::new();
        loop {
            let next = state.next;
            let Some((op, answer)) = state.pending.remove(&next) else {
                break;
            };
            state.next += 1;
            match op {
                ChunkOp::Data(data) => {
                    state.received = state.received.saturating_add(data.len() as u64);
                    if let Some(limit) = state.limit.filter(|l| state.received > *l) {
                        // The chunk that broke the stream is answered first.
                        replies.insert(
                            0,
                            (
                                answer,
                                Err(refusal(
                                    ErrorCode::TooLarge,
                                    format!(
                                        "stream {} passed its rule's maxBytes ({limit}): the stream is aborted",
                                        key.id
                                    ),
                                )),
                            ),
                        );
                        replies.extend(state.cut(StreamError::TooLarge(limit), key.id));
                        break;
                    }
                    state.queue.push_back(data);
                    if state.queue.len() > QUEUE_CHUNKS {
                        // Answered when the handler takes a chunk: the page waits.
                        state.held.push_back(answer);
                    } else {
                        replies.push((answer, Ok(null())));
                    }
                }
                ChunkOp::End => {
                    // The handler has not finished (it would have left the table): the
                    // answer waits for its result.
                    state.ended = true;
                    state.waiting_end = Some(answer);
                    replies.extend(state.cut_pending(key.id));
                    break;
                }
                ChunkOp::Abort(_) => replies.push((answer, Ok(null()))),
            }
        }
        slot.settle(&mut state);
        drop(state);
        slot.arrived.notify_waiters();
        reply_all(replies);
    }

    /// The handler of stream `key` finished with `result`: the stream leaves the open
    /// ones at once (its slot is free for another), and its result answers the end now,
    /// or when the end arrives (a data chunk before it is taken and dropped, or gets the
    /// handler's error).
    pub fn finished(&self, key: &StreamKey, result: Result<Payload, CallError>) {
        let (slot, replies, waiting) = {
            let mut table = self.table();
            let Some(slot) = table.remove(key) else {
                return;
            };
            let mut state = slot.state();
            state.gone = true;
            state.queue.clear();
            // Chunks still waiting for an answer get the handler's error if it failed
            // (the page learns it from them), else a plain answer, so the page goes on
            // to its end and gets the result there.
            let verdict = || match &result {
                Ok(_) => Ok(null()),
                Err(e) => Err(e.clone()),
            };
            let mut answers: Vec<Answer> = state.held.drain(..).collect();
            answers.extend(
                std::mem::take(&mut state.pending)
                    .into_values()
                    .map(|(_, a)| a),
            );
            slot.settle(&mut state);
            let told = !answers.is_empty() && result.is_err();
            let replies: Replies = answers.into_iter().map(|a| (a, verdict())).collect();
            let waiting = state.waiting_end.take();
            // A broken stream gets no end from the page, nor one whose error the waiting
            // chunks carry; the others keep the result for the end.
            if waiting.is_none() && state.broken.is_none() && !told {
                table.keep_result(key.clone(), result.clone());
            }
            drop(state);
            (slot, replies, waiting)
        };
        slot.arrived.notify_waiters();
        reply_all(replies);
        if let Some(waiting) = waiting {
            waiting(result);
        }
    }

    /// Forgets stream `key` (its handler never started).
    pub(crate) fn forget(&self, key: &StreamKey) {
        let mut table = self.table();
        if let Some(slot) = table.open.remove(key) {
            slot.state().gone = true;
        }
        table.result(key, true);
    }

    /// The page of `webview` went away: every stream it had breaks (its handler's next
    /// read sees [`StreamError::PageGone`]) and answers still waiting are refused.
    /// Returns how many.
    pub fn close_webview(&self, webview: &str) -> usize {
        let slots: Vec<_> = {
            let mut table = self.table();
            let keys: Vec<_> = table
                .open
                .keys()
                .filter(|k| &*k.webview == webview)
                .cloned()
                .collect();
            let slots = keys.iter().filter_map(|k| table.open.remove(k)).collect();
            // A page load that is gone sends nothing more: its ended streams and kept
            // results go too.
            table.ended.retain(|k| &*k.webview != webview);
            table.results.retain(|(k, _)| &*k.webview != webview);
            slots
        };
        for slot in &slots {
            let mut state = slot.state();
            state.gone = true;
            state.broken.get_or_insert(StreamError::PageGone);
            state.queue.clear();
            let mut answers: Vec<Answer> = state.held.drain(..).collect();
            answers.extend(
                std::mem::take(&mut state.pending)
                    .into_values()
                    .map(|(_, a)| a),
            );
            answers.extend(state.waiting_end.take());
            slot.settle(&mut state);
            drop(state);
            slot.arrived.notify_waiters();
            for answer in answers {
                answer(Err(refusal(
                    ErrorCode::Cancelled,
                    "the page that opened the stream went away",
                )));
            }
        }
        slots.len()
    }

    /// How many streams are open, in every webview.
    pub fn open_count(&self) -> usize {
        self.table().open.len()
    }

    /// How many finished handlers' results wait for their page's end, in every webview.
    pub fn results_waiting(&self) -> usize {
        self.table().results.len()
    }
}

fn ended(id: u64) -> CallError {
    refusal(
        ErrorCode::StreamClosed,
        format!("stream {id} has ended: no chunk is taken after it"),
    )
}

fn closed(id: u64) -> CallError {
    refusal(
        ErrorCode::StreamClosed,
        format!("stream {id} ended before its handler took this chunk"),
    )
}

fn null() -> Payload {
    Payload::Json("null".to_owned())
}

/// The chunks of the stream a handler was opened for, in order: `next().await` gives
/// each chunk's bytes, `None` after the page's end, or the error that broke the stream
/// (an abort, the page going away, a limit, a gap), once.
pub struct Upload {
    slot: Arc<Slot>,
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
            let mut arrived = std::pin::pin!(self.slot.arrived.notified());
            arrived.as_mut().enable();
            if token.is_cancelled() {
                self.done = true;
                return Some(Err(StreamError::Cancelled));
            }
            let (item, held) = {
                let mut state = self.slot.state();
                // Chunks taken before the stream broke come first (the page was told
                // they were taken); the page going away drops them.
                if let Some(chunk) = state.queue.pop_front() {
                    // A held answer is one for a chunk queued beyond QUEUE_CHUNKS: with
                    // one fewer queued, the oldest of them goes.
                    let held = if state.held.len() > state.queue.len().saturating_sub(QUEUE_CHUNKS)
                    {
                        state.held.pop_front()
                    } else {
                        None
                    };
                    self.slot.settle(&mut state);
                    (Some(Ok(chunk)), held)
                } else if let Some(error) = state.broken.clone() {
                    (Some(Err(error)), None)
                } else if state.ended {
                    self.done = true;
                    return None;
                } else {
                    (None, None)
                }
            };
            if let Some(held) = held {
                held(Ok(null()));
            }
            match item {
                Some(Ok(chunk)) => {
                    self.received += chunk.len() as u64;
                    return Some(Ok(chunk));
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(e));
                }
                None => {
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
