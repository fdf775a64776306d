//! What one run of an attack observed, and the verdict it supports. The child process
//! writes an [`Observation`] as one JSON line; the parent reads it back with the same
//! type, so nothing between them is an untyped string.

use serde::{Deserialize, Serialize};

/// Which layer of the app a run judges.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Layer {
    /// The isolation guarantee itself: the audit allows the canary in the allowlist and
    /// wraps the app's hook so that it refuses the canary. The canary running means a
    /// message reached Rust without the hook's approval.
    Integrity,
    /// The app as shipped: its own config and hook, which must refuse the canary.
    Shipped,
}

impl Layer {
    /// Both layers, in the order they run.
    pub const ALL: [Layer; 2] = [Layer::Integrity, Layer::Shipped];

    /// The name used on the command line and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Integrity => "integrity",
            Layer::Shipped => "shipped",
        }
    }
}

/// How the attack's code ended in the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Finish {
    /// It returned, and the calls it made through `ctx` settled.
    Returned,
    /// It threw.
    Threw,
    /// It did not finish within the attack timeout.
    TimedOut,
}

/// What the Rust side saw during one run of one attack.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Observation {
    /// The layer judged.
    pub layer: Layer,
    /// How the attack ended.
    pub finish: Finish,
    /// How often the canary's handler or listener ran.
    pub canary_runs: usize,
    /// Messages that reached the Rust side (the `ipc://` transport or wry's IPC
    /// handler): every attempt that got past the page, sealed or not, admitted or not.
    pub attempts: usize,
    /// The refusal codes the gate recorded, in order.
    pub codes: Vec<String>,
    /// Whether the webview went quiet (no message for the quiet period) before the
    /// verdict; `false` means messages were still arriving when the drain time ran out.
    pub quiet: bool,
    /// Calls the attack made through `ctx` that settled, and how many it made.
    pub settled: (usize, usize),
    /// Admitted calls that match one of the user's expectations, or break a rule the
    /// audit keeps itself (each a breach).
    #[serde(default)]
    pub violations: Vec<String>,
    /// What the gate admitted (`KIND NAME`, with a count), apart from what it refused.
    #[serde(default)]
    pub admitted: Vec<String>,
}

/// The verdict on one run, or on an attack (the worst of its runs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Verdict {
    /// The canary never ran, and the attack reached the Rust side at least once.
    #[serde(rename = "held")]
    Held,
    /// Nothing the attack did reached the Rust side: nothing can be said.
    #[serde(rename = "inconclusive")]
    Inconclusive,
    /// The attack could not be judged (it threw, timed out, the webview never went
    /// quiet, or the run failed).
    #[serde(rename = "error")]
    Error,
    /// The canary ran.
    #[serde(rename = "BREACHED")]
    Breached,
}

impl Verdict {
    /// How the verdict is printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Held => "held",
            Verdict::Inconclusive => "inconclusive",
            Verdict::Error => "error",
            Verdict::Breached => "BREACHED",
        }
    }
}

impl Observation {
    /// The verdict this run supports. A canary that ran is a breach whatever else
    /// happened; otherwise a run that did not end cleanly says nothing.
    pub fn verdict(&self) -> Verdict {
        if self.canary_runs > 0 || !self.violations.is_empty() {
            Verdict::Breached
        } else if self.finish != Finish::Returned || !self.quiet || self.settled.0 < self.settled.1
        {
            Verdict::Error
        } else if self.attempts == 0 {
            Verdict::Inconclusive
        } else {
            Verdict::Held
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(canary_runs: usize, finish: Finish, attempts: usize, quiet: bool) -> Observation {
        Observation {
            layer: Layer::Shipped,
            finish,
            canary_runs,
            attempts,
            codes: Vec::new(),
            quiet,
            settled: (1, 1),
            violations: Vec::new(),
            admitted: Vec::new(),
        }
    }

    #[test]
    fn each_verdict_and_what_decides_it() {
        assert_eq!(run(0, Finish::Returned, 3, true).verdict(), Verdict::Held);
        assert_eq!(
            run(1, Finish::Returned, 3, true).verdict(),
            Verdict::Breached
        );
        // A breach is a breach even if the attack then threw or never went quiet.
        assert_eq!(run(1, Finish::Threw, 3, false).verdict(), Verdict::Breached);
        assert_eq!(
            run(0, Finish::Returned, 0, true).verdict(),
            Verdict::Inconclusive
        );
        assert_eq!(run(0, Finish::Threw, 3, true).verdict(), Verdict::Error);
        assert_eq!(run(0, Finish::TimedOut, 3, true).verdict(), Verdict::Error);
        assert_eq!(run(0, Finish::Returned, 3, false).verdict(), Verdict::Error);
        let mut violated = run(0, Finish::Returned, 3, true);
        violated
            .violations
            .push("notes.export admitted with ..".into());
        assert_eq!(violated.verdict(), Verdict::Breached);
        let mut unsettled = run(0, Finish::Returned, 3, true);
        unsettled.settled = (1, 2);
        assert_eq!(unsettled.verdict(), Verdict::Error);
    }

    #[test]
    fn the_worst_verdict_wins() {
        let worst = [Verdict::Held, Verdict::Breached, Verdict::Error]
            .into_iter()
            .max();
        assert_eq!(worst, Some(Verdict::Breached));
        assert!(Verdict::Error > Verdict::Inconclusive && Verdict::Inconclusive > Verdict::Held);
    }

    #[test]
    fn observations_round_trip_between_child_and_parent() {
        let o = run(0, Finish::Returned, 2, true);
        let text = serde_json::to_string(&o).unwrap();
        let back: Observation = serde_json::from_str(&text).unwrap();
        assert_eq!(back.verdict(), Verdict::Held);
        assert!(text.contains(r#""layer":"shipped""#) && text.contains(r#""finish":"returned""#));
    }
}
