//! Core-to-frontend events: the [`EventSink`] the core emits into, a queue, and the
//! delivery into each webview's bridge on the main thread.
//!
//! Handlers may emit from any thread (async handlers run on a pool), but a webview can
//! only be scripted from the thread that created it. So emission queues the event and
//! calls the app's waker; the app's event loop then calls `Portcullis::pump`, which
//! hands each queued event to the page loads it was emitted for (`deliver`).

use std::collections::{HashMap, VecDeque};
use std::rc::Weak;
use std::sync::{Arc, Mutex, OnceLock};

use portcullis_core::emit::{EmitError, EmitTarget, EventSink};
use wry::WebView;

use crate::page::Pages;

/// One queued event.
pub struct Queued {
    /// The script that delivers it (the event name and payload as JSON literals).
    pub script: String,
    /// Page generations at emission time, per webview the event is for (one, or every
    /// webview with a page): it is delivered to these page loads only, never to one
    /// loaded after it was emitted (navigation, reload).
    pub generations: Vec<(String, u64)>,
}

/// The queue plus the app's waker.
#[derive(Default)]
pub struct EventQueue {
    queue: Mutex<VecDeque<Queued>>,
    waker: OnceLock<Box<dyn Fn() + Send + Sync>>,
    pages: OnceLock<Arc<Pages>>,
}

impl EventQueue {
    /// An empty queue with no waker yet.
    pub fn new() -> Self {
        EventQueue::default()
    }

    /// Sets the function called whenever an event is queued (once).
    pub fn set_waker(&self, waker: Box<dyn Fn() + Send + Sync>) {
        let _ = self.waker.set(waker);
    }

    /// Gives the queue the page state to stamp events with.
    pub fn set_pages(&self, pages: Arc<Pages>) {
        let _ = self.pages.set(pages);
    }

    /// Takes every queued event.
    pub fn drain(&self) -> Vec<Queued> {
        let mut q = self.queue.lock().unwrap_or_else(|p| p.into_inner());
        q.drain(..).collect()
    }
}

impl EventSink for EventQueue {
    fn deliver(&self, target: EmitTarget<'_>, event: &str, payload: &str) -> Result<(), EmitError> {
        let name = serde_json::to_string(event).map_err(|e| EmitError::Payload(e.to_string()))?;
        // The payload is JSON text from serde_json: a valid JavaScript expression.
        let script = format!("window.__portcullis_event__({name}, {payload});");
        let target = match target {
            EmitTarget::All => None,
            EmitTarget::Webview(label) => Some(label),
        };
        let generations = self
            .pages
            .get()
            .map(|pages| pages.generations(target))
            .unwrap_or_default();
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(Queued {
                script,
                generations,
            });
        if let Some(wake) = self.waker.get() {
            wake();
        }
        Ok(())
    }
}

/// Runs every queued event's script in the webviews whose page load it was emitted
/// for. Called on the webviews' thread (by `Portcullis::pump`).
pub(crate) fn deliver(
    queue: &EventQueue,
    pages: &Pages,
    webviews: &HashMap<String, Weak<WebView>>,
) {
    for event in queue.drain() {
        // Only to the page loads that existed when the event was emitted.
        let targets = webviews.iter().filter(|(label, _)| {
            event
                .generations
                .iter()
                .any(|(l, g)| l == label.as_str() && *g == pages.generation(label))
        });
        for (label, webview) in targets {
            if let Some(webview) = webview.upgrade()
                && let Err(e) = webview.evaluate_script(&event.script)
            {
                tracing::warn!(target: "portcullis", webview = label.as_str(), "event delivery failed: {e}");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_are_stamped_with_the_page_load_they_were_emitted_for() {
        let gate = crate::page::tests::gate();
        let pages = Arc::new(Pages::default());
        let queue = EventQueue::new();
        queue.set_pages(pages.clone());
        pages.committed(&gate, "main", "app://localhost/");
        pages.committed(&gate, "other", "app://localhost/");
        queue
            .deliver(EmitTarget::Webview("main"), "saved", "{\"id\":1}")
            .unwrap();
        queue.deliver(EmitTarget::All, "tick", "1").unwrap();
        let queued = queue.drain();
        assert_eq!(queued[0].generations, vec![("main".to_owned(), 1)]);
        assert_eq!(
            queued[0].script,
            r#"window.__portcullis_event__("saved", {"id":1});"#
        );
        let mut all = queued[1].generations.clone();
        all.sort();
        assert_eq!(all, vec![("main".to_owned(), 1), ("other".to_owned(), 1)]);
        // A reload moves the page on: what was queued for the old page no longer matches.
        pages.committed(&gate, "main", "app://localhost/");
        assert_eq!(pages.generation("main"), 2);
        assert!(queue.drain().is_empty());
    }
}
