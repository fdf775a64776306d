//! The `isolation://` protocol: the isolation frame's document (with this page load's
//! key, once), its runtime, and the app's hook files.
//!
//! Key delivery rules, each enforced here:
//! - only a request for the document itself (`/` or `/index.html`) can carry a key;
//! - never to a request with an `Origin` header: those are made by scripts (fetch, XHR,
//!   module and worker loads), while a frame navigation carries none;
//! - once per page load of the webview (see [`crate::page`]);
//! - the document's CSP includes `sandbox allow-scripts`, so even a frame created without
//!   the `sandbox` attribute runs it with an opaque origin, and the runtime refuses to
//!   start unless it is a sandboxed direct child of the top frame.

use std::borrow::Cow;
use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use portcullis_core::PageKey;
use serde::Serialize;
use wry::http::{Request, Response, StatusCode, header};
use zeroize::Zeroizing;

use crate::hook::HookSource;
use crate::{Shared, assets};

/// The runtime and sealer, embedded from the top-level `isolation-app/` through the
/// crate's `isolation-app` link, so that the published package holds the files.
pub const RUNTIME_JS: &str = include_str!("../isolation-app/runtime.js");
/// The wire-format sealer module.
pub const SEALER_JS: &str = include_str!("../isolation-app/sealer.js");
/// The canonical-value module: what the hook sees is what is sealed.
pub const CANONICAL_JS: &str = include_str!("../isolation-app/canonical.js");
/// How the frame's messages reach the gate: the native handler or `ipc://`.
pub const TRANSPORT_JS: &str = include_str!("../isolation-app/transport.js");
/// Which kinds of message a hook judges, and how it declares them.
pub const KINDS_JS: &str = include_str!("../isolation-app/kinds.js");
/// The hook helpers module (`import … from "./__portcullis/helpers.js"`).
pub const HELPERS_JS: &str = include_str!("../isolation-app/helpers.js");
/// The WebAssembly sealer (`crates/portcullis-sealer-wasm`, rebuilt by
/// `scripts/build-sealer-wasm.sh`): seals small messages synchronously.
pub const SEALER_WASM: &[u8] = include_bytes!("../isolation-app/sealer.wasm");
/// The built-in hook, which checks only that a name is present: served only when the
/// config asks for it by name ([`crate::hook::BUILTIN_NAMES_ONLY`]).
pub const DEFAULT_HOOK_JS: &str = include_str!("../isolation-app/hook.js");

type Body = Cow<'static, [u8]>;

/// The isolation document's script: the runtime and the modules it imports, linked into
/// one inline module ([`crate::link`]). Inline, because loading them as module files took
/// one more round trip through the engine each before the frame could answer its first
/// call. The CSP admits exactly this script by its hash ([`inline_script_hash`]).
pub fn inline_script() -> &'static str {
    static SCRIPT: OnceLock<String> = OnceLock::new();
    SCRIPT.get_or_init(|| inline_script_for(crate::engine::CURRENT))
}

/// The isolation document's script as `engine` would be served it (its protocol module
/// names that engine's transport URLs), for `portcullis check --platform`.
pub fn inline_script_for(engine: crate::engine::Engine) -> String {
    let protocol = crate::protocol::module_for(engine);
    let pieces = linked_pieces(&protocol);
    let script = crate::link::link(&pieces).unwrap_or_else(|error| {
        // Our own modules, linked the same way by a unit test: this is never reached.
        // If it were, the frame would fail to start, and every call with it.
        tracing::error!("portcullis: the isolation runtime does not link: {error}");
        String::new()
    });
    minified(&script)
}

