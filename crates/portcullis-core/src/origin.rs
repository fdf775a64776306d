//! Web origins, compared exactly.
//!
//! An origin is the triple (scheme, host, port) of RFC 6454. Policy compares parsed
//! triples for equality, never strings by prefix or by their first label, so
//! `app://localhost.evil.com`, `app://localhost@evil.com` and `http://app.evil.com` are
//! all different from `app://localhost`.
//!
//! Webview engines spell the origin of a custom-scheme page in two ways: `app://localhost`
//! on Linux and macOS, and `http://app.localhost` (or `https://`) on Windows and Android.
//! [`Origin::from_page_url`] maps the second form back to the first, but only for the
//! custom schemes the embedder names; everywhere else `http://app.localhost` is simply an
//! `http` origin.

use std::fmt;

/// Why a string is not an acceptable origin.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{input:?} is not an origin: {reason}")]
pub struct OriginError {
    input: String,
    reason: &'static str,
}

/// A parsed origin: lowercase scheme and host, explicit port only when it is not the
/// scheme's default.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl Origin {
    /// Parses an origin written as `scheme://host[:port]` (a trailing `/` is tolerated).
    /// Paths, queries, fragments, userinfo and the opaque origin `null` are refused.
    pub fn parse(input: &str) -> Result<Origin, OriginError> {
        let err = |reason| OriginError {
            input: input.to_owned(),
            reason,
        };
        let (scheme, rest) = input.split_once("://").ok_or(err("missing \"://\""))?;
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        if !is_scheme(scheme) {
            return Err(err(
                "scheme must be a letter followed by letters, digits, '+', '-' or '.'",
            ));
        }
        if authority.contains(['/', '?', '#']) {
            return Err(err("an origin has no path, query or fragment"));
        }
        if authority.contains('@') {
            return Err(err("an origin has no userinfo"));
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => {
                let canonical = !port.is_empty()
                    && port.bytes().all(|b| b.is_ascii_digit())
                    && (port == "0" || !port.starts_with('0'));
                let port: u16 = port.parse().ok().filter(|_| canonical).ok_or(err(
                    "port must be decimal digits 0-65535 without a sign or leading zeros",
                ))?;
                (host, Some(port))
            }
            _ => (authority, None),
        };
        if host.is_empty() {
            return Err(err("empty host"));
        }
        if host.split('.').any(str::is_empty) {
            return Err(err(
                "host has an empty label (leading, trailing or doubled '.')",
            ));
        }
        if !host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.'))
        {
            return Err(err(
                "host has characters outside [A-Za-z0-9.-] (use punycode; IPv6 literals are not supported)",
            ));
        }
        let scheme = scheme.to_ascii_lowercase();
        let port = port.filter(|&p| Some(p) != default_port(&scheme));
        Ok(Origin {
            host: host.to_ascii_lowercase(),
            scheme,
            port,
        })
    }

    /// The origin of a page URL as a webview reports it (`scheme://host[:port]/path...`),
    /// mapping the Windows/Android spelling `http(s)://<scheme>.<host>` of a registered
    /// custom scheme back to `<scheme>://<host>`.
    pub fn from_page_url(url: &str, custom_schemes: &[&str]) -> Result<Origin, OriginError> {
        let end = url
            .find("://")
            .map(|i| i + 3)
            .and_then(|start| url[start..].find(['/', '?', '#']).map(|i| start + i))
            .unwrap_or(url.len());
        let origin = Origin::parse(&url[..end])?;
        if origin.scheme == "http" || origin.scheme == "https" {
            for scheme in custom_schemes {
                let prefix = format!("{}.", scheme.to_ascii_lowercase());
                if let Some(host) = origin.host.strip_prefix(&prefix)
                    && origin.port.is_none()
                    && !host.is_empty()
                {
                    return Ok(Origin {
                        scheme: scheme.to_ascii_lowercase(),
                        host: host.to_owned(),
                        port: None,
                    });
                }
            }
        }
        Ok(origin)
    }

    /// The scheme, lowercase.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The host, lowercase.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port, if it is not the scheme's default.
    pub fn port(&self) -> Option<u16> {
        self.port
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

fn is_scheme(s: &str) -> bool {
    let mut bytes = s.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

// Unit tests only (`#[cfg(test)]`, not compiled into the library): their `unwrap`s run
// on fixed, valid inputs written here, never on anything a webview sends.
#[cfg(test)]
mod tests {
    use super::*;

    fn o(s: &str) -> Origin {
        Origin::parse(s).unwrap()
    }

    #[test]
    fn normalizes_case_default_port_and_trailing_slash() {
        assert_eq!(o("APP://LocalHost"), o("app://localhost"));
        assert_eq!(o("https://example.com:443"), o("https://example.com"));
        assert_eq!(o("app://localhost/"), o("app://localhost"));
        assert_eq!(
            o("http://localhost:5173").to_string(),
            "http://localhost:5173"
        );
    }

    #[test]
    fn lookalikes_are_different_origins() {
        let app = o("app://localhost");
        for other in [
            "app://localhost.evil.com",
            "app://localhostx",
            "app://evil.localhost",
            "app://localhost:1",
            "apps://localhost",
            "http://localhost",
        ] {
            assert_ne!(o(other), app, "{other}");
        }
    }

    #[test]
    fn refuses_what_is_not_an_origin() {
        for bad in [
            "null",
            "",
            "app:localhost",
            "app://",
            "app://localhost@evil.com",
            "app://user:pw@localhost",
            "app://localhost/path",
            "app://localhost?x",
            "app://localhost#x",
            "app://local host",
            "1app://localhost",
            "app://localhost:99999",
            "app://localhost:",
            "app://localhost:+1",
            "app://localhost:080",
            "app://a..b",
            "app://.localhost",
            "app://localhost.",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad:?} parsed");
        }
    }

    #[test]
    fn windows_form_maps_only_for_registered_schemes() {
        let app = o("app://localhost");
        assert_eq!(
            Origin::from_page_url("http://app.localhost/index.html", &["app"]).unwrap(),
            app
        );
        assert_eq!(
            Origin::from_page_url("https://app.localhost/", &["app"]).unwrap(),
            app
        );
        assert_eq!(
            Origin::from_page_url("app://localhost/a/b?c#d", &["app"]).unwrap(),
            app
        );
        // Not registered: stays an http origin.
        assert_eq!(
            Origin::from_page_url("http://app.localhost/", &[]).unwrap(),
            o("http://app.localhost")
        );
        // The scheme label must be followed by a host; a port means a real http server.
        assert_ne!(
            Origin::from_page_url("http://app.localhost:8080/", &["app"]).unwrap(),
            app
        );
        assert_ne!(
            Origin::from_page_url("http://app.evil.com/", &["app"]).unwrap(),
            app
        );
        assert_ne!(
            Origin::from_page_url("http://appx.localhost/", &["app"]).unwrap(),
            app
        );
    }

    #[test]
    fn page_url_with_userinfo_is_refused() {
        assert!(Origin::from_page_url("app://localhost@evil.com/", &["app"]).is_err());
    }
}
