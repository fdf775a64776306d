//! Fuzzes the gate with arbitrary bytes and attested facts. The first byte picks how the
//! input is delivered: raw, as the body of a valid binary envelope of a live session
//! (so the fuzzer reaches decryption), or through a brownfield gate (plaintext decoding
//! and policy). Any panic is a bug; so is admitting a message nobody sealed.
#![no_main]

use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use portcullis_core::{Attested, Config, Gate, Origin, ScopeVars};

const CONFIG: &str = r#"{"app":{"security":{"pattern":{"use":"isolation","options":{"dir":"i"}},
  "capabilities":[{"identifier":"c","windows":["main","w-*"],"origins":["app://localhost"],
    "commands":{"allow":["a",{"name":"b","schema":{"type":"object","properties":{"x":{"type":"integer"}}}},
      {"name":"f","schema":{"type":"object","required":["p"],"properties":{"p":{"type":"string"}}},"paths":{"/p":"s"}}],"deny":["d*"]},
    "events":{"allow":["e"]},"scopes":{"s":{"allow":["/tmp/portcullis-fuzz/**"]}}}],
  "limits":{"maxMessageBytes":65536,"maxDepth":16,"replayWindow":64}}}}"#;

struct World {
    sealed: Gate,
    clear: Gate,
    sid: portcullis_core::SessionId,
}

fn world() -> &'static World {
    static WORLD: OnceLock<World> = OnceLock::new();
    WORLD.get_or_init(|| {
        let config = Config::from_json(CONFIG).expect("fuzz config is valid");
        let sealed = Gate::new(&config, &ScopeVars::new()).expect("compiles");
        let grant = sealed
            .begin_page_load("main", Origin::parse("app://localhost").expect("origin"))
            .expect("session");
        let sid = grant.session();
        let clear_config = Config::from_json(&CONFIG.replace(
            r#"{"use":"isolation","options":{"dir":"i"}}"#,
            r#"{"use":"brownfield"}"#,
        ))
        .expect("brownfield config is valid");
        let clear = Gate::new(&clear_config, &ScopeVars::new()).expect("compiles");
        World { sealed, clear, sid }
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let w = world();
    let origin = Origin::parse("app://localhost").expect("origin");
    let facts = Attested {
        webview: "main",
        origin: &origin,
    };
    match mode % 3 {
        0 => {
            let _ = w.sealed.admit(rest, facts);
        }
        1 => {
            // A well-formed header of the live session with fuzzed ciphertext: must never
            // be admitted (the fuzzer has no key).
            let seq = u64::from(rest.len() as u32) + 1;
            let mut body = portcullis_core::envelope::header(&w.sid, seq).to_vec();
            body.extend_from_slice(rest);
            assert!(
                w.sealed.admit(&body, facts).is_err(),
                "a message nobody sealed was admitted"
            );
        }
        _ => {
            let _ = w.clear.admit(rest, facts);
        }
    }
});