/// The modules of the inline script, each after the ones it imports: the protocol's
/// constants (this build's data, [`crate::protocol::module`]), the marks, the sealer, the
/// canonical-value, kinds and transport modules, and the runtime.
fn linked_pieces(protocol: &str) -> [crate::link::Piece<'_>; 7] {
    use crate::link::Piece;
    [
        Piece {
            specifier: "./protocol.js",
            text: protocol,
        },
        Piece {
            specifier: "./marks.js",
            text: crate::profile::RUNTIME_MARKS_JS,
        },
        Piece {
            specifier: "./sealer.js",
            text: SEALER_JS,
        },
        Piece {
            specifier: "./canonical.js",
            text: CANONICAL_JS,
        },
        Piece {
            specifier: "./kinds.js",
            text: KINDS_JS,
        },
        Piece {
            specifier: "./transport.js",
            text: TRANSPORT_JS,
        },
        Piece {
            specifier: "./runtime.js",
            text: RUNTIME_JS,
        },
    ]
}

/// `script` (a module) printed by oxc without its comments and spaces: the isolation
/// document arrives in pieces of a few KiB, each a turn of the engine's loops, and
/// the comments were most of the script. It is our own script, so it parses; if it
/// ever did not, it would be sent as written (the e2e suite runs what is sent).
fn minified(script: &str) -> String {
    let allocator = oxc_allocator::Allocator::default();
    let parsed = oxc_parser::Parser::new(&allocator, script, oxc_span::SourceType::mjs()).parse();
    if parsed.panicked || !parsed.errors.is_empty() {
        return script.to_owned();
    }
    oxc_codegen::Codegen::new()
        .with_options(oxc_codegen::CodegenOptions::minify())
        .build(&parsed.program)
        .code
}

/// [`SEALER_WASM`] in base64, as the document carries it.
fn sealer_wasm_base64() -> &'static str {
    static TEXT: OnceLock<String> = OnceLock::new();
    TEXT.get_or_init(|| B64.encode(SEALER_WASM))
}

/// The CSP source that admits [`inline_script`]: `'sha256-<base64 of its SHA-256>'`.
pub fn inline_script_hash() -> String {
    script_hash(inline_script())
}

/// The CSP source that admits `script`.
pub(crate) fn script_hash(script: &str) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, script.as_bytes());
    format!("'sha256-{}'", B64.encode(digest.as_ref()))
}

/// Handles one `isolation://` request from webview `label`.
pub fn handle(shared: &Shared, label: &str, request: &Request<Vec<u8>>) -> Response<Body> {
    let path = request.uri().path();
    match path {
        "/" | "/index.html" => document(shared, label, request),
        "/__portcullis/runtime.js" => script(RUNTIME_JS.as_bytes().into()),
        "/__portcullis/protocol.js" => script(crate::protocol::module().as_bytes().into()),
        "/__portcullis/marks.js" => script(crate::profile::RUNTIME_MARKS_JS.as_bytes().into()),
        "/__portcullis/sealer.js" => script(SEALER_JS.as_bytes().into()),
        "/__portcullis/canonical.js" => script(CANONICAL_JS.as_bytes().into()),
        "/__portcullis/kinds.js" => script(KINDS_JS.as_bytes().into()),
        "/__portcullis/transport.js" => script(TRANSPORT_JS.as_bytes().into()),
        "/__portcullis/helpers.js" => script(HELPERS_JS.as_bytes().into()),
        "/__portcullis/sealer.wasm" => script_typed(SEALER_WASM.into(), "application/wasm"),
        "/hook.js" => match &shared.hook {
            Some(HookSource::BuiltinNamesOnly) => script(DEFAULT_HOOK_JS.as_bytes().into()),
            // Checked at start-up; if it went missing since, the frame's import fails and
            // the runtime refuses every call.
            Some(HookSource::File(_)) => file_script(shared, path),
            None => assets::status(StatusCode::NOT_FOUND, "not found"),
        },
        _ => file_script(shared, path),
    }
}

/// A file of the isolation app (its directory, or the copy embedded in the binary).
fn file_script(shared: &Shared, path: &str) -> Response<Body> {
    match shared.isolation_files.as_ref().and_then(|f| f.read(path)) {
        Some((bytes, mime)) => script_typed(bytes, &mime),
        None => assets::status(StatusCode::NOT_FOUND, "not found"),
    }
}

