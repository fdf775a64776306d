//! The allowlist past 64 capabilities. Up to 64, the capabilities that apply to the caller
//! are worked out once per message, a bit each (`evaluate.rs`); past 64 they are matched
//! again in each pass. Both ways must decide alike: each config here is compared, decision
//! by decision, with itself padded past 64 by capabilities that apply to no window (and
//! would deny every name if they did). And the capabilities at index 63 and 64 each admit
//! their own window only.
//!
//! Unit tests only (`#[cfg(test)]` in `policy/mod.rs`): their `unwrap`s run on fixed,
//! valid inputs written here.

use serde_json::{Value, json};

use super::Policy;
use super::tests::{caller, cmd, policy};
use crate::error::ErrorCode;

const WINDOWS: [&str; 3] = ["main", "note-1", "admin"];
/// The last is named by no capability.
const ORIGINS: [&str; 3] = ["app://localhost", "https://example.com", "app://elsewhere"];

/// The admitting capability, or the refusal's code.
type Outcome = Result<String, ErrorCode>;

fn outcome(p: &Policy, window: &str, origin: &str, name: &str) -> Outcome {
    p.admit_for_tests(caller(window, origin), cmd(name, json!({})))
        .map(|a| a.capability().to_owned())
        .map_err(|r| r.code)
}

/// Real capability `i`: windows, origins, grants and denies vary with `i`, so windows and
/// origins each see a different set of capabilities, some run-time ones among them.
fn real(i: usize) -> Value {
    let windows = match i % 3 {
        0 => json!(["main"]),
        1 => json!(["note-*"]),
        _ => json!(["main", "admin"]),
    };
    let origins = if i.is_multiple_of(2) {
        json!(["app://localhost"])
    } else {
        json!(["app://localhost", "https://example.com"])
    };
    let deny = if i % 4 == 3 {
        json!([format!("c.{}", i - 1), "shared.denied"])
    } else {
        json!([])
    };
    json!({
        "identifier": format!("cap-{i}"), "windows": windows, "origins": origins,
        "runtimeGrant": i % 5 == 4,
        "commands": {"allow": [format!("c.{i}"), "shared", "shared.denied"], "deny": deny}
    })
}

/// Padding capability `j`: applies to no window the tests use, and would deny everything.
fn padding(j: usize) -> Value {
    json!({
        "identifier": format!("pad-{j}"), "windows": [format!("nowhere-{j}")],
        "origins": ["app://localhost", "https://example.com"],
        "commands": {"allow": ["shared", format!("pad.{j}")], "deny": ["*"]}
    })
}

/// `real` capabilities, then padding up to `len`, with the same grants: of the run-time
/// capabilities, one in three is granted to every window it covers, one in three granted
/// and revoked, one in three never granted.
fn config(real_caps: usize, len: usize) -> Policy {
    let caps = (0..len)
        .map(|i| if i < real_caps { real(i) } else { padding(i) })
        .collect();
    let p = policy(Value::Array(caps));
    for i in (0..real_caps).filter(|i| i % 5 == 4) {
        let id = format!("cap-{i}");
        for w in WINDOWS {
            if !p.capabilities_for_window(w).contains(&id.as_str()) {
                continue;
            }
            match (i / 5) % 3 {
                0 => p.grants().grant(w, &id).unwrap(),
                1 => {
                    p.grants().grant(w, &id).unwrap();
                    assert_eq!(p.grants().revoke(w, &id), Ok(true));
                }
                _ => {}
            }
        }
    }
    p
}

/// Every decision the tests compare: 3 windows × 3 origins × every name some capability
/// allows or denies, and names none does.
fn decisions(p: &Policy, real_caps: usize) -> Vec<(String, Outcome)> {
    let mut names: Vec<String> = (0..real_caps).map(|i| format!("c.{i}")).collect();
    names.extend(["shared", "shared.denied", "unknown", "pad.64"].map(String::from));
    let mut out = Vec::new();
    for w in WINDOWS {
        for o in ORIGINS {
            for name in &names {
                out.push((format!("{w} {o} {name}"), outcome(p, w, o, name)));
            }
        }
    }
    out
}

#[test]
fn a_config_padded_past_64_capabilities_decides_every_request_alike() {
    for real_caps in [1, 10, 63, 64] {
        let plain = decisions(&config(real_caps, real_caps), real_caps);
        // Not vacuous: each kind of decision is among them, for the configs big enough.
        let has = |want: fn(&Outcome) -> bool| plain.iter().any(|(_, o)| want(o));
        assert!(has(|o| o.is_ok()), "{real_caps}: nothing admitted");
        assert!(has(|o| *o == Err(ErrorCode::NotAllowed)));
        if real_caps >= 10 {
            assert!(has(|o| *o == Ok("cap-4".into())), "admitted under a grant");
            assert!(has(|o| *o == Err(ErrorCode::Denied)));
            assert!(has(|o| *o == Err(ErrorCode::GrantRevoked)));
        }
        if real_caps >= 63 {
            assert!(has(|o| *o == Err(ErrorCode::NotGranted)));
        }
        for len in [70, 130] {
            let padded = decisions(&config(real_caps, len), real_caps);
            assert_eq!(padded.len(), plain.len());
            for ((what, want), (_, got)) in plain.iter().zip(&padded) {
                assert_eq!(
                    got, want,
                    "{real_caps} capabilities padded to {len}: {what}"
                );
            }
        }
    }
}

/// Capability `i` of the next test: window `w-i` may call `only.i`.
fn only(i: usize) -> Value {
    json!({
        "identifier": format!("only-{i}"), "windows": [format!("w-{i}")],
        "origins": ["app://localhost"], "commands": {"allow": [format!("only.{i}")]}
    })
}

#[test]
fn the_capabilities_at_index_63_and_64_admit_their_own_window_only() {
    for len in [64, 65, 70, 130] {
        let p = policy(Value::Array((0..len).map(only).collect()));
        for at in [63, 64].into_iter().filter(|&at| at < len) {
            let own = Ok(format!("only-{at}"));
            for k in 0..len {
                let want = if k == at {
                    own.clone()
                } else {
                    Err(ErrorCode::NotAllowed)
                };
                let window = format!("w-{k}");
                let got = outcome(&p, &window, "app://localhost", &format!("only.{at}"));
                assert_eq!(got, want, "{len} capabilities: only.{at} from {window}");
                let name = format!("only.{k}");
                let got = outcome(&p, &format!("w-{at}"), "app://localhost", &name);
                assert_eq!(got, want, "{len} capabilities: {name} from w-{at}");
            }
        }
    }
}
