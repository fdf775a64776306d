//! Instructions per admitted 200 B message, admit + dispatch, under callgrind: the
//! figure of BENCHMARKS.md ("instruction counts"), measured the same way before and after
//! a change. Run: `bash scripts/callgrind.sh` (it builds this in release mode, runs it
//! twice under `valgrind --tool=callgrind` and prints the figure).
//!
//! `callgrind N [--baseline]`: builds the gate, router, rule and page load of
//! `benches/gate.rs` (`benches/common`: the `notes.add` rule with its JSON Schema, a
//! handler taking `Args<Note>`, the 200 B `json-200B` arguments, on the default AEAD
//! backend), seals `WARM_UP + N` messages in advance, admits and dispatches the first
//! `WARM_UP` (each checked: admitted, and the handler answered `Ok`), then the `N` others
//! the way the bench does (`Gate::admit_owned`, then dispatch, the sync handler run
//! inline). With `--baseline`, it seals the same messages and admits the same warm-up
//! ones, but not the `N`: the difference of the two runs' totals is the cost of `N`
//! admitted messages alone, without the set-up, the sealing or the first messages' lazy
//! work. The unadmitted messages are leaked rather than freed, because in the full run
//! their buffers are freed by the gate, as part of what is measured.
//!
//! Only names at the root of the facade (`Gate`, `Router`, `Sealer`, `Encoding`, ...),
//! so that the same harness runs after a refactor of the core that keeps them.

mod common;

use common::{Ours, config, json_plaintext, note_args};
use portcullis::{Encoding, Gate, ScopeVars};

/// Messages admitted and checked before the measured ones, in both runs.
const WARM_UP: usize = 16;

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: callgrind N [--baseline]";
    let n: usize = args
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("{usage}"));
    let baseline = match args.next().as_deref() {
        None => false,
        Some("--baseline") => true,
        Some(_) => panic!("{usage}"),
    };

    let gate = Gate::new(&config(), &ScopeVars::new()).unwrap();
    let (ours, mut sealer) = Ours::from_gate(gate);
    let plain = json_plaintext(&note_args());
    let sealed: Vec<Vec<u8>> = (0..WARM_UP + n)
        .map(|_| sealer.seal(&plain, Encoding::Binary).unwrap())
        .collect();

    let mut messages = sealed.into_iter();
    for msg in messages.by_ref().take(WARM_UP) {
        let response = ours.call(msg);
        assert!(
            response.result.is_ok(),
            "the handler refused the call: {:?}",
            response.result.err()
        );
    }
    let admitted = if baseline {
        0
    } else {
        let mut count = 0;
        for msg in messages.by_ref() {
            ours.admit_and_dispatch(msg);
            count += 1;
        }
        count
    };
    // What is left (all N with `--baseline`, nothing otherwise) is leaked, as is the
    // iterator's buffer in both runs: see the module's comment.
    std::mem::forget(messages);
    eprintln!(
        "callgrind harness: {} bytes of plaintext, sealed {}, admitted {} + {admitted}",
        plain.len(),
        WARM_UP + n,
        WARM_UP
    );
}
