//! The model check in the test command: every property of `properties::all` holds for
//! the calls model and the streams model at their bounds (`docs/MODEL.md`).

use std::time::Instant;

use portcullis_model::{Bounds, Protocol};
use stateright::{Checker, HasDiscoveries, Model};

/// Checks the model at `bounds` on every core, prints each counterexample's actions and
/// length, and returns how many distinct states it explored.
fn check(name: &str, bounds: Bounds) -> usize {
    let started = Instant::now();
    // One thread explores in breadth-first order, so a counterexample is a shortest one.
    let threads = std::env::var("PORTCULLIS_MODEL_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from));
    let deeper = std::env::var("PORTCULLIS_MODEL_DEPTH")
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(0);
    let checker = Protocol {
        bounds: bounds.deeper(deeper),
    }
    .checker()
    .threads(threads)
    .finish_when(HasDiscoveries::AnyFailures)
    .spawn_bfs()
    .join();
    let states = checker.unique_state_count();
    println!(
        "{name}: {states} states ({} generated), depth {}, {:.1?}",
        checker.state_count(),
        checker.max_depth(),
        started.elapsed()
    );
    for (property, path) in checker.discoveries() {
        let actions = path.into_actions();
        println!("{property}: {} steps: {actions:?}", actions.len());
    }
    checker.assert_properties();
    states
}

#[test]
fn calls_cancels_and_grants_hold_their_properties() {
    assert!(check("calls", Bounds::calls()) > 1000);
}

#[test]
fn streams_hold_their_properties() {
    assert!(check("streams", Bounds::streams()) > 1000);
}
