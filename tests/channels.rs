//! Channels from the core to the page, through the gate and the router, without a
//! webview: a handler takes the channel its call's arguments named and sends JSON and
//! bytes; the page's pulls (what `portcullis-wry` serves at `ipc://localhost/__portcullis/channel`)
//! get them in order, only for the page load that made the channel, with a bounded queue.
//! Every refusal asserts its code and that no handler ran, next to its legitimate twin.

mod common;

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

use common::{admit_sealed, page};
use portcullis::channel::{
    Channel, ChannelError, ChannelId, Channels, MAX_CHANNELS, Message, QUEUE_MESSAGES,
    TrySendError, read_frames,
};
use portcullis::request::Kind;
use portcullis::router::{CallError, Dispatch, Payload};
use portcullis::{Args, Config, ErrorCode, Gate, Router, ScopeVars, Sealer, SessionId};
use serde_json::{Value, json};

/// The suite's config (a fixture, so `configs` and `schema` check it too): one
/// capability allowing the handlers below to `main` and `second`.
const CONFIG: &str = include_str!("../fixtures/configs/valid/channels.json");

#[derive(serde::Deserialize)]
struct Ticks {
    n: u32,
}

/// The message type of a typed channel.
#[derive(serde::Serialize)]
struct Progress {
    done: u32,
    of: u32,
}

/// The gate and a router whose handlers send on the channel they are given.
struct App {
    gate: Gate,
    router: Router,
    /// How many handlers ran.
    runs: Arc<AtomicUsize>,
    /// Channels `keep` was given, for the test to send on after the call.
    kept: mpsc::Receiver<Channel>,
    next_id: AtomicU64,
}

fn app() -> App {
    let config = Config::from_json(CONFIG).unwrap();
    let gate = Gate::new(&config, &ScopeVars::new()).unwrap();
    let runs: Arc<AtomicUsize> = Arc::default();
    let (keep, kept) = mpsc::channel();
    let keep = std::sync::Mutex::new(keep);
    let (a, b, c, d, e) = (
        runs.clone(),
        runs.clone(),
        runs.clone(),
        runs.clone(),
        runs.clone(),
    );
    let router = Router::new()
        // Sends n JSON messages, then returns how many went.
        .command("ticks", move |channel: Channel, Args(t): Args<Ticks>| {
            a.fetch_add(1, Ordering::SeqCst);
            for i in 0..t.n {
                channel.send_blocking(Message::json(&json!({"tick": i})).unwrap())?;
            }
            Ok::<_, ChannelError>(t.n)
        })
        // Sends two byte messages from an async handler.
        .command("blob", move |channel: Channel| {
            b.fetch_add(1, Ordering::SeqCst);
            async move {
                channel.send(vec![0u8, 1, 2, 255]).await?;
                channel.send(vec![7u8; 3]).await?;
                Ok::<_, ChannelError>("sent")
            }
        })
        // Hands the channel to the test, which sends after the call returned.
        .command("keep", move |channel: Channel| {
            c.fetch_add(1, Ordering::SeqCst);
            keep.lock().unwrap().send(channel).unwrap();
        })
        .command("plain", move |_: Args<Value>| {
            d.fetch_add(1, Ordering::SeqCst);
        })
        // A typed channel: its send_json takes a Progress and nothing else.
        .command("typed", move |progress: Channel<Progress>| {
            e.fetch_add(1, Ordering::SeqCst);
            async move {
                progress.send_json(&Progress { done: 1, of: 2 }).await?;
                progress.try_send_json(&Progress { done: 2, of: 2 })?;
                progress.send(vec![9u8]).await?;
                Ok::<_, ChannelError>("typed")
            }
        });
    router.check().unwrap();
    App {
        gate,
        router,
        runs,
        kept,
        next_id: AtomicU64::new(1),
    }
}

/// A channel argument, as the JS package writes it.
fn channel_arg(n: u8) -> (String, ChannelId) {
    let hex = format!("{:032x}", 0x5eed_0000_u128 + u128::from(n));
    let id = ChannelId::parse(&hex).unwrap();
    (format!("portcullis:channel:{hex}"), id)
}

