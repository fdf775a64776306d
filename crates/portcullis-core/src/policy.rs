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

use std::collections::HashMap;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use serde_json::Value;

use crate::FastMap;
use crate::config::{Config, ConfigErrors, Rules};
use crate::envelope::SessionId;
use crate::error::{ErrorCode, Rejection};
use crate::origin::Origin;
use crate::request::{Body, Kind, Request};
use crate::scope::{CompiledScope, ScopeVars};

/// Who sent a request, as far as the embedder attests and the session proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The webview label the embedder attests (shared with the session: no copy per message).
    pub webview: Arc<str>,
    /// The page origin the embedder attests (and, with isolation, the session's origin).
    pub origin: Arc<Origin>,
    /// The session that sealed the request; `None` only in brownfield mode.
    pub session: Option<SessionId>,
    /// The request's sequence number in that session (0 in brownfield mode).
    pub seq: u64,
}

/// A request the policy admitted. Only the policy can build one. `Debug` shows the
/// caller, name and capability, not the arguments or path values.
pub struct Admitted {
    caller: Caller,
    request: Request,
    capability: Arc<str>,
    paths: Vec<(String, PathBuf)>,
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
pub(crate) type Grant = (Arc<str>, Vec<(String, PathBuf)>);

struct CompiledRule {
    schema: Option<jsonschema::Validator>,
    bytes: bool,
    /// (JSON pointer, index into the capability's scopes).
    paths: Vec<(String, usize)>,
}

struct CompiledRules {
    allow: FastMap<String, CompiledRule>,
    deny: Globs,
}

struct CompiledCapability {
    identifier: Arc<str>,
    windows: Globs,
    origins: Vec<Origin>,
    commands: CompiledRules,
    events: CompiledRules,
    scopes: Vec<CompiledScope>,
}

impl CompiledCapability {
    fn rules(&self, kind: Kind) -> &CompiledRules {
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
    /// Validates `config` and compiles its capabilities: window globs, origins, schemas,
    /// scopes. Every error names its JSON path.
    pub fn compile(config: &Config, vars: &ScopeVars) -> Result<Policy, ConfigErrors> {
        let mut errors = ConfigErrors(Vec::new());
        config.check(&mut errors);
        errors.into_result()?;
        Policy::compile_checked(config, vars)
    }

    /// Compiles a config that [`Config::check`] has passed. Only tests call it on one that
    /// has not, to reach the run-time refusals that back the check.
    fn compile_checked(config: &Config, vars: &ScopeVars) -> Result<Policy, ConfigErrors> {
        let mut errors = ConfigErrors(Vec::new());
        let mut capabilities = Vec::new();
        for (i, cap) in config.app.security.capabilities.iter().enumerate() {
            let at = format!("app.security.capabilities[{i}]");
            let windows = globs(&cap.windows, &format!("{at}.windows"), &mut errors);
            let origins = cap
                .origins
                .iter()
                .filter_map(|o| Origin::parse(o).ok())
                .collect();
            let mut scope_index = HashMap::new();
            let mut scopes = Vec::new();
            for (name, scope) in &cap.scopes {
                match CompiledScope::compile(scope, vars) {
                    Ok(s) => {
                        scope_index.insert(name.clone(), scopes.len());
                        scopes.push(s);
                    }
                    Err(e) => errors.push(format!("{at}.scopes.{name}"), e),
                }
            }
            let commands = rules(
                &cap.commands,
                &format!("{at}.commands"),
                &scope_index,
                &mut errors,
            );
            let events = rules(
                &cap.events,
                &format!("{at}.events"),
                &scope_index,
                &mut errors,
            );
            capabilities.push(CompiledCapability {
                identifier: Arc::from(cap.identifier.as_str()),
                windows,
                origins,
                commands,
                events,
                scopes,
            });
        }
        errors.into_result().map(|()| Policy { capabilities })
    }

    /// Whether any capability names `origin`: pages elsewhere get no session at all.
    pub fn grants_origin(&self, origin: &Origin) -> bool {
        self.capabilities.iter().any(|c| c.origins.contains(origin))
    }

    /// Decides on an authentic `request` from `caller`.
    pub fn decide(&self, caller: Caller, request: Request) -> Result<Admitted, Rejection> {
        let (capability, paths) = self.evaluate(&caller, &request)?;
        Ok(Admitted {
            caller,
            request,
            capability,
            paths,
        })
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
                Ok(paths) => return Ok((Arc::clone(&cap.identifier), paths)),
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

impl Admitted {
    pub(crate) fn new(caller: Caller, request: Request, (capability, paths): Grant) -> Admitted {
        Admitted {
            caller,
            request,
            capability,
            paths,
        }
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
        Body::Json(v) => v,
    };
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
            Some(Value::String(s)) => cap.scopes[*scope]
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

/// Globs over labels and names. Neither is a path, so `*` matches `/` too: a deny of
/// `fs*` must cover `fs/read` as well as `fs.read`.
/// A compiled list of globs. globset's matching first builds a path-normalised candidate
/// from the text, which was the larger part of checking a message's window label and
/// name; so the common patterns skip it: `*` matches every text, and a pattern without
/// glob syntax matches only itself (a string comparison).
struct Globs {
    set: GlobSet,
    literals: Vec<String>,
    any: bool,
}

impl Globs {
    fn is_match(&self, text: &str) -> bool {
        self.any
            || self.literals.iter().any(|l| l == text)
            || (!self.set.is_empty() && self.set.is_match(text))
    }
}

fn globs(patterns: &[String], at: &str, errors: &mut ConfigErrors) -> Globs {
    let mut set = GlobSetBuilder::new();
    let mut literals = Vec::new();
    for (j, p) in patterns.iter().enumerate() {
        if !p.is_empty() && !p.contains(['*', '?', '[', ']', '{', '}', '\\']) {
            literals.push(p.clone());
            continue;
        }
        match GlobBuilder::new(p).literal_separator(false).build() {
            Ok(g) => {
                set.add(g);
            }
            Err(e) => errors.push(format!("{at}[{j}]"), format!("invalid glob: {e}")),
        }
    }
    let set = set.build().unwrap_or_else(|e| {
        errors.push(at, e.to_string());
        GlobSet::empty()
    });
    Globs {
        set,
        literals,
        any: patterns.iter().any(|p| p == "*"),
    }
}

/// Argument schemas are compiled with format validation on (`"format": "email"` and the
/// like are checked, not just annotations).
fn compile_schema(
    schema: &Value,
) -> Result<jsonschema::Validator, jsonschema::ValidationError<'static>> {
    jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
}

fn rules(
    rules: &Rules,
    at: &str,
    scope_index: &HashMap<String, usize>,
    errors: &mut ConfigErrors,
) -> CompiledRules {
    let deny = globs(&rules.deny, &format!("{at}.deny"), errors);
    let mut allow = FastMap::default();
    for (j, rule) in rules.allow.iter().enumerate() {
        let rp = format!("{at}.allow[{j}]");
        let schema = rule.schema.as_ref().and_then(|s| {
            compile_schema(s)
                .map_err(|e| {
                    errors.push(format!("{rp}.schema"), format!("invalid JSON Schema: {e}"))
                })
                .ok()
        });
        let mut paths = Vec::new();
        for (pointer, scope) in &rule.paths {
            match scope_index.get(scope) {
                Some(&i) if pointer.is_empty() || pointer.starts_with('/') => {
                    paths.push((pointer.clone(), i));
                }
                // Refused here as well as in `Config::check`: a policy compiled without
                // that check must not lose a path check silently.
                _ => errors.push(
                    format!("{rp}.paths.{pointer}"),
                    format!("{pointer:?} → {scope:?}: needs a JSON pointer and a scope defined in this capability"),
                ),
            }
        }
        if allow
            .insert(
                rule.name.clone(),
                CompiledRule {
                    schema,
                    bytes: rule.bytes,
                    paths,
                },
            )
            .is_some()
        {
            errors.push(
                format!("{rp}.name"),
                format!("{:?} is allowed twice in this list", rule.name),
            );
        }
    }
    CompiledRules { allow, deny }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn policy(caps: Value) -> Policy {
        let text =
            json!({"app": {"security": {"pattern": {"use": "brownfield"}, "capabilities": caps}}});
        let config = Config::from_json(&text.to_string()).unwrap();
        Policy::compile(&config, &ScopeVars::new()).unwrap()
    }

    fn caller(label: &str, origin: &str) -> Caller {
        Caller {
            webview: label.into(),
            origin: Arc::new(Origin::parse(origin).unwrap()),
            session: None,
            seq: 0,
        }
    }

    fn cmd(name: &str, args: Value) -> Request {
        Request {
            kind: Kind::Command,
            id: 1,
            name: name.into(),
            body: Body::Json(args),
        }
    }

    fn code(p: &Policy, c: Caller, r: Request) -> ErrorCode {
        p.decide(c, r).unwrap_err().code
    }

    fn notes() -> Policy {
        policy(json!([{
            "identifier": "notes", "windows": ["main", "note-*"], "origins": ["app://localhost"],
            "commands": {
                "allow": ["notes.list", {"name": "notes.add", "schema": {
                    "type": "object", "required": ["title"], "additionalProperties": false,
                    "properties": {"title": {"type": "string", "maxLength": 10}}}},
                    "notes.purge", "both.sides"],
                "deny": ["notes.purge", "admin.*"]
            },
            "events": {"allow": ["note-opened"]}
        }, {
            "identifier": "other", "windows": ["main"], "origins": ["app://localhost"],
            "commands": {"deny": ["both.sides"]}
        }]))
    }

    #[test]
    fn allowed_command_is_admitted_with_its_capability() {
        let a = notes()
            .decide(
                caller("main", "app://localhost"),
                cmd("notes.list", json!({})),
            )
            .unwrap();
        assert_eq!(a.capability(), "notes");
        assert_eq!(a.request().name, "notes.list");
    }

    #[test]
    fn nothing_is_allowed_by_default() {
        assert_eq!(
            code(
                &policy(json!([])),
                caller("main", "app://localhost"),
                cmd("notes.list", json!({}))
            ),
            ErrorCode::NotAllowed
        );
        assert_eq!(
            code(
                &notes(),
                caller("main", "app://localhost"),
                cmd("notes.delete", json!({}))
            ),
            ErrorCode::NotAllowed
        );
    }

    #[test]
    fn deny_wins_over_allow_in_the_same_and_in_another_capability() {
        let p = notes();
        assert_eq!(
            code(
                &p,
                caller("main", "app://localhost"),
                cmd("notes.purge", json!({}))
            ),
            ErrorCode::Denied
        );
        assert_eq!(
            code(
                &p,
                caller("main", "app://localhost"),
                cmd("admin.reset", json!({}))
            ),
            ErrorCode::Denied
        );
        assert_eq!(
            code(
                &p,
                caller("main", "app://localhost"),
                cmd("both.sides", json!({}))
            ),
            ErrorCode::Denied
        );
        // The second capability does not apply to note-1, so its deny does not either.
        assert!(
            p.decide(
                caller("note-1", "app://localhost"),
                cmd("both.sides", json!({}))
            )
            .is_ok()
        );
    }

    #[test]
    fn name_deny_globs_cross_slashes() {
        let p = policy(json!([{
            "identifier": "c", "windows": ["main"], "origins": ["app://localhost"],
            "commands": {"allow": ["fs/read", "fs.read", "ok"], "deny": ["fs*"]}
        }]));
        for name in ["fs/read", "fs.read"] {
            assert_eq!(
                code(&p, caller("main", "app://localhost"), cmd(name, json!({}))),
                ErrorCode::Denied,
                "{name}"
            );
        }
        assert!(
            p.decide(caller("main", "app://localhost"), cmd("ok", json!({})))
                .is_ok()
        );
    }

    #[test]
    fn schema_fast_path_agrees_with_full_validation() {
        // Admission uses `is_valid` and only asks `validate` to explain a failure; the two
        // must agree, including for the keywords whose evaluation differs between them
        // ($ref, not, unevaluated*, conditionals, formats).
        let schemas = [
            json!({"$defs": {"n": {"type": "integer", "minimum": 1}}, "type": "object",
                   "properties": {"a": {"$ref": "#/$defs/n"}}, "required": ["a"]}),
            json!({"not": {"$ref": "#/$defs/s"}, "$defs": {"s": {"type": "string"}}}),
            json!({"$defs": {"t": {"anyOf": [{"type": "null"}, {"type": "array", "items": {"$ref": "#/$defs/t"}}]}},
                   "$ref": "#/$defs/t"}),
            json!({"type": "object", "properties": {"a": true}, "unevaluatedProperties": false,
                   "allOf": [{"properties": {"b": true}}]}),
            json!({"if": {"properties": {"k": {"const": "x"}}}, "then": {"required": ["x"]}, "else": {"required": ["y"]}}),
            json!({"type": "string", "format": "email"}),
            json!({"oneOf": [{"type": "integer"}, {"type": "number", "multipleOf": 0.5}]}),
        ];
        let instances = [
            json!(null),
            json!(0),
            json!(1),
            json!(1.5),
            json!("a"),
            json!("a@b.example"),
            json!([]),
            json!([null, [null]]),
            json!([1]),
            json!({}),
            json!({"a": 0}),
            json!({"a": 2}),
            json!({"a": 1, "b": 2}),
            json!({"a": 1, "c": 2}),
            json!({"k": "x"}),
            json!({"k": "x", "x": 1}),
            json!({"k": "z", "y": 1}),
        ];
        let mut seen = (0, 0);
        for schema in &schemas {
            let v = compile_schema(schema).unwrap();
            for instance in &instances {
                let fast = v.is_valid(instance);
                assert_eq!(fast, v.validate(instance).is_ok(), "{schema} on {instance}");
                if fast { seen.0 += 1 } else { seen.1 += 1 }
            }
        }
        // Both outcomes occur, so the comparison is not vacuous.
        assert!(seen.0 > 10 && seen.1 > 10, "{seen:?}");
    }

    #[test]
    fn literal_and_star_patterns_match_like_globs() {
        // Literal patterns and `*` skip globset; they must match exactly what the glob
        // would: a literal only itself (no prefix, no case folding), `*` everything.
        let p = policy(json!([{
            "identifier": "c", "windows": ["main", "w?n"], "origins": ["app://localhost"],
            "commands": {"allow": ["ok", "admin.x"], "deny": ["admin.x"]}
        }, {
            "identifier": "any", "windows": ["*"], "origins": ["app://other"],
            "commands": {"allow": ["ok"]}
        }]));
        let ok = |label: &str, origin: &str, name: &str| {
            p.decide(caller(label, origin), cmd(name, json!({})))
                .is_ok()
        };
        assert!(ok("main", "app://localhost", "ok"));
        assert!(ok("win", "app://localhost", "ok"));
        for label in ["mai", "main2", "Main", "xmain", "main/"] {
            assert_eq!(
                code(&p, caller(label, "app://localhost"), cmd("ok", json!({}))),
                ErrorCode::NotAllowed,
                "{label}"
            );
        }
        // A literal name in a deny list denies only itself.
        assert_eq!(
            code(
                &p,
                caller("main", "app://localhost"),
                cmd("admin.xy", json!({}))
            ),
            ErrorCode::NotAllowed
        );
        assert_eq!(
            code(
                &p,
                caller("main", "app://localhost"),
                cmd("admin.x", json!({}))
            ),
            ErrorCode::Denied
        );
        for label in ["main", "a/b", "x-y.z", "anything"] {
            assert!(ok(label, "app://other", "ok"), "{label}");
        }
    }

    #[test]
    fn compile_validates_configs_built_without_from_json() {
        let config: Config = serde_json::from_value(json!({"app": {"security": {
            "pattern": {"use": "brownfield"},
            "capabilities": [{"identifier": "c", "windows": ["main"], "origins": ["app://localhost"],
                "commands": {"allow": [{"name": "fs.read", "paths": {"/path": "missing"}}]}}]
        }}})).unwrap();
        let errs = Policy::compile(&config, &ScopeVars::new()).unwrap_err().0;
        let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "app.security.capabilities[0].commands.allow[0].paths",
                "app.security.capabilities[0].commands.allow[0].paths./path",
            ]
        );
    }

    #[test]
    fn windows_match_by_glob_and_origins_exactly() {
        let p = notes();
        assert!(
            p.decide(
                caller("note-7", "app://localhost"),
                cmd("notes.list", json!({}))
            )
            .is_ok()
        );
        for (label, origin) in [
            ("other", "app://localhost"),
            ("note-", "app://localhost.evil.com"),
            ("main", "http://app.localhost"),
            ("main", "app://localhost:8080"),
            ("main", "https://localhost"),
        ] {
            assert_eq!(
                code(&p, caller(label, origin), cmd("notes.list", json!({}))),
                ErrorCode::NotAllowed,
                "{label} {origin}"
            );
        }
    }

    #[test]
    fn schema_is_enforced_without_echoing_values() {
        let p = notes();
        let ok = p.decide(
            caller("main", "app://localhost"),
            cmd("notes.add", json!({"title": "hi"})),
        );
        assert!(ok.is_ok());
        for bad in [
            json!({}),
            json!({"title": 5}),
            json!({"title": "x", "extra": 1}),
            json!({"title": "secret-but-too-long"}),
            json!([]),
        ] {
            let e = p
                .decide(
                    caller("main", "app://localhost"),
                    cmd("notes.add", bad.clone()),
                )
                .unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidArgs, "{bad}");
            assert!(!e.message.contains("secret"), "{}", e.message);
        }
    }

