//! Evaluating one request against the compiled [`Policy`]: the capabilities that apply
//! to the caller (window glob and exact origin), deny first, then an allow rule whose
//! schema accepts the arguments and whose scopes contain every path argument.

use std::path::PathBuf;
use std::sync::Arc;

use super::Policy;
use super::admitted::Admission;
#[cfg(test)]
use super::admitted::Admitted;
use super::capability::{CompiledCapability, CompiledRule};
use super::grants::{Added, Held, Holds};
use crate::caller::Caller;
use crate::error::{ErrorCode, Rejection};
use crate::json::tree::Tree;
use crate::wire::request::{Body, Request};

impl Policy {
    /// Decides on an authentic `request` from `caller` (the gate builds the
    /// [`Admitted`] itself; tests use this).
    #[cfg(test)]
    pub(crate) fn admit_for_tests(
        &self,
        caller: Caller,
        request: Request,
    ) -> Result<Admitted, Rejection> {
        let grant = self.evaluate(&caller, &request)?;
        Ok(Admitted::new(caller, request, grant, Default::default()))
    }

    /// The capability and checked paths that admit `request`, or why nothing does.
    pub(crate) fn evaluate(
        &self,
        caller: &Caller,
        request: &Request,
    ) -> Result<Admission, Rejection> {
        let kind = request.kind.as_str();
        let name = request.name.as_str();
        // Read once per message, and only by configs that can depend on it (lock-free).
        let snapshot = self.reads_grants.then(|| self.grants.load());
        let window = snapshot
            .as_ref()
            .and_then(|s| s.windows.get(&*caller.webview))
            .map(|w| &**w);
        // The capabilities that apply to the caller (window and origin), worked out once
        // for both passes, without an allocation: a bit each for a config of up to 64
        // capabilities, else matched again in each pass. A run-time capability's deny
        // list applies whether it is granted or not.
        let applies = |c: &CompiledCapability| {
            c.windows.is_match(&caller.webview) && c.origins.contains(&caller.origin)
        };
        let mask = (self.capabilities.len() <= 64).then(|| {
            (self.capabilities.iter().enumerate())
                .filter(|(_, c)| applies(c))
                .fold(0u64, |mask, (i, _)| mask | 1 << i)
        });
        let covering = || {
            self.capabilities
                .iter()
                .enumerate()
                .filter(move |(i, c)| mask.map_or_else(|| applies(c), |m| m >> i & 1 == 1))
        };
        if let Some((_, cap)) = covering().find(|(_, c)| c.rules(request.kind).deny.is_match(name))
        {
            return Err(Rejection::new(
                ErrorCode::Denied,
                format!(
                    "{kind} {name:?} is denied by capability {:?}",
                    cap.identifier
                ),
            ));
        }
        let mut first_error = None;
        // An ungranted run-time capability that allows the name: a revoked one is
        // reported over one never granted.
        let mut ungranted: Option<(&CompiledCapability, bool)> = None;
        // An admission under a run-time grant: taken only when no capability admits
        // without one (a revoke would refuse a call another capability allows).
        let mut by_grant = None;
        for (index, cap) in covering() {
            let Some(rule) = cap.rules(request.kind).allow.get(name) else {
                continue;
            };
            let held = match (cap.runtime, window.and_then(|w| w.held(index))) {
                (false, _) => None,
                (true, Some(held)) => Some(held),
                (true, None) => {
                    let revoked = window.is_some_and(|w| w.revoked.contains(&index));
                    if ungranted.is_none_or(|(_, r)| revoked && !r) {
                        ungranted = Some((cap, revoked));
                    }
                    continue;
                }
            };
            let added = window.map_or(&[][..], |w| &w.paths[..]);
            match check_rule(rule, index, cap, added, &request.body) {
                Ok((paths, path_holds)) => {
                    let grant = |grant| Admission {
                        capability: Arc::clone(&cap.identifier),
                        paths,
                        timeout_ms: rule.timeout_ms,
                        max_bytes: rule.max_bytes,
                        holds: Holds {
                            grant,
                            paths: path_holds,
                        },
                    };
                    match held {
                        None => return Ok(grant(None)),
                        Some(held) if by_grant.is_none() => {
                            by_grant = Some(grant(Some(Arc::clone(held))));
                        }
                        Some(_) => {}
                    }
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if let Some(grant) = by_grant {
            return Ok(grant);
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        if let Some((cap, revoked)) = ungranted {
            let (code, what) = if revoked {
                (ErrorCode::GrantRevoked, "was revoked from")
            } else {
                (ErrorCode::NotGranted, "is not granted to")
            };
            return Err(Rejection::new(
                code,
                format!(
                    "{kind} {name:?} needs capability {:?}, which is granted at run time and {what} webview {:?}",
                    cap.identifier, caller.webview
                ),
            ));
        }
        Err(Rejection::new(
            ErrorCode::NotAllowed,
            format!(
                "{kind} {name:?} is not allowed for webview {:?} at {}: add it to a capability's {kind}s.allow",
                caller.webview, caller.origin
            ),
        ))
    }
}

/// The checked paths, and the tokens of the added paths they relied on.
type Checked = (Vec<(String, PathBuf)>, Vec<Arc<Held>>);

fn check_rule(
    rule: &CompiledRule,
    index: usize,
    cap: &CompiledCapability,
    added: &[Added],
    body: &Body,
) -> Result<Checked, Rejection> {
    let args = match body {
        Body::Bytes(_) if !rule.bytes => {
            return Err(Rejection::new(
                ErrorCode::InvalidArgs,
                "binary arguments are not allowed for this name (set \"bytes\": true in its rule)",
            ));
        }
        Body::Bytes(_) if rule.paths.is_empty() => return Ok((Vec::new(), Vec::new())),
        Body::Bytes(_) => {
            return Err(Rejection::new(
                ErrorCode::OutOfScope,
                "binary arguments carry no path, and this name takes path arguments: send them as JSON",
            ));
        }
        Body::Json(text) => text,
    };
    let args = args.tree();
    // `is_valid` is the fast path (no error is built); `validate` only explains a failure,
    // and a failure stays a failure even if it had nothing to explain.
    if let Some(schema) = &rule.schema
        && !schema.is_valid(args)
    {
        // The instance path and keyword say what is wrong without echoing the value; the
        // path holds keys the page chose, so it is quoted with escapes (no log injection).
        let message = match schema.validate(args) {
            Err(e) => {
                let at = e.instance_path().to_string();
                let at = if at.is_empty() { "/".to_owned() } else { at };
                format!(
                    "arguments at {at:?} fail the schema's {:?} keyword",
                    e.kind().keyword()
                )
            }
            Ok(()) => "arguments fail the schema".to_owned(),
        };
        return Err(Rejection::new(ErrorCode::InvalidArgs, message));
    }
    let mut paths = Vec::with_capacity(rule.paths.len());
    let mut holds = Vec::new();
    // A path argument the arguments lack, or hold as another type, is refused: skipping
    // it would switch the scope check off. `Config::check` makes the schema refuse such
    // arguments first; this is the second line.
    for (pointer, scope) in &rule.paths {
        let mut extra = added
            .iter()
            .filter(|a| a.cap == index && a.scope == *scope)
            .peekable();
        let checked = match args.pointer(pointer) {
            Some(Tree::String(s)) if extra.peek().is_none() => cap.scopes[*scope]
                .check(s)
                .map_err(|e| format!("argument {pointer:?}: {e}")),
            Some(Tree::String(s)) => {
                let extra: Vec<&Added> = extra.collect();
                cap.scopes[*scope]
                    .check_with(s, &|p| extra.iter().find(|a| a.covers(p)).map(|a| &a.held))
                    .map(|(path, relied)| {
                        holds.extend(relied.into_iter().cloned());
                        path
                    })
                    .map_err(|e| format!("argument {pointer:?}: {e}"))
            }
            Some(_) => Err(format!(
                "argument {pointer:?} is not a string: send the path as a string"
            )),
            None => Err(format!(
                "argument {pointer:?} is missing: send the path there, it is checked against a scope"
            )),
        };
        match checked {
            Ok(p) => paths.push((pointer.clone(), p)),
            Err(message) => return Err(Rejection::new(ErrorCode::OutOfScope, message)),
        }
    }
    Ok((paths, holds))
}
