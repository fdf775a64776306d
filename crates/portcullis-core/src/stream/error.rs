//! Why a handler's reading of its stream ended without the page's end: the one error an
//! `Upload` gives, at most once, after the chunks it took before.

/// Why an `Upload` ended without the page's end.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StreamError {
    /// The page aborted the stream (`writer.abort(reason)`).
    #[error("the page aborted the stream: {0}")]
    Aborted(String),
    /// The page went away (a new page load, the webview closed).
    #[error("the page that opened the stream went away")]
    PageGone,
    /// The stream passed its rule's `maxBytes`, or a chunk would have passed what the
    /// page's streams may hold together (`limits.maxBufferedStreamBytes`).
    #[error("the stream passed its limit of {0} bytes")]
    TooLarge(u64),
    /// A chunk came out of order: the stream has a gap.
    #[error("a chunk came out of order: the stream was aborted")]
    OutOfOrder,
    /// The call was cancelled: timed out, or its page aborted it or went away.
    #[error("the stream's call was cancelled")]
    Cancelled,
}

/// A handler may return it with `?`: `E_HANDLER` with app code `STREAM_ABORTED`,
/// `STREAM_PAGE_GONE`, `STREAM_TOO_LARGE`, `STREAM_OUT_OF_ORDER` or `STREAM_CANCELLED`.
impl crate::reply::AppError for StreamError {
    fn app_code(&self) -> Option<String> {
        Some(
            match self {
                StreamError::Aborted(_) => "STREAM_ABORTED",
                StreamError::PageGone => "STREAM_PAGE_GONE",
                StreamError::TooLarge(_) => "STREAM_TOO_LARGE",
                StreamError::OutOfOrder => "STREAM_OUT_OF_ORDER",
                StreamError::Cancelled => "STREAM_CANCELLED",
            }
            .to_owned(),
        )
    }
}
