//! Core-to-frontend events: the [`EventSink`] the core emits into, a queue, and the
//! delivery into each webview's bridge on the main thread.
//!
//! Handlers may emit from any thread (async handlers run on a pool), but a webview can
//! only be scripted from the thread that created it. So emission queues the event and
//! calls the app's waker; the app's event loop then calls `Portcullis::pump`.

use std::collections::VecDeque;
use std::sync::{Mutex, OnceLock};

use portcullis_core::emit::{EmitError, EmitTarget, EventSink};

/// One queued event.
pub struct Queued {
    /// `None` for every webview.
    pub target: Option<String>,
    /// The script that delivers it (the event name and payload as JSON literals).
    pub script: String,
}

/// The queue plus the app's waker.
#[derive(Default)]
pub struct EventQueue {
    queue: Mutex<VecDeque<Queued>>,
    waker: OnceLock<Box<dyn Fn() + Send + Sync>>,
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
            EmitTarget::Webview(label) => Some(label.to_owned()),
        };
        self.queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push_back(Queued { target, script });
        if let Some(wake) = self.waker.get() {
            wake();
        }
        Ok(())
    }
}
