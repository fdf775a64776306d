//! Where the time of one call goes: timestamps at each hop, for the e2e bench's profile
//! build (`--features profile`; off by default, and then every mark is an empty inline
//! function and the scripts are the shipped ones). Bench-only: never ship it (it exposes
//! `__portcullis_profile__` to the page), and mind that `--all-features` turns it on.
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
        if requests.len() < 32 {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs_f64() * 1000.0)
                .unwrap_or(0.0);
            requests.push((what(), now));
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

/// The isolation runtime's marking line as shipped (an empty function).
#[cfg(any(test, feature = "profile"))]
pub(crate) const RUNTIME_MARK: &str = "const mark = (entry, stage) => {};\n";
/// The bridge's marking line as shipped (an empty function).
#[cfg(any(test, feature = "profile"))]
pub(crate) const BRIDGE_MARK: &str = "  const mark = (call, stage, reply) => {};\n";

/// The isolation runtime's marks in the profile build: stage names and times on the
/// call's entry (or the frame's start-up), sent back with its reply. The times are
/// absolute (`timeOrigin` + `now()`), so the first call can be laid out on one line with
/// the main frame's; within a frame, differences are as fine as `now()` itself.
#[cfg(feature = "profile")]
const RUNTIME_PROFILE: &str = r#"const mark = (entry, stage) => {
  const hops = (entry.hops ??= []);
  if (stage === "runtime started") {
    // The frame document's own load, from its navigation timing.
    hops.push("navigation started", performance.timeOrigin);
    const nav = performance.getEntriesByType("navigation")[0];
    for (const k of ["responseStart", "responseEnd", "domInteractive"]) if (nav) hops.push(`document ${k}`, performance.timeOrigin + nav[k]);
  }
  hops.push(stage, performance.timeOrigin + performance.now());
};
"#;

/// The bridge's marks in the profile build: its own stages, and the frame's from the
/// reply, added up per stage in a global the bench page reads and resets
/// (`__portcullis_profile__.totals`: stage -> [total ms, calls]); the frame's creation and
/// readiness (`startup`), and the first call's marks (`first`), as absolute times.
#[cfg(feature = "profile")]
const BRIDGE_PROFILE: &str = r#"  const profile = (globalThis.__portcullis_profile__ = { totals: {}, reset() { this.totals = {}; } });
  const add = (stage, ms) => { const t = (profile.totals[stage] ??= [0, 0]); t[0] += ms; t[1] += 1; };
  const mark = (call, stage, reply) => {
    const now = performance.timeOrigin + performance.now();
    if (call === null) { profile.startup ??= []; profile.startup.push(stage, now); return; }
    if (stage === "post") { call.posted = now; return; }
    if (stage === "reply") {
      call.replied = now;
      const hops = reply && reply.hops;
      if (!hops || call.posted === undefined) return;
      // The first call laid out on one line with the frame's start-up (absolute times).
      profile.first ??= { posted: call.posted, replied: now, hops, boot: reply.boot };
      for (let i = 2; i < hops.length; i += 2) add(`frame: ${hops[i]}`, hops[i + 1] - hops[i - 1]);
      add("window messages, both ways", now - call.posted - (hops[hops.length - 1] - hops[1]));
      add("bridge: post to reply", now - call.posted);
      return;
    }
    if (stage === "settled" && call.replied !== undefined) add("bridge: settle", now - call.replied);
  };
"#;

/// The isolation runtime as this build runs it.
pub(crate) fn runtime_script(text: String) -> String {
    #[cfg(feature = "profile")]
    let text = text.replacen(RUNTIME_MARK, RUNTIME_PROFILE, 1);
    text
}

/// The bridge as this build runs it.
pub(crate) fn bridge_script(text: &str) -> std::borrow::Cow<'_, str> {
    #[cfg(feature = "profile")]
    return text.replacen(BRIDGE_MARK, BRIDGE_PROFILE, 1).into();
    #[cfg(not(feature = "profile"))]
    text.into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_shipped_mark_line_is_in_its_script_once() {
        // The profile build replaces these lines; one missing would profile nothing.
        assert_eq!(
            crate::isolation::RUNTIME_JS.matches(RUNTIME_MARK).count(),
            1
        );
        assert_eq!(crate::BRIDGE_JS.matches(BRIDGE_MARK).count(), 1);
        #[cfg(feature = "profile")]
        {
            // The script is printed minified: look for what only the profile's line has.
            assert!(crate::isolation::inline_script().contains("navigation started"));
        }
    }
}
