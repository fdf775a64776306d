//! Fuzzes stream chunks (PROTOCOL.md §6.3) through the gate and the router's streams.
//!
//! The input is a program: open streams (sealed stream opens of a live page load, passed
//! by the allowlist and dispatched to a handler that keeps its `Upload`), seal chunks of
//! any stream id, number and operation (data, end, abort, or arbitrary plaintext) and
//! deliver them now, later, twice, from another webview or reworked; deliver raw bytes;
//! read the uploads; finish handlers; reload pages (their old sealers keep sealing).
//!
//! Invariants, besides "no panic":
//! - the gate admits only what the harness sealed, for the webview it was sealed for,
//!   once (no replay), with the stream and number it was sealed with;
//! - an `Upload` gets only data chunks sealed by its own page load for its own stream,
//!   numbers 0, 1, 2, ... in order without a gap, each once; it ends (`None`) only after
//!   the page's end for the next number reached the router;
//! - a page's streams never hold more chunk bytes than the budget
//!   (`limits.maxBufferedStreamBytes`, set small here), and hold none once the page and
//!   its handlers are gone;
//! - every chunk the router took is answered by the time its page is gone, and no
//!   stream or call is left in the tables then.
#![no_main]

mod common;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};

use common::{Input, LABELS, Page, Record, STRANGER, Sealed, facts, mutate, poll_once};
use libfuzzer_sys::fuzz_target;
use portcullis_core::envelope::{ChunkAt, Encoding};
use portcullis_core::request::{Kind, Request};
use portcullis_core::router::{CallError, Dispatch, InFlight, Payload};
use portcullis_core::stream::{StreamKey, Upload};
use portcullis_core::wire::chunk::{ChunkOp, chunk_plaintext};
use portcullis_core::{Args, Caller, ErrorCode, Gate, Inbound, Router, SessionId};
use serde_json::Value;

/// Uploads the handlers took, with the caller that opened them, for the harness to read.
type Stash = Arc<Mutex<Vec<(Caller, Upload)>>>;

struct World {
    gate: Gate,
    router: Router,
    stash: Stash,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let gate = common::gate(&common::config());
        let stash: Stash = Arc::default();
        let (a, b, c) = (stash.clone(), stash.clone(), stash.clone());
        // Every handler hands its Upload to the harness and returns; the harness decides
        // when the handler "finishes" (Streams::finished), as an embedder's runtime would.
        let router = Router::new()
            .stream("up", move |caller: Caller, upload: Upload| {
                a.lock().unwrap().push((caller, upload));
            })
            .stream("capped", move |caller: Caller, upload: Upload| {
                b.lock().unwrap().push((caller, upload));
            })
            .stream(
                "meta",
                move |caller: Caller, _: Args<Value>, upload: Upload| {
                    c.lock().unwrap().push((caller, upload));
                },
            );
        router.check().expect("the fuzz router is sound");
        // A small budget for the bytes a page's streams hold, so inputs reach it.
        router.streams().set_page_budget(BUDGET);
        World {
            gate,
            router,
            stash,
        }
    })
}

/// A stream the router opened.
struct Stream {
    session: SessionId,
    id: u64,
    key: StreamKey,
    upload: Option<Upload>,
    call: Option<InFlight>,
    /// Chunks the upload gave so far.
    read: u64,
    /// The upload ended (None or an error).
    done: bool,
}

/// What one input does.
struct Run<'w> {
    w: &'w World,
    pages: Vec<Page>,
    streams: Vec<Stream>,
    record: Record,
    /// Data chunks: tag -> (session, at, bytes).
    tags: HashMap<u64, (SessionId, ChunkAt, Vec<u8>)>,
    /// Tags an upload gave.
    read_tags: HashSet<u64>,
    /// Tags and ends that reached the router (session, stream, number).
    routed_tags: HashSet<u64>,
    routed_ends: HashSet<(SessionId, u64, u64)>,
    /// Envelopes sealed, for later delivery, replay and rework.
    sent: Vec<(&'static str, Vec<u8>)>,
    /// The answers of the chunks the router took, by the order it took them.
    answers: Arc<Mutex<Vec<Option<Result<Payload, CallError>>>>>,
    /// Next chunk number per (page, stream id).
    next: HashMap<(usize, u64), u64>,
}

/// `limits.maxBufferedStreamBytes` for this app: a few of the larger data chunks.
const BUDGET: usize = 4096;

const NAMES: [&str; 5] = ["up", "capped", "meta", "denied", "absent"];