impl App {
    fn call(
        &self,
        s: &mut Sealer,
        label: &str,
        name: &str,
        args: Value,
    ) -> Result<String, ErrorCode> {
        let id = self.next_id.fetch_add(1, Ordering::SeqCst);
        let admitted = admit_sealed(&self.gate, s, label, (Kind::Command, id, name), &args)?;
        match self.router.dispatch(admitted) {
            Dispatch::Ready(reply) => reply.result.map(text).map_err(|e| e.code),
            Dispatch::Stream(_, call) => panic!("a command opened a stream: {call:?}"),
            Dispatch::Started(work, call) => {
                // Run where the embedder would: on another thread, so a handler waiting
                // on a full queue does not hold up the test's pulls.
                let result = thread::spawn(move || work.run_here()).join().unwrap();
                call.finish(result).result.map(text).map_err(|e| e.code)
            }
        }
    }

    fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }

    fn channels(&self) -> &Channels {
        self.router.channels()
    }

    /// `label`'s current page load, as the transport reads it.
    fn current(&self, label: &str) -> Option<SessionId> {
        self.gate.sessions().current(label)
    }

    /// One pull, answered now or within a second.
    fn pull(&self, label: &str, id: ChannelId) -> Result<(Vec<Message>, bool), ErrorCode> {
        let answer = self.start_pull(label, id);
        answer
            .recv_timeout(Duration::from_secs(1))
            .expect("a pull with messages queued is answered")
    }

    fn start_pull(
        &self,
        label: &str,
        id: ChannelId,
    ) -> mpsc::Receiver<Result<(Vec<Message>, bool), ErrorCode>> {
        let (tx, rx) = mpsc::channel();
        self.channels().pull(
            label,
            self.current(label),
            id,
            Box::new(move |answer: Result<Vec<u8>, CallError>| {
                let _ = tx.send(
                    answer
                        .map(|frames| read_frames(&frames).expect("well-formed frames"))
                        .map_err(|e| e.code),
                );
            }),
        );
        rx
    }
}

fn text(payload: Payload) -> String {
    match payload {
        Payload::Json(text) => text,
        Payload::Bytes(b) => format!("bytes {b:?}"),
    }
}

fn ticks(n: u32) -> Vec<Message> {
    (0..n)
        .map(|i| Message::Json(format!(r#"{{"tick":{i}}}"#)))
        .collect()
}

#[test]
fn a_handler_sends_in_order_and_the_page_gets_the_end_after_the_last_message() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let (arg, id) = channel_arg(1);
    assert_eq!(
        app.call(&mut s, "main", "ticks", json!({"n": 5, "progress": arg})),
        Ok("5".into())
    );
    assert_eq!(app.pull("main", id), Ok((ticks(5), true)));
    // Ended and pulled: the channel left the table.
    assert_eq!(app.channels().open(), 0);
}

#[test]
fn a_pull_before_a_handler_took_the_channel_is_refused_and_makes_nothing() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let (arg, id) = channel_arg(2);
    // The page's first pull leaves as its call does: no handler took the channel yet.
    assert_eq!(app.pull("main", id), Err(ErrorCode::NoSuchChannel));
    assert_eq!(app.channels().open(), 0, "a pull made a channel");
    assert_eq!(
        app.call(&mut s, "main", "ticks", json!({"n": 1, "progress": arg})),
        Ok("1".into())
    );
    // The twin: pulled again once the handler took it, the message and the end.
    assert_eq!(app.pull("main", id), Ok((ticks(1), true)));
}

#[test]
fn bytes_travel_as_bytes() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let (arg, id) = channel_arg(3);
    assert_eq!(
        app.call(&mut s, "main", "blob", json!({"data": arg})),
        Ok("\"sent\"".into())
    );
    let (messages, ended) = app.pull("main", id).unwrap();
    assert!(ended);
    assert_eq!(
        messages,
        vec![
            Message::Bytes(vec![0, 1, 2, 255]),
            Message::Bytes(vec![7, 7, 7])
        ]
    );
}

