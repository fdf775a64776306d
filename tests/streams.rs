//! Streams from the page to a handler, through the gate and the router, without a
//! webview: the open passes the allowlist like a command, every chunk is sealed in a
//! chunk envelope that binds its stream and number into the associated data, and the
//! handler reads the chunks in order. The attack catalogue: chunk replay, reorder,
//! cross-stream splice, chunk after close, chunk for a refused open, over-limit stream,
//! reload mid-stream; each asserts its code and what the handler saw, beside the
//! legitimate twin.

mod common;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;
use std::time::Duration;

use common::{admit_sealed, facts, origin, page};
use portcullis::envelope::{CHUNK_HEADER_LEN, ChunkAt, Encoding, HEADER_LEN};
use portcullis::request::{Kind, Request};
use portcullis::router::{CallError, Dispatch, Payload};
use portcullis::stream::{
    DEFAULT_PAGE_BUDGET, MAX_STREAMS, QUEUE_CHUNKS, StreamError, StreamKey, Upload, WINDOW,
};
use portcullis::wire::chunk::{ChunkOp, chunk_plaintext, encode_clear_chunk};
use portcullis::{Args, Config, ErrorCode, Gate, Inbound, Router, ScopeVars, Sealer};
use serde_json::{Value, json};

/// The suite's config (a fixture, so `configs` and `schema` check it too): the stream
/// rules the handlers below serve, one of them denied.
const CONFIG: &str = include_str!("../fixtures/configs/valid/streams.json");

#[derive(serde::Deserialize)]
struct Meta {
    name: String,
}

/// The gate, a router whose stream handlers record every chunk they read, and what the
/// handlers saw.
struct App {
    gate: Gate,
    router: Router,
    /// Every chunk a handler read, as `stream-name:bytes`, in order.
    read: Arc<Mutex<Vec<String>>>,
    /// How many handlers started.
    runs: Arc<AtomicUsize>,
    /// Opens the slow reader: each message lets it read one chunk.
    reader_go: Mutex<Option<mpsc::Sender<()>>>,
    /// Makes `fail.on.signal` fail.
    fail_now: Mutex<Option<mpsc::Sender<()>>>,
    next_id: AtomicU64,
}

/// Reads every chunk of `upload` into `read` under `tag`; the total, or what broke it.
async fn read_all(
    mut upload: Upload,
    tag: &str,
    read: &Mutex<Vec<String>>,
) -> Result<u64, StreamError> {
    while let Some(chunk) = upload.next().await {
        let chunk = chunk?;
        read.lock()
            .unwrap()
            .push(format!("{tag}:{}", String::from_utf8_lossy(&chunk)));
    }
    Ok(upload.received())
}

fn app() -> App {
    let config = Config::from_json(CONFIG).unwrap();
    let gate = Gate::new(&config, &ScopeVars::new()).unwrap();
    let read: Arc<Mutex<Vec<String>>> = Arc::default();
    let runs: Arc<AtomicUsize> = Arc::default();
    let (go_tx, go) = mpsc::channel::<()>();
    let (fail_tx, fail_rx) = mpsc::channel::<()>();
    let fail_rx = Mutex::new(fail_rx);
    let go = Arc::new(Mutex::new(go));
    let (r1, r2, r3) = (read.clone(), read.clone(), read.clone());
    let (c1, c2, c3) = (runs.clone(), runs.clone(), runs.clone());
    let router = Router::new()
        .stream("upload", move |upload: Upload| {
            c1.fetch_add(1, Ordering::SeqCst);
            let read = r1.clone();
            async move { read_all(upload, "upload", &read).await }
        })
        .stream(
            "files.write",
            move |Args(meta): Args<Meta>, upload: Upload| {
                c2.fetch_add(1, Ordering::SeqCst);
                let read = r2.clone();
                async move { read_all(upload, &meta.name, &read).await }
            },
        )
        // A sync handler that reads one chunk per message on `go`.
        .stream("slow.reader", move |mut upload: Upload| {
            c3.fetch_add(1, Ordering::SeqCst);
            let mut n = 0u64;
            loop {
                if go.lock().unwrap().recv().is_err() {
                    return Ok::<_, StreamError>(n);
                }
                match upload.next_blocking() {
                    Some(chunk) => {
                        let chunk = chunk?;
                        r3.lock()
                            .unwrap()
                            .push(format!("slow:{}", String::from_utf8_lossy(&chunk)));
                        n += 1;
                    }
                    None => return Ok(n),
                }
            }
        });
    let router = router
        // Reads nothing and finishes at once.
        .stream("quick", |_: Upload| Ok::<_, StreamError>("done"))
        // Reads nothing; fails when told to.
        .stream("fail.on.signal", move |_: Upload| {
            let _ = fail_rx.lock().unwrap().recv();
            Err::<(), _>(portcullis::HandlerError::with_code(
                "NOPE",
                "the handler gave up",
            ))
        });
    router.check().unwrap();
    App {
        gate,
        router,
        read,
        runs,
        reader_go: Mutex::new(Some(go_tx)),
        fail_now: Mutex::new(Some(fail_tx)),
        next_id: AtomicU64::new(100),
    }
}

