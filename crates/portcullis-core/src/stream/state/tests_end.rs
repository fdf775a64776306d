//! The edges of a stream's endings, each test named for the edge it checks: the end (in
//! order, ahead of a gap, with chunks after it, with answers held), a chunk after the
//! end, after each kind of break and after the handler finished, and the handler
//! finishing and the page going away in each state.

use super::rig::*;
use super::*;
use crate::stream::limits::QUEUE_CHUNKS;

// ---- the end ----

#[test]
fn the_end_in_order_ends_the_stream_and_its_answer_waits_for_the_result() {
    let mut rig = Rig::new(None);
    rig.data(0, "a");
    rig.end(1);
    assert_eq!(rig.variant(), "ended");
    assert_eq!(rig.answers(), vec![told("0:a", null_said())]);
    assert_eq!(rig.read_all(), vec![ok("a"), ok("<end>")]);
    assert_eq!(rig.finish(Ok(Payload::Json("7".to_owned()))), None);
    assert_eq!(rig.answers(), vec![told("1:end", Ok("7".to_owned()))]);
    assert_eq!(rig.variant(), "closed");
    assert_eq!(rig.read_all(), vec![ok("<end>")]);
}

#[test]
fn the_end_ahead_of_a_gap_waits_for_the_chunks_before_it() {
    let mut rig = Rig::new(None);
    rig.end(1);
    assert_eq!(rig.variant(), "open");
    assert_eq!(rig.read_all(), vec![ok("<wait>")], "no end before chunk 0");
    rig.data(0, "a");
    assert_eq!(rig.variant(), "ended");
    assert_eq!(rig.read_all(), vec![ok("a"), ok("<end>")]);
}

#[test]
fn chunks_numbered_after_the_end_are_refused_when_it_is_taken() {
    let mut rig = Rig::new(None);
    rig.data(2, "after");
    rig.end(1);
    rig.data(0, "a");
    assert_eq!(rig.variant(), "ended");
    assert_eq!(
        rig.answers(),
        vec![
            told("0:a", null_said()),
            told("2:after", Err(ErrorCode::StreamClosed)),
        ]
    );
    assert_eq!(rig.read_all(), vec![ok("a"), ok("<end>")]);
    assert_eq!(rig.page_bytes(), 0);
}

#[test]
fn the_end_while_answers_are_held_releases_them_as_the_handler_reads() {
    let mut rig = Rig::new(None);
    for n in 0..=QUEUE_CHUNKS as u64 {
        rig.data(n, &n.to_string());
    }
    rig.answers();
    rig.end(QUEUE_CHUNKS as u64 + 1);
    assert_eq!(rig.variant(), "ended");
    assert!(rig.answers().is_empty(), "one chunk's answer is held");
    assert_eq!(rig.read_one(), ok("0"));
    let held = format!("{QUEUE_CHUNKS}:{QUEUE_CHUNKS}");
    assert_eq!(rig.answers(), vec![told(&held, null_said())]);
}

// ---- a chunk after the end, a break, the handler's finish ----

#[test]
fn a_chunk_after_the_end_is_refused_stream_closed_and_changes_nothing() {
    let mut rig = Rig::new(None);
    rig.data(0, "a");
    rig.end(1);
    rig.answers();
    rig.data(2, "late");
    rig.abort(3);
    rig.end(4);
    assert_eq!(rig.variant(), "ended");
    assert!(!rig.woke);
    assert_eq!(
        rig.answers(),
        vec![
            told("2:late", Err(ErrorCode::StreamClosed)),
            told("3:abort", Err(ErrorCode::StreamClosed)),
            told("4:end", Err(ErrorCode::StreamClosed)),
        ]
    );
    assert_eq!(rig.read_all(), vec![ok("a"), ok("<end>")]);
}

/// A data chunk, an end and an abort after a break of `how` are each refused.
fn after_a_break(how: &str) {
    let mut rig = broken(how);
    rig.data(2, "late");
    rig.end(3);
    rig.abort(4);
    assert_eq!(rig.variant(), "broken");
    assert_eq!(
        rig.answers(),
        vec![
            told("2:late", Err(ErrorCode::StreamClosed)),
            told("3:end", Err(ErrorCode::StreamClosed)),
            told("4:abort", Err(ErrorCode::StreamClosed)),
        ],
        "{how}"
    );
    assert_eq!(rig.read_all()[0], ok("ab"), "{how}");
}

#[test]
fn a_chunk_after_an_abort_is_refused_stream_closed() {
    after_a_break("abort");
}

#[test]
fn a_chunk_after_an_order_break_is_refused_stream_closed() {
    after_a_break("order");
}

#[test]
fn a_chunk_after_too_large_is_refused_stream_closed() {
    after_a_break("too large");
}

#[test]
fn a_chunk_after_the_handler_finished_goes_back_to_the_table_unanswered() {
    let mut rig = Rig::new(None);
    rig.finish(Ok(Payload::Json("1".to_owned())));
    let back = rig.send(0, ChunkOp::Data(b"late".to_vec()), "0:late");
    let (op, _answer) = back.expect("the table answers it");
    assert_eq!(op, ChunkOp::Data(b"late".to_vec()));
    assert!(rig.answers().is_empty());
    assert_eq!(rig.variant(), "closed");
}

// ---- the handler finishing, in each state ----

