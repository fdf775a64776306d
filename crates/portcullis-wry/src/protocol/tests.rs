use super::*;

/// The repository's copy of the module: what Node's tests and a reader of
/// `isolation-app/` see.
const COMMITTED: &str = include_str!("../../isolation-app/protocol.js");

#[test]
fn the_repositorys_protocol_js_is_what_rust_writes() {
    if std::env::var_os("PORTCULLIS_BLESS").is_some() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../isolation-app/protocol.js"
        );
        std::fs::write(path, module()).unwrap();
        return;
    }
    assert!(
        COMMITTED == module(),
        "isolation-app/protocol.js is not the protocol's constants as Rust defines them: \
         write it again with `PORTCULLIS_BLESS=1 cargo test -p portcullis-wry --lib protocol`"
    );
}

#[test]
fn the_module_exports_the_data_and_nothing_else() {
    let json = module()
        .split_once("export const PROTOCOL = ")
        .and_then(|(_, rest)| rest.strip_suffix(";\n"))
        .expect("one export of a JSON object");
    let parsed: serde_json::Value = serde_json::from_str(json).unwrap();
    assert_eq!(&parsed, data());
    assert!(module().lines().all(|l| l.starts_with("//")
        || !l.contains("export ")
        || l.starts_with("export const PROTOCOL = ")));
}

/// Every script the webview runs or is served, and the package's, with whether it is a
/// module: what must take the protocol's constants from [`data`], not state them.
fn scripts() -> Vec<(&'static str, &'static str, bool)> {
    vec![
        ("js/bridge.js", crate::BRIDGE_JS, false),
        (
            "js/profile/bridge-marks.js",
            include_str!("../../js/profile/bridge-marks.js"),
            false,
        ),
        (
            "js/profile/runtime-marks.js",
            include_str!("../../js/profile/runtime-marks.js"),
            true,
        ),
        (
            "isolation-app/marks.js",
            include_str!("../../isolation-app/marks.js"),
            true,
        ),
        (
            "isolation-app/runtime.js",
            crate::isolation::RUNTIME_JS,
            true,
        ),
        ("isolation-app/sealer.js", crate::isolation::SEALER_JS, true),
        (
            "isolation-app/canonical.js",
            crate::isolation::CANONICAL_JS,
            true,
        ),
        ("isolation-app/kinds.js", crate::isolation::KINDS_JS, true),
        (
            "isolation-app/helpers.js",
            crate::isolation::HELPERS_JS,
            true,
        ),
        (
            "isolation-app/hook.js",
            crate::isolation::DEFAULT_HOOK_JS,
            true,
        ),
        ("packages/api/index.js", package_api(), true),
    ]
}

/// The package's module, read from the workspace (not embedded: it lies outside this
/// crate, which is published on its own). Missing, the test fails.
fn package_api() -> &'static str {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../packages/api/index.js");
    let text = std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{path}: {e}: the package's module is checked here"));
    Box::leak(text.into_boxed_str())
}

/// The numbers a script may name for itself: not the protocol's, the script's own
/// choice, each with why.
const OWN_NUMBERS: [(&str, &str); 1] = [(
    "WASM_MAX_PLAINTEXT",
    "sealer.js: which engine seals a message, a choice of speed the wire never sees",
)];

/// What a script says: its string literals (template parts included) and the
/// upper-case constants it declares with a number, or an object of numbers, as value.
#[derive(Default)]
struct Said {
    strings: Vec<String>,
    numbers: Vec<String>,
}

impl<'a> oxc_ast_visit::Visit<'a> for Said {
    fn visit_string_literal(&mut self, it: &oxc_ast::ast::StringLiteral<'a>) {
        self.strings.push(it.value.to_string());
    }

    fn visit_template_element(&mut self, it: &oxc_ast::ast::TemplateElement<'a>) {
        self.strings.push(it.value.raw.to_string());
    }