/// What a chunk's answer was: the reply text, or the refusal's code.
type Answered = Result<String, ErrorCode>;

fn text(result: Result<Payload, CallError>) -> Answered {
    match result {
        Ok(Payload::Json(text)) => Ok(text),
        Ok(Payload::Bytes(b)) => Ok(format!("bytes {b:?}")),
        Err(e) => Err(e.code),
    }
}

impl App {
    /// Opens stream `name` with `meta` from `label`; its handler runs on a thread of its
    /// own, and its result goes to the stream's end, as the embedder does. The stream id,
    /// or the open's refusal.
    fn open(&self, s: &mut Sealer, label: &str, name: &str, meta: Value) -> Result<u64, ErrorCode> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let admitted = admit_sealed(&self.gate, s, label, (Kind::Stream, id, name), &meta)?;
        match self.router.dispatch(admitted) {
            Dispatch::Stream(work, call) => {
                assert_eq!(
                    text(call.opened().result),
                    Ok(format!(r#"{{"stream":{id}}}"#))
                );
                let key: StreamKey = call.stream().unwrap().clone();
                let streams = self.router.streams().clone();
                thread::spawn(move || {
                    let result = work.run_here();
                    streams.finished(&key, call.finish(result).result);
                });
                Ok(id)
            }
            Dispatch::Ready(reply) => Err(reply.result.unwrap_err().code),
            Dispatch::Started(_, call) => panic!("a stream started as a command: {call:?}"),
        }
    }

    /// Seals chunk `number` of `stream` with `op`.
    fn seal(&self, s: &mut Sealer, stream: u64, number: u64, op: &ChunkOp) -> Vec<u8> {
        s.seal_chunk(ChunkAt { stream, number }, &chunk_plaintext(op))
            .unwrap()
    }

    /// Delivers sealed chunk bytes from `label` and waits (up to 2 s) for the answer.
    fn deliver(&self, sealed: Vec<u8>, label: &str) -> Answered {
        let waiting = self.deliver_later(sealed, label)?;
        waiting
            .recv_timeout(Duration::from_secs(2))
            .expect("a chunk is answered")
    }

    /// Delivers sealed chunk bytes; the answer arrives on the receiver.
    fn deliver_later(
        &self,
        sealed: Vec<u8>,
        label: &str,
    ) -> Result<mpsc::Receiver<Answered>, ErrorCode> {
        let inbound = self
            .gate
            .receive_owned(sealed, facts(label, &origin()))
            .map_err(|r| r.code)?;
        let Inbound::Chunk(chunk) = inbound else {
            panic!("a chunk was taken as something else: {inbound:?}");
        };
        let (tx, rx) = mpsc::channel();
        self.router.chunk(
            chunk,
            Box::new(move |result| {
                let _ = tx.send(text(result));
            }),
        );
        Ok(rx)
    }

    fn send(&self, s: &mut Sealer, label: &str, stream: u64, number: u64, op: ChunkOp) -> Answered {
        let sealed = self.seal(s, stream, number, &op);
        self.deliver(sealed, label)
    }

    fn data(&self, s: &mut Sealer, stream: u64, number: u64, data: &str) -> Answered {
        self.send(
            s,
            "main",
            stream,
            number,
            ChunkOp::Data(data.as_bytes().to_vec()),
        )
    }

    fn end(&self, s: &mut Sealer, stream: u64, number: u64) -> Answered {
        self.send(s, "main", stream, number, ChunkOp::End)
    }

    fn read(&self) -> Vec<String> {
        self.read.lock().unwrap().clone()
    }

    /// What the handlers read, once they read `n` chunks (or 2 s passed).
    fn read_when(&self, n: usize) -> Vec<String> {
        for _ in 0..200 {
            if self.read.lock().unwrap().len() >= n {
                break;
            }
            thread::sleep(Duration::from_millis(10));
        }
        self.read()
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }
}

fn strings(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_owned()).collect()
}

// ---- the legitimate path ----

#[test]
fn chunks_reach_the_handler_in_order_and_the_end_answers_with_its_result() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let id = app
        .open(&mut s, "main", "files.write", json!({"name": "notes.txt"}))
        .unwrap();
    for (n, part) in ["alpha", "beta", "gamma"].iter().enumerate() {
        assert_eq!(app.data(&mut s, id, n as u64, part), Ok("null".into()));
    }
    assert_eq!(app.end(&mut s, id, 3), Ok("14".into()));
    assert_eq!(
        app.read(),
        strings(&["notes.txt:alpha", "notes.txt:beta", "notes.txt:gamma"])
    );
    assert_eq!(app.router.streams().open_count(), 0);
}

