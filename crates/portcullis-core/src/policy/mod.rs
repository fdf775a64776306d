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
mod compile;
mod evaluate;
mod globs;
#[cfg(test)]
pub(crate) mod tests;

use std::fmt;
use std::sync::Arc;

#[cfg(test)]
pub(crate) use admitted::Grant;
pub use admitted::{Admitted, Caller};

use crate::FastMap;
use crate::grants::Grants;
use crate::origin::Origin;
use crate::request::Kind;
use crate::scope::CompiledScope;
use globs::Globs;

pub(super) struct CompiledRule {
    schema: Option<jsonschema::Validator<crate::json::tree::TreeJson>>,
    bytes: bool,
    /// (JSON pointer, index into the capability's scopes).
    paths: Vec<(String, usize)>,
    /// The rule's own `timeoutMs`, if it has one.
    timeout_ms: Option<u32>,
    /// A stream rule's `maxBytes`, if it has one.
    max_bytes: Option<u64>,
}

pub(super) struct CompiledRules {
    allow: FastMap<String, CompiledRule>,
    deny: Globs,
}

pub(crate) struct CompiledCapability {
    pub(crate) identifier: Arc<str>,
    pub(crate) windows: Globs,
    origins: Vec<Origin>,
    /// Applies only to windows holding a run-time grant of it (`"runtimeGrant"`).
    pub(crate) runtime: bool,
    commands: CompiledRules,
    events: CompiledRules,
    streams: CompiledRules,
    pub(crate) scopes: Vec<CompiledScope>,
    /// The scopes' names, by the same index.
    pub(crate) scope_names: Vec<String>,
}

impl CompiledCapability {
    pub(super) fn rules(&self, kind: Kind) -> &CompiledRules {
        match kind {
            Kind::Command => &self.commands,
            Kind::Event => &self.events,
            Kind::Stream => &self.streams,
        }
    }
}

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
