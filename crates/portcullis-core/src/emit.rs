//! Core-to-frontend events: an abstraction the embedder implements.
//!
//! The core decides nothing about delivery; the webview crate implements [`EventSink`]
//! (for example with `evaluate_script` into the target webview's bridge). Handlers that
//! want to notify the frontend capture an [`Emitter`].

use std::fmt;
use std::sync::Arc;

use serde::Serialize;

/// Which webviews receive an event.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EmitTarget<'a> {
    /// Every webview of the app.
    All,
    /// The webview with this label.
    Webview(&'a str),
}

/// Why an event could not be emitted.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EmitError {
    /// No webview with that label.
    #[error("no webview labelled {0:?}")]
    NoSuchWebview(String),
    /// The payload could not be serialized.
    #[error("payload is not serializable: {0}")]
    Payload(String),
    /// The embedder could not deliver it.
    #[error("delivery failed: {0}")]
    Delivery(String),
}

/// Delivers events to webviews. Implemented by the embedder.
pub trait EventSink: Send + Sync {
    /// Delivers `event` with `payload` (JSON text) to `target`.
    fn deliver(&self, target: EmitTarget<'_>, event: &str, payload: &str) -> Result<(), EmitError>;
}

/// A cloneable handle for emitting events to the frontend.
#[derive(Clone)]
pub struct Emitter {
    sink: Arc<dyn EventSink>,
}

impl fmt::Debug for Emitter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Emitter")
    }
}

impl Emitter {
    /// An emitter delivering through `sink`.
    pub fn new(sink: Arc<dyn EventSink>) -> Self {
        Emitter { sink }
    }

    /// Emits `event` with a serializable `payload` to `target`.
    pub fn emit<T: Serialize + ?Sized>(
        &self,
        target: EmitTarget<'_>,
        event: &str,
        payload: &T,
    ) -> Result<(), EmitError> {
        let json = serde_json::to_string(payload).map_err(|e| EmitError::Payload(e.to_string()))?;
        self.sink.deliver(target, event, &json)
    }
}

// Unit tests only (`#[cfg(test)]`, not compiled into the library): their `unwrap`s run
// on fixed, valid inputs written here, never on anything a webview sends.
#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[derive(Default)]
    struct Recorder(Mutex<Vec<(String, String, String)>>);

    impl EventSink for Recorder {
        fn deliver(
            &self,
            target: EmitTarget<'_>,
            event: &str,
            payload: &str,
        ) -> Result<(), EmitError> {
            let target = match target {
                EmitTarget::All => "*".to_owned(),
                EmitTarget::Webview(l) if l == "gone" => {
                    return Err(EmitError::NoSuchWebview(l.into()));
                }
                EmitTarget::Webview(l) => l.to_owned(),
            };
            self.0
                .lock()
                .unwrap()
                .push((target, event.into(), payload.into()));
            Ok(())
        }
    }

    #[test]
    fn emits_serialized_payloads_to_the_sink() {
        let rec = Arc::new(Recorder::default());
        let emitter = Emitter::new(rec.clone());
        emitter
            .emit(EmitTarget::All, "saved", &serde_json::json!({"id": 1}))
            .unwrap();
        emitter
            .emit(EmitTarget::Webview("main"), "tick", &5)
            .unwrap();
        assert_eq!(
            emitter.emit(EmitTarget::Webview("gone"), "x", &()),
            Err(EmitError::NoSuchWebview("gone".into()))
        );
        assert_eq!(
            *rec.0.lock().unwrap(),
            vec![
                ("*".into(), "saved".into(), r#"{"id":1}"#.into()),
                ("main".into(), "tick".into(), "5".into())
            ]
        );
    }
}
