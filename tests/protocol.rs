//! docs/PROTOCOL.md agrees with the code: every row of its "Limits and constants" table
//! (§13) is the value the code uses, and every constant the code bounds a page with has
//! a row.

use std::collections::BTreeMap;
use std::path::Path;

use portcullis::channel;
use portcullis::config::Limits;
use portcullis::envelope::{CHUNK_HEADER_LEN, HEADER_LEN};
use portcullis::stream;

/// The code's value of every name the table must have.
fn code() -> BTreeMap<&'static str, u64> {
    let limits = Limits::default();
    let n = |v: usize| v as u64;
    BTreeMap::from([
        ("HEADER_LEN", n(HEADER_LEN)),
        ("CHUNK_HEADER_LEN", n(CHUNK_HEADER_LEN)),
        ("STREAM_WINDOW", portcullis::wire::constants::STREAM_WINDOW),
        ("QUEUE_CHUNKS", n(stream::QUEUE_CHUNKS)),
        ("MAX_STREAMS", n(stream::MAX_STREAMS)),
        ("MAX_REASON", n(portcullis::wire::chunk::MAX_REASON)),
        (
            "maxBufferedStreamBytes",
            n(limits.max_buffered_stream_bytes),
        ),
        ("MAX_CHANNELS", n(channel::MAX_CHANNELS)),
        ("CHANNEL_QUEUE_MESSAGES", n(channel::QUEUE_MESSAGES)),
        ("CHANNEL_QUEUE_BYTES", n(channel::QUEUE_BYTES)),
        ("CHANNEL_MAX_MESSAGE", n(channel::MAX_MESSAGE)),
        ("PULL_BYTES", n(channel::PULL_BYTES)),
        ("maxMessageBytes", n(limits.max_message_bytes)),
        ("maxDepth", u64::from(limits.max_depth)),
        ("replayWindow", u64::from(limits.replay_window)),
        ("hookTimeoutMs", u64::from(limits.hook_timeout_ms)),
        ("callTimeoutMs", u64::from(limits.call_timeout_ms)),
    ])
}

/// The table's rows: name → value.
fn documented() -> BTreeMap<String, u64> {
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/PROTOCOL.md"
    ));
    let text = std::fs::read_to_string(path).unwrap();
    let section = text
        .split("\n## ")
        .find(|s| s.starts_with("13. Limits and constants"))
        .expect("PROTOCOL.md has its §13, Limits and constants");
    let mut rows = BTreeMap::new();
    for line in section.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let name = cells[1].trim_matches('`').to_owned();
        let value: u64 = cells[2]
            .parse()
            .unwrap_or_else(|_| panic!("{name}: {:?} is not a number", cells[2]));
        assert!(rows.insert(name.clone(), value).is_none(), "{name} twice");
    }
    rows
}

#[test]
fn the_limits_table_is_the_codes() {
    let code = code();
    let documented = documented();
    for (name, value) in &code {
        assert_eq!(
            documented.get(*name),
            Some(value),
            "PROTOCOL.md §13 gives {name} as {:?}, the code {value}",
            documented.get(*name)
        );
    }
    for name in documented.keys() {
        assert!(
            code.contains_key(name.as_str()),
            "PROTOCOL.md §13 lists {name}, which this test does not know"
        );
    }
}

#[test]
fn the_prose_says_no_other_figure_for_them() {
    // The figures the prose once had wrong (#30): a stale one would slip in here first.
    let path = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/PROTOCOL.md"
    ));
    let text = std::fs::read_to_string(path).unwrap();
    for stale in [
        "256\nchannels",
        "256 channels",
        "has 4 chunks it has not taken",
        "is its next number",
    ] {
        assert!(!text.contains(stale), "PROTOCOL.md still says {stale:?}");
    }
}
