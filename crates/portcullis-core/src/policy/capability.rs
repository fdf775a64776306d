//! A capability as the config compiled it: the windows and origins it applies to, its
//! allow and deny rules per kind (with their schemas, path arguments and limits), and its
//! path scopes. The policy evaluates requests against these; the run-time grants name
//! the ones a window was granted.

use std::sync::Arc;

use crate::FastMap;
use crate::origin::Origin;
use crate::scope::CompiledScope;
use crate::wire::request::Kind;

use super::globs::Globs;

pub(crate) struct CompiledRule {
    pub(crate) schema: Option<jsonschema::Validator<crate::json::tree::TreeJson>>,
    pub(crate) bytes: bool,
    /// (JSON pointer, index into the capability's scopes).
    pub(crate) paths: Vec<(String, usize)>,
    /// The rule's own `timeoutMs`, if it has one.
    pub(crate) timeout_ms: Option<u32>,
    /// A stream rule's `maxBytes`, if it has one.
    pub(crate) max_bytes: Option<u64>,
}

pub(crate) struct CompiledRules {
    pub(crate) allow: FastMap<String, CompiledRule>,
    pub(crate) deny: Globs,
}

pub(crate) struct CompiledCapability {
    pub(crate) identifier: Arc<str>,
    pub(crate) windows: Globs,
    pub(crate) origins: Vec<Origin>,
    /// Applies only to windows holding a run-time grant of it (`"runtimeGrant"`).
    pub(crate) runtime: bool,
    pub(crate) commands: CompiledRules,
    pub(crate) events: CompiledRules,
    pub(crate) streams: CompiledRules,
    pub(crate) scopes: Vec<CompiledScope>,
    /// The scopes' names, by the same index.
    pub(crate) scope_names: Vec<String>,
}

impl CompiledCapability {
    pub(crate) fn rules(&self, kind: Kind) -> &CompiledRules {
        match kind {
            Kind::Command => &self.commands,
            Kind::Event => &self.events,
            Kind::Stream => &self.streams,
        }
    }
}