#[test]
fn the_open_passes_the_allowlist_like_a_command() {
    let app = app();
    let mut s = page(&app.gate, "main");
    assert_eq!(
        app.open(&mut s, "main", "files.write", json!({"name": 3})),
        Err(ErrorCode::InvalidArgs)
    );
    assert_eq!(
        app.open(&mut s, "main", "stream.denied", json!({})),
        Err(ErrorCode::Denied)
    );
    assert_eq!(
        app.open(&mut s, "main", "never.listed", json!({})),
        Err(ErrorCode::NotAllowed)
    );
    // A command of the same name is not a stream: the kinds have their own lists.
    let id = app.next_id.fetch_add(1, Ordering::SeqCst);
    let sealed = s
        .seal(
            &Request::encode_json(Kind::Command, id, "upload", &json!({})),
            Encoding::Binary,
        )
        .unwrap();
    assert_eq!(
        app.gate
            .admit(&sealed, facts("main", &origin()))
            .map(|_| ())
            .map_err(|r| r.code),
        Err(ErrorCode::NotAllowed)
    );
    assert_eq!(app.runs(), 0);
    // The twin.
    assert!(
        app.open(&mut s, "main", "files.write", json!({"name": "a"}))
            .is_ok()
    );
}

// ---- the attack catalogue ----

#[test]
fn a_replayed_chunk_is_refused_and_read_once() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let id = app.open(&mut s, "main", "upload", json!({})).unwrap();
    let first = app.seal(&mut s, id, 0, &ChunkOp::Data(b"once".to_vec()));
    assert_eq!(app.deliver(first.clone(), "main"), Ok("null".into()));
    assert_eq!(app.deliver(first, "main"), Err(ErrorCode::Replay));
    // The stream goes on: the twin chunk 1 is taken.
    assert_eq!(app.data(&mut s, id, 1, "twice"), Ok("null".into()));
    assert_eq!(app.end(&mut s, id, 2), Ok("9".into()));
    assert_eq!(app.read(), strings(&["upload:once", "upload:twice"]));
}

#[test]
fn chunks_delivered_out_of_order_reach_the_handler_in_their_order() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let id = app.open(&mut s, "main", "upload", json!({})).unwrap();
    let zero = app.seal(&mut s, id, 0, &ChunkOp::Data(b"zero".to_vec()));
    let one = app.seal(&mut s, id, 1, &ChunkOp::Data(b"one".to_vec()));
    let end = app.seal(&mut s, id, 2, &ChunkOp::End);
    // The end and chunk 1 first: each waits for the ones before it.
    let end = app.deliver_later(end, "main").unwrap();
    let one = app.deliver_later(one, "main").unwrap();
    assert!(
        one.recv_timeout(Duration::from_millis(50)).is_err(),
        "chunk 1 waits for chunk 0"
    );
    assert_eq!(app.deliver(zero, "main"), Ok("null".into()));
    assert_eq!(
        one.recv_timeout(Duration::from_secs(2)).unwrap(),
        Ok("null".into())
    );
    assert_eq!(
        end.recv_timeout(Duration::from_secs(2)).unwrap(),
        Ok("7".into())
    );
    assert_eq!(app.read(), strings(&["upload:zero", "upload:one"]));
}

#[test]
fn a_chunk_beyond_the_window_or_a_number_taken_aborts_the_stream() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let id = app.open(&mut s, "main", "upload", json!({})).unwrap();
    let far = app.seal(&mut s, id, WINDOW, &ChunkOp::Data(b"far".to_vec()));
    assert_eq!(app.deliver(far, "main"), Err(ErrorCode::StreamOrder));
    assert_eq!(
        app.data(&mut s, id, 0, "zero"),
        Err(ErrorCode::StreamClosed)
    );
    // A number sealed twice (two seals, so no replay): the second is refused.
    let id = app.open(&mut s, "main", "upload", json!({})).unwrap();
    assert_eq!(app.data(&mut s, id, 0, "zero"), Ok("null".into()));
    assert_eq!(
        app.data(&mut s, id, 0, "again"),
        Err(ErrorCode::StreamOrder)
    );
    assert_eq!(app.data(&mut s, id, 1, "one"), Err(ErrorCode::StreamClosed));
    assert_eq!(app.read_when(1), strings(&["upload:zero"]));
    // The twin: in order, the last number of the window included.
    let id = app.open(&mut s, "main", "upload", json!({})).unwrap();
    for n in 0..=WINDOW {
        assert_eq!(app.data(&mut s, id, n, "x"), Ok("null".into()));
    }
    assert_eq!(
        app.end(&mut s, id, WINDOW + 1),
        Ok((WINDOW + 1).to_string())
    );
}

