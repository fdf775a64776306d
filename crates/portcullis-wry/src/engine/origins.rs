//! Where the app's three custom schemes live on each engine, as pure functions: the
//! origin a page of each reports, the URL to load, and the exact check of an origin a page
//! reports. Compiled and tested on every platform, whichever engine the build drives.
//!
//! The app writes its origins once, in the config form `<scheme>://localhost`
//! ([`Served::config_origin`]); the engine decides how they are spelled in the webview:
//! - WebKitGTK and WKWebView register the scheme itself: `app://localhost`.
//! - WebView2 only intercepts requests to a host it owns (wry's workaround for
//!   WebView2Feedback#73): `http://app.localhost`, or `https://app.localhost` with wry's
//!   `with_https_scheme`. wry rewrites the URI back to `app://localhost/...` before a
//!   custom-protocol handler sees it, so the handlers check one form on every engine
//!   ([`handler_uri_is`]).
//!
//! Origins are compared as whole strings in the engine's own serialization (lowercase,
//! no default port, no trailing dot), never by prefix: `http://app.localhost.evil.com`,
//! `http://app.localhost@evil`, `http://APP.localhost`, `http://app.localhost.` and
//! `http://app.localhost:8080` are not the app.

use portcullis_core::Origin;

/// A webview engine wry drives, as far as origins go.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Engine {
    /// WebKitGTK (Linux): custom schemes are real schemes.
    WebKitGtk,
    /// WebView2 (Windows): custom schemes are hosts under `http://` or, when `https` is
    /// set (wry's `with_https_scheme`), `https://`.
    WebView2 {
        /// Whether wry serves the custom schemes under `https://`.
        https: bool,
    },
    /// WKWebView (macOS): custom schemes are real schemes (`WKURLSchemeHandler`).
    WkWebView,
}

/// One of the three schemes Portcullis serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Served {
    /// `app`: the app's frontend.
    App,
    /// `isolation`: the isolation frame.
    Isolation,
    /// `ipc`: the sealed transport.
    Ipc,
}

impl Served {
    /// Every served scheme.
    pub const ALL: [Served; 3] = [Served::App, Served::Isolation, Served::Ipc];

    /// The scheme's name as registered with wry.
    pub const fn scheme(self) -> &'static str {
        match self {
            Served::App => crate::APP_SCHEME,
            Served::Isolation => crate::ISOLATION_SCHEME,
            Served::Ipc => crate::IPC_SCHEME,
        }
    }

    /// The origin as the app's config writes it, on every engine: `<scheme>://localhost`.
    pub const fn config_origin(self) -> &'static str {
        match self {
            Served::App => crate::APP_ORIGIN,
            Served::Isolation => crate::ISOLATION_ORIGIN,
            Served::Ipc => crate::IPC_ORIGIN,
        }
    }
}

/// The host every served scheme uses.
const HOST: &str = "localhost";

impl Engine {
    /// Every engine form, for tools that print them all.
    pub const ALL: [Engine; 4] = [
        Engine::WebKitGtk,
        Engine::WebView2 { https: false },
        Engine::WebView2 { https: true },
        Engine::WkWebView,
    ];

    /// Whether Portcullis reads custom-scheme request bodies on this engine. Not on
    /// WebKitGTK: wry's only reader there crashes the process on a `Blob` body, so the
    /// crate builds wry without it, and a message sent by fetch travels in a request
    /// header instead (`transport::http`).
    pub const fn reads_request_bodies(self) -> bool {
        !matches!(self, Engine::WebKitGtk)
    }

