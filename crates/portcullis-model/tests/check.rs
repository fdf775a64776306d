//! The model check in the test command: every property of `properties::all` holds for
//! the calls model and the streams model at their bounds (`docs/MODEL.md`).
//!
//! `PORTCULLIS_MODEL_DEPTH=n` checks the models `n` steps deeper
//! (`scripts/model-check.sh`); `PORTCULLIS_MODEL_SHORTEST=1` looks for a counterexample
//! depth by depth, so that the one printed is a shortest (how `docs/MODEL.md`'s
//! mutation lengths were measured).

use std::time::Instant;

use portcullis_model::{Bounds, Protocol};
use stateright::{Checker, HasDiscoveries, Model};

fn env(name: &str) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

/// Explores the model at `bounds`, no deeper than `depth` actions if given, and stops at
/// the first failure.
fn explore(bounds: Bounds, depth: Option<usize>) -> impl Checker<Protocol> {
    let threads = std::thread::available_parallelism().map_or(1, usize::from);
    let builder = Protocol { bounds }
        .checker()
        .threads(threads)
        .finish_when(HasDiscoveries::AnyFailures);
    // The checker counts the initial state as depth 1 and skips a state at the target.
    let builder = match depth {
        Some(d) => builder.target_max_depth(d + 2),
        None => builder,
    };
    builder.spawn_bfs().join()
}

/// Checks the model at `bounds`, prints each discovery's actions and length, and
/// returns how many distinct states it explored.
fn check(name: &str, bounds: Bounds) -> usize {
    let bounds = bounds.deeper(u8::try_from(env("PORTCULLIS_MODEL_DEPTH")).unwrap_or(u8::MAX));
    let started = Instant::now();
    let mut checker = explore(bounds, None);
    if env("PORTCULLIS_MODEL_SHORTEST") == 1 && checker.discovery_failed() {
        // No path shorter than the first depth with a failure fails.
        for depth in 1..=checker.max_depth() {
            checker = explore(bounds, Some(depth));
            if checker.discovery_failed() {
                break;
            }
        }
    }
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

/// Whether an `always` or `eventually` property has a counterexample.
trait Failed {
    fn discovery_failed(&self) -> bool;
}

impl<C: Checker<Protocol>> Failed for C {
    fn discovery_failed(&self) -> bool {
        let model = self.model();
        model
            .properties()
            .iter()
            .filter(|p| p.expectation.discovery_is_failure())
            .any(|p| self.discovery(p.name).is_some())
    }
}

/// Calls, cancels and the run-time grant (the count is asserted so that a change of the
/// model that shrinks it is seen; `docs/MODEL.md` has the figure).
#[test]
fn calls_cancels_and_grants_hold_their_properties() {
    let states = check("calls", Bounds::calls());
    if env("PORTCULLIS_MODEL_DEPTH") == 0 {
        assert_eq!(states, 30_621);
    }
}

/// Streams: the opener's bytes, the page's budget, chunks of ended page loads.
#[test]
fn streams_hold_their_properties() {
    let states = check("streams", Bounds::streams());
    if env("PORTCULLIS_MODEL_DEPTH") == 0 {
        assert_eq!(states, 20_444);
    }
}