#[test]
fn a_channel_reaches_only_the_page_load_that_made_it() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let (arg, id) = channel_arg(4);
    assert_eq!(
        app.call(&mut s, "main", "keep", json!({"c": arg})),
        Ok("null".into())
    );
    let channel = app.kept.recv().unwrap();
    channel.try_send(Message::Json("1".into())).unwrap();
    // Another webview pulling the same id gets nothing of it.
    let _second = page(&app.gate, "second");
    assert_eq!(app.pull("second", id), Err(ErrorCode::NoSuchChannel));
    // The twin: the page that made it gets the message.
    assert_eq!(
        app.pull("main", id),
        Ok((vec![Message::Json("1".into())], false))
    );
    // A new page load of the same webview: the embedder closes the old page's channels
    // (router.cancel_webview on the page-load event) and its sends fail.
    let _reloaded = page(&app.gate, "main");
    app.router.cancel_webview("main");
    assert!(channel.is_closed());
    assert_eq!(
        channel.try_send(Message::Json("2".into())),
        Err(TrySendError::Closed(Message::Json("2".into())))
    );
    // The new page load pulling the old id finds none.
    assert_eq!(app.pull("main", id), Err(ErrorCode::NoSuchChannel));
    assert_eq!(app.channels().open(), 0);
}

#[test]
fn a_pull_from_a_new_page_load_closes_what_an_earlier_one_left_even_without_the_event() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let (arg, id) = channel_arg(5);
    app.call(&mut s, "main", "keep", json!({"c": arg})).unwrap();
    let channel = app.kept.recv().unwrap();
    let _reloaded = page(&app.gate, "main");
    assert_eq!(app.pull("main", id), Err(ErrorCode::NoSuchChannel));
    assert_eq!(
        channel.try_send(Message::Json("1".into())),
        Err(TrySendError::Closed(Message::Json("1".into())))
    );
}

#[test]
fn a_call_from_a_page_load_that_is_gone_gets_its_channel_closed() {
    let app = app();
    let mut old = page(&app.gate, "main");
    let mut s = page(&app.gate, "main");
    let (arg, _) = channel_arg(6);
    // A call sealed by the old page load is refused at the gate (its session is revoked).
    assert_eq!(
        app.call(&mut old, "main", "keep", json!({"c": arg})),
        Err(ErrorCode::SessionRevoked)
    );
    assert_eq!(app.runs(), 0);
    // The twin from the current page load takes the channel.
    app.call(&mut s, "main", "keep", json!({"c": arg})).unwrap();
    let channel = app.kept.recv().unwrap();
    assert!(!channel.is_closed());
}

#[test]
fn a_full_queue_makes_send_wait_until_the_page_pulls() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let (arg, id) = channel_arg(7);
    app.call(&mut s, "main", "keep", json!({"c": arg})).unwrap();
    let channel = app.kept.recv().unwrap();
    for i in 0..QUEUE_MESSAGES {
        channel.try_send(Message::Json(i.to_string())).unwrap();
    }
    assert_eq!(
        channel.try_send(Message::Json("x".into())),
        Err(TrySendError::Full(Message::Json("x".into()))),
        "the message comes back"
    );
    let sender = channel.clone();
    let (sent_tx, sent) = mpsc::channel();
    let waiter = thread::spawn(move || {
        let result = sender.send_blocking(Message::Json("late".into()));
        sent_tx.send(result).unwrap();
    });
    assert!(
        sent.recv_timeout(Duration::from_millis(100)).is_err(),
        "send waits while full"
    );
    let (first, _) = app.pull("main", id).unwrap();
    assert_eq!(first.len(), QUEUE_MESSAGES);
    assert_eq!(sent.recv_timeout(Duration::from_secs(1)).unwrap(), Ok(()));
    waiter.join().unwrap();
    assert_eq!(
        app.pull("main", id),
        Ok((vec![Message::Json("late".into())], false))
    );
}

#[test]
fn a_send_waiting_on_a_full_queue_fails_when_the_page_goes_away() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let (arg, _) = channel_arg(8);
    app.call(&mut s, "main", "keep", json!({"c": arg})).unwrap();
    let channel = app.kept.recv().unwrap();
    for i in 0..QUEUE_MESSAGES {
        channel.try_send(Message::Json(i.to_string())).unwrap();
    }
    let sender = channel.clone();
    let waiter = thread::spawn(move || sender.send_blocking(Message::Json("late".into())));
    thread::sleep(Duration::from_millis(50));
    app.router.cancel_webview("main");
    assert_eq!(waiter.join().unwrap(), Err(ChannelError::Closed));
}

