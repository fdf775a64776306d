//! The handlers a run registers: one that records, for every command, event and stream
//! the allowlist allows, and the canary's own, which count. What they saw is judged after
//! the run on the Rust side ([`super::expect`], [`super::grants`], the generated attacks'
//! rule that every call is refused), never from what the page claims.
//!
//! - A command's handler takes the body and every channel its arguments carry (a
//!   `Channel` argument is attached only when a handler takes it), sends one message on
//!   each and lets it end, so a page's legitimate channel is seen working.
//! - A stream's handler takes its `Upload` and reads it to the end, counting the bytes
//!   it was handed: a stream that delivered more than its rule's `maxBytes` is a breach
//!   whatever the page did.
//! - The canary as a command, an event or a stream counts a run of the canary the moment
//!   its handler (or listener) starts: a stream open the gate admitted is a breach even if
//!   no chunk ever follows.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use portcullis_core::Message;
use portcullis_core::router::CallError;
use portcullis_core::router::{FromCall, Parts, RESERVED_PREFIX, extract::Needs};
use portcullis_core::stream::Upload;
use portcullis_core::{Body, Caller, Channel, Config, ErrorCode, Router};
use serde_json::{Value, json};

use super::CANARY;
use super::expect::{Admitted, Kind};

/// What the handlers of one run saw.
#[derive(Clone, Default)]
pub struct Record {
    /// Every call the gate admitted that reached a handler or listener, the canary's too.
    pub admitted: Arc<Mutex<Vec<Admitted>>>,
    /// How often a canary handler or listener started.
    pub canary: Arc<AtomicUsize>,
}

impl Record {
    /// Appends `call`; returns its place, for a stream's handler to update its bytes.
    fn push(&self, call: Admitted) -> usize {
        match self.admitted.lock() {
            Ok(mut log) => {
                log.push(call);
                log.len() - 1
            }
            Err(_) => usize::MAX,
        }
    }

    fn set_bytes(&self, at: usize, bytes: u64) {
        if let Ok(mut log) = self.admitted.lock()
            && let Some(call) = log.get_mut(at)
        {
            call.bytes = Some(bytes);
        }
    }

    /// The calls recorded so far.
    pub fn calls(&self) -> Vec<Admitted> {
        self.admitted.lock().map(|a| a.clone()).unwrap_or_default()
    }
}

/// Every channel the call's arguments carry (none is fine): the recording handlers take
/// whatever the page passed, where `Channel` alone would refuse a call without one.
struct Channels(Vec<Channel>);

impl FromCall for Channels {
    fn from_call(parts: &mut Parts) -> Result<Self, CallError> {
        let mut taken = Vec::new();
        loop {
            match <Channel>::from_call(parts) {
                Ok(channel) => taken.push(channel),
                // `Channel` says "pass a Channel" once the arguments have no more.
                Err(e) if e.code == ErrorCode::InvalidArgs => return Ok(Channels(taken)),
                Err(e) => return Err(e),
            }
        }
    }

    fn declare(needs: &mut Needs) {
        <Channel>::declare(needs);
    }
}

/// The message a recording handler sends on each channel it took.
fn greet(channels: &[Channel]) {
    for channel in channels {
        // Never waits: the page may not pull at all.
        let _ = channel.try_send(
            Message::json(&json!("portcullis audit"))
                .unwrap_or_else(|_| Message::from(b"portcullis audit".to_vec())),
        );
    }
}

fn args_of(body: &Body) -> Option<Value> {
    match body {
        Body::Json(text) => Some(text.value()),
        Body::Bytes(_) => None,
    }
}

fn admitted(kind: Kind, name: &str, args: Option<Value>, caller: &Caller) -> Admitted {
    Admitted {
        kind,
        name: name.to_owned(),
        args,
        webview: caller.webview.to_string(),
        origin: Some((*caller.origin).clone()),
        at: Instant::now(),
        bytes: None,
        channels: 0,
    }
}

