//! The core's side of the model: the real `portcullis-core` (gate, session table, replay
//! window, policy with its run-time grants, router with its in-flight and cancel tables,
//! streams), driven through its public API exactly as an embedder drives it.
//!
//! Real core objects are neither `Clone` nor `Hash`, so they cannot live in a checker's
//! state. The state keeps the trace of actions instead, and [`Core::replay`] builds a
//! fresh core and plays the trace into it. The core has no clock (deadlines are the
//! embedder's) and its outcomes do not depend on key values, so a replay answers every
//! step exactly as the first run did; keys are drawn afresh from the OS each time.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock, Mutex};
use std::task::{Context, Poll, Waker};

use portcullis_core::aead::default_backend;
use portcullis_core::envelope::{ChunkAt, Encoding, HEADER_LEN, SessionId};
use portcullis_core::request::{Kind, Request, encode_cancel};
use portcullis_core::router::{CallError, Dispatch, InFlight, Payload, Work};
use portcullis_core::stream::StreamKey;
use portcullis_core::wire::chunk::{ChunkOp, chunk_plaintext};
use portcullis_core::{
    Admitted, Attested, Caller, Config, ErrorCode, Gate, Inbound, Origin, Router, ScopeVars,
    Sealer, Upload,
};

use crate::world::{
    Action, Call, Command, Fate, Held, LABELS, Load, Msg, Phase, Read, What, World,
};

/// The model's config: two webviews, a static capability (`notes.list`, the `upload`
/// stream) and a run-time one (`notes.export`); `model.json` links to the fixture, so
/// that `configs` and `schema` check it with the others.
const CONFIG: &str = include_str!("../model.json");

/// The page's origin in every page load of the model.
const ORIGIN: &str = "app://localhost";

/// The chunk bytes a webview's streams may make the core hold in the model: one, so that
/// a second one-byte chunk arriving before the handler took the first reaches it.
pub const STREAM_BUDGET: usize = 1;

/// The model's config, parsed once for every replay.
static PARSED: LazyLock<Config> =
    LazyLock::new(|| Config::from_json(CONFIG).unwrap_or_else(|e| panic!("model config: {e}")));

/// The call table's view of a dispatched call.
enum Running {
    /// A command's work, waiting for [`Action::Finish`].
    Command(Work, InFlight),
    /// A stream's handler, polled by [`Action::Read`], and its key.
    Stream(
        Pin<Box<dyn Future<Output = Result<Payload, CallError>> + Send>>,
        InFlight,
        StreamKey,
    ),
}

/// A real core, and the live objects the embedder and the frames hold.
pub struct Core {
    gate: Gate,
    router: Router,
    origin: Origin,
    /// The isolation frame of each webview's current page load.
    frames: [Sealer; 2],
    /// The bytes of every sealed message, by its index in [`World::msgs`].
    bytes: Vec<Vec<u8>>,
    admitted: Vec<Option<Admitted>>,
    running: Vec<Option<Running>>,
    /// Runs of the `notes.export` handler.
    export_runs: Arc<AtomicUsize>,
    /// What the stream handlers read so far, by their caller's webview and page load
    /// (the model opens one stream per page load).
    read: Reads,
    /// The session of every page load begun.
    sessions: Vec<(Load, SessionId)>,
    /// Chunk answers given, shared with the answer callbacks.
    answers: ChunkAnswers,
}

/// What the stream handlers read, by webview label and session.
type Reads = Arc<Mutex<Vec<(Arc<str>, Option<SessionId>, Vec<u8>)>>>;

/// The chunk answers given: the chunk's message and its result.
type ChunkAnswers = Arc<Mutex<Vec<(u8, Result<(), ErrorCode>)>>>;

fn code(result: &Result<Payload, CallError>) -> Result<(), ErrorCode> {
    result.as_ref().map(|_| ()).map_err(|e| e.code)
}