#[test]
fn the_page_closing_a_channel_fails_the_next_send_and_answers_its_pull() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let (arg, id) = channel_arg(9);
    app.call(&mut s, "main", "keep", json!({"c": arg})).unwrap();
    let channel = app.kept.recv().unwrap();
    let waiting = app.start_pull("main", id);
    app.channels()
        .close("main", app.current("main"), id)
        .unwrap();
    assert_eq!(
        waiting.recv_timeout(Duration::from_secs(1)).unwrap(),
        Ok((vec![], true))
    );
    assert_eq!(
        channel.try_send(Message::Json("1".into())),
        Err(TrySendError::Closed(Message::Json("1".into())))
    );
}

#[test]
fn a_channel_serves_one_call() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let (arg, _) = channel_arg(10);
    app.call(&mut s, "main", "keep", json!({"c": arg})).unwrap();
    let _kept = app.kept.recv().unwrap();
    assert_eq!(app.runs(), 1);
    assert_eq!(
        app.call(&mut s, "main", "keep", json!({"c": arg})),
        Err(ErrorCode::BadRequest)
    );
    assert_eq!(app.runs(), 1, "no handler ran for the second call");
}

#[test]
fn a_handler_that_takes_a_channel_refuses_arguments_without_one() {
    let app = app();
    let mut s = page(&app.gate, "main");
    for args in [
        json!({"n": 1}),
        json!({"n": 1, "progress": "portcullis:channel:XYZ"}),
        json!({"n": 1, "x": {"nested": channel_arg(11).0}}),
    ] {
        assert_eq!(
            app.call(&mut s, "main", "ticks", args.clone()),
            Err(ErrorCode::InvalidArgs),
            "{args}"
        );
    }
    assert_eq!(app.runs(), 0);
    assert_eq!(
        app.call(
            &mut s,
            "main",
            "ticks",
            json!({"n": 0, "p": channel_arg(11).0})
        ),
        Ok("0".into())
    );
}

#[test]
fn a_command_without_a_channel_ignores_a_channel_looking_string() {
    let app = app();
    let mut s = page(&app.gate, "main");
    assert_eq!(
        app.call(&mut s, "main", "plain", json!({"c": channel_arg(12).0})),
        Ok("null".into())
    );
    assert_eq!(app.channels().open(), 0);
}

#[test]
fn made_up_pulls_never_fill_the_table_and_a_page_may_have_only_so_many_channels() {
    let app = app();
    let mut s = page(&app.gate, "main");
    // Any number of well-formed pulls for ids no handler took: each refused, none kept.
    for n in 0..(4 * MAX_CHANNELS as u128) {
        let id = ChannelId::parse(&format!("{n:032x}")).unwrap();
        assert_eq!(app.pull("main", id), Err(ErrorCode::NoSuchChannel));
        assert_eq!(
            app.channels()
                .close("main", app.current("main"), id)
                .map_err(|e| e.code),
            Err(ErrorCode::NoSuchChannel)
        );
    }
    assert_eq!(app.channels().open(), 0);
    // So the page's own channels all fit, up to the bound.
    for n in 0..MAX_CHANNELS as u8 {
        let (arg, _) = channel_arg(100 + n);
        assert_eq!(
            app.call(&mut s, "main", "keep", json!({"c": arg})),
            Ok("null".into())
        );
    }
    let kept: Vec<Channel> = app.kept.try_iter().collect();
    assert_eq!(kept.len(), MAX_CHANNELS);
    let runs = app.runs();
    let (over, _) = channel_arg(13);
    assert_eq!(
        app.call(&mut s, "main", "keep", json!({"c": over})),
        Err(ErrorCode::TooLarge)
    );
    assert_eq!(app.runs(), runs, "the handler ran past the bound");
    // The twin: another webview's page still may.
    let mut second = page(&app.gate, "second");
    assert_eq!(
        app.call(&mut second, "second", "keep", json!({"c": over})),
        Ok("null".into())
    );
}

#[test]
fn a_second_pull_while_one_waits_takes_its_place_and_the_first_is_answered_empty() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let (arg, id) = channel_arg(14);
    app.call(&mut s, "main", "keep", json!({"c": arg})).unwrap();
    let channel = app.kept.recv().unwrap();
    let first = app.start_pull("main", id);
    let second = app.start_pull("main", id);
    // The earlier pull goes with nothing, not an error: whoever pulls just pulls again.
    assert_eq!(
        first.recv_timeout(Duration::from_secs(1)).unwrap(),
        Ok((vec![], false))
    );
    channel.try_send(Message::Json("1".into())).unwrap();
    assert_eq!(
        second.recv_timeout(Duration::from_secs(1)).unwrap(),
        Ok((vec![Message::Json("1".into())], false))
    );
    drop(channel);
    assert_eq!(app.pull("main", id), Ok((vec![], true)));
}