    /// A short name for people: `webkitgtk`, `webview2-http`, `webview2-https`,
    /// `wkwebview`.
    pub const fn name(self) -> &'static str {
        match self {
            Engine::WebKitGtk => "webkitgtk",
            Engine::WebView2 { https: false } => "webview2-http",
            Engine::WebView2 { https: true } => "webview2-https",
            Engine::WkWebView => "wkwebview",
        }
    }

    /// The origin the engine reports for pages of `served` (what `self.origin`,
    /// `event.origin` and an `Origin` header say there), and what CSPs must name.
    pub fn origin(self, served: Served) -> String {
        match self {
            Engine::WebKitGtk | Engine::WkWebView => served.config_origin().to_owned(),
            Engine::WebView2 { https } => {
                let scheme = if https { "https" } else { "http" };
                format!("{scheme}://{}.{HOST}", served.scheme())
            }
        }
    }

    /// The URL the engine loads for `path` (which starts with `/`) of `served`.
    pub fn url(self, served: Served, path: &str) -> String {
        format!("{}{path}", self.origin(served))
    }

    /// Which served scheme `reported` is the origin of, on this engine: an exact,
    /// whole-string match with [`Engine::origin`], nothing else.
    pub fn served_by(self, reported: &str) -> Option<Served> {
        Served::ALL
            .into_iter()
            .find(|&served| reported == self.origin(served))
    }

    /// Whether `url` is a URL of `served` on this engine: its origin exactly, then `/`.
    pub fn is_url_of(self, served: Served, url: &str) -> bool {
        url.strip_prefix(self.origin(served).as_str())
            .is_some_and(|rest| rest.starts_with('/'))
    }

    /// The origin of a page at `url` as the engine reports it, in the config's form: a
    /// served scheme's engine origin, matched exactly, becomes `<scheme>://localhost`;
    /// any other origin is itself (a dev server's `http://localhost:5173`). A URL in a
    /// served scheme that is not exactly the engine's form (`app://LOCALHOST`,
    /// `app://evil`, and on WebView2 `app://localhost` itself) has no origin: no page of
    /// the app is there, so it can only be a confusion.
    pub fn page_origin(self, url: &str) -> Option<Origin> {
        let end = url
            .find("://")
            .map(|i| i + 3)
            .and_then(|start| url[start..].find(['/', '?', '#']).map(|i| start + i))
            .unwrap_or(url.len());
        if let Some(served) = self.served_by(&url[..end]) {
            return Origin::parse(served.config_origin()).ok();
        }
        let origin = Origin::from_page_url(url, &[]).ok()?;
        let names_served = Served::ALL.iter().any(|s| origin.scheme() == s.scheme());
        (!names_served).then_some(origin)
    }
}

/// Whether `uri`, as a custom-protocol handler receives it, names the host of `served`
/// exactly (no other host, no port, no user part). wry hands every engine's handlers the
/// `<scheme>://localhost/...` form (on WebView2 it reverts its `http(s)://<scheme>.`
/// prefix first), so this check is the same everywhere.
pub fn handler_uri_is(served: Served, uri: &http::Uri) -> bool {
    uri.scheme_str() == Some(served.scheme())
        && uri.host() == Some(HOST)
        && uri.port().is_none()
        && uri.authority().map(|a| a.as_str()) == Some(HOST)
}

#[cfg(test)]
mod tests {
    use super::*;

    const WEBVIEW2_HTTP: Engine = Engine::WebView2 { https: false };
    const WEBVIEW2_HTTPS: Engine = Engine::WebView2 { https: true };

    #[test]
    fn each_engine_spells_the_served_origins_its_own_way() {
        for engine in [Engine::WebKitGtk, Engine::WkWebView] {
            assert_eq!(engine.origin(Served::App), "app://localhost");
            assert_eq!(engine.origin(Served::Isolation), "isolation://localhost");
            assert_eq!(engine.origin(Served::Ipc), "ipc://localhost");
            assert_eq!(
                engine.url(Served::App, "/index.html"),
                "app://localhost/index.html"
            );
        }
        assert_eq!(WEBVIEW2_HTTP.origin(Served::App), "http://app.localhost");
        assert_eq!(
            WEBVIEW2_HTTP.origin(Served::Isolation),
            "http://isolation.localhost"
        );
        assert_eq!(WEBVIEW2_HTTP.origin(Served::Ipc), "http://ipc.localhost");
        assert_eq!(WEBVIEW2_HTTPS.origin(Served::App), "https://app.localhost");
        assert_eq!(
            WEBVIEW2_HTTPS.url(Served::Ipc, "/"),
            "https://ipc.localhost/"
        );
    }

    #[test]
    fn every_engine_form_is_its_own_and_the_config_form_only_where_it_is_the_same() {
        for engine in Engine::ALL {
            for served in Served::ALL {
                assert_eq!(engine.served_by(&engine.origin(served)), Some(served));
                let page = engine.page_origin(&engine.url(served, "/index.html?q#f"));
                assert_eq!(page.unwrap().to_string(), served.config_origin());
            }
        }
        assert_eq!(WEBVIEW2_HTTP.served_by("app://localhost"), None);
        assert_eq!(WEBVIEW2_HTTP.served_by("https://app.localhost"), None);
        assert_eq!(WEBVIEW2_HTTPS.served_by("http://app.localhost"), None);
        assert_eq!(Engine::WebKitGtk.served_by("http://app.localhost"), None);
        assert_eq!(Engine::WkWebView.served_by("https://app.localhost"), None);
    }

