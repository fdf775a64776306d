//! The allowlist: deny by default, deny wins, schemas and scopes enforced here.
//!
//! A request is admitted only if some capability applies to the caller (its `windows`
//! globs match the webview label and its `origins` contain the page origin exactly), no
//! applicable capability denies the name, and an applicable capability allows the name
//! with a rule whose schema accepts the arguments and whose path scopes contain every
//! path argument. Scopes are looked up in the same capability as the rule, so one
//! window's scope never widens another's. Schemas are compiled once, here, at load.
//!
//! The result, [`Admitted`], can only be made by this module: a handler that takes one
//! knows the policy has said yes.

pub(crate) mod admitted;
pub(crate) mod capability;
mod compile;
mod evaluate;
mod globs;
pub mod grants;
#[cfg(test)]
pub(crate) mod tests;
#[cfg(test)]
mod tests_many;

use std::fmt;
use std::sync::Arc;

pub use crate::caller::Caller;
#[cfg(test)]
pub(crate) use admitted::Admission;
pub use admitted::Admitted;

use crate::origin::Origin;
use capability::CompiledCapability;
use grants::Grants;

/// The compiled allowlist, with its run-time grants.
pub struct Policy {
    capabilities: Arc<[CompiledCapability]>,
    grants: Grants,
    /// Whether any message can depend on the grants (a run-time capability, or a rule
    /// with path arguments): when none can, evaluation never reads them.
    reads_grants: bool,
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.capabilities.iter().map(|c| &c.identifier))
            .finish()
    }
}

impl Policy {
    /// The run-time grants: capabilities granted to a window, paths added to its scopes.
    pub fn grants(&self) -> &Grants {
        &self.grants
    }

    /// Whether any capability names `origin`: pages elsewhere get no session at all.
    pub fn grants_origin(&self, origin: &Origin) -> bool {
        self.capabilities.iter().any(|c| c.origins.contains(origin))
    }

    /// The identifiers of the capabilities whose `windows` match webview `label`, in
    /// config order, matched exactly as requests are (for tools such as `portcullis
    /// check`, which must never disagree with the gate). Run-time capabilities are
    /// listed too: they apply once granted.
    pub fn capabilities_for_window(&self, label: &str) -> Vec<&str> {
        self.capabilities
            .iter()
            .filter(|c| c.windows.is_match(label))
            .map(|c| &*c.identifier)
            .collect()
    }
}
