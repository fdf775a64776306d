//! The tokens an admitted call carries for the run-time grants it relied on, looked at
//! again just before its handler or listener starts.
//!
//! Every grant and every added path has one [`Held`] token, made with it. An admission
//! that relied on it keeps a clone in its [`Holds`]. The invariant: a token goes from
//! live to gone once and never back, and a writer marks it gone only after it published
//! the snapshot without its grant or path (`writer.rs`). So once a revoke (or forget)
//! returns, a call admitted under it before finds its token gone at the router's last
//! look (`E_GRANT_REVOKED`, or `E_OUT_OF_SCOPE` for a forgotten path), and a call
//! admitted after never saw the grant.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{ErrorCode, Rejection};

/// A token an admitted call holds for each grant or added path it relied on; gone once
/// the grant is revoked or the path forgotten.
pub(crate) struct Held {
    gone: AtomicBool,
    /// Why a call that relied on it is refused once it is gone.
    code: ErrorCode,
    capability: Arc<str>,
}

impl Held {
    /// A live token of a grant (`code` [`ErrorCode::GrantRevoked`]) or of an added path
    /// ([`ErrorCode::OutOfScope`]) of `capability`.
    pub(super) fn new(code: ErrorCode, capability: Arc<str>) -> Arc<Held> {
        Arc::new(Held {
            gone: AtomicBool::new(false),
            code,
            capability,
        })
    }

    /// `Err` with the refusal once the grant or path it stands for has ended.
    pub(crate) fn check(&self) -> Result<(), (ErrorCode, String)> {
        if !self.gone.load(Ordering::SeqCst) {
            return Ok(());
        }
        let what = match self.code {
            ErrorCode::GrantRevoked => "its grant was revoked",
            _ => "the path it relied on was forgotten",
        };
        Err((
            self.code,
            format!(
                "capability {:?}: {what} before the call started",
                self.capability
            ),
        ))
    }

    /// The grant or path ended: every call holding this token is refused from now on.
    pub(super) fn end(&self) {
        self.gone.store(true, Ordering::SeqCst);
    }
}

/// The grant and added paths one admission relied on, checked again before its handler
/// or listener starts. Holding the common case (one grant, no paths) needs no
/// allocation.
#[derive(Clone, Default)]
pub(crate) struct Holds {
    pub(crate) grant: Option<Arc<Held>>,
    pub(crate) paths: Vec<Arc<Held>>,
}

impl Holds {
    /// Whether the admission relied on no grant and no added path.
    pub(crate) fn is_empty(&self) -> bool {
        self.grant.is_none() && self.paths.is_empty()
    }

    /// `Err` with the refusal once any of them has ended.
    pub(crate) fn check(&self) -> Result<(), Rejection> {
        for held in self.grant.iter().chain(&self.paths) {
            held.check()
                .map_err(|(code, message)| Rejection::new(code, message))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_refuses_with_its_code_once_ended() {
        let held = Held::new(ErrorCode::GrantRevoked, Arc::from("export"));
        assert_eq!(held.check(), Ok(()));
        held.end();
        let (code, message) = held.check().unwrap_err();
        assert_eq!(code, ErrorCode::GrantRevoked);
        assert!(
            message.contains("\"export\": its grant was revoked"),
            "{message}"
        );
        let path = Held::new(ErrorCode::OutOfScope, Arc::from("base"));
        path.end();
        assert_eq!(path.check().unwrap_err().0, ErrorCode::OutOfScope);
    }

    #[test]
    fn holds_refuse_once_any_of_their_tokens_ended() {
        assert!(Holds::default().is_empty());
        assert_eq!(Holds::default().check(), Ok(()));
        let grant = Held::new(ErrorCode::GrantRevoked, Arc::from("export"));
        let paths = [
            Held::new(ErrorCode::OutOfScope, Arc::from("export")),
            Held::new(ErrorCode::OutOfScope, Arc::from("export")),
        ];
        let holds = Holds {
            grant: Some(Arc::clone(&grant)),
            paths: paths.iter().map(Arc::clone).collect(),
        };
        assert!(!holds.is_empty());
        assert_eq!(holds.check(), Ok(()));
        // The last path alone is enough.
        paths[1].end();
        let refused = holds.check().unwrap_err();
        assert_eq!(refused.code, ErrorCode::OutOfScope);
        // With the grant gone too, the grant is what the caller is told.
        grant.end();
        assert_eq!(holds.check().unwrap_err().code, ErrorCode::GrantRevoked);
        // A path alone, no grant: not empty.
        let path_only = Holds {
            grant: None,
            paths: vec![Arc::clone(&paths[0])],
        };
        assert!(!path_only.is_empty());
    }
}