fn document(shared: &Shared, label: &str, request: &Request<Vec<u8>>) -> Response<Body> {
    // Only `isolation://localhost/` is the isolation document; other hosts get no key.
    let scripted = request.headers().contains_key(header::ORIGIN)
        || !crate::engine::handler_uri_is(crate::engine::Served::Isolation, request.uri());
    let grant = if scripted {
        tracing::warn!(
            target: "portcullis::audit",
            webview = label,
            "isolation document requested by a script (Origin header): served without a key"
        );
        None
    } else {
        shared
            .pages
            .take_key(&shared.gate, label)
            .map_err(|reason| {
                tracing::warn!(
                    target: "portcullis::audit",
                    webview = label,
                    reason = %reason,
                    "isolation document served without a key"
                );
            })
            .ok()
    };
    let html = render(shared, label, grant);
    Response::builder()
        .header(header::CONTENT_TYPE, "text/html; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-store")
        .header("Content-Security-Policy", &shared.isolation_csp)
        .header("X-Content-Type-Options", "nosniff")
        .header("Referrer-Policy", "no-referrer")
        .body(Cow::Owned(html))
        .unwrap_or_else(|_| assets::status(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))
}

/// This page load's session as the runtime reads it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SessionData<'a> {
    key: Option<&'a str>,
    sid: Option<String>,
    webview: &'a str,
    origin: Option<String>,
    hook: String,
    hook_timeout_ms: u32,
    max_depth: u32,
    max_message_bytes: usize,
}

/// The document: a JSON data block (never code) and the runtime module. The strings that
/// hold the key are zeroized when dropped; the response body handed to the engine is the
/// one copy that is not (the engine owns it from then on).
fn render(shared: &Shared, label: &str, grant: Option<PageKey>) -> Vec<u8> {
    let sid = grant.as_ref().map(|g| g.session().to_base64());
    let key = grant.map(|g| Zeroizing::new(B64.encode(*g.into_isolation_key())));
    let session = SessionData {
        key: key.as_deref().map(String::as_str),
        sid,
        webview: label,
        origin: shared.pages.origin(label).map(|o| o.to_string()),
        hook: crate::engine::CURRENT.url(crate::engine::Served::Isolation, "/hook.js"),
        hook_timeout_ms: shared.gate.limits().hook_timeout_ms,
        max_depth: shared.gate.limits().max_depth,
        max_message_bytes: shared.gate.limits().max_message_bytes,
    };
    // Serializing plain strings and numbers cannot fail.
    let data = Zeroizing::new(serde_json::to_string(&session).unwrap_or_default());
    // Reserved once, for the most the document can take (every data byte escaped to six),
    // so no reallocation leaves a freed copy of the key behind.
    let mut html = Vec::with_capacity(
        data.len() * 6 + inline_script().len() + sealer_wasm_base64().len() + 512,
    );
    let reserved = html.capacity();
    html.extend_from_slice(
        b"<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>isolation</title>\n\
          <script type=\"application/json\" id=\"portcullis-session\">",
    );
    // `<` is escaped so the data can never close the script element.
    for &b in data.as_bytes() {
        if b == b'<' {
            html.extend_from_slice(b"\\u003c");
        } else {
            html.push(b);
        }
    }
    html.extend_from_slice(
        // The hook is fetched while the inline runtime starts (each load from a custom
        // scheme is a round trip through the engine); the sealer module comes inline,
        // as a data block, for the same reason.
        b"</script>\n<link rel=\"modulepreload\" href=\"/hook.js\">\n\
          <script type=\"application/octet-stream\" id=\"portcullis-sealer\">",
    );
    html.extend_from_slice(sealer_wasm_base64().as_bytes());
    html.extend_from_slice(b"</script>\n<script type=\"module\">");
    html.extend_from_slice(inline_script().as_bytes());
    html.extend_from_slice(b"</script>\n</head><body></body></html>\n");
    debug_assert_eq!(
        html.capacity(),
        reserved,
        "the document outgrew its reservation"
    );
    html
}