#[test]
fn a_chunk_moved_to_another_stream_or_number_fails_authentication() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let a = app.open(&mut s, "main", "upload", json!({})).unwrap();
    let b = app
        .open(&mut s, "main", "files.write", json!({"name": "b"}))
        .unwrap();
    let for_a = app.seal(&mut s, a, 0, &ChunkOp::Data(b"meant for a".to_vec()));
    // The stream id and chunk number travel in clear, inside the associated data.
    let mut spliced = for_a.clone();
    spliced[HEADER_LEN..HEADER_LEN + 8].copy_from_slice(&b.to_be_bytes());
    assert_eq!(app.deliver(spliced, "main"), Err(ErrorCode::Tampered));
    let mut renumbered = for_a.clone();
    renumbered[HEADER_LEN + 8..CHUNK_HEADER_LEN].copy_from_slice(&1u64.to_be_bytes());
    assert_eq!(app.deliver(renumbered, "main"), Err(ErrorCode::Tampered));
    // A chunk envelope passed off as a message (flags cleared) does not open either.
    let mut unflagged = for_a.clone();
    unflagged[3] = 0;
    assert_eq!(
        app.deliver(unflagged, "main").err(),
        Some(ErrorCode::Tampered)
    );
    // The twins: the chunk where it was sealed, and one sealed for b.
    assert_eq!(app.deliver(for_a, "main"), Ok("null".into()));
    assert_eq!(app.data(&mut s, b, 0, "meant for b"), Ok("null".into()));
    assert_eq!(app.end(&mut s, b, 1), Ok("11".into()));
    assert_eq!(app.end(&mut s, a, 1), Ok("11".into()));
    let mut read = app.read();
    read.sort();
    assert_eq!(read, strings(&["b:meant for b", "upload:meant for a"]));
}

#[test]
fn a_chunk_after_the_end_or_an_abort_is_refused() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let id = app.open(&mut s, "main", "upload", json!({})).unwrap();
    assert_eq!(app.data(&mut s, id, 0, "last"), Ok("null".into()));
    assert_eq!(app.end(&mut s, id, 1), Ok("4".into()));
    assert_eq!(
        app.data(&mut s, id, 2, "late"),
        Err(ErrorCode::StreamClosed)
    );
    assert_eq!(app.end(&mut s, id, 2), Err(ErrorCode::StreamClosed));
    // Aborted by the page: the handler sees the reason, and nothing is taken after.
    let aborted = app.open(&mut s, "main", "upload", json!({})).unwrap();
    assert_eq!(app.data(&mut s, aborted, 0, "part"), Ok("null".into()));
    assert_eq!(
        app.send(
            &mut s,
            "main",
            aborted,
            1,
            ChunkOp::Abort("user cancelled".into())
        ),
        Ok("null".into())
    );
    assert_eq!(
        app.data(&mut s, aborted, 2, "more"),
        Err(ErrorCode::StreamClosed)
    );
    // What was taken before the abort still reaches the handler, then the abort.
    assert_eq!(app.read_when(2), strings(&["upload:last", "upload:part"]));
}

#[test]
fn a_chunk_for_a_stream_whose_open_was_refused_names_no_stream() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let refused = app.next_id.load(Ordering::SeqCst);
    assert_eq!(
        app.open(&mut s, "main", "stream.denied", json!({})),
        Err(ErrorCode::Denied)
    );
    assert_eq!(
        app.data(&mut s, refused, 0, "smuggled"),
        Err(ErrorCode::NoSuchStream)
    );
    assert_eq!(app.end(&mut s, refused, 1), Err(ErrorCode::NoSuchStream));
    // A stream id never opened, and one another webview opened, name none either.
    assert_eq!(
        app.data(&mut s, 9_999, 0, "x"),
        Err(ErrorCode::NoSuchStream)
    );
    let mut other = page(&app.gate, "second");
    let theirs = app.open(&mut other, "second", "upload", json!({})).unwrap();
    assert_eq!(
        app.data(&mut s, theirs, 0, "x"),
        Err(ErrorCode::NoSuchStream)
    );
    // The twin: second's own chunk. No handler read anything else.
    assert_eq!(
        app.send(
            &mut other,
            "second",
            theirs,
            0,
            ChunkOp::Data(b"ok".to_vec())
        ),
        Ok("null".into())
    );
    assert_eq!(app.read_when(1), strings(&["upload:ok"]));
    assert_eq!(app.runs(), 1, "only second's stream handler started");
}

