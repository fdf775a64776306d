//! One handler shape: a sync or async function whose arguments are extractors
//! ([`FromCall`]) in any order, returning what [`IntoReply`] takes.
//!
//! A sync handler becomes [`Work::Blocking`], which the embedder runs on a blocking
//! thread (never the UI thread); an async one becomes [`Work::Async`], a future the
//! embedder drives on its runtime, so tokio APIs work inside it. Both are started only
//! after every extractor succeeded, and a panic in either is caught.

use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::sync::Arc;

use futures_util::FutureExt as _;

use super::extract::{FromCall, Needs, Parts};
use crate::error::ErrorCode;
use crate::policy::grants::Holds;
use crate::reply::{CallError, IntoReply, Payload};

/// What a started call still has to do.
pub enum Work {
    /// A sync handler with its arguments: run it where blocking is fine.
    Blocking(Box<dyn FnOnce() -> Result<Payload, CallError> + Send>),
    /// An async handler's future: drive it on the runtime.
    Async(Pin<Box<dyn Future<Output = Result<Payload, CallError>> + Send>>),
}

impl Work {
    /// The same work, refused before it starts if a run-time grant or added path the
    /// call relied on has ended by then. For routes that did not take the call's holds
    /// into their own work (the `handlers!` impls do, without this extra box).
    pub(crate) fn after_grants(self, holds: Holds) -> Work {
        match self {
            Work::Blocking(f) => Work::Blocking(Box::new(move || {
                still_holds(&holds)?;
                f()
            })),
            Work::Async(f) => Work::Async(Box::pin(async move {
                still_holds(&holds)?;
                f.await
            })),
        }
    }

    /// Runs the work to its end on this thread (tests, and embedders without a runtime:
    /// a tokio API inside an async handler needs the embedder's runtime instead).
    pub fn run_here(self) -> Result<Payload, CallError> {
        match self {
            Work::Blocking(f) => f(),
            Work::Async(f) => futures_executor::block_on(f),
        }
    }
}

/// A function the router can call for a command. Implemented for sync and async
/// functions of up to eight extractors; `M` only tells the shapes apart.
pub trait Handler<M>: Send + Sync + 'static {
    /// Records what the extractors need from the table.
    fn declare(needs: &mut Needs);

    /// Runs the extractors and returns the work left, or the extractor's refusal.
    fn start(self: &Arc<Self>, parts: &mut Parts) -> Result<Work, CallError>;
}

/// Marks a sync [`Handler`] (run on a blocking thread).
#[doc(hidden)]
pub struct Blocking;
/// Marks an async [`Handler`].
#[doc(hidden)]
pub struct Awaited;

macro_rules! handlers {
    ($($T:ident),*) => {
        #[allow(non_snake_case, unused_variables, unused_mut)]
        impl<F, R, RM, $($T,)*> Handler<(Blocking, RM, $($T,)*)> for F
        where
            F: Fn($($T),*) -> R + Send + Sync + 'static,
            R: IntoReply<RM>,
            $($T: FromCall,)*
        {
            fn declare(needs: &mut Needs) {
                $($T::declare(needs);)*
            }

            fn start(self: &Arc<Self>, parts: &mut Parts) -> Result<Work, CallError> {
                $(let $T = $T::from_call(parts)?;)*
                let f = Arc::clone(self);
                let holds = std::mem::take(&mut parts.holds);
                // The reply is made inside the guard too: an app's `Serialize` impl
                // can panic as well as its handler.
                Ok(Work::Blocking(Box::new(move || {
                    still_holds(&holds)?;
                    guard(move || f($($T),*).into_reply()).and_then(|reply| reply)
                })))
            }
        }

        #[allow(non_snake_case, unused_variables, unused_mut)]
        impl<F, Fut, RM, $($T,)*> Handler<(Awaited, RM, $($T,)*)> for F
        where
            F: Fn($($T),*) -> Fut + Send + Sync + 'static,
            Fut: Future + Send + 'static,
            Fut::Output: IntoReply<RM>,
            $($T: FromCall,)*
        {
            fn declare(needs: &mut Needs) {
                $($T::declare(needs);)*
            }

            fn start(self: &Arc<Self>, parts: &mut Parts) -> Result<Work, CallError> {
                $(let $T = $T::from_call(parts)?;)*
                let f = Arc::clone(self);
                let holds = std::mem::take(&mut parts.holds);
                // The handler itself is called inside the future, on the runtime: even
                // the code before its first `.await` never runs on the caller's thread.
                // The reply is made inside the caught future, as for sync handlers.
                let run = async move {
                    still_holds(&holds)?;
                    f($($T),*).await.into_reply()
                };
                Ok(Work::Async(Box::pin(AssertUnwindSafe(run).catch_unwind().map(
                    |outcome| outcome.unwrap_or_else(|panic| Err(panicked(&*panic))),
                ))))
            }
        }
    };
}

handlers!();
handlers!(T1);
handlers!(T1, T2);
handlers!(T1, T2, T3);
handlers!(T1, T2, T3, T4);
handlers!(T1, T2, T3, T4, T5);
handlers!(T1, T2, T3, T4, T5, T6);
handlers!(T1, T2, T3, T4, T5, T6, T7);
handlers!(T1, T2, T3, T4, T5, T6, T7, T8);

/// The last look before a handler starts: a run-time grant or added path the call
/// relied on that ended since its admission refuses it (after a revoke returned,
/// nothing it revoked starts).
fn still_holds(holds: &Holds) -> Result<(), CallError> {
    holds.check().map_err(|e| CallError::new(e.code, e.message))
}

pub(crate) fn guard<T>(f: impl FnOnce() -> T) -> Result<T, CallError> {
    catch_unwind(AssertUnwindSafe(f)).map_err(|panic| panicked(&*panic))
}

pub(crate) fn panicked(panic: &(dyn std::any::Any + Send)) -> CallError {
    let what = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    // The panic text stays in the app's log; the caller only learns that it happened.
    tracing::error!(target: "portcullis::router", panic = %what, "handler panicked");
    CallError::new(
        ErrorCode::HandlerPanicked,
        "the handler panicked; the app keeps running",
    )
}
