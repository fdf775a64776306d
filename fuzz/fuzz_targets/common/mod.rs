//! What the stream, pull and cancel targets share: one app config (commands, a channel
//! command and streams), page loads with the sealer their isolation frame would hold, a
//! reader that turns the fuzz input into choices, the record of everything the harness
//! sealed (so "admitted" can be checked against "sealed"), and a non-blocking poll.
//!
//! The targets keep one gate and one router for the whole run (building them per input
//! would cost more than the input), and start every input on fresh page loads: the
//! previous input's sessions are revoked and its streams, channels and calls closed, so
//! nothing of one input is reachable from the next.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use portcullis_core::envelope::{ChunkAt, Encoding};
use portcullis_core::{Attested, Caller, Config, Gate, Origin, ScopeVars, Sealer, SessionId};

pub const APP: &str = "app://localhost";

/// The two webviews every input drives. A third label (no session ever) is used as a
/// stranger delivering messages or pulling.
pub const LABELS: [&str; 2] = ["main", "second"];
pub const STRANGER: &str = "w-stranger";

pub const CONFIG: &str = r#"{"app":{"security":{"pattern":{"use":"isolation","options":{"dir":"i"}},
  "capabilities":[{"identifier":"c","windows":["main","second","w-*"],"origins":["app://localhost"],
    "commands":{"allow":["work","tick","ticks"]},
    "streams":{"allow":["up",{"name":"capped","maxBytes":64},
      {"name":"meta","schema":{"type":"object","required":["name"],"additionalProperties":false,
        "properties":{"name":{"type":"string"}}}},"denied"],"deny":["denied"]}}],
  "limits":{"maxMessageBytes":65536,"maxDepth":16,"replayWindow":64}}}}"#;

pub fn config() -> Config {
    Config::from_json(CONFIG).expect("the fuzz config is valid")
}

/// The same app in brownfield mode (messages in clear).
pub fn clear_config() -> Config {
    Config::from_json(&CONFIG.replace(
        r#"{"use":"isolation","options":{"dir":"i"}}"#,
        r#"{"use":"brownfield"}"#,
    ))
    .expect("the brownfield fuzz config is valid")
}

pub fn gate(config: &Config) -> Gate {
    Gate::new(config, &ScopeVars::new()).expect("the fuzz config compiles")
}

pub fn origin() -> &'static Origin {
    static ORIGIN: std::sync::OnceLock<Origin> = std::sync::OnceLock::new();
    ORIGIN.get_or_init(|| Origin::parse(APP).expect("origin"))
}

pub fn facts(label: &str) -> Attested<'_> {
    Attested {
        webview: label,
        origin: origin(),
    }
}

/// One page load of a webview: its session and the sealer its isolation frame holds.
/// Page loads that were replaced stay in the list (their sealers seal stale messages).
pub struct Page {
    pub label: &'static str,
    pub session: SessionId,
    pub sealer: Sealer,
}

impl Page {
    pub fn begin(gate: &Gate, label: &'static str) -> Page {
        let grant = gate
            .begin_page_load(label, origin().clone())
            .expect("a page load starts");
        let session = grant.session();
        Page {
            label,
            session,
            sealer: grant.into_sealer(),
        }
    }
}

/// The fuzz input as a stream of choices; once it runs out every choice is 0.
pub struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { data }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn u8(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    pub fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    pub fn u64(&mut self) -> u64 {
        let mut w = [0u8; 8];
        for b in &mut w {
            *b = self.u8();
        }
        u64::from_be_bytes(w)
    }

    /// Up to `max` bytes (the length is a choice too).
    pub fn bytes(&mut self, max: usize) -> &'a [u8] {
        let want = usize::from(self.u16()) % (max + 1);
        let n = want.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }

    /// An index below `len` (`len` > 0).
    pub fn index(&mut self, len: usize) -> usize {
        usize::from(self.u8()) % len
    }
}

/// What the harness sealed at one (session, sequence number).
#[derive(Clone, Debug)]
pub enum Sealed {
    /// A request: kind byte, request id, name (or a cancel: kind 4).
    Request { kind: u8, id: u64, name: String },
    /// Arbitrary plaintext sealed as a request.
    Plain(Vec<u8>),
    /// A stream chunk at `at`; a data chunk carries tag `tag`.
    Chunk { at: ChunkAt, tag: Option<u64> },
}