#[test]
fn a_stream_past_its_limit_is_refused_and_aborted() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let big = "x".repeat(600);
    let id = app.open(&mut s, "main", "upload", json!({})).unwrap();
    assert_eq!(app.data(&mut s, id, 0, &big), Ok("null".into()));
    assert_eq!(app.data(&mut s, id, 1, &big), Err(ErrorCode::TooLarge));
    assert_eq!(app.data(&mut s, id, 2, "y"), Err(ErrorCode::StreamClosed));
    // The handler read the first chunk only.
    assert_eq!(app.read_when(1).len(), 1);
    thread::sleep(Duration::from_millis(50));
    assert_eq!(app.read().len(), 1);
    // The twin: exactly at the limit (1,000 bytes).
    let id = app.open(&mut s, "main", "upload", json!({})).unwrap();
    assert_eq!(app.data(&mut s, id, 0, &big), Ok("null".into()));
    assert_eq!(app.data(&mut s, id, 1, &"z".repeat(400)), Ok("null".into()));
    assert_eq!(app.end(&mut s, id, 2), Ok("1000".into()));
}

#[test]
fn a_reload_mid_stream_breaks_it_and_the_old_page_load_cannot_go_on() {
    let app = app();
    let mut old = page(&app.gate, "main");
    let id = app.open(&mut old, "main", "upload", json!({})).unwrap();
    assert_eq!(app.data(&mut old, id, 0, "before"), Ok("null".into()));
    // A new page load; the embedder's page-load event cancels the page's calls.
    let mut s = page(&app.gate, "main");
    app.router.cancel_webview("main");
    assert_eq!(
        app.data(&mut old, id, 1, "after"),
        Err(ErrorCode::SessionRevoked)
    );
    // The new page load sealing a chunk for the old stream id: not a stream of its own.
    assert_eq!(
        app.data(&mut s, id, 1, "after"),
        Err(ErrorCode::NoSuchStream)
    );
    // The handler may have read the chunk taken before the reload, never one after.
    let read = app.read();
    assert!(
        read.is_empty() || read == strings(&["upload:before"]),
        "{read:?}"
    );
    // The twin: the new page load streams.
    let id = app.open(&mut s, "main", "upload", json!({})).unwrap();
    assert_eq!(app.data(&mut s, id, 0, "fresh"), Ok("null".into()));
    assert_eq!(app.end(&mut s, id, 1), Ok("5".into()));
}

// ---- backpressure, and the handler's side ----

#[test]
fn a_chunk_beyond_the_queue_is_answered_once_the_handler_takes_one() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let id = app.open(&mut s, "main", "slow.reader", json!({})).unwrap();
    let queued = QUEUE_CHUNKS as u64;
    for n in 0..queued {
        assert_eq!(app.data(&mut s, id, n, &n.to_string()), Ok("null".into()));
    }
    let sealed = app.seal(&mut s, id, queued, &ChunkOp::Data(b"over".to_vec()));
    let waiting = app.deliver_later(sealed, "main").unwrap();
    assert!(
        waiting.recv_timeout(Duration::from_millis(100)).is_err(),
        "held while the handler is behind"
    );
    let go = app.reader_go.lock().unwrap().clone().unwrap();
    go.send(()).unwrap();
    assert_eq!(
        waiting.recv_timeout(Duration::from_secs(2)).unwrap(),
        Ok("null".into())
    );
    for _ in 0..QUEUE_CHUNKS + 1 {
        go.send(()).unwrap();
    }
    let end = app.seal(&mut s, id, queued + 1, &ChunkOp::End);
    assert_eq!(app.deliver(end, "main"), Ok((queued + 1).to_string()));
}

#[test]
fn a_handler_that_ends_early_answers_the_end_with_its_result() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let id = app.open(&mut s, "main", "slow.reader", json!({})).unwrap();
    // The reader stops at once (its channel of permits closes), having read nothing.
    app.reader_go.lock().unwrap().take();
    thread::sleep(Duration::from_millis(200));
    assert_eq!(app.end(&mut s, id, 0), Ok("0".into()));
    assert_eq!(app.router.streams().open_count(), 0);
}