    #[test]
    fn bytes_need_an_explicit_rule() {
        let p = notes();
        let req = Request::decode(
            Request::encode_bytes(Kind::Command, 1, "notes.list", b"x"),
            8,
        )
        .unwrap();
        assert_eq!(
            code(&p, caller("main", "app://localhost"), req),
            ErrorCode::InvalidArgs
        );
    }

    #[test]
    fn events_have_their_own_list() {
        let p = notes();
        let ev = |name: &str| Request {
            kind: Kind::Event,
            ..cmd(name, json!(null))
        };
        assert!(
            p.decide(caller("main", "app://localhost"), ev("note-opened"))
                .is_ok()
        );
        assert_eq!(
            code(&p, caller("main", "app://localhost"), ev("notes.list")),
            ErrorCode::NotAllowed
        );
        assert_eq!(
            code(
                &p,
                caller("main", "app://localhost"),
                cmd("note-opened", json!(null))
            ),
            ErrorCode::NotAllowed
        );
    }

    /// `fs.read`, whose `/path` argument is a required string checked against `scope`.
    fn fs_read(scope: &str) -> Value {
        json!({"name": "fs.read", "paths": {"/path": scope}, "schema": {
            "type": "object", "required": ["path"], "properties": {"path": {"type": "string"}}}})
    }

