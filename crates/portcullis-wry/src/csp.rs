//! Content-Security-Policy strings: the isolation frame's, and the app's with the few
//! sources Portcullis itself needs added.

/// The isolation document's policy: nothing but its own scripts and the ipc:// transport.
/// `sandbox allow-scripts` makes the document sandboxed (opaque origin) even if someone
/// loads it in a frame without the `sandbox` attribute.
pub fn isolation(isolation_origin: &str, ipc_origin: &str) -> String {
    format!(
        "default-src 'none'; script-src {isolation_origin}; connect-src {ipc_origin}; \
         base-uri 'none'; form-action 'none'; sandbox allow-scripts"
    )
}

/// The policy used for the app frontend when the config sets none.
pub const DEFAULT_APP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'";

/// Adds `source` to `directive` in `policy`, creating the directive if absent. A new
/// directive starts from `'self'` so that adding, say, `frame-src` does not silently
/// drop what `default-src` allowed.
pub fn allow(policy: &str, directive: &str, source: &str) -> String {
    let mut parts: Vec<String> = policy
        .split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect();
    match parts
        .iter_mut()
        .find(|p| p.split_whitespace().next() == Some(directive))
    {
        Some(existing) if existing.split_whitespace().any(|s| s == "'none'") => {
            *existing = format!("{directive} {source}");
        }
        Some(existing) if !existing.split_whitespace().any(|s| s == source) => {
            existing.push(' ');
            existing.push_str(source);
        }
        Some(_) => {}
        None => parts.push(format!("{directive} 'self' {source}")),
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_a_missing_directive_keeping_self() {
        assert_eq!(
            allow("default-src 'self'", "frame-src", "isolation://localhost"),
            "default-src 'self'; frame-src 'self' isolation://localhost"
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
        let p = isolation("isolation://localhost", "ipc://localhost");
        assert!(p.starts_with("default-src 'none'"));
        assert!(p.contains("sandbox allow-scripts"));
        assert!(!p.contains("http"));
    }
}
