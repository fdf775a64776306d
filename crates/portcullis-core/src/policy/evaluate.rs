//! Evaluating one request against the compiled [`Policy`]: the capabilities that apply
//! to the caller (window glob and exact origin), deny first, then an allow rule whose
//! schema accepts the arguments and whose scopes contain every path argument.

use std::path::PathBuf;
use std::sync::Arc;

#[cfg(test)]
use super::admitted::Admitted;
use super::admitted::Caller;
use super::admitted::Grant;
use super::{CompiledCapability, CompiledRule, Policy};
use crate::error::{ErrorCode, Rejection};
use crate::json::tree::Tree;
use crate::request::{Body, Request};

impl Policy {
    /// Decides on an authentic `request` from `caller` (the gate builds the
    /// [`Admitted`] itself; tests use this).
    #[cfg(test)]
    pub(crate) fn decide(&self, caller: Caller, request: Request) -> Result<Admitted, Rejection> {
        let grant = self.evaluate(&caller, &request)?;
        Ok(Admitted::new(caller, request, grant))
    }

    /// The capability and checked paths that admit `request`, or why nothing does.
    pub(crate) fn evaluate(&self, caller: &Caller, request: &Request) -> Result<Grant, Rejection> {
        let kind = request.kind.as_str();
        let name = request.name.as_str();
        // Matching a capability to the caller is cheap (see `Globs`), so each pass filters
        // again rather than collecting the applicable ones into an allocation.
        let applicable = || {
            self.capabilities.iter().filter(|c| {
                c.windows.is_match(&caller.webview) && c.origins.contains(&caller.origin)
            })
        };
        if let Some(cap) = applicable().find(|c| c.rules(request.kind).deny.is_match(name)) {
            return Err(Rejection::new(
                ErrorCode::Denied,
                format!(
                    "{kind} {name:?} is denied by capability {:?}",
                    cap.identifier
                ),
            ));
        }
        let mut first_error = None;
        for cap in applicable() {
            let Some(rule) = cap.rules(request.kind).allow.get(name) else {
                continue;
            };
            match check_rule(rule, cap, &request.body) {
                Ok(paths) => {
                    return Ok(Grant {
                        capability: Arc::clone(&cap.identifier),
                        paths,
                        timeout_ms: rule.timeout_ms,
                    });
                }
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        Err(first_error.unwrap_or_else(|| {
            Rejection::new(
                ErrorCode::NotAllowed,
                format!(
                    "{kind} {name:?} is not allowed for webview {:?} at {}: add it to a capability's {kind}s.allow",
                    caller.webview, caller.origin
                ),
            )
        }))
    }
}

fn check_rule(
    rule: &CompiledRule,
    cap: &CompiledCapability,
    body: &Body,
) -> Result<Vec<(String, PathBuf)>, Rejection> {
    let args = match body {
        Body::Bytes(_) if !rule.bytes => {
            return Err(Rejection::new(
                ErrorCode::InvalidArgs,
                "binary arguments are not allowed for this name (set \"bytes\": true in its rule)",
            ));
        }
        Body::Bytes(_) if rule.paths.is_empty() => return Ok(Vec::new()),
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
    // A path argument the arguments lack, or hold as another type, is refused: skipping
    // it would switch the scope check off. `Config::check` makes the schema refuse such
    // arguments first; this is the second line.
    for (pointer, scope) in &rule.paths {
        let checked = match args.pointer(pointer) {
            Some(Tree::String(s)) => cap.scopes[*scope]
                .check(s)
                .map_err(|e| format!("argument {pointer:?}: {e}")),
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
    Ok(paths)
}