#[test]
fn the_handler_finishing_while_open_answers_waiting_chunks_and_keeps_its_result() {
    let mut rig = Rig::new(None);
    for n in 0..=QUEUE_CHUNKS as u64 {
        rig.data(n, "x");
    }
    rig.data(QUEUE_CHUNKS as u64 + 2, "ahead");
    rig.answers();
    let kept = rig.finish(Ok(Payload::Json("3".to_owned())));
    assert_eq!(kept, Some(Ok("3".to_owned())), "kept for the page's end");
    assert_eq!(
        rig.answers(),
        vec![
            told(&format!("{QUEUE_CHUNKS}:x"), null_said()),
            told(&format!("{}:ahead", QUEUE_CHUNKS + 2), null_said()),
        ]
    );
    assert_eq!(rig.variant(), "closed");
    assert_eq!(rig.page_bytes(), 0);
    assert_eq!(rig.read_all(), vec![ok("<wait>")], "no end came");
}

#[test]
fn the_handler_failing_while_chunks_wait_tells_them_its_error_and_keeps_nothing() {
    let mut rig = Rig::new(None);
    rig.data(1, "ahead");
    let kept = rig.finish(Err(failed(ErrorCode::Handler)));
    assert_eq!(kept, None, "the page learnt the error");
    assert_eq!(
        rig.answers(),
        vec![told("1:ahead", Err(ErrorCode::Handler))]
    );
}

#[test]
fn the_handler_failing_with_nothing_waiting_keeps_its_error_for_the_end() {
    let mut rig = Rig::new(None);
    rig.data(0, "a");
    rig.answers();
    let kept = rig.finish(Err(failed(ErrorCode::Handler)));
    assert_eq!(kept, Some(Err(ErrorCode::Handler)));
    assert!(rig.answers().is_empty());
}

#[test]
fn the_handler_finishing_after_the_end_answers_held_chunks_then_the_end() {
    let mut rig = Rig::new(None);
    for n in 0..=QUEUE_CHUNKS as u64 {
        rig.data(n, "x");
    }
    rig.end(QUEUE_CHUNKS as u64 + 1);
    rig.answers();
    let kept = rig.finish(Err(failed(ErrorCode::Handler)));
    assert_eq!(kept, None, "the end carried it");
    assert_eq!(
        rig.answers(),
        vec![
            told(&format!("{QUEUE_CHUNKS}:x"), Err(ErrorCode::Handler)),
            told(
                &format!("{}:end", QUEUE_CHUNKS + 1),
                Err(ErrorCode::Handler)
            ),
        ]
    );
    assert_eq!(rig.variant(), "closed");
    assert_eq!(rig.read_all(), vec![ok("<end>")], "its chunks are dropped");
}

#[test]
fn the_handler_finishing_after_a_break_keeps_nothing_and_the_reader_keeps_the_error() {
    let mut rig = broken("abort");
    let kept = rig.finish(Ok(Payload::Json("1".to_owned())));
    assert_eq!(kept, None, "a broken stream gets no end");
    assert!(rig.answers().is_empty());
    assert_eq!(rig.variant(), "closed");
    assert_eq!(
        rig.read_all(),
        vec![Err(StreamError::Aborted("changed my mind".to_owned()))]
    );
    assert_eq!(rig.page_bytes(), 0);
}

#[test]
fn the_handler_finishing_twice_changes_nothing() {
    let mut rig = Rig::new(None);
    rig.end(0);
    rig.finish(Ok(Payload::Json("1".to_owned())));
    rig.answers();
    assert_eq!(rig.finish(Ok(Payload::Json("2".to_owned()))), None);
    assert!(rig.answers().is_empty());
    assert_eq!(rig.read_all(), vec![ok("<end>")]);
}

// ---- the page going away, in each state ----

#[test]
fn the_page_going_away_while_open_refuses_every_waiting_answer() {
    let mut rig = Rig::new(None);
    for n in 0..=QUEUE_CHUNKS as u64 {
        rig.data(n, "x");
    }
    rig.data(QUEUE_CHUNKS as u64 + 2, "ahead");
    rig.answers();
    rig.page_gone();
    assert_eq!(rig.variant(), "closed");
    assert_eq!(
        rig.answers(),
        vec![
            told(&format!("{QUEUE_CHUNKS}:x"), Err(ErrorCode::Cancelled)),
            told(
                &format!("{}:ahead", QUEUE_CHUNKS + 2),
                Err(ErrorCode::Cancelled)
            ),
        ]
    );
    // Its chunks are dropped: the reader learns at once.
    assert_eq!(rig.read_all(), vec![Err(StreamError::PageGone)]);
    assert_eq!(rig.page_bytes(), 0);
}

#[test]
fn the_page_going_away_after_the_end_refuses_the_end() {
    let mut rig = Rig::new(None);
    rig.data(0, "a");
    rig.end(1);
    rig.answers();
    rig.page_gone();
    assert_eq!(
        rig.answers(),
        vec![told("1:end", Err(ErrorCode::Cancelled))]
    );
    assert_eq!(rig.read_all(), vec![Err(StreamError::PageGone)]);
}

#[test]
fn the_page_going_away_after_a_break_keeps_the_break_for_the_reader() {
    let mut rig = broken("order");
    rig.page_gone();
    assert!(rig.answers().is_empty());
    assert_eq!(rig.variant(), "closed");
    assert_eq!(rig.read_all(), vec![Err(StreamError::OutOfOrder)]);
    assert_eq!(rig.page_bytes(), 0);
}

#[test]
fn the_page_going_away_after_the_handler_finished_changes_nothing() {
    let mut rig = Rig::new(None);
    rig.end(0);
    rig.finish(Ok(Payload::Json("1".to_owned())));
    rig.answers();
    rig.page_gone();
    assert!(rig.answers().is_empty());
    assert_eq!(rig.read_all(), vec![ok("<end>")]);
}