    #[test]
    fn scopes_come_from_the_capability_that_allows() {
        let p = policy(json!([{
            "identifier": "reader", "windows": ["reader"], "origins": ["app://localhost"],
            "commands": {"allow": [fs_read("docs")]},
            "scopes": {"docs": {"allow": ["/srv/docs/**"]}}
        }, {
            "identifier": "admin", "windows": ["admin"], "origins": ["app://localhost"],
            "commands": {"allow": [fs_read("all")]},
            "scopes": {"all": {"allow": ["/**"]}}
        }]));
        let read = |p: &str| cmd("fs.read", json!({"path": p}));
        let a = p
            .decide(caller("reader", "app://localhost"), read("/srv/docs/a.md"))
            .unwrap();
        assert_eq!(a.scoped_path("/path"), Some(Path::new("/srv/docs/a.md")));
        assert_eq!(
            code(&p, caller("reader", "app://localhost"), read("/etc/passwd")),
            ErrorCode::OutOfScope
        );
        assert_eq!(
            code(
                &p,
                caller("reader", "app://localhost"),
                read("/srv/docs/../../etc/passwd")
            ),
            ErrorCode::OutOfScope
        );
        // The schema declares `/path` a required string, so it refuses these first.
        for args in [json!({"path": 1}), json!({}), json!({"pth": "/etc/passwd"})] {
            assert_eq!(
                code(
                    &p,
                    caller("reader", "app://localhost"),
                    cmd("fs.read", args.clone())
                ),
                ErrorCode::InvalidArgs,
                "{args}"
            );
        }
        assert!(
            p.decide(caller("admin", "app://localhost"), read("/etc/passwd"))
                .is_ok()
        );
    }

