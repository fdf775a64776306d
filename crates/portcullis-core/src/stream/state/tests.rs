//! The edges of a stream's state machine while it is open, each test named for the edge
//! it checks: the window's left and right edges, a number taken or too far ahead, each
//! kind of break (abort, order, maxBytes, the page budget) and the bound on waiting
//! chunks. The end, a chunk after each ending, and the handler finishing and the page
//! going away in each state are in `tests_end.rs`.

use super::rig::*;
use super::*;
use crate::stream::limits::{MAX_WAITING, QUEUE_CHUNKS};

// ---- chunks while open: the window's edges ----

#[test]
fn the_next_number_is_queued_and_answered_at_once() {
    let mut rig = Rig::new(None);
    rig.data(0, "a");
    assert_eq!(rig.variant(), "open");
    assert_eq!(rig.answers(), vec![told("0:a", null_said())]);
    assert!(rig.woke);
    assert_eq!(rig.page_bytes(), 1);
    assert_eq!(rig.read_all(), vec![ok("a"), ok("<wait>")]);
    assert_eq!(rig.page_bytes(), 0);
}

#[test]
fn a_chunk_ahead_waits_unanswered_until_the_gap_fills() {
    let mut rig = Rig::new(None);
    rig.data(1, "b");
    assert!(rig.answers().is_empty(), "it waits for chunk 0");
    assert_eq!(rig.read_all(), vec![ok("<wait>")]);
    assert_eq!(
        rig.page_bytes(),
        1,
        "a chunk waiting in the window is counted"
    );
    rig.data(0, "a");
    assert_eq!(
        rig.answers(),
        vec![told("0:a", null_said()), told("1:b", null_said())]
    );
    assert_eq!(rig.read_all(), vec![ok("a"), ok("b"), ok("<wait>")]);
}

#[test]
fn the_windows_right_edge_next_plus_window_minus_one_waits() {
    let mut rig = Rig::new(None);
    rig.data(0, "a");
    rig.answers();
    rig.data(WINDOW, "edge");
    assert_eq!(rig.variant(), "open");
    assert!(rig.answers().is_empty(), "it waits for the ones before it");
}

#[test]
fn one_past_the_windows_right_edge_breaks_the_stream_out_of_order() {
    let mut rig = Rig::new(None);
    rig.data(0, "a");
    rig.data(2, "c");
    rig.answers();
    rig.data(1 + WINDOW, "far");
    assert_eq!(rig.variant(), "broken");
    // The chunk that broke it first, then the one that waited in the window.
    assert_eq!(
        rig.answers(),
        vec![
            told(&format!("{}:far", 1 + WINDOW), Err(ErrorCode::StreamOrder)),
            told("2:c", Err(ErrorCode::StreamClosed)),
        ]
    );
    // The handler reads what was taken, then the gap: never chunk 2.
    assert_eq!(rig.read_all(), vec![ok("a"), Err(StreamError::OutOfOrder)]);
    assert_eq!(rig.page_bytes(), 0);
}

#[test]
fn a_number_already_taken_breaks_the_stream_out_of_order() {
    let mut rig = Rig::new(None);
    rig.data(0, "a");
    rig.data(1, "b");
    rig.answers();
    rig.data(0, "again");
    assert_eq!(rig.variant(), "broken");
    assert_eq!(
        rig.answers(),
        vec![told("0:again", Err(ErrorCode::StreamOrder))]
    );
    assert_eq!(
        rig.read_all(),
        vec![ok("a"), ok("b"), Err(StreamError::OutOfOrder)]
    );
}

#[test]
fn a_number_already_waiting_in_the_window_breaks_the_stream_out_of_order() {
    let mut rig = Rig::new(None);
    rig.data(2, "c");
    rig.data(2, "c again");
    assert_eq!(rig.variant(), "broken");
    assert_eq!(
        rig.answers(),
        vec![
            told("2:c again", Err(ErrorCode::StreamOrder)),
            told("2:c", Err(ErrorCode::StreamClosed)),
        ]
    );
    assert_eq!(rig.read_all(), vec![Err(StreamError::OutOfOrder)]);
}

// ---- breaks ----