fn script(body: Body) -> Response<Body> {
    script_typed(body, "text/javascript")
}

fn script_typed(body: Body, mime: &str) -> Response<Body> {
    Response::builder()
        .header(header::CONTENT_TYPE, mime)
        .header(header::CACHE_CONTROL, "no-store")
        // Module scripts are fetched with CORS from the frame's opaque origin.
        .header(header::ACCESS_CONTROL_ALLOW_ORIGIN, "*")
        .header("X-Content-Type-Options", "nosniff")
        .body(body)
        .unwrap_or_else(|_| assets::status(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Portcullis;
    use portcullis_core::Config;

    #[test]
    fn inline_script_is_the_linked_modules_minified() {
        let pieces = linked_pieces(crate::protocol::module());
        let linked = crate::link::link(&pieces).unwrap();
        let script = inline_script();
        assert_eq!(script, minified(&linked));
        assert!(!script.contains('\r') && !script.contains('\0'));
        // Every module is linked, and none is imported any more (the hook is imported
        // dynamically, by its URL).
        assert!(!script.contains("from\"./") && !script.contains("from \"./"));
        // The linked module is one the engine loads: no name declared twice across the
        // pieces, no export of an undeclared name.
        let allocator = oxc_allocator::Allocator::default();
        let parsed =
            oxc_parser::Parser::new(&allocator, &linked, oxc_span::SourceType::mjs()).parse();
        assert!(parsed.errors.is_empty() && !parsed.panicked);
        let semantic = oxc_semantic::SemanticBuilder::new()
            .with_check_syntax_error(true)
            .build(&parsed.program);
        assert!(semantic.errors.is_empty(), "{:?}", semantic.errors);
        // Printed without comments: less than two thirds of the source, and the same
        // program (its names and strings are all there).
        let whole: usize = pieces.iter().map(|p| p.text.len()).sum();
        assert!(script.len() * 3 < whole * 2, "{} of {whole}", script.len());
        assert!(!script.contains("//") || !script.contains("\n//"));
        for name in [
            "class Sealer",
            "WasmAead",
            "canonicalPayload",
            "hookKinds",
            "E_HOOK_TIMEOUT",
            "portcullis-sealer",
            "PROTOCOL",
            "streamWindow",
        ] {
            assert!(script.contains(name), "{name}");
        }
        // Nothing in it can end the script element or open an HTML comment in it.
        assert!(!script.to_ascii_lowercase().contains("</script"));
        assert!(!script.contains("<!--"));
    }

    #[test]
    fn every_module_the_linked_ones_import_is_served_as_it_is_linked() {
        let p = portcullis();
        for piece in linked_pieces(crate::protocol::module()) {
            let path = format!(
                "isolation://localhost/__portcullis/{}",
                piece.specifier.trim_start_matches("./")
            );
            assert_eq!(get(&p, &path, Some("null")), piece.text, "{path}");
        }
    }

    #[test]
    fn the_runtime_shows_hooks_the_kinds_the_core_has() {
        // The match is exhaustive: a kind added to the core stops this test compiling
        // until it is listed, and then fails it until kinds.js's HOOK_KINDS names it.
        let name = |kind: portcullis_core::Kind| match kind {
            portcullis_core::Kind::Command
            | portcullis_core::Kind::Event
            | portcullis_core::Kind::Stream => kind.as_str(),
        };
        let core: Vec<&str> = [
            portcullis_core::Kind::Command,
            portcullis_core::Kind::Event,
            portcullis_core::Kind::Stream,
        ]
        .into_iter()
        .map(name)
        .collect();
        let line = KINDS_JS
            .lines()
            .find(|l| l.starts_with("export const HOOK_KINDS"))
            .expect("kinds.js declares HOOK_KINDS on one line");
        let listed: Vec<&str> = line.split('"').skip(1).step_by(2).collect();
        assert_eq!(listed, core);
    }

    #[test]
    fn the_csp_admits_the_inline_script_by_its_sha256() {
        let hash = inline_script_hash();
        let digest = ring::digest::digest(&ring::digest::SHA256, inline_script().as_bytes());
        assert_eq!(hash, format!("'sha256-{}'", B64.encode(digest.as_ref())));
        assert_eq!(hash.len(), "'sha256-'".len() + 44);
        let policy = crate::csp::isolation("isolation://localhost", "ipc://localhost", &hash);
        assert!(policy.contains(&format!(
            "script-src isolation://localhost {hash} 'wasm-unsafe-eval';"
        )));
        assert!(!policy.contains("unsafe-inline"));
    }

    fn portcullis() -> Portcullis {
        let config = Config::from_json(
            r#"{"app":{"security":{"pattern":{"use":"isolation","options":{"dir":"isolation-app"}},
                "capabilities":[{"identifier":"c","windows":["*"],"origins":["app://localhost"]}]}}}"#,
        )
        .unwrap();
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        Portcullis::builder(config, &root)
            .frontend_dir(&root)
            .build()
            .unwrap()
    }

    fn get(p: &Portcullis, uri: &str, origin: Option<&str>) -> String {
        let mut request = Request::builder().uri(uri);
        if let Some(o) = origin {
            request = request.header(header::ORIGIN, o);
        }
        let response = handle(&p.shared, "main", &request.body(Vec::new()).unwrap());
        String::from_utf8(response.body().to_vec()).unwrap()
    }

    fn has_key(document: &str) -> bool {
        document.contains(r#""key":""#)
    }

    #[test]
    fn key_goes_to_the_first_navigation_of_a_page_load_only() {
        let p = portcullis();
        p.shared
            .pages
            .committed(&p.shared.gate, "main", "app://localhost/index.html");
        assert!(
            !has_key(&get(&p, "isolation://localhost/", Some("app://localhost"))),
            "script request"
        );
        assert!(
            !has_key(&get(&p, "isolation://localhost/", Some("null"))),
            "opaque-origin script"
        );
        assert!(!has_key(&get(&p, "isolation://other/", None)), "other host");
        // The frame's own navigation: no Origin header.
        let first = get(&p, "isolation://localhost/", None);
        assert!(has_key(&first), "{first}");
        assert!(first.contains(r#""webview":"main""#));
        assert!(
            !has_key(&get(&p, "isolation://localhost/index.html", None)),
            "second delivery"
        );
        // A new page load re-arms delivery and revokes the old session.
        let old = p.shared.gate.sessions().current("main").unwrap();
        p.shared
            .pages
            .committed(&p.shared.gate, "main", "app://localhost/index.html");
        assert!(p.shared.gate.sessions().current("main").is_none());
        assert!(has_key(&get(&p, "isolation://localhost/", None)));
        assert_ne!(p.shared.gate.sessions().current("main"), Some(old));
    }

    #[test]
    fn pages_outside_the_allowlist_get_no_session() {
        let p = portcullis();
        p.shared
            .pages
            .committed(&p.shared.gate, "main", "https://evil.example/");
        assert!(!has_key(&get(&p, "isolation://localhost/", None)));
        assert_eq!(p.shared.gate.sessions().live_count(), 0);
    }

    #[test]
    fn the_document_is_sandboxed_by_its_csp_and_never_cached() {
        let p = portcullis();
        p.shared
            .pages
            .committed(&p.shared.gate, "main", "app://localhost/");
        let request = Request::builder()
            .uri("isolation://localhost/")
            .body(Vec::new())
            .unwrap();
        let response = handle(&p.shared, "main", &request);
        let csp = response.headers()["Content-Security-Policy"]
            .to_str()
            .unwrap();
        assert!(csp.contains("sandbox allow-scripts") && csp.starts_with("default-src 'none'"));
        assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    }
}
