//! Loading: defaults, strict fields and variants, rule shapes, duplicate keys, and the
//! kind each error carries.
//!
//! Unit tests only (`#[cfg(test)]` in `config/mod.rs`, not compiled into the library):
//! their `unwrap`s run on fixed configs written here, never on anything a webview sends.

use super::*;

fn err(text: &str) -> ConfigError {
    Config::from_json(text).unwrap_err().0.remove(0)
}

const MINIMAL: &str =
    r#"{"app":{"security":{"pattern":{"use":"isolation","options":{"dir":"isolation-app"}}}}}"#;

#[test]
fn minimal_isolation_config_has_defaults_and_no_capabilities() {
    let c = Config::from_json(MINIMAL).unwrap();
    assert!(c.isolation());
    assert!(c.app.security.capabilities.is_empty());
    assert_eq!(c.app.security.limits, Limits::default());
}

#[test]
fn brownfield_is_isolation_off() {
    let c = Config::from_json(r#"{"app":{"security":{"pattern":{"use":"brownfield"}}}}"#).unwrap();
    assert!(!c.isolation());
}

#[test]
fn unknown_field_names_its_path() {
    let e = err(r#"{"app":{"security":{"pattern":{"use":"brownfield"},"capabilites":[]}}}"#);
    assert_eq!(e.path, "app.security.capabilites");
    assert!(
        e.message.contains("unknown field `capabilites`"),
        "{}",
        e.message
    );
}

#[test]
fn unknown_pattern_names_its_path() {
    let e = err(r#"{"app":{"security":{"pattern":{"use":"open"}}}}"#);
    assert_eq!(e.path, "app.security.pattern.use");
    assert!(
        e.message.contains("unknown variant `open`"),
        "{}",
        e.message
    );
}

#[test]
fn rule_accepts_string_or_object() {
    let text = r#"{"app":{"security":{"pattern":{"use":"brownfield"},"capabilities":[{
        "identifier":"c","windows":["main"],"origins":["app://localhost"],
        "commands":{"allow":["a",{"name":"b","schema":{"type":"object"},"bytes":true}]}}]}}}"#;
    let c = Config::from_json(text).unwrap();
    let allow = &c.app.security.capabilities[0].commands.allow;
    assert_eq!(allow[0].name, "a");
    assert!(allow[1].schema.is_some() && allow[1].bytes);
}

