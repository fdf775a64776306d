//! Where handlers run: a tokio runtime, the app's (given by handle) or one Portcullis
//! starts. Async handlers are its tasks, so tokio's timers, files and sockets work inside
//! them; sync handlers run on its blocking threads. Nothing runs on the webviews' thread.
//!
//! [`Runtime::run`] drives one started call to its response: the handler's work raced
//! against its cancellation token (the page load cancelled it, or its page went away:
//! `E_CANCELLED`) and its deadline (the rule's `timeoutMs` or `limits.callTimeoutMs`:
//! `E_TIMEOUT`, and the token fires). The losing async work is dropped, which cancels it
//! at its next `.await`; a sync handler cannot be stopped from outside, so it sees its
//! token fire and its result is discarded.

use std::time::Duration;

use portcullis_core::ErrorCode;
use portcullis_core::router::{CallError, InFlight, Payload, Response, Work};

/// Which runtime the builder was asked for.
#[derive(Debug)]
pub(crate) enum Choice {
    /// Start one: `workers` threads (one per core if `None`), `blocking` at most.
    Own {
        workers: Option<usize>,
        blocking: usize,
    },
    /// The app's own.
    Handle(tokio::runtime::Handle),
}

impl Default for Choice {
    fn default() -> Self {
        Choice::Own {
            workers: None,
            blocking: 64,
        }
    }
}

impl Choice {
    pub(crate) fn start(self) -> std::io::Result<Runtime> {
        match self {
            Choice::Handle(handle) => Ok(Runtime {
                owned: None,
                handle,
            }),
            Choice::Own { workers, blocking } => {
                let mut builder = tokio::runtime::Builder::new_multi_thread();
                if let Some(n) = workers {
                    builder.worker_threads(n);
                }
                let runtime = builder
                    .max_blocking_threads(blocking)
                    .thread_name("portcullis-handler")
                    .enable_all()
                    .build()?;
                Ok(Runtime {
                    handle: runtime.handle().clone(),
                    owned: Some(runtime),
                })
            }
        }
    }
}

/// The handlers' runtime.
pub(crate) struct Runtime {
    /// Set when Portcullis started it; shut down without waiting when dropped.
    owned: Option<tokio::runtime::Runtime>,
    handle: tokio::runtime::Handle,
}

impl Drop for Runtime {
    fn drop(&mut self) {
        // The last reference to the shared state can go away on one of the runtime's
        // own threads (a task held it), where a blocking shutdown would panic.
        if let Some(runtime) = self.owned.take() {
            runtime.shutdown_background();
        }
    }
}

impl Runtime {
    /// Spawns `future` on the runtime.
    pub(crate) fn spawn(&self, future: impl Future<Output = ()> + Send + 'static) {
        self.handle.spawn(future);
    }

    /// Runs one started call to its response, within `timeout` unless cancelled first.
    pub(crate) async fn run(
        handle: tokio::runtime::Handle,
        work: Work,
        call: InFlight,
        timeout: Duration,
    ) -> Response {
        let token = call.token().clone();
        let finished = async {
            match work {
                Work::Async(future) => future.await,
                Work::Blocking(f) => handle.spawn_blocking(f).await.unwrap_or_else(|e| {
                    Err(CallError::new(
                        ErrorCode::HandlerPanicked,
                        format!("the handler's thread ended abnormally: {e}"),
                    ))
                }),
            }
        };
        let result: Result<Payload, CallError> = tokio::select! {
            result = finished => result,
            () = token.cancelled() => Err(CallError::new(
                ErrorCode::Cancelled,
                "the call was cancelled by its caller, or its page went away",
            )),
            () = tokio::time::sleep(timeout) => {
                token.cancel();
                Err(CallError::new(
                    ErrorCode::Timeout,
                    format!(
                        "the command did not finish within {} ms (its timeoutMs, or limits.callTimeoutMs); its handler was cancelled",
                        timeout.as_millis()
                    ),
                ))
            }
        };
        call.finish(result)
    }

    /// The runtime's handle.
    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        &self.handle
    }
}
