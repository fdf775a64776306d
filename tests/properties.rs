//! Property tests of the gate (proptest): round trip, bit flips, replay, cross-session
//! and cross-webview confusion, and no panic on any input.

mod common;

use common::*;
use portcullis::envelope::Encoding;
use portcullis::request::{Body, Kind, Request};
use portcullis::{Config, ErrorCode, Gate, ScopeVars};
use proptest::prelude::*;
use serde_json::Value;

/// A config that allows the names the strategies generate, with no schemas, so that a
/// refusal can only come from the envelope, session or replay steps.
const CONFIG: &str = include_str!("../fixtures/configs/valid/properties.json");

fn open_gate() -> Gate {
    Gate::new(&Config::from_json(CONFIG).unwrap(), &ScopeVars::new()).unwrap()
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        "[a-z0-9 ]{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

#[derive(Debug, Clone)]
struct Req {
    kind: Kind,
    id: u64,
    name: &'static str,
    body: Result<Value, Vec<u8>>,
}

fn request() -> impl Strategy<Value = Req> {
    (
        prop_oneof![Just(Kind::Command), Just(Kind::Event)],
        any::<u64>(),
        prop_oneof![Just("cmd.a"), Just("cmd.b")],
        prop_oneof![
            json_value().prop_map(Ok),
            prop::collection::vec(any::<u8>(), 0..64).prop_map(Err)
        ],
    )
        .prop_map(|(kind, id, name, body)| Req {
            kind,
            id,
            name,
            body,
        })
}

fn plaintext(r: &Req) -> Vec<u8> {
    match &r.body {
        Ok(v) => Request::encode_json(r.kind, r.id, r.name, v),
        Err(b) => Request::encode_bytes(r.kind, r.id, r.name, b),
    }
}

fn encoding() -> impl Strategy<Value = Encoding> {
    prop_oneof![Just(Encoding::Json), Just(Encoding::Binary)]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn sealed_requests_round_trip_through_the_gate(r in request(), enc in encoding()) {
        let gate = open_gate();
        let mut s = page(&gate, "main");
        let admitted = gate.admit(&s.seal(&plaintext(&r), enc).unwrap(), facts("main", &origin())).unwrap();
        let got = admitted.request();
        prop_assert_eq!(got.kind, r.kind);
        prop_assert_eq!(got.id, r.id);
        prop_assert_eq!(got.name.as_str(), r.name);
        match (&got.body, &r.body) {
            (Body::Json(a), Ok(b)) => prop_assert_eq!(&a.value(), b),
            (Body::Bytes(a), Err(b)) => prop_assert_eq!(a.as_slice(), b.as_slice()),
            _ => prop_assert!(false, "body type changed"),
        }
    }

    #[test]
    fn any_single_bit_flip_is_refused(r in request(), enc in encoding(), pick in any::<prop::sample::Index>(), bit in 0u8..8) {
        let gate = open_gate();
        let mut s = page(&gate, "main");
        let mut msg = s.seal(&plaintext(&r), enc).unwrap();
        let i = pick.index(msg.len());
        msg[i] ^= 1 << bit;
        let refusal = gate.admit(&msg, facts("main", &origin()));
        prop_assert!(refusal.is_err(), "flip at byte {} bit {} accepted", i, bit);
        // The original, untouched, still passes: the flip alone made the difference.
        msg[i] ^= 1 << bit;
        prop_assert!(gate.admit(&msg, facts("main", &origin())).is_ok());
    }

    #[test]
    fn any_accepted_message_replayed_is_refused(r in request(), enc in encoding(), before in 0usize..5) {
        let gate = open_gate();
        let mut s = page(&gate, "main");
        for _ in 0..before {
            gate.admit(&s.seal(&plaintext(&r), enc).unwrap(), facts("main", &origin())).unwrap();
        }
        let msg = s.seal(&plaintext(&r), enc).unwrap();
        prop_assert!(gate.admit(&msg, facts("main", &origin())).is_ok());
        let again = gate.admit(&msg, facts("main", &origin())).unwrap_err();
        prop_assert_eq!(again.code, ErrorCode::Replay);
    }

    #[test]
    fn sealed_for_a_is_refused_for_b(r in request(), enc in encoding()) {
        let gate = open_gate();
        let mut a = page(&gate, "a");
        let _b = page(&gate, "b");
        let msg = a.seal(&plaintext(&r), enc).unwrap();
        // Webview B presenting A's message.
        let code = gate.admit(&msg, facts("b", &origin())).unwrap_err().code;
        prop_assert_eq!(code, ErrorCode::WrongWebview);
        // A's message with B's session id pasted in.
        let b_sid = gate.sessions().current("b").unwrap();
        let pasted = match enc {
            Encoding::Binary => { let mut m = msg.clone(); m[4..20].copy_from_slice(&b_sid.0); m }
            Encoding::Json => {
                let a_sid = gate.sessions().current("a").unwrap();
                String::from_utf8(msg.clone()).unwrap().replace(&a_sid.to_base64(), &b_sid.to_base64()).into_bytes()
            }
        };
        let code = gate.admit(&pasted, facts("b", &origin())).unwrap_err().code;
        prop_assert_eq!(code, ErrorCode::Tampered);
        prop_assert!(gate.admit(&msg, facts("a", &origin())).is_ok());
    }

    #[test]
    fn no_byte_string_makes_the_gate_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let gate = open_gate();
        let _s = page(&gate, "main");
        let _ = gate.admit(&bytes, facts("main", &origin()));
        let mut prefixed = b"PC\x01\x00".to_vec();
        prefixed.extend_from_slice(&bytes);
        let _ = gate.admit(&prefixed, facts("main", &origin()));
    }

    #[test]
    fn no_mutation_of_a_valid_envelope_makes_the_gate_panic(
        r in request(), enc in encoding(),
        cut in any::<prop::sample::Index>(),
        splice in prop::collection::vec(any::<u8>(), 0..32),
    ) {
        let gate = open_gate();
        let mut s = page(&gate, "main");
        let msg = s.seal(&plaintext(&r), enc).unwrap();
        let at = cut.index(msg.len() + 1);
        let _ = gate.admit(&msg[..at], facts("main", &origin()));
        let mut m = msg[..at].to_vec();
        m.extend_from_slice(&splice);
        m.extend_from_slice(&msg[at..]);
        let _ = gate.admit(&m, facts("main", &origin()));
    }
}
