//! A channel pull (PROTOCOL.md §12): a page asking for its channels' messages with
//! `pull <id>`, giving one up with `close <id>`, or saying the call that carried it was
//! answered with `done <id>`.
//!
//! A pull is not a message to the gate: it starts nothing and carries nothing to a
//! handler. It is served only for the webview's current page load (its session, with
//! isolation), so a page that went away, and every other webview, get nothing; a
//! channel's id is 128 random bits only its page knows. Its refusals are audited here
//! like every other, with one exception: a `pull` of an id the page load has no channel
//! of is what the bridge sends while its call is still on the way (it pulls again,
//! backing off), so every `pull` answered `E_NO_SUCH_CHANNEL` goes without an audit
//! event (whether no handler took the id yet, its channel ended, or it is another page's:
//! the lookup is by webview and page load, and an id is 128 random bits, so nothing is
//! learned, and a pull for no channel holds nothing). A `close` or
//! `done` of such an id, and every malformed pull, are audited.

use crate::audit::Trace;
use crate::channel::{ChannelId, Channels};
use crate::error::{ErrorCode, Rejection};
use crate::origin::Origin;
use crate::reply::CallError;

use super::Gate;

/// What the embedder sends back to a pull.
#[derive(Debug)]
pub enum PullAnswer {
    /// A pull's frames (`application/octet-stream`; PROTOCOL.md §12).
    Frames(Vec<u8>),
    /// A close or done was taken (`null`).
    Taken,
    /// Refused, with its code.
    Refused(CallError),
}

/// Where a pull's answer goes: called once.
pub type PullResponder = Box<dyn FnOnce(PullAnswer) + Send>;

/// What a pull asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Pull,
    Close,
    Done,
}

impl Op {
    fn name(self) -> &'static str {
        match self {
            Op::Pull => "portcullis.channel.pull",
            Op::Close => "portcullis.channel.close",
            Op::Done => "portcullis.channel.done",
        }
    }
}

/// Reads `pull <id>`, `close <id>` or `done <id>`.
fn read(body: &[u8]) -> Option<(Op, ChannelId)> {
    let (op, hex) = std::str::from_utf8(body).ok()?.split_once(' ')?;
    let op = match op {
        "pull" => Op::Pull,
        "close" => Op::Close,
        "done" => Op::Done,
        _ => return None,
    };
    Some((op, ChannelId::parse(hex)?))
}

impl Gate {
    /// Serves one channel pull from webview `webview`, whose page is at `origin` (the
    /// embedder attests both): `answer` gets the frames, `null` for a close or done, or
    /// the refusal. Returns the refusal's code when it was refused at once.
    pub fn pull(
        &self,
        channels: &Channels,
        webview: &str,
        origin: Option<&Origin>,
        body: &[u8],
        answer: PullResponder,
    ) -> Option<ErrorCode> {
        let refuse = |answer: PullResponder, code: ErrorCode, message: &str, name: Option<Op>| {
            let trace = Trace {
                name: name.map(|op| op.name().to_owned()),
                ..Trace::default()
            };
            let rejection = Rejection::new(code, message);
            self.audit.record(&rejection, webview, origin, &trace);
            answer(PullAnswer::Refused(CallError::new(code, rejection.message)));
            Some(code)
        };
        let Some((op, id)) = read(body) else {
            return refuse(
                answer,
                ErrorCode::BadRequest,
                "a channel pull is `pull <id>`, `close <id>` or `done <id>`, the id 32 lowercase hex digits",
                None,
            );
        };
        if origin.is_none() {
            return refuse(
                answer,
                ErrorCode::NoPageOrigin,
                "this webview has no page loaded from an origin Portcullis understands",
                Some(op),
            );
        }
        let session = if self.isolation {
            match self.sessions.current(webview) {
                Some(session) => Some(session),
                None => {
                    return refuse(
                        answer,
                        ErrorCode::UnknownSession,
                        "this webview has no live page load to pull channels for",
                        Some(op),
                    );
                }
            }
        } else {
            None
        };
        let done = match op {
            Op::Pull => {
                // A pull refused at once says so; one that waits was not refused.
                let refused = std::sync::Arc::new(std::sync::Mutex::new(None));
                let seen = std::sync::Arc::clone(&refused);
                channels.pull(
                    webview,
                    session,
                    id,
                    Box::new(move |result| {
                        answer(match result {
                            Ok(frames) => PullAnswer::Frames(frames),
                            Err(e) => {
                                if let Ok(mut seen) = seen.lock() {
                                    *seen = Some(e.code);
                                }
                                PullAnswer::Refused(e)
                            }
                        })
                    }),
                );
                let code = refused.lock().ok().and_then(|r| *r);
                // Not audited: see the module's documentation.
                return code;
            }
            Op::Close => channels.close(webview, session, id),
            Op::Done => channels.call_done(webview, session, id),
        };
        match done {
            Ok(()) => {
                answer(PullAnswer::Taken);
                None
            }
            Err(e) => refuse(answer, e.code, &e.message, Some(op)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_three_operations_on_a_well_formed_id_are_read() {
        let id = "0123456789abcdef0123456789abcdef";
        assert_eq!(
            read(format!("pull {id}").as_bytes()).map(|r| r.0),
            Some(Op::Pull)
        );
        assert_eq!(
            read(format!("close {id}").as_bytes()).map(|r| r.0),
            Some(Op::Close)
        );
        assert_eq!(
            read(format!("done {id}").as_bytes()).map(|r| r.0),
            Some(Op::Done)
        );
        for bad in [
            format!("push {id}"),
            format!("pull  {id}"),
            format!("pull {}", id.to_uppercase()),
            "pull".to_owned(),
            format!("pull {id}0"),
        ] {
            assert!(read(bad.as_bytes()).is_none(), "{bad}");
        }
        assert!(read(&[0xff, b' ', b'a']).is_none());
    }
}