    #[test]
    fn nested_and_escaped_path_arguments_are_checked() {
        let p = policy(json!([{
            "identifier": "c", "windows": ["main"], "origins": ["app://localhost"],
            "commands": {"allow": [{"name": "fs.copy", "paths": {"/from/path": "docs", "/to/a~1b": "docs"},
                "schema": {"type": "object", "required": ["from", "to"], "properties": {
                    "from": {"type": "object", "required": ["path"], "properties": {"path": {"type": "string"}}},
                    "to": {"type": "object", "required": ["a/b"], "properties": {"a/b": {"type": "string"}}}}}}]},
            "scopes": {"docs": {"allow": ["/srv/docs/**"]}}
        }]));
        let copy = |from: &str, to: &str| {
            cmd(
                "fs.copy",
                json!({"from": {"path": from}, "to": {"a/b": to}}),
            )
        };
        let a = p
            .decide(
                caller("main", "app://localhost"),
                copy("/srv/docs/a.md", "/srv/docs/b.md"),
            )
            .unwrap();
        assert_eq!(
            a.scoped_path("/from/path"),
            Some(Path::new("/srv/docs/a.md"))
        );
        assert_eq!(a.scoped_path("/to/a~1b"), Some(Path::new("/srv/docs/b.md")));
        for (from, to) in [
            ("/srv/docs/../../etc/passwd", "/srv/docs/b.md"),
            ("/srv/docs/a.md", "/etc/passwd"),
        ] {
            assert_eq!(
                code(&p, caller("main", "app://localhost"), copy(from, to)),
                ErrorCode::OutOfScope,
                "{from} {to}"
            );
        }
    }