impl<'w> Run<'w> {
    fn new(w: &'w World) -> Self {
        let pages = LABELS.iter().map(|l| Page::begin(&w.gate, l)).collect();
        Run {
            w,
            pages,
            streams: Vec::new(),
            record: Record::default(),
            tags: HashMap::new(),
            read_tags: HashSet::new(),
            routed_tags: HashSet::new(),
            routed_ends: HashSet::new(),
            sent: Vec::new(),
            answers: Arc::default(),
            next: HashMap::new(),
        }
    }

    /// A page load: mostly a current one, sometimes one that was replaced.
    fn page(&mut self, inp: &mut Input<'_>) -> usize {
        inp.index(self.pages.len())
    }

    /// The label a message is delivered as: its own, mostly.
    fn label(&self, inp: &mut Input<'_>, page: usize) -> &'static str {
        match inp.u8() % 8 {
            0 => {
                LABELS[(LABELS
                    .iter()
                    .position(|l| *l == self.pages[page].label)
                    .unwrap()
                    + 1)
                    % 2]
            }
            1 => STRANGER,
            _ => self.pages[page].label,
        }
    }

    fn stream_id(&mut self, inp: &mut Input<'_>) -> u64 {
        let b = inp.u8();
        if b < 200 && !self.streams.is_empty() {
            self.streams[usize::from(b) % self.streams.len()].id
        } else if b < 240 {
            u64::from(b % 8)
        } else {
            inp.u64()
        }
    }

    fn open(&mut self, inp: &mut Input<'_>) {
        let p = self.page(inp);
        let id = match inp.u8() {
            b @ 0..=239 => u64::from(b % 12),
            _ => inp.u64(),
        };
        let name = NAMES[inp.index(NAMES.len())];
        let meta: Value = match inp.u8() % 4 {
            0 => serde_json::json!({}),
            1 => serde_json::json!({"name": String::from_utf8_lossy(inp.bytes(16))}),
            2 => serde_json::json!({"name": 3}),
            _ => serde_json::from_slice(inp.bytes(48)).unwrap_or(Value::Null),
        };
        let enc = if inp.bool() {
            Encoding::Json
        } else {
            Encoding::Binary
        };
        let plain = Request::encode_json(Kind::Stream, id, name, &meta);
        let what = Sealed::Request {
            kind: 5,
            id,
            name: name.to_owned(),
        };
        let sealed = self.record.seal(&mut self.pages[p], &plain, enc, what);
        let label = self.label(inp, p);
        self.keep(label, &sealed);
        self.deliver(sealed, label);
    }

    fn chunk(&mut self, inp: &mut Input<'_>) {
        let p = self.page(inp);
        let stream = self.stream_id(inp);
        let next = *self.next.get(&(p, stream)).unwrap_or(&0);
        let d = inp.u8();
        let number = match d {
            0..=127 => next,
            128..=191 => next + u64::from(d % 6),
            192..=223 => next.saturating_sub(u64::from(d % 3) + 1),
            _ => inp.u64(),
        };
        if number == next {
            self.next.insert((p, stream), next + 1);
        }
        let at = ChunkAt { stream, number };
        let session = self.pages[p].session;
        let (plain, tag) = match inp.u8() % 8 {
            0..=3 => {
                let tag = self.record.tag();
                let mut data = inp.bytes(if d & 1 == 0 { 48 } else { 2048 }).to_vec();
                data.extend_from_slice(&tag.to_be_bytes());
                self.tags.insert(tag, (session, at, data.clone()));
                (chunk_plaintext(&ChunkOp::Data(data)), Some(tag))
            }
            4 | 5 => (chunk_plaintext(&ChunkOp::End), None),
            6 => {
                let reason = String::from_utf8_lossy(inp.bytes(600)).into_owned();
                (chunk_plaintext(&ChunkOp::Abort(reason)), None)
            }
            _ => {
                // Any plaintext: an operation byte the core may not know, an end with
                // data, an abort whose reason is not UTF-8. Data gets a tag too.
                let mut plain = inp.bytes(64).to_vec();
                let mut tag = None;
                if plain.first() == Some(&0) {
                    let t = self.record.tag();
                    plain.extend_from_slice(&t.to_be_bytes());
                    self.tags.insert(t, (session, at, plain[1..].to_vec()));
                    tag = Some(t);
                }
                (plain, tag)
            }
        };
        let sealed = self.record.seal_chunk(&mut self.pages[p], at, &plain, tag);
        let label = self.label(inp, p);
        self.keep(label, &sealed);
        if inp.u8() % 4 != 0 {
            self.deliver(sealed, label);
        }
    }

    fn keep(&mut self, label: &'static str, sealed: &[u8]) {
        if self.sent.len() < 64 {
            self.sent.push((label, sealed.to_vec()));
        }
    }

    /// Delivers what the gate takes: an open goes to the router's dispatch, a chunk to
    /// its streams.
    fn deliver(&mut self, bytes: Vec<u8>, label: &'static str) {
        let Ok(inbound) = self.w.gate.receive_owned(bytes, facts(label)) else {
            return;
        };
        match inbound {
            Inbound::Chunk(chunk) => {
                let what = self.record.check_admitted(chunk.caller(), label);
                let Sealed::Chunk { at, tag } = what else {
                    panic!("a chunk was admitted where {what:?} was sealed");
                };
                assert_eq!(
                    chunk.at(),
                    at,
                    "a chunk was admitted at another stream or number"
                );
                let session = chunk.caller().session.unwrap();
                if let Some(tag) = tag {
                    self.routed_tags.insert(tag);
                } else {
                    self.routed_ends.insert((session, at.stream, at.number));
                }
                let answers = Arc::clone(&self.answers);
                let slot = {
                    let mut a = answers.lock().unwrap();
                    a.push(None);
                    a.len() - 1
                };
                self.w.router.chunk(
                    chunk,
                    Box::new(move |result| {
                        let mut a = answers.lock().unwrap();
                        assert!(a[slot].is_none(), "a chunk was answered twice");
                        a[slot] = Some(result);
                    }),
                );
            }
            Inbound::Call(admitted) => {
                let what = self.record.check_admitted(admitted.caller(), label);
                let request = admitted.request();
                let Sealed::Request { kind: 5, id, name } = &what else {
                    panic!("a call was admitted where {what:?} was sealed");
                };
                assert_eq!(
                    (request.kind, request.id, &request.name),
                    (Kind::Stream, *id, name),
                    "admitted another request than was sealed"
                );
                let session = admitted.caller().session.unwrap();
                let id = request.id;
                self.dispatch(admitted, session, id);
            }
            Inbound::Cancel(cancel) => {
                let what = self.record.check_admitted(cancel.caller(), label);
                panic!("a cancel was admitted where {what:?} was sealed");
            }
        }
    }

    fn dispatch(&mut self, admitted: portcullis_core::Admitted, session: SessionId, id: u64) {
        match self.w.router.dispatch(admitted) {
            Dispatch::Stream(work, call) => {
                let _ = call.opened();
                let key = call
                    .stream()
                    .cloned()
                    .expect("a stream's call names its stream");
                let result = work.run_here();
                assert!(
                    result.is_ok(),
                    "the harness's stream handler failed: {result:?}"
                );
                let (caller, upload) = self
                    .w
                    .stash
                    .lock()
                    .unwrap()
                    .pop()
                    .expect("the stream's handler ran with its Upload");
                assert_eq!(
                    caller.session,
                    Some(session),
                    "a handler got another page load's stream"
                );
                self.streams.push(Stream {
                    session,
                    id,
                    key,
                    upload: Some(upload),
                    call: Some(call),
                    read: 0,
                    done: false,
                });
            }
            Dispatch::Ready(_) => {}
            Dispatch::Started(..) => panic!("a stream open started as a command"),
        }
    }

    /// Reads what an upload has now.
    fn read(&mut self, k: usize) {
        let s = &mut self.streams[k];
        let Some(upload) = s.upload.as_mut() else {
            return;
        };
        let Some(item) = poll_once(upload.next()) else {
            assert!(!s.done, "an upload that ended waits for more");
            return;
        };
        match item {
            Some(Ok(bytes)) => {
                assert!(!s.done, "an upload gave a chunk after it ended");
                let tag = bytes
                    .len()
                    .checked_sub(8)
                    .map(|n| u64::from_be_bytes(bytes[n..].try_into().unwrap()))
                    .expect("an upload gave bytes nobody sealed as a chunk");
                let Some((session, at, data)) = self.tags.get(&tag) else {
                    panic!("an upload gave bytes nobody sealed as a chunk");
                };
                assert_eq!(*data, bytes, "an upload gave other bytes than were sealed");
                assert_eq!(
                    *session, s.session,
                    "an upload got another page load's chunk"
                );
                assert_eq!(at.stream, s.id, "an upload got another stream's chunk");
                assert_eq!(at.number, s.read, "an upload got a chunk out of order");
                assert!(
                    self.routed_tags.contains(&tag),
                    "an upload got a chunk the router never took"
                );
                assert!(self.read_tags.insert(tag), "an upload got a chunk twice");
                s.read += 1;
            }
            Some(Err(_)) => {
                assert!(!s.done, "an upload failed after it ended");
                s.done = true;
            }
            None => {
                if !s.done {
                    assert!(
                        self.routed_ends.contains(&(s.session, s.id, s.read)),
                        "an upload ended without the page's end after its last chunk"
                    );
                }
                s.done = true;
            }
        }
    }

    /// The handler of stream `k` finishes: its upload goes, its result goes to the end.
    fn finish(&mut self, k: usize, ok: bool) {
        let s = &mut self.streams[k];
        let Some(call) = s.call.take() else { return };
        s.upload = None;
        let result = if ok {
            Ok(Payload::Json(s.read.to_string()))
        } else {
            Err(CallError::new(ErrorCode::Handler, "the handler gave up"))
        };
        self.w
            .router
            .streams()
            .finished(&s.key, call.finish(result).result);
    }

    /// A new page load in one webview (the transport closes the old one's streams).
    fn reload(&mut self, inp: &mut Input<'_>) {
        let label = LABELS[inp.index(2)];
        if inp.u8() % 4 != 0 {
            self.w.router.cancel_webview(label);
        }
        if self.pages.len() < 8 {
            self.pages.push(Page::begin(&self.w.gate, label));
        } else {
            let i = self.pages.iter().rposition(|p| p.label == label).unwrap();
            self.pages[i] = Page::begin(&self.w.gate, label);
        }
    }

    /// What a page's streams hold stays within the budget.
    fn check_budget(&self) {
        for label in LABELS {
            let held = self.w.router.streams().held_bytes(label);
            assert!(
                held <= BUDGET,
                "{label}'s streams hold {held} bytes, past the budget of {BUDGET}"
            );
        }
    }

    fn step(&mut self, inp: &mut Input<'_>) {
        match inp.u8() % 12 {
            0 | 1 => self.open(inp),
            2..=5 => self.chunk(inp),
            6 => {
                if !self.sent.is_empty() {
                    let i = inp.index(self.sent.len());
                    let (label, bytes) = self.sent[i].clone();
                    let label = if inp.u8() % 4 == 0 {
                        LABELS[inp.index(2)]
                    } else {
                        label
                    };
                    self.deliver(bytes, label);
                }
            }
            7 => {
                if !self.sent.is_empty() {
                    let i = inp.index(self.sent.len());
                    let (label, mut bytes) = self.sent[i].clone();
                    mutate(inp, &mut bytes);
                    self.deliver(bytes, label);
                }
            }
            8 => {
                let raw = inp.bytes(256).to_vec();
                let label = LABELS[inp.index(2)];
                self.deliver(raw, label);
            }
            9 => {
                if !self.streams.is_empty() {
                    let k = inp.index(self.streams.len());
                    for _ in 0..=inp.u8() % 4 {
                        self.read(k);
                    }
                }
            }
            10 => {
                if !self.streams.is_empty() {
                    let k = inp.index(self.streams.len());
                    match inp.u8() % 3 {
                        0 => self.streams[k].upload = None,
                        n => self.finish(k, n == 1),
                    }
                }
            }
            _ => self.reload(inp),
        }
    }

    /// Both webviews go away; their handlers then finish. Everything the router took is
    /// answered, and nothing is left open.
    fn end(mut self) {
        for label in LABELS {
            self.w.router.cancel_webview(label);
        }
        for k in 0..self.streams.len() {
            // Whatever an upload gives after its page went away is still its own.
            for _ in 0..8 {
                self.read(k);
            }
            self.finish(k, true);
        }
        let unanswered = self
            .answers
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a.is_none())
            .count();
        assert_eq!(
            unanswered, 0,
            "chunks left unanswered after their page went away"
        );
        assert_eq!(self.w.router.streams().open_count(), 0, "streams left open");
        self.streams.clear();
        for label in LABELS {
            assert_eq!(
                self.w.router.streams().held_bytes(label),
                0,
                "{label}'s streams still count bytes after its page and handlers are gone"
            );
        }
        assert_eq!(self.w.router.in_flight(), 0, "calls left in flight");
        assert!(self.w.stash.lock().unwrap().is_empty());
    }
}

fuzz_target!(|data: &[u8]| {
    let w = world();
    let mut inp = Input::new(data);
    let mut run = Run::new(w);
    let mut steps = 0;
    while !inp.is_empty() && steps < 64 {
        run.step(&mut inp);
        run.check_budget();
        steps += 1;
    }
    run.end();
});
