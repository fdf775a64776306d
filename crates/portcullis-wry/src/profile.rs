//! Where the time of one call goes: timestamps at each hop, for the e2e bench's profile
//! build (`--features profile`; off by default, and then every mark is an empty function
//! and the scripts are the shipped ones). Bench-only: never ship it (it exposes
//! `__portcullis_profile__` to the page), and mind that `--all-features` turns it on.
//!
//! The scripts' marks are JavaScript files of their own, chosen here by the feature: the
//! isolation runtime imports `mark` from `./marks.js`, which the profile build links and
//! serves as `js/profile/runtime-marks.js`; the bridge takes `mark` from its config, where
//! the profile build's `js/profile/bridge-marks.js` puts it, run just before the bridge.
//!
//! Three clocks take part, and each stage is a difference on one of them:
//! - the main frame's `performance.now()` (the bridge: post, reply received, settled);
//! - the isolation frame's `performance.now()` (received, canonical copy, hook, encoded,
//!   sealed, gate's reply, body read, reply posted);
//! - this process's `Instant` (the transport: received, gate, task started, handler,
//!   responded).
//!
//! The engine's clocks tick in whole milliseconds here, so one call's stage is 0 or 1 ms;
//! the mean over many calls is still the stage's mean (calls start at every phase of a
//! tick), and that is what the bench reports. A hop between two clocks (the window
//! messages between the frames, the engine's transport between the frame and this
//! process) is what is left of the outer stage once the inner one is taken out.

#[cfg(feature = "profile")]
mod on {
    use std::sync::Mutex;
    use std::time::Instant;

    /// The transport's stages, in the order a call passes them.
    pub(crate) const STAGES: [&str; 4] = [
        "gate (envelope, open, replay, allowlist)",
        "dispatch (arguments, in-flight table)",
        "runtime (hand-off to the handler's thread, the handler)",
        "respond (reply handed to the engine)",
    ];

    static TOTALS: Mutex<Totals> = Mutex::new(Totals {
        calls: 0,
        nanos: [0; STAGES.len()],
    });

    struct Totals {
        calls: u64,
        nanos: [u128; STAGES.len()],
    }

    /// The marks of one call on the Rust side.
    pub(crate) struct Stamps {
        last: Instant,
        nanos: [u128; STAGES.len()],
        next: usize,
    }

    impl Stamps {
        pub(crate) fn start() -> Self {
            Stamps {
                last: Instant::now(),
                nanos: [0; STAGES.len()],
                next: 0,
            }
        }

        /// The next stage ended now.
        pub(crate) fn mark(&mut self) {
            let now = Instant::now();
            if let Some(slot) = self.nanos.get_mut(self.next) {
                *slot = now.duration_since(self.last).as_nanos();
            }
            self.last = now;
            self.next += 1;
        }

        /// The call is answered: its stages count.
        pub(crate) fn done(self) {
            let mut totals = TOTALS.lock().unwrap_or_else(|p| p.into_inner());
            totals.calls += 1;
            for (total, nanos) in totals.nanos.iter_mut().zip(self.nanos) {
                *total += nanos;
            }
        }
    }

    /// The first requests of the process on each of Portcullis's schemes, as (what,
    /// milliseconds since the Unix epoch): the clock the pages' `timeOrigin` counts from,
    /// so a page can lay them out on its own time line.
    static REQUESTS: Mutex<Vec<(String, f64)>> = Mutex::new(Vec::new());

    pub(crate) fn request(what: impl FnOnce() -> String) {
        let mut requests = REQUESTS.lock().unwrap_or_else(|p| p.into_inner());
        let what = what();
        if requests.len() < 32 && !requests.iter().any(|(w, _)| *w == what) {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64() * 1000.0)
                .unwrap_or(0.0);
            requests.push((what, now));
        }
    }

    /// The mean of each transport stage in µs over the calls answered since the last
    /// `take` (`stagesUs`: `[[stage, µs], …]` in the order a call passes them), and their
    /// number (`calls`); resets the totals.
    pub fn take() -> serde_json::Value {
        let mut totals = TOTALS.lock().unwrap_or_else(|p| p.into_inner());
        let calls = totals.calls.max(1) as f64;
        let stages: Vec<serde_json::Value> = STAGES
            .iter()
            .zip(totals.nanos)
            .map(|(name, nanos)| serde_json::json!([name, nanos as f64 / calls / 1000.0]))
            .collect();
        let requests = REQUESTS.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let out =
            serde_json::json!({"calls": totals.calls, "stagesUs": stages, "requests": requests});
        *totals = Totals {
            calls: 0,
            nanos: [0; STAGES.len()],
        };
        out
    }
}

#[cfg(feature = "profile")]
pub use on::take;
#[cfg(feature = "profile")]
pub(crate) use on::{Stamps, request};

/// Without the feature: nothing is recorded.
#[cfg(not(feature = "profile"))]
#[inline(always)]
pub(crate) fn request(_: impl FnOnce() -> String) {}

/// Without the feature: nothing is recorded and nothing is kept.
#[cfg(not(feature = "profile"))]
pub(crate) struct Stamps;

#[cfg(not(feature = "profile"))]
impl Stamps {
    #[inline(always)]
    pub(crate) fn start() -> Self {
        Stamps
    }

    #[inline(always)]
    pub(crate) fn mark(&mut self) {}

    #[inline(always)]
    pub(crate) fn done(self) {}
}

/// The isolation runtime's marks module (`./marks.js`) as this build links and serves it:
/// the shipped one records nothing; the profile build's records each stage's time
/// (`js/profile/runtime-marks.js`).
#[cfg(not(feature = "profile"))]
pub(crate) const RUNTIME_MARKS_JS: &str = include_str!("../isolation-app/marks.js");
/// The isolation runtime's marks module (`./marks.js`) as this build links and serves it:
/// the shipped one records nothing; the profile build's records each stage's time
/// (`js/profile/runtime-marks.js`).
#[cfg(feature = "profile")]
pub(crate) const RUNTIME_MARKS_JS: &str = include_str!("../js/profile/runtime-marks.js");

/// The script this build runs between the bridge's config and the bridge: none, or in
/// the profile build the one that hands the bridge its marks (`js/profile/bridge-marks.js`).
#[cfg(not(feature = "profile"))]
pub(crate) const BRIDGE_MARKS_JS: &str = "";
/// The script this build runs between the bridge's config and the bridge: none, or in
/// the profile build the one that hands the bridge its marks (`js/profile/bridge-marks.js`).
#[cfg(feature = "profile")]
pub(crate) const BRIDGE_MARKS_JS: &str = include_str!("../js/profile/bridge-marks.js");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_profile_scripts_are_what_their_builds_run() {
        // The runtime takes its marks from the module linked as `./marks.js` (the link
        // checks it exports `mark`), and the bridge from its config.
        assert!(crate::isolation::RUNTIME_JS.contains("import { mark } from \"./marks.js\";"));
        assert!(crate::BRIDGE_JS.contains("config.mark"));
        let profiled = include_str!("../js/profile/bridge-marks.js");
        assert!(profiled.contains("globalThis.__PORTCULLIS_CONFIG__.mark = "));
        #[cfg(feature = "profile")]
        {
            // The script is printed minified: look for what only the profile's marks have.
            assert!(crate::isolation::inline_script().contains("navigation started"));
            assert!(RUNTIME_MARKS_JS.contains("navigation started"));
        }
        #[cfg(not(feature = "profile"))]
        {
            assert!(!crate::isolation::inline_script().contains("navigation started"));
            assert!(BRIDGE_MARKS_JS.is_empty());
        }
    }
}