    fn visit_variable_declarator(&mut self, it: &oxc_ast::ast::VariableDeclarator<'a>) {
        use oxc_ast::ast::{Expression, ObjectPropertyKind};
        let numeric = |e: &Expression<'_>| matches!(e, Expression::NumericLiteral(_));
        let stated =
            match &it.init {
                Some(e) if numeric(e) => true,
                Some(Expression::ObjectExpression(o)) => !o.properties.is_empty()
                    && o.properties.iter().all(
                        |p| matches!(p, ObjectPropertyKind::ObjectProperty(p) if numeric(&p.value)),
                    ),
                _ => false,
            };
        if let Some(name) = it.id.get_identifier_name()
            && stated
            && name.chars().all(|c| c.is_ascii_uppercase() || c == '_')
        {
            self.numbers.push(name.to_string());
        }
        oxc_ast_visit::walk::walk_variable_declarator(self, it);
    }
}

fn said(path: &str, text: &str, module: bool) -> Said {
    use oxc_ast_visit::Visit as _;
    let allocator = oxc_allocator::Allocator::default();
    let kind = if module {
        oxc_span::SourceType::mjs()
    } else {
        oxc_span::SourceType::cjs()
    };
    let parsed = oxc_parser::Parser::new(&allocator, text, kind).parse();
    assert!(
        parsed.errors.is_empty() && !parsed.panicked,
        "{path} parses"
    );
    let mut said = Said::default();
    said.visit_program(&parsed.program);
    said
}

/// Every string in `value`, however deep.
fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(s) => out.push(s.clone()),
        serde_json::Value::Array(a) => a.iter().for_each(|v| strings(v, out)),
        serde_json::Value::Object(o) => o.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

#[test]
fn no_script_states_a_constant_of_the_protocol_itself() {
    let mut protocol_strings = Vec::new();
    strings(data(), &mut protocol_strings);
    for (path, text, module) in scripts() {
        let said = said(path, text, module);
        // The protocol's strings (reserved names, the channel prefix, the transport's
        // URLs and header) come from the data, so no string in a script holds one.
        for s in &said.strings {
            for p in &protocol_strings {
                assert!(
                    !s.contains(p.as_str()),
                    "{path} writes {p:?} itself: take it from the protocol's constants"
                );
            }
        }
        // A number a script names for itself is its own choice, listed above.
        for name in &said.numbers {
            assert!(
                OWN_NUMBERS.iter().any(|(own, _)| own == name),
                "{path} declares {name} as a number: take it from the protocol's \
                 constants, or list it in OWN_NUMBERS if the wire never sees it"
            );
        }
        // The literals the protocol's constants were once written as, here and there.
        for old in [
            "WINDOW = 4",
            "type === 1",
            "type === 3",
            "0x50",
            "0x43",
            "framed(6",
            "tagLength: 128",
            "plaintext[0] = 0",
            "plaintext[0] = 2",
            "Uint8Array([1])",
            "\"json\" in body ? 0 : 1",
            "kind === 6",
            "__portcullis/channel",
        ] {
            assert!(
                !text.contains(old),
                "{path} still has {old:?}: take it from the protocol's constants"
            );
        }
    }
}

#[test]
fn the_rust_side_neither_guesses_a_constant_nor_splices_a_script() {
    for (path, text) in [
        ("src/builder.rs", include_str!("../builder.rs")),
        ("src/isolation.rs", include_str!("../isolation.rs")),
        ("src/profile.rs", include_str!("../profile.rs")),
        ("src/frontend.rs", include_str!("../frontend.rs")),
    ] {
        for old in ["CHUNK_OVERHEAD", ".replacen(", "RUNTIME_IMPORTS"] {
            assert!(!text.contains(old), "{path} still has {old:?}");
        }
    }
}

#[test]
fn what_the_scripts_receive_is_the_cores() {
    use portcullis_core::wire::constants::{self, MessageKind};
    let data = data();
    for kind in MessageKind::ALL {
        assert_eq!(data["kinds"][kind.as_str()], kind.byte(), "{kind:?}");
    }
    assert_eq!(data["streamWindow"], constants::STREAM_WINDOW);
    assert_eq!(data["channelFrames"]["end"], constants::FRAME_END);
    assert_eq!(data["chunkOps"]["abort"], constants::OP_ABORT);
    assert_eq!(data["names"]["cancel"], constants::CANCEL_NAME);
    assert_eq!(
        data["envelope"]["chunkHeaderLen"],
        portcullis_core::envelope::CHUNK_HEADER_LEN
    );
    // Everything the core hands the scripts is in it, unchanged.
    let core = constants::for_scripts();
    for (key, value) in core.as_object().unwrap() {
        assert_eq!(&data[key], value, "{key}");
    }
}
