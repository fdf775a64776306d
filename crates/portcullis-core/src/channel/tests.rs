//! [`Channels`]: the per-page table of channels, each rule next to its boundary.
//!
//! Unit tests only: their `unwrap`s run on fixed inputs written here.

use std::sync::mpsc::{self, Receiver, TryRecvError};

use super::*;
use crate::origin::Origin;

fn caller(webview: &str, session: u8) -> Caller {
    Caller {
        webview: webview.into(),
        origin: Arc::new(Origin::parse("app://localhost").unwrap()),
        session: Some(SessionId([session; 16])),
        seq: 0,
    }
}

fn session(n: u8) -> Option<SessionId> {
    Some(SessionId([n; 16]))
}

fn id(n: u8) -> ChannelId {
    ChannelId::parse(&format!("{n:02x}").repeat(16)).unwrap()
}

type Answer = Result<Vec<u8>, CallError>;

/// A pull's answer, and where to look for it.
fn puller() -> (Puller, Receiver<Answer>) {
    let (tx, rx) = mpsc::channel();
    let answer: Puller = Box::new(move |a| {
        let _ = tx.send(a);
    });
    (answer, rx)
}

/// Pulls `id` as `webview`'s page load `s` and reads what came at once.
fn pull_now(channels: &Channels, webview: &str, s: u8, id: ChannelId) -> Answer {
    let (answer, rx) = puller();
    channels.pull(webview, session(s), id, answer);
    rx.try_recv().expect("answered at once")
}

fn read(answer: Answer) -> (Vec<Message>, bool) {
    read_frames(&answer.unwrap()).unwrap()
}

fn attach(channels: &Channels, webview: &str, s: u8, n: u8) -> Result<Channel, CallError> {
    channels.attach(&caller(webview, s), id(n), CancellationToken::new())
}

fn msg(n: u8) -> Message {
    Message::Bytes(vec![n])
}

#[test]
fn a_pull_takes_what_is_queued_in_order_then_the_end_and_the_channel_leaves() {
    let channels = Channels::default();
    let ch = attach(&channels, "main", 1, 1).unwrap();
    ch.try_send(msg(1)).unwrap();
    ch.try_send(msg(2)).unwrap();
    assert_eq!(channels.open(), 1);
    assert_eq!(
        read(pull_now(&channels, "main", 1, id(1))),
        (vec![msg(1), msg(2)], false)
    );
    drop(ch);
    // Ended, but the page has not had the end: still there.
    assert_eq!(channels.open(), 1);
    assert_eq!(
        read(pull_now(&channels, "main", 1, id(1))),
        (Vec::new(), true)
    );
    assert_eq!(channels.open(), 0);
    let refused = pull_now(&channels, "main", 1, id(1)).unwrap_err();
    assert_eq!(refused.code, ErrorCode::NoSuchChannel);
}

#[test]
fn a_waiting_pull_is_answered_by_the_next_message_or_the_end() {
    let channels = Channels::default();
    let ch = attach(&channels, "main", 1, 1).unwrap();
    let (answer, rx) = puller();
    channels.pull("main", session(1), id(1), answer);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    ch.try_send(msg(7)).unwrap();
    assert_eq!(read(rx.try_recv().unwrap()), (vec![msg(7)], false));

    let (answer, rx) = puller();
    channels.pull("main", session(1), id(1), answer);
    drop(ch);
    assert_eq!(read(rx.try_recv().unwrap()), (Vec::new(), true));
    assert_eq!(channels.open(), 0);
}

