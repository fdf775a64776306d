//! What the engines without WebKitGTK's protections add to the bridge's script: a guard
//! that keeps it to the top frame (WebView2 injects init scripts into every frame) and a
//! reload of a page restored from the back/forward cache (WebView2 and WKWebView keep
//! one that wry cannot switch off).
//!
//! The reload is a convenience, not the protection: it runs in the page's world, where
//! the page's scripts can stop it. What holds whatever the page does is the session's
//! revocation at every page-load start, and the isolation frame itself refusing to go
//! on after a restore (`isolation-app/runtime.js`, out of the page's reach).
//!
//! Compiled on every platform, so their tests parse what Windows and macOS would run.

/// `script`, run only in the top frame.
pub(crate) fn top_frame_only(script: String) -> String {
    format!("if (window.top === window) {{\n{script}\n}}\n")
}

/// `script`, then a listener that reloads a page the engine restored from its
/// back/forward cache: it starts a page load with a fresh key.
pub(crate) fn reload_on_page_cache_restore(script: String) -> String {
    format!(
        "{script}\nif (window.top === window) {{ window.addEventListener(\"pageshow\", (e) => {{ if (e.persisted) location.reload(); }}); }}\n"
    )
}

#[cfg(test)]
mod tests {
    use oxc_ast::ast::{Expression, Statement};

    use super::*;

    /// The statements of `text` as a classic script (how init scripts run); fails on a
    /// syntax error.
    fn statements(text: &str) -> Vec<String> {
        let allocator = oxc_allocator::Allocator::default();
        let parsed = oxc_parser::Parser::new(&allocator, text, oxc_span::SourceType::cjs()).parse();
        assert!(
            !parsed.panicked && parsed.errors.is_empty(),
            "{text}: {:?}",
            parsed.errors
        );
        parsed
            .program
            .body
            .iter()
            .map(|statement| match statement {
                Statement::IfStatement(s) => match &s.test {
                    Expression::BinaryExpression(b) => format!("if {:?}", b.operator),
                    _ => "if".to_owned(),
                },
                Statement::ExpressionStatement(_) => "expression".to_owned(),
                Statement::VariableDeclaration(_) => "var".to_owned(),
                _ => "other".to_owned(),
            })
            .collect()
    }

    /// A bridge-like script: declarations at its top level, as the bridge has.
    const BRIDGE: &str = "const config = 1;\n(() => { window.x = config; })();";

    #[test]
    fn the_guarded_bridge_parses_and_runs_only_when_the_frame_is_the_top() {
        let guarded = top_frame_only(BRIDGE.to_owned());
        assert_eq!(statements(&guarded), ["if StrictEquality"]);
        assert!(guarded.starts_with("if (window.top === window) {\n"));
        assert!(guarded.contains(BRIDGE));
    }

    #[test]
    fn the_real_bridge_parses_as_windows_and_macos_are_given_it() {
        let bridge = include_str!("../../js/bridge.js").to_owned();
        statements(&reload_on_page_cache_restore(top_frame_only(
            bridge.clone(),
        )));
        statements(&reload_on_page_cache_restore(bridge));
    }

    #[test]
    fn the_reload_follows_the_script_and_parses_with_it() {
        let windows = reload_on_page_cache_restore(top_frame_only(BRIDGE.to_owned()));
        assert_eq!(
            statements(&windows),
            ["if StrictEquality", "if StrictEquality"]
        );
        let macos = reload_on_page_cache_restore(BRIDGE.to_owned());
        assert_eq!(
            statements(&macos),
            ["var", "expression", "if StrictEquality"]
        );
        assert!(macos.contains("e.persisted) location.reload()"));
    }
}