#[test]
fn a_chunk_after_the_handler_finished_is_taken_and_the_end_still_gets_its_result() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let id = app.open(&mut s, "main", "quick", json!({})).unwrap();
    wait_until(|| app.router.streams().open_count() == 0);
    // The page did not know yet: its data is taken (and dropped), its end gets the result.
    assert_eq!(app.data(&mut s, id, 0, "ignored"), Ok("null".into()));
    assert_eq!(app.data(&mut s, id, 1, "ignored"), Ok("null".into()));
    assert_eq!(app.end(&mut s, id, 2), Ok(r#""done""#.into()));
    // Once answered, the result is gone: the stream has ended.
    assert_eq!(app.end(&mut s, id, 3), Err(ErrorCode::StreamClosed));
    assert_eq!(
        app.router.streams().results_waiting(),
        0,
        "nothing left behind"
    );
}

#[test]
fn a_finished_stream_frees_its_slot_at_once_and_keeps_its_result_for_the_end() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let ids: Vec<u64> = (0..MAX_STREAMS)
        .map(|_| app.open(&mut s, "main", "quick", json!({})).unwrap())
        .collect();
    wait_until(|| app.router.streams().open_count() == 0);
    // Every handler finished: none of them holds a slot, so the page may open more.
    let more = app.open(&mut s, "main", "upload", json!({})).unwrap();
    assert_eq!(app.data(&mut s, more, 0, "x"), Ok("null".into()));
    assert_eq!(app.end(&mut s, more, 1), Ok("1".into()));
    // And each early result still answers its stream's end.
    for id in ids {
        assert_eq!(app.end(&mut s, id, 0), Ok(r#""done""#.into()));
    }
}

#[test]
fn a_page_cannot_make_the_core_hold_more_than_its_stream_budget() {
    let app = app();
    let mut s = page(&app.gate, "main");
    // Handlers that read nothing, and chunks of the largest size a message may have.
    let size = 8 << 20;
    let fits = DEFAULT_PAGE_BUDGET / size;
    let streams = fits.div_ceil(QUEUE_CHUNKS + WINDOW as usize) + 1;
    let ids: Vec<u64> = (0..streams)
        .map(|_| {
            app.open(&mut s, "main", "fail.on.signal", json!({}))
                .unwrap()
        })
        .collect();
    let mut sent = 0;
    let mut answers = Vec::new();
    let mut refused = None;
    'fill: for &id in &ids {
        for n in 0..(QUEUE_CHUNKS + WINDOW as usize) as u64 {
            let sealed = app.seal(&mut s, id, n, &ChunkOp::Data(vec![7; size - 128]));
            let answer = app.deliver_later(sealed, "main").unwrap();
            if sent == fits {
                refused = Some(answer.recv_timeout(Duration::from_secs(2)).unwrap());
                break 'fill;
            }
            answers.push(answer);
            sent += 1;
        }
    }
    assert_eq!(
        refused,
        Some(Err(ErrorCode::TooLarge)),
        "the chunk past the budget"
    );
    assert!(app.router.streams().held_bytes("main") <= DEFAULT_PAGE_BUDGET);
    // The twin: another webview's page has a budget of its own.
    let mut second = page(&app.gate, "second");
    let theirs = app
        .open(&mut second, "second", "upload", json!({}))
        .unwrap();
    assert_eq!(
        app.send(
            &mut second,
            "second",
            theirs,
            0,
            ChunkOp::Data(vec![1; 100])
        ),
        Ok("null".into())
    );
    // The handlers give up: what they held is let go.
    for _ in &ids {
        let _ = app.fail_now.lock().unwrap().as_ref().unwrap().send(());
    }
    drop(answers);
    wait_until(|| app.router.streams().held_bytes("main") == 0);
}

#[test]
fn a_chunk_past_the_budget_is_refused_before_it_is_kept_and_aborts_its_stream() {
    let app = app();
    app.router.streams().set_page_budget(64);
    let mut s = page(&app.gate, "main");
    let never = app
        .open(&mut s, "main", "fail.on.signal", json!({}))
        .unwrap();
    assert_eq!(
        app.data(&mut s, never, 0, &"a".repeat(30)),
        Ok("null".into())
    );
    assert_eq!(
        app.data(&mut s, never, 1, &"b".repeat(30)),
        Ok("null".into())
    );
    assert_eq!(app.router.streams().held_bytes("main"), 60);
    let upload = app.open(&mut s, "main", "upload", json!({})).unwrap();
    // Chunk 1 arrives first and waits for chunk 0, which would pass the budget.
    let ahead = app.seal(&mut s, upload, 1, &ChunkOp::Data(b"zz".to_vec()));
    let ahead = app.deliver_later(ahead, "main").unwrap();
    assert_eq!(
        app.data(&mut s, upload, 0, &"c".repeat(10)),
        Err(ErrorCode::TooLarge)
    );
    // The stream is aborted: the chunk that waited is answered, nothing hangs, and the
    // page's next chunk is told the stream is closed.
    assert_eq!(
        ahead.recv_timeout(Duration::from_secs(2)).unwrap(),
        Err(ErrorCode::StreamClosed)
    );
    assert_eq!(
        app.data(&mut s, upload, 2, "d"),
        Err(ErrorCode::StreamClosed)
    );
    assert!(app.read().is_empty(), "a refused chunk reached a handler");
    assert_eq!(app.router.streams().held_bytes("main"), 60);
    // The twin: once the other handler let its chunks go, a new stream takes the bytes.
    app.fail_now
        .lock()
        .unwrap()
        .take()
        .unwrap()
        .send(())
        .unwrap();
    wait_until(|| app.router.streams().held_bytes("main") == 0);
    let again = app.open(&mut s, "main", "upload", json!({})).unwrap();
    assert_eq!(
        app.data(&mut s, again, 0, &"c".repeat(10)),
        Ok("null".into())
    );
    assert_eq!(app.end(&mut s, again, 1), Ok("10".into()));
    assert_eq!(app.read(), strings(&["upload:cccccccccc"]));
}

#[test]
fn an_aborted_stream_counts_as_open_until_its_handler_finishes() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let ids: Vec<u64> = (0..MAX_STREAMS)
        .map(|_| {
            app.open(&mut s, "main", "fail.on.signal", json!({}))
                .unwrap()
        })
        .collect();
    for &id in &ids {
        assert_eq!(
            app.send(&mut s, "main", id, 0, ChunkOp::Abort("stop".into())),
            Ok("null".into())
        );
    }
    // Their handlers still run: the page cannot start more by aborting.
    assert_eq!(
        app.open(&mut s, "main", "upload", json!({})),
        Err(ErrorCode::TooLarge)
    );
    // The twin: once one handler finished, its place is free.
    app.fail_now
        .lock()
        .unwrap()
        .take()
        .unwrap()
        .send(())
        .unwrap();
    wait_until(|| app.router.streams().open_count() < MAX_STREAMS);
    assert!(app.open(&mut s, "main", "upload", json!({})).is_ok());
}