/// Everything sealed, and every (session, seq) the gate admitted.
#[derive(Default)]
pub struct Record {
    pub sealed: HashMap<(SessionId, u64), (&'static str, Sealed)>,
    pub admitted: HashSet<(SessionId, u64)>,
    next_tag: u64,
}

impl Record {
    pub fn clear(&mut self) {
        self.sealed.clear();
        self.admitted.clear();
    }

    /// A tag no other message of this run carries.
    pub fn tag(&mut self) -> u64 {
        self.next_tag += 1;
        self.next_tag
    }

    /// Seals `plaintext` as a request of `page`, recording it as `what`.
    pub fn seal(
        &mut self,
        page: &mut Page,
        plaintext: &[u8],
        enc: Encoding,
        what: Sealed,
    ) -> Vec<u8> {
        let seq = page.sealer.next_seq();
        let sealed = page
            .sealer
            .seal(plaintext, enc)
            .expect("a live sealer seals");
        self.sealed.insert((page.session, seq), (page.label, what));
        sealed
    }

    /// Seals a chunk of `page`.
    pub fn seal_chunk(
        &mut self,
        page: &mut Page,
        at: ChunkAt,
        plaintext: &[u8],
        tag: Option<u64>,
    ) -> Vec<u8> {
        let seq = page.sealer.next_seq();
        let sealed = page
            .sealer
            .seal_chunk(at, plaintext)
            .expect("a live sealer seals");
        self.sealed
            .insert((page.session, seq), (page.label, Sealed::Chunk { at, tag }));
        sealed
    }

    /// The gate admitted something from `caller`, delivered as from `attested`: it must
    /// be what the harness sealed at that session and sequence number, for that webview,
    /// admitted once. Returns what was sealed.
    pub fn check_admitted(&mut self, caller: &Caller, attested: &str) -> Sealed {
        let session = caller
            .session
            .expect("an isolation gate admitted a message without a session");
        assert_eq!(
            &*caller.webview, attested,
            "admitted for another webview than the one it arrived from"
        );
        let Some((label, what)) = self.sealed.get(&(session, caller.seq)) else {
            panic!(
                "admitted a message nobody sealed: session {session:?} seq {}",
                caller.seq
            );
        };
        assert_eq!(
            *label, attested,
            "admitted a message sealed for another webview"
        );
        assert!(
            self.admitted.insert((session, caller.seq)),
            "admitted the same sealed message twice (replay): seq {}",
            caller.seq
        );
        what.clone()
    }
}

/// Polls `fut` once without a runtime: its value if it is ready now.
pub fn poll_once<F: Future>(fut: F) -> Option<F::Output> {
    let mut fut = pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    match fut.as_mut().poll(&mut cx) {
        Poll::Ready(v) => Some(v),
        Poll::Pending => None,
    }
}

/// Flips, overwrites or cuts `bytes` as the input says: a replayed or reworked envelope.
pub fn mutate(inp: &mut Input<'_>, bytes: &mut Vec<u8>) {
    if bytes.is_empty() {
        return;
    }
    match inp.u8() % 6 {
        0 => {
            let at = usize::from(inp.u16()) % bytes.len();
            bytes[at] ^= inp.u8() | 1;
        }
        1 => {
            // A field of the header: flags (3), session (4..20), seq (20..28), nonce
            // (28..40), stream (40..48), number (48..56).
            let at = [3usize, 4, 20, 27, 28, 40, 47, 48, 55][inp.index(9)];
            if at < bytes.len() {
                bytes[at] = inp.u8();
            }
        }
        2 => {
            let keep = usize::from(inp.u16()) % bytes.len();
            bytes.truncate(keep);
        }
        3 => {
            let more = inp.bytes(64);
            bytes.extend_from_slice(more);
        }
        4 => {
            // The last byte of the tag.
            let last = bytes.len() - 1;
            bytes[last] ^= 0x80;
        }
        _ => {
            // Stream and number rewritten to other values (a splice).
            if bytes.len() >= 56 {
                let stream = inp.u64();
                bytes[40..48].copy_from_slice(&stream.to_be_bytes());
                let number = inp.u64();
                bytes[48..56].copy_from_slice(&number.to_be_bytes());
            }
        }
    }
}