/// The allowed names of `kind` in `config`, sorted, each once (the canary and
/// Portcullis's own names left out: they have their own handlers).
fn allowed(config: &Config, kind: Kind) -> Vec<String> {
    let names: BTreeSet<&String> = config
        .app
        .security
        .capabilities
        .iter()
        .flat_map(|cap| match kind {
            Kind::Event => &cap.events.allow,
            Kind::Stream => &cap.streams.allow,
            _ => &cap.commands.allow,
        })
        .map(|rule| &rule.name)
        .filter(|n| *n != CANARY && !n.starts_with(RESERVED_PREFIX))
        .collect();
    names.into_iter().cloned().collect()
}

/// A router with a recording handler for every command, event and stream `config`
/// allows, and the canary's handlers as a command, an event and a stream.
pub fn router(config: &Config, record: &Record) -> Router {
    let mut router = Router::new();
    for name in &allowed(config, Kind::Command) {
        let (record, recorded) = (record.clone(), name.clone());
        router = router.command(
            name,
            move |caller: Caller, body: Body, Channels(channels): Channels| {
                let mut call = admitted(Kind::Command, &recorded, args_of(&body), &caller);
                call.channels = channels.len();
                record.push(call);
                greet(&channels);
            },
        );
    }
    for name in &allowed(config, Kind::Event) {
        let (record, recorded) = (record.clone(), name.clone());
        router = router.on_event(name, move |caller: &Caller, payload: Value| {
            record.push(admitted(Kind::Event, &recorded, Some(payload), caller));
        });
    }
    for name in &allowed(config, Kind::Stream) {
        let (record, recorded) = (record.clone(), name.clone());
        router = router.stream(name, move |caller: Caller, body: Body, upload: Upload| {
            let at = record.push(admitted(Kind::Stream, &recorded, args_of(&body), &caller));
            read(record.clone(), at, upload)
        });
    }
    let (commands, events, streams) = (record.clone(), record.clone(), record.clone());
    router
        .command(
            CANARY,
            move |caller: Caller, body: Body, Channels(channels): Channels| {
                commands.canary.fetch_add(1, Ordering::SeqCst);
                let mut call = admitted(Kind::Command, CANARY, args_of(&body), &caller);
                call.channels = channels.len();
                commands.push(call);
                greet(&channels);
                "the canary ran"
            },
        )
        .on_event(CANARY, move |caller: &Caller, payload: Value| {
            events.canary.fetch_add(1, Ordering::SeqCst);
            events.push(admitted(Kind::Event, CANARY, Some(payload), caller));
        })
        .stream(CANARY, move |caller: Caller, body: Body, upload: Upload| {
            streams.canary.fetch_add(1, Ordering::SeqCst);
            let at = streams.push(admitted(Kind::Stream, CANARY, args_of(&body), &caller));
            read(streams.clone(), at, upload)
        })
}

/// Reads a stream to its end, recording the bytes taken after each chunk (so a stream
/// that never ends is judged on what it delivered); its answer is the count.
async fn read(record: Record, at: usize, mut upload: Upload) -> Value {
    record.set_bytes(at, 0);
    while let Some(chunk) = upload.next().await {
        if chunk.is_err() {
            break;
        }
        record.set_bytes(at, upload.received());
    }
    json!({ "bytes": upload.received() })
}

/// The largest `maxBytes` the streams rules named `name` give (`None`: some rule gives
/// none, so no limit to judge).
pub fn max_bytes(config: &Config, name: &str) -> Option<u64> {
    let mut most = None;
    for rule in config
        .app
        .security
        .capabilities
        .iter()
        .flat_map(|c| c.streams.allow.iter())
        .filter(|r| r.name == name)
    {
        let limit = rule.max_bytes?;
        most = Some(most.map_or(limit, |m: u64| m.max(limit)));
    }
    most
}