/// Waits (up to 2 s) until `done` holds.
fn wait_until(done: impl Fn() -> bool) {
    for _ in 0..200 {
        if done() {
            return;
        }
        thread::sleep(Duration::from_millis(10));
    }
    assert!(done(), "did not happen within 2 s");
}

#[test]
fn a_sender_that_does_not_wait_is_refused_without_changing_the_stream() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let id = app.open(&mut s, "main", "slow.reader", json!({})).unwrap();
    let most = QUEUE_CHUNKS as u64 + WINDOW;
    let mut waiting = Vec::new();
    for n in 0..most {
        let sealed = app.seal(&mut s, id, n, &ChunkOp::Data(n.to_string().into_bytes()));
        waiting.push(app.deliver_later(sealed, "main").unwrap());
    }
    // One more while all those wait: refused, and its number is still free.
    assert_eq!(
        app.data(&mut s, id, most, "eager"),
        Err(ErrorCode::BadRequest)
    );
    let go = app.reader_go.lock().unwrap().clone().unwrap();
    for _ in 0..most + 2 {
        go.send(()).unwrap();
    }
    for answer in waiting {
        assert_eq!(
            answer.recv_timeout(Duration::from_secs(2)).unwrap(),
            Ok("null".into())
        );
    }
    assert_eq!(app.data(&mut s, id, most, "next"), Ok("null".into()));
    assert_eq!(app.end(&mut s, id, most + 1), Ok((most + 1).to_string()));
    assert_eq!(
        app.read_when(most as usize + 1).last().map(String::as_str),
        Some("slow:next")
    );
}

#[test]
fn a_cancelled_stream_ends_its_handlers_reading() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let id = app.open(&mut s, "main", "upload", json!({})).unwrap();
    assert_eq!(app.data(&mut s, id, 0, "part"), Ok("null".into()));
    // The page cancels the open's call (kind 4): the handler's next read is Cancelled.
    let cancel = s
        .seal(&portcullis::request::encode_cancel(id), Encoding::Binary)
        .unwrap();
    let Inbound::Cancel(c) = app
        .gate
        .receive_owned(cancel, facts("main", &origin()))
        .unwrap()
    else {
        panic!("not a cancel");
    };
    app.router.cancel(&c).unwrap();
    // The end gets the handler's error.
    let end = app.seal(&mut s, id, 1, &ChunkOp::End);
    assert_eq!(app.deliver(end, "main"), Err(ErrorCode::Handler));
    assert_eq!(app.router.streams().open_count(), 0);
}

#[test]
fn a_stream_handler_must_take_one_upload_and_a_command_none() {
    let errors = Router::new()
        .stream("no.upload", || "x")
        .command("with.upload", |_: Upload| "x")
        .check()
        .unwrap_err()
        .to_string();
    assert!(
        errors.contains("stream \"no.upload\": its handler must take exactly one Upload"),
        "{errors}"
    );
    assert!(
        errors.contains("command \"with.upload\": its handler takes an Upload"),
        "{errors}"
    );
    assert!(Router::new().stream("ok", |_: Upload| "x").check().is_ok());
}