    /// A policy allowing `rule` to window "main", with scope "docs" = `/srv/docs/**`,
    /// compiled without `Config::check`. A loaded config cannot hold a rule whose schema
    /// lets a path argument be missing or not a string: the check refuses it, and
    /// `Policy::compile` runs the check (asserted here). So this is the only way to reach
    /// the run-time refusals that back the check.
    fn unchecked(rule: Value) -> Policy {
        let config: Config = serde_json::from_value(json!({"app": {"security": {
            "pattern": {"use": "brownfield"},
            "capabilities": [{"identifier": "c", "windows": ["main"], "origins": ["app://localhost"],
                "commands": {"allow": [rule]}, "scopes": {"docs": {"allow": ["/srv/docs/**"]}}}]
        }}}))
        .unwrap();
        assert!(
            Policy::compile(&config, &ScopeVars::new()).is_err(),
            "Config::check must refuse this rule"
        );
        Policy::compile_checked(&config, &ScopeVars::new()).unwrap()
    }

    fn refusal(p: &Policy, args: Value) -> Rejection {
        p.decide(caller("main", "app://localhost"), cmd("fs.read", args))
            .unwrap_err()
    }

    #[test]
    fn a_missing_path_argument_is_out_of_scope() {
        // `/path` optional; and the reported mistake: a pointer that misspells the property.
        let optional = unchecked(json!({"name": "fs.read", "paths": {"/path": "docs"},
            "schema": {"type": "object", "properties": {"path": {"type": "string"}}}}));
        let misspelt = unchecked(json!({"name": "fs.read", "paths": {"/pth": "docs"},
            "schema": {"type": "object", "required": ["path"], "properties": {"path": {"type": "string"}}}}));
        for (p, pointer, args) in [
            (&optional, "/path", json!({})),
            (
                &optional,
                "/path",
                json!({"pth": "/srv/docs/../../etc/passwd"}),
            ),
            (&misspelt, "/pth", json!({"path": "/etc/passwd"})),
            (
                &misspelt,
                "/pth",
                json!({"path": "/srv/docs/../../etc/passwd"}),
            ),
        ] {
            let e = refusal(p, args.clone());
            assert_eq!(e.code, ErrorCode::OutOfScope, "{args}");
            assert_eq!(
                e.message,
                format!(
                    "argument {pointer:?} is missing: send the path there, it is checked against a scope"
                )
            );
        }
        // Twin: the same policy admits the argument when it is there and in scope.
        let a = optional
            .decide(
                caller("main", "app://localhost"),
                cmd("fs.read", json!({"path": "/srv/docs/a.md"})),
            )
            .unwrap();
        assert_eq!(a.scoped_path("/path"), Some(Path::new("/srv/docs/a.md")));
    }