/// Streams whose handler was handed more bytes than any rule of theirs allows: each a
/// breach (the core must stop a stream at its `maxBytes`).
pub fn past_their_limit(config: &Config, calls: &[Admitted]) -> Vec<String> {
    calls
        .iter()
        .filter(|c| c.kind == Kind::Stream)
        .filter_map(|c| {
            let (bytes, limit) = (c.bytes?, max_bytes(config, &c.name)?);
            (bytes > limit).then(|| {
                format!(
                    "stream {:?}'s handler was handed {bytes} bytes, past its rule's maxBytes {limit}",
                    c.name
                )
            })
        })
        .collect()
}

/// What was admitted, for the report: `KIND NAME` (`+channel` when it took channels),
/// then `extra` (admissions no handler took), each once, with `×N` when it was admitted N
/// times, in the order first seen.
pub fn summary(calls: &[Admitted], extra: &[String]) -> Vec<String> {
    let mut seen: Vec<(String, usize)> = Vec::new();
    let named = calls.iter().map(|call| {
        let mut what = format!("{} {}", call.kind.as_str(), call.name);
        if call.channels > 0 {
            what.push_str(" +channel");
        }
        what
    });
    for what in named.chain(extra.iter().cloned()) {
        match seen.iter_mut().find(|(w, _)| *w == what) {
            Some((_, n)) => *n += 1,
            None => seen.push((what, 1)),
        }
    }
    seen.into_iter()
        .map(|(what, n)| if n > 1 { format!("{what} ×{n}") } else { what })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(streams: Value) -> Config {
        Config::from_json(
            &json!({"app": {"security": {
                "pattern": {"use": "brownfield"},
                "capabilities": [{
                    "identifier": "a", "windows": ["main"], "origins": ["app://localhost"],
                    "commands": {"allow": ["notes.list", CANARY, "portcullis:grants"]},
                    "streams": streams
                }]
            }}})
            .to_string(),
        )
        .unwrap()
    }

    fn stream(name: &str, bytes: u64) -> Admitted {
        Admitted {
            kind: Kind::Stream,
            name: name.to_owned(),
            args: None,
            webview: "main".into(),
            origin: None,
            at: Instant::now(),
            bytes: Some(bytes),
            channels: 0,
        }
    }

    #[test]
    fn the_canary_and_portcullis_names_get_no_recording_handler() {
        let c = config(json!({"allow": ["up.file"]}));
        assert_eq!(allowed(&c, Kind::Command), ["notes.list"]);
        assert_eq!(allowed(&c, Kind::Stream), ["up.file"]);
        assert!(allowed(&c, Kind::Event).is_empty());
        assert!(
            router(&config(json!({})), &Record::default())
                .check()
                .is_ok()
        );
    }

    #[test]
    fn a_stream_past_its_max_bytes_is_a_breach_at_the_limit_it_is_not() {
        let c = config(json!({"allow": [{"name": "up.file", "maxBytes": 10}, "up.any"]}));
        assert_eq!(past_their_limit(&c, &[stream("up.file", 10)]).len(), 0);
        assert_eq!(past_their_limit(&c, &[stream("up.file", 11)]).len(), 1);
        // No maxBytes: nothing to judge.
        assert!(past_their_limit(&c, &[stream("up.any", 1 << 40)]).is_empty());
    }

    #[test]
    fn the_summary_names_each_admission_once_with_a_count() {
        let mut a = stream("up.file", 1);
        a.kind = Kind::Command;
        let calls = [stream("up.file", 1), a.clone(), stream("up.file", 2)];
        let extra = [
            "stream x (no handler)".to_owned(),
            "stream x (no handler)".to_owned(),
        ];
        assert_eq!(
            summary(&calls, &extra),
            [
                "stream up.file ×2",
                "command up.file",
                "stream x (no handler) ×2"
            ]
        );
    }
}
