//! What the policy says yes to: the [`Admitted`] request, which only the policy can make
//! (a handler that takes one knows the policy said yes), and the [`Admission`] that admitted
//! it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::grants::Holds;
use crate::audit::Audit;
pub use crate::authentic::Caller;
use crate::error::Rejection;
use crate::wire::request::Request;

/// A request the policy admitted. Only the policy can build one. `Debug` shows the
/// caller, name and capability, not the arguments or path values.
pub struct Admitted {
    caller: Caller,
    request: Request,
    capability: Arc<str>,
    paths: Vec<(String, PathBuf)>,
    timeout_ms: Option<u32>,
    max_bytes: Option<u64>,
    holds: Holds,
    /// Where the refusals of the steps after admission are recorded.
    audit: Audit,
}

impl fmt::Debug for Admitted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Admitted")
            .field("caller", &self.caller)
            .field("kind", &self.request.kind)
            .field("name", &self.request.name)
            .field("body", &self.request.body)
            .field("capability", &self.capability)
            .field("paths", &self.paths.len())
            .finish()
    }
}

impl Admitted {
    /// Who sent it.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// The request.
    pub fn request(&self) -> &Request {
        &self.request
    }

    /// Takes the request out (its body, to deserialize arguments without a copy).
    pub fn into_request(self) -> Request {
        self.request
    }

    /// The admitting rule's `timeoutMs`, if it has one (else `limits.callTimeoutMs`
    /// applies).
    pub fn timeout_ms(&self) -> Option<u32> {
        self.timeout_ms
    }

    /// For a stream's open: the admitting rule's `maxBytes`, if it has one.
    pub fn max_bytes(&self) -> Option<u64> {
        self.max_bytes
    }

    /// Whether the run-time grants and added paths it relied on still hold: `Err` with
    /// the refusal once one was revoked or forgotten.
    pub fn still_granted(&self) -> Result<(), Rejection> {
        self.holds.check()
    }

    /// Takes the request apart for the router: the caller, the request, the checked
    /// path arguments and the grants it relied on.
    pub(crate) fn into_parts(self) -> AdmittedParts {
        AdmittedParts {
            caller: self.caller,
            request: self.request,
            paths: self.paths,
            holds: self.holds,
            audit: self.audit,
        }
    }

    /// The identifier of the capability whose rule admitted it.
    pub fn capability(&self) -> &str {
        &self.capability
    }

    /// The checked, normalized path at JSON pointer `pointer` of the arguments, if the
    /// rule declared it as a path argument and the caller supplied it.
    pub fn scoped_path(&self, pointer: &str) -> Option<&Path> {
        self.paths
            .iter()
            .find(|(p, _)| p == pointer)
            .map(|(_, path)| path.as_path())
    }
}

/// What admitted a request: the capability's identifier and the checked path arguments.
pub(crate) struct Admission {
    /// The identifier of the capability whose rule admitted it.
    pub(crate) capability: Arc<str>,
    /// (JSON pointer, checked and normalized path) for each path argument.
    pub(crate) paths: Vec<(String, PathBuf)>,
    /// The admitting rule's `timeoutMs`, if it has one.
    pub(crate) timeout_ms: Option<u32>,
    /// The admitting rule's `maxBytes`, if it has one (streams).
    pub(crate) max_bytes: Option<u64>,
    /// The run-time grant and added paths it relied on: checked again just before its
    /// handler starts (empty when it relied on none).
    pub(crate) holds: Holds,
}

impl Admitted {
    pub(crate) fn new(
        caller: Caller,
        request: Request,
        grant: Admission,
        audit: Audit,
    ) -> Admitted {
        Admitted {
            audit,
            caller,
            request,
            capability: grant.capability,
            paths: grant.paths,
            timeout_ms: grant.timeout_ms,
            max_bytes: grant.max_bytes,
            holds: grant.holds,
        }
    }
}

/// An admitted call taken apart for the router.
pub(crate) struct AdmittedParts {
    pub(crate) caller: Caller,
    pub(crate) request: Request,
    /// The checked path arguments, by JSON pointer.
    pub(crate) paths: Vec<(String, PathBuf)>,
    /// The run-time grants and added paths it relied on.
    pub(crate) holds: Holds,
    /// Where the router's refusals of it are recorded.
    pub(crate) audit: Audit,
}