#[test]
fn a_pull_replacing_a_waiting_pull_answers_the_earlier_with_nothing() {
    let channels = Channels::default();
    let ch = attach(&channels, "main", 1, 1).unwrap();
    let (first, first_rx) = puller();
    channels.pull("main", session(1), id(1), first);
    let (second, second_rx) = puller();
    channels.pull("main", session(1), id(1), second);
    // The earlier pull gets an empty answer (no messages, no end); the later one waits.
    assert_eq!(first_rx.try_recv(), Ok(Ok(Vec::new())));
    assert_eq!(second_rx.try_recv(), Err(TryRecvError::Empty));
    ch.try_send(msg(3)).unwrap();
    assert_eq!(read(second_rx.try_recv().unwrap()), (vec![msg(3)], false));
    // Each pull is answered once.
    assert_eq!(first_rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(second_rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn a_pull_for_another_page_loads_channel_is_refused_and_closes_the_old_page_load() {
    let channels = Channels::default();
    let old = attach(&channels, "main", 1, 1).unwrap();
    old.try_send(msg(1)).unwrap();
    let other = attach(&channels, "other", 1, 1).unwrap();
    let (waiting, waiting_rx) = puller();
    let old_second = attach(&channels, "main", 1, 2).unwrap();
    channels.pull("main", session(1), id(2), waiting);
    // The webview's current page load is session 2: session 1's channel is not its own.
    let refused = pull_now(&channels, "main", 2, id(1)).unwrap_err();
    assert_eq!(refused.code, ErrorCode::NoSuchChannel);
    // The old page load's channels closed on the way: senders fail, its waiting pull
    // has the end, and its own pull now finds nothing.
    assert!(old.is_closed() && old_second.is_closed());
    assert_eq!(old.try_send(msg(2)), Err(TrySendError::Closed(msg(2))));
    assert_eq!(read(waiting_rx.try_recv().unwrap()), (Vec::new(), true));
    let refused = pull_now(&channels, "main", 1, id(1)).unwrap_err();
    assert_eq!(refused.code, ErrorCode::NoSuchChannel);
    // Another webview's channel of the same id is untouched.
    assert!(!other.is_closed());
    assert_eq!(channels.open(), 1);
}

#[test]
fn close_webview_closes_every_channel_of_that_webview_only() {
    let channels = Channels::default();
    let a = attach(&channels, "main", 1, 1).unwrap();
    let b = attach(&channels, "main", 1, 2).unwrap();
    let other = attach(&channels, "other", 1, 1).unwrap();
    let (waiting, rx) = puller();
    channels.pull("main", session(1), id(1), waiting);
    b.try_send(msg(1)).unwrap();
    // A later page load's channel, its page-load event not seen yet.
    let c = attach(&channels, "main", 2, 3).unwrap();

    assert_eq!(channels.close_webview("main"), 3);
    assert!(a.is_closed() && b.is_closed() && c.is_closed());
    assert_eq!(read(rx.try_recv().unwrap()), (Vec::new(), true));
    assert_eq!(
        futures_executor::block_on(a.send(msg(2))),
        Err(ChannelError::Closed)
    );
    assert!(!other.is_closed());
    assert_eq!(channels.open(), 1);
    assert_eq!(channels.close_webview("main"), 0);
    assert_eq!(
        pull_now(&channels, "main", 1, id(2)).unwrap_err().code,
        ErrorCode::NoSuchChannel
    );
}

#[test]
fn a_page_load_has_at_most_max_channels() {
    let channels = Channels::default();
    let open: Vec<_> = (0..MAX_CHANNELS as u8)
        .map(|n| attach(&channels, "main", 1, n).unwrap())
        .collect();
    let refused = attach(&channels, "main", 1, 200).unwrap_err();
    assert_eq!(refused.code, ErrorCode::TooLarge);
    // Per page load: another webview is not held back by this one.
    attach(&channels, "other", 1, 200).unwrap();
    // One gone (the page closed it), one more fits.
    channels.close("main", session(1), id(0)).unwrap();
    attach(&channels, "main", 1, 200).unwrap();
    assert_eq!(channels.open(), MAX_CHANNELS + 1);
    drop(open);
}

#[test]
fn a_channel_passed_to_a_second_call_is_refused() {
    let channels = Channels::default();
    let first = attach(&channels, "main", 1, 1).unwrap();
    let refused = attach(&channels, "main", 1, 1).unwrap_err();
    assert_eq!(refused.code, ErrorCode::BadRequest);
    // The first call's channel is unharmed.
    first.try_send(msg(1)).unwrap();
    assert_eq!(
        read(pull_now(&channels, "main", 1, id(1))),
        (vec![msg(1)], false)
    );
    // The same id in another page load is another channel.
    attach(&channels, "main", 2, 1).unwrap();
}

#[test]
fn a_cancelled_call_gets_a_closed_channel_the_table_never_holds() {
    let channels = Channels::default();
    let token = CancellationToken::new();
    token.cancel();
    let ch: Channel = channels.attach(&caller("main", 1), id(1), token).unwrap();
    assert!(ch.is_closed());
    assert_eq!(ch.try_send(msg(1)), Err(TrySendError::Closed(msg(1))));
    assert_eq!(channels.open(), 0);
    // Nor does it count against the bound, or clash with a later call's channel.
    attach(&channels, "main", 1, 1).unwrap();
}

#[test]
fn close_and_call_done_answer_whether_the_channel_exists() {
    let channels = Channels::default();
    let ch = attach(&channels, "main", 1, 1).unwrap();
    assert_eq!(channels.call_done("main", session(1), id(1)), Ok(()));
    for (webview, s, n) in [("main", 2, 1), ("other", 1, 1), ("main", 1, 2)] {
        let refused = channels.call_done(webview, session(s), id(n)).unwrap_err();
        assert_eq!(refused.code, ErrorCode::NoSuchChannel);
        let refused = channels.close(webview, session(s), id(n)).unwrap_err();
        assert_eq!(refused.code, ErrorCode::NoSuchChannel);
    }
    // Neither a done nor a refused close touched it.
    assert!(!ch.is_closed());
    let (waiting, rx) = puller();
    channels.pull("main", session(1), id(1), waiting);
    assert_eq!(channels.close("main", session(1), id(1)), Ok(()));
    assert!(ch.is_closed());
    assert_eq!(read(rx.try_recv().unwrap()), (Vec::new(), true));
    let refused = channels.close("main", session(1), id(1)).unwrap_err();
    assert_eq!(refused.code, ErrorCode::NoSuchChannel);
    assert_eq!(channels.open(), 0);
}