#[test]
fn channel_ids_are_exactly_32_lowercase_hex_digits() {
    assert!(ChannelId::parse(&"a".repeat(32)).is_some());
    for bad in [
        "A".repeat(32),
        "a".repeat(31),
        "a".repeat(33),
        "g".repeat(32),
        String::new(),
    ] {
        assert!(ChannelId::parse(&bad).is_none(), "{bad}");
    }
    assert!(ChannelId::from_argument(&format!("portcullis:channel:{}", "0".repeat(32))).is_some());
    assert!(ChannelId::from_argument(&"0".repeat(32)).is_none());
}

#[test]
fn a_channel_no_handler_took_is_never_made() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let (arg, id) = channel_arg(20);
    // `plain` takes no channel: its argument makes nothing the page could wait on.
    assert_eq!(
        app.call(&mut s, "main", "plain", json!({"c": arg})),
        Ok("null".into())
    );
    assert_eq!(app.channels().open(), 0);
    assert_eq!(app.pull("main", id), Err(ErrorCode::NoSuchChannel));
    assert_eq!(
        app.channels()
            .call_done("main", app.current("main"), id)
            .map_err(|e| e.code),
        Err(ErrorCode::NoSuchChannel)
    );
    // The twin: a channel its handler took is there after its call was answered.
    let (arg, id) = channel_arg(21);
    app.call(&mut s, "main", "keep", json!({"c": arg})).unwrap();
    let channel = app.kept.recv().unwrap();
    assert_eq!(
        app.channels().call_done("main", app.current("main"), id),
        Ok(())
    );
    assert_eq!(channel.try_send(Message::Json("1".into())), Ok(()));
    assert_eq!(
        app.pull("main", id),
        Ok((vec![Message::Json("1".into())], false))
    );
}

#[test]
fn a_message_longer_than_the_limit_is_refused_to_the_handler() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let (arg, _) = channel_arg(22);
    app.call(&mut s, "main", "keep", json!({"c": arg})).unwrap();
    let channel = app.kept.recv().unwrap();
    let too_long = vec![0u8; portcullis::channel::MAX_MESSAGE + 1];
    assert_eq!(
        channel
            .try_send(too_long.clone())
            .map_err(TrySendError::into_message),
        Err(Message::Bytes(too_long))
    );
    assert_eq!(channel.try_send(vec![0u8; 16]), Ok(()));
}

#[test]
fn a_typed_channel_sends_its_type_as_json_and_bytes_as_bytes() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let (arg, id) = channel_arg(30);
    assert_eq!(
        app.call(&mut s, "main", "typed", json!({"progress": arg})),
        Ok(r#""typed""#.into())
    );
    assert_eq!(
        app.pull("main", id),
        Ok((
            vec![
                Message::Json(r#"{"done":1,"of":2}"#.into()),
                Message::Json(r#"{"done":2,"of":2}"#.into()),
                Message::Bytes(vec![9]),
            ],
            true
        ))
    );
}

#[test]
fn a_call_refused_after_its_channel_was_taken_gives_the_channel_up() {
    let app = app();
    let mut s = page(&app.gate, "main");
    let (arg, id) = channel_arg(31);
    // `ticks` takes its Channel first, then Args<Ticks>, which these do not fit.
    assert_eq!(
        app.call(&mut s, "main", "ticks", json!({"n": "many", "p": arg})),
        Err(ErrorCode::InvalidArgs)
    );
    assert_eq!(app.runs(), 0);
    assert_eq!(
        app.channels().open(),
        0,
        "the refused call's channel stayed"
    );
    assert_eq!(app.pull("main", id), Err(ErrorCode::NoSuchChannel));
    // The twin: the same channel id in a call that fits is taken and served.
    assert_eq!(
        app.call(&mut s, "main", "ticks", json!({"n": 1, "p": arg})),
        Ok("1".into())
    );
    assert_eq!(app.pull("main", id), Ok((ticks(1), true)));
}