#[test]
fn an_abort_breaks_the_stream_at_once_even_ahead_of_a_gap() {
    let mut rig = Rig::new(None);
    rig.data(0, "a");
    rig.data(2, "c");
    rig.answers();
    rig.abort(3);
    assert_eq!(rig.variant(), "broken");
    assert_eq!(
        rig.answers(),
        vec![
            told("3:abort", null_said()),
            told("2:c", Err(ErrorCode::StreamClosed)),
        ]
    );
    assert_eq!(
        rig.read_all(),
        vec![
            ok("a"),
            Err(StreamError::Aborted("changed my mind".to_owned()))
        ]
    );
}

#[test]
fn an_abort_gives_the_held_answers_and_the_handler_still_reads_their_chunks() {
    let mut rig = Rig::new(None);
    for n in 0..=QUEUE_CHUNKS as u64 {
        rig.data(n, &n.to_string());
    }
    assert_eq!(rig.answers().len(), QUEUE_CHUNKS, "the last one is held");
    rig.abort(QUEUE_CHUNKS as u64 + 1);
    let held = format!("{QUEUE_CHUNKS}:{QUEUE_CHUNKS}");
    assert_eq!(
        rig.answers(),
        vec![
            told(&format!("{}:abort", QUEUE_CHUNKS + 1), null_said()),
            told(&held, null_said()),
        ]
    );
    let read = rig.read_all();
    assert_eq!(read.len(), QUEUE_CHUNKS + 2);
    assert!(matches!(read.last(), Some(Err(StreamError::Aborted(_)))));
    assert!(rig.answers().is_empty(), "no answer is given twice");
}

#[test]
fn a_chunk_past_max_bytes_is_answered_first_and_breaks_the_stream() {
    let mut rig = Rig::new(Some(3));
    rig.data(1, "bb");
    rig.data(0, "aa");
    assert_eq!(rig.variant(), "broken");
    // Chunk 1 passed the limit when chunk 0 let it in: its refusal comes first.
    assert_eq!(
        rig.answers(),
        vec![
            told("1:bb", Err(ErrorCode::TooLarge)),
            told("0:aa", null_said()),
        ]
    );
    assert_eq!(
        rig.read_all(),
        vec![ok("aa"), Err(StreamError::TooLarge(3))]
    );
    assert_eq!(rig.page_bytes(), 0, "the chunk past the limit is not kept");
}

#[test]
fn max_bytes_exactly_is_within_the_limit() {
    let mut rig = Rig::new(Some(3));
    rig.data(0, "abc");
    assert_eq!(rig.variant(), "open");
    assert_eq!(rig.answers(), vec![told("0:abc", null_said())]);
}

#[test]
fn a_data_chunk_past_the_page_budget_breaks_the_stream_before_it_is_kept() {
    let mut rig = Rig::new(None);
    rig.budget = 5;
    rig.data(0, "abc");
    rig.data(2, "zz");
    rig.answers();
    assert_eq!(rig.page_bytes(), 5, "exactly the budget");
    rig.data(1, "de");
    assert_eq!(rig.variant(), "broken");
    assert_eq!(
        rig.answers(),
        vec![
            told("1:de", Err(ErrorCode::TooLarge)),
            told("2:zz", Err(ErrorCode::StreamClosed)),
        ]
    );
    assert_eq!(
        rig.page_bytes(),
        3,
        "only what the handler will read is counted"
    );
    assert_eq!(
        rig.read_all(),
        vec![ok("abc"), Err(StreamError::TooLarge(5))]
    );
}

#[test]
fn a_chunk_past_the_waiting_bound_is_refused_and_changes_nothing() {
    let mut rig = Rig::new(None);
    for n in 0..MAX_WAITING as u64 {
        rig.data(n, "x");
    }
    assert_eq!(rig.answers().len(), QUEUE_CHUNKS, "the rest are held");
    let next = MAX_WAITING as u64;
    rig.data(next, "one too many");
    assert_eq!(rig.variant(), "open");
    assert!(!rig.woke);
    assert_eq!(
        rig.answers(),
        vec![told(
            &format!("{next}:one too many"),
            Err(ErrorCode::BadRequest)
        )]
    );
    // Its number stays free: once the handler takes one, it is taken.
    assert_eq!(rig.read_one(), ok("x"));
    rig.answers();
    rig.data(next, "now");
    assert_eq!(rig.variant(), "open");
    assert_eq!(rig.answers(), Vec::new(), "queued, its answer held");
}