    #[test]
    fn lookalikes_are_never_the_app() {
        for engine in Engine::ALL {
            let app = engine.origin(Served::App);
            let host = app.split_once("://").map_or("", |(_, h)| h).to_owned();
            let scheme = app.split_once("://").map_or("", |(s, _)| s).to_owned();
            let lookalikes = [
                format!("{app}.evil.com"),
                format!("{app}@evil"),
                format!("{app}:8080"),
                format!("{app}:80"),
                format!("{app}."),
                format!("{app}x"),
                app.to_ascii_uppercase(),
                format!("{scheme}://{}", host.to_ascii_uppercase()),
                format!("{scheme}s://{host}"),
                format!("ftp://{host}"),
                format!("{scheme}://evil.{host}"),
                format!("{scheme}://user@{host}"),
            ];
            for reported in &lookalikes {
                assert_eq!(engine.served_by(reported), None, "{engine:?} {reported}");
                assert!(
                    !engine.is_url_of(Served::App, &format!("{reported}/")),
                    "{engine:?} {reported}"
                );
                // The origin of a page there, if it has one, is never the app's.
                let page = engine.page_origin(&format!("{reported}/index.html"));
                assert!(
                    page.as_ref()
                        .is_none_or(|o| *o != Origin::parse(crate::APP_ORIGIN).unwrap()),
                    "{engine:?} {reported} -> {page:?}"
                );
                // In a served scheme, not exactly the engine's form: no origin at all.
                let lower = reported.to_ascii_lowercase();
                if Served::ALL
                    .iter()
                    .any(|s| lower.starts_with(&format!("{}://", s.scheme())))
                {
                    assert_eq!(page, None, "{engine:?} {reported}");
                }
            }
        }
    }

    #[test]
    fn webview2_refuses_the_config_form_of_a_served_scheme_as_a_page_origin() {
        for engine in [WEBVIEW2_HTTP, WEBVIEW2_HTTPS] {
            for served in Served::ALL {
                let url = format!("{}/index.html", served.config_origin());
                assert!(engine.page_origin(&url).is_none(), "{url}");
            }
            // The other scheme of the two is an ordinary origin, never the app's.
            let other = if engine == WEBVIEW2_HTTP {
                "https"
            } else {
                "http"
            };
            let origin = engine
                .page_origin(&format!("{other}://app.localhost/"))
                .unwrap();
            assert_eq!(origin.scheme(), other);
        }
    }

    #[test]
    fn other_origins_are_themselves_on_every_engine() {
        for engine in Engine::ALL {
            let dev = engine
                .page_origin("http://localhost:5173/index.html")
                .unwrap();
            assert_eq!(dev.to_string(), "http://localhost:5173");
            assert!(engine.page_origin("about:blank").is_none());
            assert!(engine.page_origin("null").is_none());
        }
        // On engines that register the scheme, `http://app.localhost` is plain http.
        let plain = Engine::WebKitGtk
            .page_origin("http://app.localhost/")
            .unwrap();
        assert_eq!(plain.to_string(), "http://app.localhost");
    }

    #[test]
    fn urls_of_a_served_scheme_need_its_origin_then_a_slash() {
        for engine in Engine::ALL {
            let iso = engine.origin(Served::Isolation);
            assert!(engine.is_url_of(Served::Isolation, &format!("{iso}/")));
            assert!(engine.is_url_of(Served::Isolation, &format!("{iso}/x?y")));
            assert!(!engine.is_url_of(Served::Isolation, &iso));
            assert!(!engine.is_url_of(Served::Isolation, &format!("{iso}.evil/")));
            assert!(!engine.is_url_of(Served::Isolation, &format!("{iso}:1/")));
            assert!(!engine.is_url_of(Served::App, &format!("{iso}/")));
        }
    }

    #[test]
    fn handlers_see_the_config_form_exactly() {
        let is = |served, uri: &str| handler_uri_is(served, &uri.parse().unwrap());
        assert!(is(Served::Ipc, "ipc://localhost/__portcullis/channel"));
        assert!(is(Served::Isolation, "isolation://localhost/"));
        for uri in [
            "ipc://localhost.evil/x",
            "ipc://localhost:8080/x",
            "ipc://user@localhost/x",
            "ipc://evil@localhost/x",
            "ipc://LOCALHOST/x",
            "app://localhost/x",
            "http://ipc.localhost/x",
        ] {
            assert!(!is(Served::Ipc, uri), "{uri}");
        }
    }
}