    #[test]
    fn a_path_argument_that_is_not_a_string_is_out_of_scope() {
        let p = unchecked(json!({"name": "fs.read", "paths": {"/path": "docs"},
            "schema": {"type": "object", "required": ["path"]}}));
        for args in [
            json!({"path": 1}),
            json!({"path": null}),
            json!({"path": ["/srv/docs/a.md"]}),
            json!({"path": {"p": "/srv/docs/a.md"}}),
        ] {
            let e = refusal(&p, args.clone());
            assert_eq!(e.code, ErrorCode::OutOfScope, "{args}");
            assert_eq!(
                e.message,
                "argument \"/path\" is not a string: send the path as a string"
            );
        }
        // Twin.
        let a = p
            .decide(
                caller("main", "app://localhost"),
                cmd("fs.read", json!({"path": "/srv/docs/a.md"})),
            )
            .unwrap();
        assert_eq!(a.scoped_path("/path"), Some(Path::new("/srv/docs/a.md")));
    }

    #[test]
    fn binary_arguments_to_a_rule_with_paths_are_out_of_scope() {
        let p = unchecked(json!({"name": "fs.read", "bytes": true, "paths": {"/path": "docs"}}));
        let req = Request::decode(
            Request::encode_bytes(Kind::Command, 1, "fs.read", b"/etc/passwd"),
            8,
        )
        .unwrap();
        assert_eq!(
            code(&p, caller("main", "app://localhost"), req),
            ErrorCode::OutOfScope
        );
        // Twin: JSON arguments to the same rule are still checked and admitted in scope.
        assert!(
            p.decide(
                caller("main", "app://localhost"),
                cmd("fs.read", json!({"path": "/srv/docs/a.md"}))
            )
            .is_ok()
        );
    }

    #[test]
    fn bad_schema_and_glob_are_config_errors_with_paths() {
        let text = json!({"app": {"security": {"pattern": {"use": "brownfield"}, "capabilities": [{
            "identifier": "x", "windows": ["a[", "ok"], "origins": ["app://localhost"],
            "commands": {"allow": [{"name": "c", "schema": {"type": "nope"}}]}
        }]}}});
        let config = Config::from_json(&text.to_string()).unwrap();
        let errs = Policy::compile(&config, &ScopeVars::new()).unwrap_err().0;
        let paths: Vec<_> = errs.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "app.security.capabilities[0].windows[0]",
                "app.security.capabilities[0].commands.allow[0].schema"
            ]
        );
    }
}