#[test]
fn duplicate_keys_are_errors() {
    let e = err(r#"{"app":{"security":{"pattern":{"use":"brownfield"},"csp":"a","csp":"b"}}}"#);
    assert!(e.message.contains("duplicate key"), "{}", e.message);
}

#[test]
fn each_error_says_its_kind() {
    let kind = |text: &str| err(text).kind;
    let sec = |inner: &str| {
        format!(r#"{{"app":{{"security":{{"pattern":{{"use":"brownfield"}}{inner}}}}}}}"#)
    };
    assert_eq!(kind("{"), ConfigErrorKind::Syntax);
    assert_eq!(
        kind(r#"{"app":{},"app":{}}"#),
        ConfigErrorKind::DuplicateKey
    );
    assert_eq!(kind(&sec(r#","csq":"x""#)), ConfigErrorKind::UnknownField);
    assert_eq!(
        kind(r#"{"app":{"security":{"pattern":{"use":"isolaton"}}}}"#),
        ConfigErrorKind::UnknownVariant
    );
    assert_eq!(kind(&sec(r#","capabilities":7"#)), ConfigErrorKind::Shape);
    assert_eq!(
        kind(&sec(r#","limits":{"maxDepth":0}"#)),
        ConfigErrorKind::Limit
    );
    let cap = |c: &str| sec(&format!(r#","capabilities":[{c}]"#));
    assert_eq!(
        kind(&cap(
            r#"{"identifier":"c","windows":["main"],"origins":["nope"]}"#
        )),
        ConfigErrorKind::Origin
    );
    assert_eq!(
        kind(&cap(
            r#"{"identifier":"c","windows":[],"origins":["app://localhost"]}"#
        )),
        ConfigErrorKind::Empty
    );
    assert_eq!(
        kind(&cap(
            r#"{"identifier":"c","windows":["main"],"origins":["app://localhost"],"commands":{"allow":["a b"]}}"#
        )),
        ConfigErrorKind::Name
    );
}

#[test]
fn messages_speak_json_not_rust() {
    let sec = |inner: &str| {
        format!(r#"{{"app":{{"security":{{"pattern":{{"use":"brownfield"}}{inner}}}}}}}"#)
    };
    let message = |text: &str| err(text).message;
    assert_eq!(
        message(&sec(r#","limits":{"maxDepth":"x"}"#)),
        r#"invalid type: string "x", expected a whole number"#
    );
    assert_eq!(
        message(&sec(r#","limits":7"#)),
        "invalid type: number `7`, expected an object"
    );
    assert!(!message(&sec(r#","capabilities":{}"#)).contains("sequence"));
}

#[test]
fn build_names_a_frontend_and_a_dev_server_on_this_machine_only() {
    let with = |build: &str| {
        format!(r#"{{"build":{build},"app":{{"security":{{"pattern":{{"use":"brownfield"}}}}}}}}"#)
    };
    let config = Config::from_json(&with(
        r#"{"frontendDist":"dist","devUrl":"http://localhost:5173"}"#,
    ))
    .unwrap();
    let build = config.build.unwrap();
    assert_eq!(build.frontend_dist.unwrap(), PathBuf::from("dist"));
    assert_eq!(build.dev_url.as_deref(), Some("http://localhost:5173"));
    // Twin of the refusals below: the loopback spellings all pass, with their base path.
    for (url, base) in [
        ("http://localhost:5173", "/"),
        ("http://127.0.0.1:8080/", "/"),
        ("http://localhost:3000/app", "/app/"),
    ] {
        let (origin, path) = dev_server(url).unwrap();
        assert_eq!(path, base, "{url}");
        assert!(url.starts_with(&origin.to_string()), "{url}: {origin}");
    }
    for (build, path) in [
        (r#"{}"#, "build"),
        (r#"{"frontendDist":""}"#, "build.frontendDist"),
        (r#"{"devUrl":"https://localhost:5173"}"#, "build.devUrl"),
        (r#"{"devUrl":"http://192.168.1.5:5173"}"#, "build.devUrl"),
        (
            r#"{"devUrl":"http://localhost.evil.example:5173"}"#,
            "build.devUrl",
        ),
        (r#"{"devUrl":"http://localhost:5173/?x=1"}"#, "build.devUrl"),
        (r#"{"devUrl":"localhost:5173"}"#, "build.devUrl"),
        (r#"{"devUrl":"http://[::1]:5173"}"#, "build.devUrl"),
    ] {
        let e = err(&with(build));
        assert_eq!(
            (e.path.as_str(), e.kind),
            (path, ConfigErrorKind::Build),
            "{build}: {e}"
        );
    }
    // A typo in the section is an unknown field, like everywhere else.
    let e = err(&with(r#"{"frontendDsit":"dist"}"#));
    assert_eq!(e.kind, ConfigErrorKind::UnknownField);
    assert!(e.message.contains("frontendDsit"), "{e}");
}

/// A config whose one rule takes its schema from the handler of `notes.read`.
fn handler_rule(paths: &str) -> Config {
    Config::from_json(&format!(
        r#"{{"app":{{"security":{{"pattern":{{"use":"isolation","options":{{"dir":"iso"}}}},
            "capabilities":[{{"identifier":"c","windows":["main"],"origins":["app://localhost"],
              "commands":{{"allow":[{{"name":"notes.read","schema":"handler"{paths}}}]}},
              "scopes":{{"docs":{{"allow":["/docs/**"]}}}}}}]}}}}}}"#
    ))
    .unwrap()
}

fn read_manifest(required: bool) -> crate::manifest::Manifest {
    let required = if required {
        r#","required":["path"]"#
    } else {
        ""
    };
    crate::manifest::Manifest::from_json(&format!(
        r##"{{"version":1,"commands":{{"notes.read":{{"typed":true,"args":{{"json":{{"$ref":"#/$defs/Read"}}}},"result":"any"}}}},
            "streams":{{}},"events":{{}},"emits":{{}},
            "definitions":{{"Read":{{"type":"object","properties":{{"path":{{"type":"string"}}}}{required}}}}}}}"##
    ))
    .unwrap()
}

#[test]
fn a_rule_takes_its_handlers_schema_inlined_and_its_paths_are_checked_against_it() {
    let mut config = handler_rule(r#","paths":{"/path":"docs"}"#);
    assert!(crate::Policy::compile(&config, &crate::ScopeVars::new()).is_err());
    assert_eq!(config.take_handler_schemas(&read_manifest(true)), Ok(1));
    let schema = config.app.security.capabilities[0].commands.allow[0]
        .schema
        .clone()
        .unwrap();
    assert_eq!(schema["properties"]["path"]["type"], "string");
    assert!(crate::Policy::compile(&config, &crate::ScopeVars::new()).is_ok());
    // A path the handler's type does not require would let the page switch the check off.
    let mut loose = handler_rule(r#","paths":{"/path":"docs"}"#);
    let errors = loose
        .take_handler_schemas(&read_manifest(false))
        .unwrap_err();
    assert_eq!(
        errors.0[0].path,
        "app.security.capabilities[0].commands.allow[0].paths./path"
    );
}

#[test]
fn a_rule_whose_handler_is_missing_or_untyped_is_refused_at_its_path() {
    let mut config = handler_rule("");
    let mut manifest = read_manifest(true);
    manifest.commands.get_mut("notes.read").unwrap().typed = false;
    manifest.commands.get_mut("notes.read").unwrap().args = crate::manifest::Shape::Any;
    let errors = config.take_handler_schemas(&manifest).unwrap_err();
    assert_eq!(
        errors.0[0].path,
        "app.security.capabilities[0].commands.allow[0].schema"
    );
    assert!(
        errors.0[0].message.contains("command_typed"),
        "{}",
        errors.0[0].message
    );
}
