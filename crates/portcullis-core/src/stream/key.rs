//! The name of a stream: the webview and page load that opened it, and its id (the
//! request id of its open, PROTOCOL.md §6.3). Two page loads of one webview never share a
//! stream: a chunk names a stream of its own page load or none.

use std::sync::Arc;

use crate::caller::Caller;
use crate::envelope::SessionId;

/// The key of a stream: its webview, page load and id.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct StreamKey {
    /// The webview's label.
    pub(super) webview: Arc<str>,
    /// The page load (its session; none in brownfield mode).
    pub(super) session: Option<SessionId>,
    /// The request id of the stream's open.
    pub(super) id: u64,
}

impl StreamKey {
    /// The stream `id` of `caller`'s page load.
    pub fn of(caller: &Caller, id: u64) -> StreamKey {
        StreamKey {
            webview: Arc::clone(&caller.webview),
            session: caller.session,
            id,
        }
    }

    /// Whether the stream belongs to webview `label`.
    pub(super) fn in_webview(&self, label: &str) -> bool {
        &*self.webview == label
    }
}
