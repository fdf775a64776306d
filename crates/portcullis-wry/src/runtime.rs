//! Where handlers run: a tokio runtime, the app's (given by handle) or one Portcullis
//! starts. Async handlers are its tasks, so tokio's timers, files and sockets work inside
//! them; sync handlers run on its blocking threads. Nothing runs on the webviews' thread.
//!
//! [`Runtime::start`] drives one started call to its response: the handler's work raced
//! against its cancellation token (the page load cancelled it, or its page went away:
//! `E_CANCELLED`) and its deadline (the rule's `timeoutMs` or `limits.callTimeoutMs`:
//! `E_TIMEOUT`, and the token fires). The losing async work is dropped, which cancels it
//! at its next `.await`; a sync handler cannot be stopped from outside, so it sees its
//! token fire and its result is discarded.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use portcullis_core::ErrorCode;
use portcullis_core::router::{CallError, InFlight, Response, Work};
use tokio_util::sync::CancellationToken;

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
    /// Starts one call: its handler runs on the runtime within `timeout` unless cancelled
    /// first, and `respond` gets its response (exactly once).
    ///
    /// An async handler is a task of the runtime. A sync one is handed straight to a
    /// blocking thread, which answers as soon as it returns: one hand-off between threads
    /// on the way, where a task that waited for the blocking thread took three (measured
    /// by the e2e bench's profile: about 100 µs a call on this kind of machine, 35 µs
    /// now). Its deadline and its cancellation are watched by a task beside it, which
    /// answers first if either comes before the handler's result.
    pub(crate) fn start(
        &self,
        work: Work,
        call: InFlight,
        timeout: Duration,
        respond: impl FnOnce(Response) + Send + 'static,
    ) {
        match work {
            Work::Async(future) => {
                self.handle.spawn(async move {
                    let token = call.token().clone();
                    let result = tokio::select! {
                        result = future => result,
                        error = stopped(&token, timeout) => Err(error),
                    };
                    respond(call.finish(result));
                });
            }
            Work::Blocking(f) => {
                let token = call.token().clone();
                let token_here = token.clone();
                // Whoever takes the call first answers it: the handler's thread when it
                // returns, or the watcher when the deadline or a cancel comes first.
                let answer = Arc::new(Mutex::new(Some((call, respond))));
                let finished = CancellationToken::new();
                let watched = (Arc::clone(&answer), finished.clone());
                self.handle.spawn_blocking(move || {
                    // Cancelled, or past its deadline while it waited for a thread: the
                    // watcher answers (both fire the token), and the handler never starts.
                    if token_here.is_cancelled() {
                        return;
                    }
                    // Panics (the handler's, and its reply's) are caught in the core.
                    let result = f();
                    finished.cancel();
                    if let Some((call, respond)) = take(&answer) {
                        respond(call.finish(result));
                    }
                });
                self.handle.spawn(async move {
                    let (answer, finished) = watched;
                    let error = tokio::select! {
                        () = finished.cancelled() => return,
                        error = stopped(&token, timeout) => error,
                    };
                    if let Some((call, respond)) = take(&answer) {
                        respond(call.finish(Err(error)));
                    }
                });
            }
        }
    }

    /// The runtime's handle.
    #[cfg(test)]
    pub(crate) fn handle(&self) -> &tokio::runtime::Handle {
        &self.handle
    }
}

/// Resolves when the call is cancelled (`E_CANCELLED`) or its time is up (`E_TIMEOUT`,
/// and the token fires so the handler can see it).
async fn stopped(token: &CancellationToken, timeout: Duration) -> CallError {
    tokio::select! {
        () = token.cancelled() => CallError::new(
            ErrorCode::Cancelled,
            "the call was cancelled by its caller, or its page went away",
        ),
        () = tokio::time::sleep(timeout) => {
            token.cancel();
            CallError::new(
                ErrorCode::Timeout,
                format!(
                    "the command did not finish within {} ms (its timeoutMs, or limits.callTimeoutMs); its handler was cancelled",
                    timeout.as_millis()
                ),
            )
        }
    }
}

fn take<T>(slot: &Mutex<Option<T>>) -> Option<T> {
    slot.lock().unwrap_or_else(|p| p.into_inner()).take()
}
