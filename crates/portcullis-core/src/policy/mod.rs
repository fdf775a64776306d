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

mod admitted;
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
}

pub(super) struct CompiledRules {
    allow: FastMap<String, CompiledRule>,
    deny: Globs,
}

pub(super) struct CompiledCapability {
    identifier: Arc<str>,
    windows: Globs,
    origins: Vec<Origin>,
    commands: CompiledRules,
    events: CompiledRules,
    scopes: Vec<CompiledScope>,
}

impl CompiledCapability {
    pub(super) fn rules(&self, kind: Kind) -> &CompiledRules {
        match kind {
            Kind::Command => &self.commands,
            Kind::Event => &self.events,
        }
    }
}

/// The compiled allowlist.
pub struct Policy {
    capabilities: Vec<CompiledCapability>,
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.capabilities.iter().map(|c| &c.identifier))
            .finish()
    }
}

impl Policy {
    /// Whether any capability names `origin`: pages elsewhere get no session at all.
    pub fn grants_origin(&self, origin: &Origin) -> bool {
        self.capabilities.iter().any(|c| c.origins.contains(origin))
    }

    /// The identifiers of the capabilities whose `windows` match webview `label`, in
    /// config order, matched exactly as requests are (for tools such as `portcullis
    /// check`, which must never disagree with the gate).
    pub fn capabilities_for_window(&self, label: &str) -> Vec<&str> {
        self.capabilities
            .iter()
            .filter(|c| c.windows.is_match(label))
            .map(|c| &*c.identifier)
            .collect()
    }
}
