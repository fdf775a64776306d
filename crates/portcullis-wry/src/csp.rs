//! Content-Security-Policy strings: the isolation frame's, and the app's with the few
//! sources Portcullis itself needs added, in the origins each engine reports.

use crate::engine::{Engine, Served};

/// The isolation document's policy: nothing but its own scripts (files from its origin,
/// and the one inline script whose hash is `inline_script_hash`, e.g. `'sha256-…'`), the
/// compilation of WebAssembly (`'wasm-unsafe-eval'`, for the sealer module; it does not
/// allow `eval` or any other way of making JavaScript from text) and the ipc://
/// transport. `sandbox allow-scripts` makes the document sandboxed (opaque origin) even
/// if someone loads it in a frame without the `sandbox` attribute.
pub fn isolation(isolation_origin: &str, ipc_origin: &str, inline_script_hash: &str) -> String {
    format!(
        "default-src 'none'; script-src {isolation_origin} {inline_script_hash} 'wasm-unsafe-eval'; \
         connect-src {ipc_origin}; base-uri 'none'; form-action 'none'; sandbox allow-scripts"
    )
}

/// The isolation document's policy on `engine`, with the origins that engine reports.
pub fn isolation_on(engine: Engine) -> String {
    let hash = if engine == crate::engine::CURRENT {
        crate::isolation::inline_script_hash()
    } else {
        crate::isolation::script_hash(&crate::isolation::inline_script_for(engine))
    };
    isolation(
        &engine.origin(Served::Isolation),
        &engine.origin(Served::Ipc),
        &hash,
    )
}

/// The app frontend's policy on `engine`: the config's `csp` (or [`DEFAULT_APP`]) with
/// the isolation frame added to `frame-src` (`isolation` on) or the transport to
/// `connect-src` (brownfield), in the origins that engine reports.
pub fn app_on(engine: Engine, config_csp: Option<&str>, isolation: bool) -> String {
    let base = config_csp.unwrap_or(DEFAULT_APP);
    if isolation {
        allow(base, "frame-src", &engine.origin(Served::Isolation))
    } else {
        allow(base, "connect-src", &engine.origin(Served::Ipc))
    }
}

/// The policy used for the app frontend when the config sets none.
pub const DEFAULT_APP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'";

/// Adds `source` to `directive` in `policy` (directive names compared without case). A
/// missing `frame-src` starts from what the policy already allowed frames through its
/// fallbacks (`child-src`, then `default-src`; nothing means anything), so adding the
/// isolation frame never widens or narrows what else the app allowed.
pub fn allow(policy: &str, directive: &str, source: &str) -> String {
    let mut parts: Vec<Vec<String>> = policy
        .split(';')
        .map(|p| p.split_whitespace().map(str::to_owned).collect::<Vec<_>>())
        .filter(|p| !p.is_empty())
        .collect();
    let find = |parts: &[Vec<String>], name: &str| {
        parts.iter().position(|p| p[0].eq_ignore_ascii_case(name))
    };
    match find(&parts, directive) {
        Some(i) => {
            let d = &mut parts[i];
            if d.iter().any(|s| s == "'none'") {
                d.truncate(1);
            }
            if !d.iter().skip(1).any(|s| s == source) {
                d.push(source.to_owned());
            }
        }
        None => {
            let fallback = fallbacks(directive)
                .iter()
                .find_map(|f| find(&parts, f))
                .map(|i| parts[i][1..].to_vec());
            let mut sources = match fallback {
                Some(sources) if sources.iter().any(|s| s == "'none'") => Vec::new(),
                Some(sources) => sources,
                None => vec!["*".to_owned()],
            };
            if !sources.iter().any(|s| s == source) {
                sources.push(source.to_owned());
            }
            let mut d = vec![directive.to_owned()];
            d.extend(sources);
            parts.push(d);
        }
    }
    parts
        .iter()
        .map(|p| p.join(" "))
        .collect::<Vec<_>>()
        .join("; ")
}

fn fallbacks(directive: &str) -> &'static [&'static str] {
    match directive {
        "frame-src" => &["child-src", "default-src"],
        _ => &["default-src"],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_directive_starts_from_its_fallback() {
        assert_eq!(
            allow("default-src 'self'", "frame-src", "isolation://localhost"),
            "default-src 'self'; frame-src 'self' isolation://localhost"
        );
        assert_eq!(
            allow(
                "default-src 'self'; child-src https://a.example",
                "frame-src",
                "isolation://localhost"
            ),
            "default-src 'self'; child-src https://a.example; frame-src https://a.example isolation://localhost"
        );
        assert_eq!(
            allow("default-src 'none'", "frame-src", "isolation://localhost"),
            "default-src 'none'; frame-src isolation://localhost"
        );
        assert_eq!(
            allow("img-src *", "frame-src", "isolation://localhost"),
            "img-src *; frame-src * isolation://localhost"
        );
    }

    #[test]
    fn directive_names_are_case_insensitive() {
        assert_eq!(
            allow(
                "Frame-Src https://a.example",
                "frame-src",
                "isolation://localhost"
            ),
            "Frame-Src https://a.example isolation://localhost"
        );
    }

    #[test]
    fn extends_an_existing_directive_once() {
        let p = allow(
            "frame-src https://a.example; img-src *",
            "frame-src",
            "isolation://localhost",
        );
        assert_eq!(
            p,
            "frame-src https://a.example isolation://localhost; img-src *"
        );
        assert_eq!(allow(&p, "frame-src", "isolation://localhost"), p);
    }

    #[test]
    fn replaces_none() {
        assert_eq!(
            allow("frame-src 'none'", "frame-src", "isolation://localhost"),
            "frame-src isolation://localhost"
        );
    }

    #[test]
    fn isolation_policy_has_no_network_and_is_sandboxed() {
        let p = isolation("isolation://localhost", "ipc://localhost", "'sha256-AAAA'");
        assert!(p.starts_with("default-src 'none'"));
        assert!(p.contains("script-src isolation://localhost 'sha256-AAAA' 'wasm-unsafe-eval';"));
        assert!(p.contains("sandbox allow-scripts"));
        assert!(!p.contains("http"));
    }

    #[test]
    fn each_engines_isolation_policy_admits_the_script_that_engine_is_served() {
        use crate::engine::Engine;
        let hashes: Vec<String> = Engine::ALL
            .iter()
            .map(|&engine| {
                let hash =
                    crate::isolation::script_hash(&crate::isolation::inline_script_for(engine));
                assert!(isolation_on(engine).contains(&hash), "{engine:?}");
                hash
            })
            .collect();
        // The script names its engine's transport URLs: WebView2's differs from Linux's.
        assert_ne!(hashes[0], hashes[2]);
        assert_eq!(
            crate::isolation::inline_script_for(crate::engine::CURRENT),
            crate::isolation::inline_script()
        );
    }
}
