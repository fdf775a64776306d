//! Known-answer vectors: the wire format against `fixtures/vectors/wire-v1.json` (see
//! docs/PROTOCOL.md §11). The published AES-256-GCM vectors, whose nonces are arbitrary
//! bytes no code outside the core can make, are checked beside the backends
//! (`portcullis-core`, `aead::tests`).

use portcullis::Sealer;
use portcullis::aead::all_backends;
use portcullis::envelope::{Encoding, Sealed, SessionId, aad, nonce_for};
use portcullis::request::{Body, Request};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/fixtures/vectors/{name}",
        concat!(env!("CARGO_MANIFEST_DIR"), "/../..")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn hex(v: &Value) -> Vec<u8> {
    hex::decode(v.as_str().unwrap()).unwrap()
}

fn array<const N: usize>(v: &Value) -> [u8; N] {
    hex(v).try_into().unwrap()
}

#[test]
fn wire_v1_vectors_are_reproduced_by_every_backend() {
    let doc = fixture("wire-v1.json");
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 5);
    for backend in all_backends() {
        for case in cases {
            let sid = SessionId(array(&case["sid"]));
            let seq = case["seq"].as_u64().unwrap();
            let label = case["label"].as_str().unwrap();
            let plaintext = hex(&case["plaintext"]);
            let sealer = || {
                Sealer::new(backend.sealing_key(&array(&case["key"])), sid, label)
                    .unwrap()
                    .starting_at(seq)
            };
            let name = case["name"].as_str().unwrap();

            assert_eq!(
                nonce_for(seq).as_bytes().to_vec(),
                hex(&case["nonce"]),
                "{name}"
            );
            assert_eq!(aad(&sid, seq, label).unwrap(), hex(&case["aad"]), "{name}");
            assert_eq!(
                sealer().seal(&plaintext, Encoding::Binary).unwrap(),
                hex(&case["binary"]),
                "{name}"
            );
            assert_eq!(
                String::from_utf8(sealer().seal(&plaintext, Encoding::Json).unwrap()).unwrap(),
                case["json"].as_str().unwrap(),
                "{name}"
            );
        }
    }
}

#[test]
fn wire_v1_vectors_decode_open_and_parse_to_the_stated_request() {
    let doc = fixture("wire-v1.json");
    for case in doc["cases"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let key = portcullis::aead::default_backend().opening_key(&array(&case["key"]));
        let label = case["label"].as_str().unwrap();
        let encodings = [
            hex(&case["binary"]),
            case["json"].as_str().unwrap().as_bytes().to_vec(),
        ];
        for bytes in encodings {
            let sealed = Sealed::decode(&bytes, 1 << 20).unwrap();
            assert_eq!(sealed.session.0.to_vec(), hex(&case["sid"]), "{name}");
            assert_eq!(sealed.seq, case["seq"].as_u64().unwrap(), "{name}");
            let aad = sealed.aad(label).unwrap();
            // Re-seal the decoded body's plaintext through the public API to open it.
            let mut body = match sealed.encoding {
                Encoding::Binary => bytes[40..].to_vec(),
                Encoding::Json => {
                    use base64::Engine as _;
                    let v: Value = serde_json::from_slice(&bytes).unwrap();
                    base64::engine::general_purpose::STANDARD
                        .decode(v["ct"].as_str().unwrap())
                        .unwrap()
                }
            };
            let plain = key
                .open_in_place(nonce_for(sealed.seq), &aad, &mut body)
                .unwrap()
                .to_vec();
            assert_eq!(plain, hex(&case["plaintext"]), "{name}");

            let request = Request::decode(plain, 32).unwrap();
            let stated = &case["request"];
            assert_eq!(request.kind.as_str(), stated["kind"], "{name}");
            assert_eq!(request.id, stated["id"].as_u64().unwrap(), "{name}");
            assert_eq!(request.name, stated["name"].as_str().unwrap(), "{name}");
            match request.body {
                Body::Json(v) => assert_eq!(v.value(), stated["body"]["json"], "{name}"),
                Body::Bytes(b) => assert_eq!(b.as_slice(), hex(&stated["body"]["bytes"]), "{name}"),
            }
            // The wrong label (another webview) fails authentication.
            let mut again = bytes.clone();
            let wrong = Sealed::decode(&again, 1 << 20)
                .unwrap()
                .aad(&format!("{label}x"))
                .unwrap();
            let body = match sealed.encoding {
                Encoding::Binary => &mut again[40..],
                Encoding::Json => continue,
            };
            assert!(
                key.open_in_place(nonce_for(sealed.seq), &wrong, body)
                    .is_err(),
                "{name}"
            );
        }
    }
}