#[test]
fn max_bytes_belongs_to_streams_only() {
    let config = |section: &str, rule: &str| {
        format!(
            r#"{{"app": {{"security": {{"pattern": {{"use": "brownfield"}}, "capabilities": [{{
            "identifier": "c", "windows": ["main"], "origins": ["app://localhost"],
            "{section}": {{"allow": [{rule}]}}}}]}}}}}}"#
        )
    };
    let err =
        Config::from_json(&config("commands", r#"{"name": "a", "maxBytes": 5}"#)).unwrap_err();
    assert!(
        err.to_string().contains("commands.allow[0].maxBytes"),
        "{err}"
    );
    let err = Config::from_json(&config("streams", r#"{"name": "a", "maxBytes": 0}"#)).unwrap_err();
    assert!(
        err.to_string().contains("streams.allow[0].maxBytes"),
        "{err}"
    );
    let err = Config::from_json(&config("streams", r#"{"name": "a", "maxbytes": 5}"#)).unwrap_err();
    assert!(
        err.to_string().contains("maxbytes"),
        "a typo is refused: {err}"
    );
    assert!(Config::from_json(&config("streams", r#"{"name": "a", "maxBytes": 5}"#)).is_ok());
}

#[test]
fn brownfield_streams_take_clear_chunks_with_the_same_checks() {
    let config = Config::from_json(&CONFIG.replace(
        r#"{"use": "isolation", "options": {"dir": "isolation-app"}}"#,
        r#"{"use": "brownfield"}"#,
    ))
    .unwrap();
    let gate = Gate::new(&config, &ScopeVars::new()).unwrap();
    let mut app = app();
    app.gate = gate;
    let open = Request::encode_json(Kind::Stream, 7, "files.write", &json!({"name": "clear"}));
    let admitted = app.gate.admit(&open, facts("main", &origin())).unwrap();
    let Dispatch::Stream(work, call) = app.router.dispatch(admitted) else {
        panic!("not a stream");
    };
    let key = call.stream().unwrap().clone();
    let streams = app.router.streams().clone();
    thread::spawn(move || streams.finished(&key, call.finish(work.run_here()).result));
    let clear = |n: u64, op: ChunkOp| {
        encode_clear_chunk(
            ChunkAt {
                stream: 7,
                number: n,
            },
            &op,
        )
    };
    assert_eq!(
        app.deliver(clear(0, ChunkOp::Data(b"one".to_vec())), "main"),
        Ok("null".into())
    );
    assert_eq!(
        app.deliver(clear(9, ChunkOp::Data(b"far".to_vec())), "main"),
        Err(ErrorCode::StreamOrder)
    );
    assert_eq!(
        app.deliver(clear(8, ChunkOp::Data(b"x".to_vec())), "main")
            .err(),
        Some(ErrorCode::StreamClosed)
    );
    assert_eq!(app.read_when(1), strings(&["clear:one"]));
    // A clear chunk is refused where messages must be sealed.
    let sealed_app = self::app();
    let _s = page(&sealed_app.gate, "main");
    let refused = sealed_app
        .gate
        .receive_owned(clear(0, ChunkOp::End), facts("main", &origin()));
    assert_eq!(
        refused.map(|_| ()).map_err(|r| r.code),
        Err(ErrorCode::Unsealed)
    );
}

/// Sends chunks 0..n of `id` without waiting; their answers.
fn flood(app: &App, s: &mut Sealer, id: u64, n: u64) -> Vec<mpsc::Receiver<Answered>> {
    (0..n)
        .map(|k| {
            let sealed = app.seal(s, id, k, &ChunkOp::Data(k.to_string().into_bytes()));
            app.deliver_later(sealed, "main").unwrap()
        })
        .collect()
}

#[test]
fn a_handler_that_fails_with_chunks_waiting_tells_them_its_error() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let id = app
        .open(&mut s, "main", "fail.on.signal", json!({}))
        .unwrap();
    let answers = flood(&app, &mut s, id, QUEUE_CHUNKS as u64 + 2);
    app.fail_now
        .lock()
        .unwrap()
        .take()
        .unwrap()
        .send(())
        .unwrap();
    let codes: Vec<_> = answers
        .into_iter()
        .map(|a| a.recv_timeout(Duration::from_secs(2)).unwrap())
        .collect();
    // The first ones were taken before the failure; the held ones carry its error.
    assert_eq!(
        codes[..QUEUE_CHUNKS],
        vec![Ok("null".to_owned()); QUEUE_CHUNKS][..]
    );
    assert_eq!(
        codes[QUEUE_CHUNKS..],
        [Err(ErrorCode::Handler), Err(ErrorCode::Handler)]
    );
    assert_eq!(
        app.router.streams().open_count(),
        0,
        "the stream went with its error"
    );
}

#[test]
fn a_handler_that_ends_early_with_chunks_waiting_answers_them_and_then_the_end() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let id = app.open(&mut s, "main", "slow.reader", json!({})).unwrap();
    let n = QUEUE_CHUNKS as u64 + 2;
    let answers = flood(&app, &mut s, id, n);
    // The reader stops without reading (its permits close): the held chunks are answered
    // and the page's end gets the handler's result.
    app.reader_go.lock().unwrap().take();
    for answer in answers {
        assert_eq!(
            answer.recv_timeout(Duration::from_secs(2)).unwrap(),
            Ok("null".into())
        );
    }
    assert_eq!(app.end(&mut s, id, n), Ok("0".into()));
    assert_eq!(app.router.streams().open_count(), 0);
}