impl Core {
    /// A fresh core with one page load in each webview and the grant held, and the world
    /// that says so.
    pub fn new() -> (Core, World) {
        let gate = Gate::new(&PARSED, &ScopeVars::new()).unwrap_or_else(|e| panic!("{e}"));
        let export_runs = Arc::new(AtomicUsize::new(0));
        let read: Reads = Arc::default();
        let runs = Arc::clone(&export_runs);
        let into = Arc::clone(&read);
        let router = Router::new()
            .command("notes.list", || vec!["first"])
            .command("notes.export", move || {
                runs.fetch_add(1, Ordering::SeqCst);
                "exported"
            })
            .stream("upload", move |caller: Caller, mut upload: Upload| {
                let into = Arc::clone(&into);
                async move {
                    while let Some(chunk) = upload.next().await {
                        let chunk = chunk?;
                        let mut read = into.lock().unwrap_or_else(|p| p.into_inner());
                        let at = read
                            .iter()
                            .position(|r| r.0 == caller.webview && r.1 == caller.session);
                        match at {
                            Some(at) => read[at].2.extend(chunk),
                            None => read.push((Arc::clone(&caller.webview), caller.session, chunk)),
                        }
                    }
                    Ok::<_, portcullis_core::StreamError>(upload.received())
                }
            })
            .grants(gate.grants().clone());
        router.check().unwrap_or_else(|e| panic!("{e:?}"));
        router.streams().set_page_budget(STREAM_BUDGET);
        gate.grants()
            .grant(LABELS[0], "export")
            .unwrap_or_else(|e| panic!("{e}"));
        let origin = Origin::parse(ORIGIN).unwrap_or_else(|e| panic!("{e}"));
        let key = |w: usize| {
            gate.begin_page_load(LABELS[w], origin.clone())
                .unwrap_or_else(|e| panic!("{e}"))
        };
        let (a, b) = (key(0), key(1));
        let first = |webview| Load { webview, n: 0 };
        let sessions = vec![(first(0), a.session()), (first(1), b.session())];
        let frames = [a.into_sealer(), b.into_sealer()];
        let core = Core {
            gate,
            router,
            origin,
            frames,
            bytes: Vec::new(),
            admitted: Vec::new(),
            running: Vec::new(),
            export_runs,
            read,
            sessions,
            answers: Arc::default(),
        };
        let mut world = World {
            loads: [1, 1],
            granted: true,
            ..World::default()
        };
        world.held = core.held();
        (core, world)
    }

    /// A fresh core with `trace` played into it, and the world it made.
    pub fn replay(scripts: &dyn Fn(Load) -> &'static [What], trace: &[Action]) -> (Core, World) {
        let (mut core, mut world) = Core::new();
        for action in trace {
            core.step(&mut world, scripts, *action);
        }
        (core, world)
    }

