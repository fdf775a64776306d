//! What Portcullis knows about each webview's current page: its origin, and whether the
//! session key of this page load has been handed out yet.
//!
//! A page load is counted when the main frame commits a new document. That revokes the
//! previous session (reload, navigation) and re-arms key delivery: the next request for
//! the isolation document in that webview receives a fresh session key, and no request
//! after it does, until the next page load.

use std::collections::HashMap;
use std::sync::Mutex;

use portcullis_core::{Gate, Origin, PageKey};

#[derive(Default)]
struct PageState {
    /// Origin of the committed document, if it has one we understand.
    origin: Option<Origin>,
    /// Whether this page load's isolation document was already served with its key.
    key_delivered: bool,
    /// Counts page loads, so work queued for one page load is not delivered to the next.
    generation: u64,
}

/// Page state of every webview.
#[derive(Default)]
pub struct Pages {
    pages: Mutex<HashMap<String, PageState>>,
}

impl Pages {
    fn with<T>(&self, label: &str, f: impl FnOnce(&mut PageState) -> T) -> T {
        let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        f(pages.entry(label.to_owned()).or_default())
    }

    /// The main frame of `label` committed a document at `url`: revoke the old session
    /// and arm key delivery for the new page load.
    pub fn committed(&self, gate: &Gate, label: &str, url: &str) {
        // In the config's form on every engine (`app://localhost`), matched exactly.
        let origin = crate::engine::CURRENT.page_origin(url);
        gate.end_webview(label);
        tracing::debug!(target: "portcullis::page", webview = label, url, "page load");
        self.with(label, |p| {
            p.origin = origin;
            p.key_delivered = false;
            p.generation += 1;
        });
    }

    /// The webview closed: its session ends, and so do its run-time grants (a new
    /// webview with the same label starts with none).
    pub fn closed(&self, gate: &Gate, label: &str) {
        gate.end_webview(label);
        gate.grants().forget_window(label);
        let mut pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        pages.remove(label);
    }

    /// The current generation of `target` (or of every webview).
    pub fn generations(&self, target: Option<&str>) -> Vec<(String, u64)> {
        let pages = self.pages.lock().unwrap_or_else(|p| p.into_inner());
        pages
            .iter()
            .filter(|(label, _)| target.is_none_or(|t| t == label.as_str()))
            .map(|(label, p)| (label.clone(), p.generation))
            .collect()
    }

    /// Which page load `label` is at (changes on every commit).
    pub fn generation(&self, label: &str) -> u64 {
        self.with(label, |p| p.generation)
    }

    /// The origin of `label`'s current page.
    pub fn origin(&self, label: &str) -> Option<Origin> {
        self.with(label, |p| p.origin.clone())
    }

    /// Issues this page load's session, once; otherwise says why there is none.
    pub fn take_key(&self, gate: &Gate, label: &str) -> Result<PageKey, NoKey> {
        let origin = self.with(label, |p| {
            if p.key_delivered {
                return Err(NoKey::AlreadyDelivered);
            }
            let origin = p.origin.clone().ok_or(NoKey::NoOrigin)?;
            p.key_delivered = true;
            Ok(origin)
        })?;
        if !gate.policy().grants_origin(&origin) {
            tracing::warn!(
                target: "portcullis::page",
                webview = label,
                origin = %origin,
                "no session for a page whose origin no capability names"
            );
            return Err(NoKey::OriginNotAllowed);
        }
        gate.begin_page_load(label, origin).map_err(|e| {
            tracing::error!(target: "portcullis::page", "cannot issue a session: {e}");
            NoKey::NotIssued
        })
    }
}

/// Why a request for the isolation document gets no key: each reason
/// [`Pages::take_key`] can have.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoKey {
    /// This page load's key was already handed out: the document was asked for again.
    AlreadyDelivered,
    /// The webview's page has no origin Portcullis understands (none committed yet, or
    /// a URL without one).
    NoOrigin,
    /// The page's origin is one no capability names.
    OriginNotAllowed,
    /// The gate could not issue a session (e.g. the OS random source failed).
    NotIssued,
}

/// The reason in words, for the audit log.
impl std::fmt::Display for NoKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            NoKey::AlreadyDelivered => "requested again in the same page load",
            NoKey::NoOrigin => "the page has no origin Portcullis understands",
            NoKey::OriginNotAllowed => "the page's origin is one no capability names",
            NoKey::NotIssued => "the gate could not issue a session",
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use portcullis_core::{Config, ScopeVars};

    /// A brownfield gate whose one capability grants `app://localhost` to every webview.
    pub(crate) fn gate() -> Gate {
        let config = Config::from_json(
            r#"{"app":{"security":{"pattern":{"use":"brownfield"},
                "capabilities":[{"identifier":"c","windows":["*"],"origins":["app://localhost"]}]}}}"#,
        )
        .unwrap();
        Gate::new(&config, &ScopeVars::new()).unwrap()
    }

    #[test]
    fn a_page_load_gets_one_key_and_then_says_it_was_taken() {
        let (gate, pages) = (gate(), Pages::default());
        pages.committed(&gate, "main", "app://localhost/index.html");
        assert!(pages.take_key(&gate, "main").is_ok());
        assert_eq!(
            pages.take_key(&gate, "main").err(),
            Some(NoKey::AlreadyDelivered)
        );
    }

    #[test]
    fn no_page_committed_means_no_origin() {
        let (gate, pages) = (gate(), Pages::default());
        assert_eq!(pages.take_key(&gate, "main").err(), Some(NoKey::NoOrigin));
        pages.committed(&gate, "main", "about:blank");
        assert_eq!(pages.take_key(&gate, "main").err(), Some(NoKey::NoOrigin));
    }

    #[test]
    fn an_origin_no_capability_names_gets_no_session() {
        let (gate, pages) = (gate(), Pages::default());
        pages.committed(&gate, "main", "https://evil.example/");
        assert_eq!(
            pages.take_key(&gate, "main").err(),
            Some(NoKey::OriginNotAllowed)
        );
        assert_eq!(gate.sessions().live_count(), 0);
    }
}