    fn facts(&self, w: u8) -> Attested<'_> {
        Attested {
            webview: LABELS[usize::from(w)],
            origin: &self.origin,
        }
    }

    fn held(&self) -> Held {
        let small = |n: usize| u8::try_from(n).unwrap_or(u8::MAX);
        let bytes = |w: usize| u16::try_from(self.router.streams().held_bytes(LABELS[w]));
        Held {
            sessions: small(self.gate.sessions().live_count()),
            in_flight: small(self.router.in_flight()),
            stream_bytes: [bytes(0).unwrap_or(u16::MAX), bytes(1).unwrap_or(u16::MAX)],
            streams: small(self.router.streams().open_count()),
        }
    }

    /// Plays one action into the core and records its answers in `world`.
    pub fn step(
        &mut self,
        world: &mut World,
        scripts: &dyn Fn(Load) -> &'static [What],
        action: Action,
    ) {
        match action {
            Action::Seal(w) => self.seal(world, scripts, w),
            Action::Deliver { msg, to } => self.deliver(world, msg, to),
            Action::Splice { head, body } => {
                world.spent += 1;
                let (h, b) = (
                    &self.bytes[usize::from(head)],
                    &self.bytes[usize::from(body)],
                );
                let mut spliced = h[..HEADER_LEN.min(h.len())].to_vec();
                spliced.extend_from_slice(b.get(HEADER_LEN..).unwrap_or_default());
                let to = world.msgs[usize::from(head)].load.webview;
                let fate = self.inject(world, spliced, to);
                world.injected.push(fate);
            }
            Action::Forge(w) => {
                world.spent += 1;
                let fate = self.forge(world, w);
                world.injected.push(fate);
            }
            Action::Reload(w) => {
                let label = LABELS[usize::from(w)];
                // What the wry integration does on a new page load (navigation.rs, page.rs).
                self.router.cancel_webview(label);
                let key = self.gate.begin_page_load(label, self.origin.clone());
                let key = key.unwrap_or_else(|e| panic!("{e}"));
                world.loads[usize::from(w)] += 1;
                self.sessions.push((world.current(w), key.session()));
                self.frames[usize::from(w)] = key.into_sealer();
                world.sealed[usize::from(w)] = 0;
            }
            Action::Revoke => {
                let _ = self.gate.grants().revoke(LABELS[0], "export");
                world.granted = false;
                world.grant_changes += 1;
            }
            Action::Grant => {
                let _ = self.gate.grants().grant(LABELS[0], "export");
                world.granted = true;
                world.grant_changes += 1;
            }
            Action::Dispatch(n) => self.dispatch(world, n),
            Action::Finish(n) => self.finish(world, n),
            Action::Read(n) => self.read(world, n),
        }
        world.chunk_answers = self
            .answers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let read = self.read.lock().unwrap_or_else(|p| p.into_inner());
        for upload in &mut world.uploads {
            let load = world.msgs[usize::from(world.calls[usize::from(upload.call)].msg)].load;
            let session = self.sessions.iter().find(|s| s.0 == load).map(|s| s.1);
            let label = LABELS[usize::from(load.webview)];
            if let Some(r) = read.iter().find(|r| &*r.0 == label && r.1 == session) {
                upload.bytes.clone_from(&r.2);
            }
        }
        drop(read);
        world.held = self.held();
    }

    fn seal(&mut self, world: &mut World, scripts: &dyn Fn(Load) -> &'static [What], w: u8) {
        let load = world.current(w);
        let what = scripts(load)[usize::from(world.sealed[usize::from(w)])];
        let frame = &mut self.frames[usize::from(w)];
        let sealed = match what {
            What::Call { id, command } => frame.seal(
                &Request::encode_json(
                    Kind::Command,
                    id.into(),
                    command.name(),
                    &serde_json::json!({}),
                ),
                Encoding::Binary,
            ),
            What::Cancel { id } => frame.seal(&encode_cancel(id.into()), Encoding::Binary),
            What::Open { id } => frame.seal(
                &Request::encode_json(Kind::Stream, id.into(), "upload", &serde_json::json!({})),
                Encoding::Binary,
            ),
            What::Data {
                stream,
                number,
                byte,
            } => frame.seal_chunk(
                ChunkAt {
                    stream: stream.into(),
                    number: number.into(),
                },
                &chunk_plaintext(&ChunkOp::Data(vec![byte])),
            ),
            What::End { stream, number } => frame.seal_chunk(
                ChunkAt {
                    stream: stream.into(),
                    number: number.into(),
                },
                &chunk_plaintext(&ChunkOp::End),
            ),
        };
        self.bytes
            .push(sealed.unwrap_or_else(|e| panic!("sealing: {e:?}")));
        world.msgs.push(Msg {
            load,
            what,
            fates: Vec::new(),
        });
        world.sealed[usize::from(w)] += 1;
    }

    fn deliver(&mut self, world: &mut World, msg: u8, to: u8) {
        let m = &world.msgs[usize::from(msg)];
        if to != m.load.webview || m.delivered_home() {
            world.spent += 1;
        }
        let (load, what) = (m.load, m.what);
        let live = world.is_live(load);
        let before = self.cancelled();
        let received = self
            .gate
            .receive_owned(self.bytes[usize::from(msg)].clone(), self.facts(to));
        let result = match received {
            Ok(inbound) => {
                self.take(world, msg, inbound);
                Ok(())
            }
            Err(rejection) => Err(rejection.code),
        };
        // A cancel may stop only its own page load's call of the id it names.
        let after = self.cancelled();
        for (n, (was, is)) in before.iter().zip(&after).enumerate() {
            let call = &world.msgs[usize::from(world.calls[n].msg)];
            let own = matches!((call.what, what), (What::Call { id, .. } | What::Open { id }, What::Cancel { id: c }) if id == c)
                && call.load == load;
            if !was && *is && !own {
                world.foreign_cancels += 1;
            }
        }
        let granted = world.granted;
        world.msgs[usize::from(msg)].fates.push(Fate {
            to,
            live,
            granted,
            result,
        });
    }

    /// Hands what the gate let past to the router, as the transport does.
    fn take(&mut self, world: &mut World, msg: u8, inbound: Inbound) {
        match inbound {
            Inbound::Call(admitted) => {
                world.calls.push(Call {
                    msg,
                    phase: Phase::Admitted,
                });
                self.admitted.push(Some(admitted));
                self.running.push(None);
            }
            Inbound::Cancel(cancel) => {
                let _ = self.router.cancel(&cancel);
            }
            Inbound::Chunk(chunk) => {
                let answers = Arc::clone(&self.answers);
                self.router.chunk(
                    chunk,
                    Box::new(move |result| {
                        answers
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .push((msg, code(&result)));
                    }),
                );
            }
        }
    }

    /// Whether each admitted call's token is cancelled (false for calls not running).
    fn cancelled(&self) -> Vec<bool> {
        self.running
            .iter()
            .map(|r| match r {
                Some(Running::Command(_, call) | Running::Stream(_, call, _)) => {
                    call.token().is_cancelled()
                }
                None => false,
            })
            .collect()
    }

    /// Delivers bytes the attacker made; they must never be admitted.
    fn inject(&mut self, world: &World, bytes: Vec<u8>, to: u8) -> Fate {
        let result = match self.gate.receive_owned(bytes, self.facts(to)) {
            Ok(_) => Ok(()),
            Err(r) => Err(r.code),
        };
        Fate {
            to,
            live: true,
            granted: world.granted,
            result,
        }
    }

    /// A call sealed under a made-up key for webview `w`'s live session, at the sequence
    /// number its frame would use next.
    fn forge(&mut self, world: &World, w: u8) -> Fate {
        let label = LABELS[usize::from(w)];
        let session = self.gate.sessions().current(label);
        let forged = session.and_then(|id| {
            let key = default_backend().sealing_key(&[0x5a; 32]);
            let next = self.frames[usize::from(w)].next_seq();
            let mut sealer = Sealer::new(key, id, label)?.starting_at(next);
            let call = Request::encode_json(
                Kind::Command,
                1,
                Command::Export.name(),
                &serde_json::json!({}),
            );
            sealer.seal(&call, Encoding::Binary).ok()
        });
        match forged {
            Some(bytes) => self.inject(world, bytes, w),
            None => Fate {
                to: w,
                live: false,
                granted: world.granted,
                result: Err(ErrorCode::UnknownSession),
            },
        }
    }

    fn dispatch(&mut self, world: &mut World, n: u8) {
        let Some(admitted) = self.admitted[usize::from(n)].take() else {
            return;
        };
        let call = &mut world.calls[usize::from(n)];
        match self.router.dispatch(admitted) {
            Dispatch::Ready(response) => call.phase = Phase::Answered(code(&response.result)),
            Dispatch::Started(work, inflight) => {
                call.phase = Phase::Running;
                self.running[usize::from(n)] = Some(Running::Command(work, inflight));
            }
            Dispatch::Stream(work, inflight) => {
                call.phase = Phase::Running;
                let future = match work {
                    Work::Async(future) => future,
                    Work::Blocking(f) => Box::pin(async move { f() }),
                };
                let key = inflight
                    .stream()
                    .cloned()
                    .unwrap_or_else(|| unreachable!("a stream's call has its key"));
                self.running[usize::from(n)] = Some(Running::Stream(future, inflight, key));
                world.uploads.push(Read {
                    call: n,
                    bytes: Vec::new(),
                    end: None,
                });
            }
        }
    }

    fn finish(&mut self, world: &mut World, n: u8) {
        let Some(Running::Command(work, inflight)) = self.running[usize::from(n)].take() else {
            return;
        };
        let runs = self.export_runs.load(Ordering::SeqCst);
        let result = work.run_here();
        if self.export_runs.load(Ordering::SeqCst) > runs && !world.granted {
            world.late_starts += 1;
        }
        let response = inflight.finish(result);
        world.calls[usize::from(n)].phase = Phase::Answered(code(&response.result));
    }

    fn read(&mut self, world: &mut World, n: u8) {
        let Some(Running::Stream(future, _, _)) = self.running[usize::from(n)].as_mut() else {
            return;
        };
        let mut cx = Context::from_waker(Waker::noop());
        let Poll::Ready(result) = future.as_mut().poll(&mut cx) else {
            return;
        };
        let Some(Running::Stream(_, inflight, key)) = self.running[usize::from(n)].take() else {
            return;
        };
        let ended = result.as_ref().map(|_| ()).map_err(|_| ());
        let response = inflight.finish(result);
        let answered = code(&response.result);
        self.router.streams().finished(&key, response.result);
        world.calls[usize::from(n)].phase = Phase::Answered(answered);
        if let Some(upload) = world.uploads.iter_mut().find(|u| u.call == n) {
            upload.end = Some(ended);
        }
    }
}
