//! The `app://` protocol: the app's frontend files, served with the app's CSP (plus the
//! sources Portcullis needs), and the request encoder brownfield mode loads.
//!
//! Every response carries the CSP, not only documents: a worker runs under its own
//! script's response headers, not the page's, so a module worker started from a script
//! served without one could reach `ipc://` and any address the page's CSP closes.

use std::borrow::Cow;

use wry::http::{Request, Response, StatusCode, header};

use crate::{Shared, assets, isolation};

type Body = Cow<'static, [u8]>;

/// Handles one `app://` request.
pub fn handle(shared: &Shared, request: &Request<Vec<u8>>) -> Response<Body> {
    let path = request.uri().path();
    if path == "/__portcullis/sealer.js" {
        return typed(
            Cow::Borrowed(isolation::SEALER_JS.as_bytes()),
            "text/javascript",
            &shared.app_csp,
        );
    }
    let Some(file) = assets::resolve(&shared.frontend_dir, path) else {
        return assets::status(StatusCode::NOT_FOUND, "not found");
    };
    match std::fs::read(&file) {
        Ok(bytes) => typed(Cow::Owned(bytes), &assets::mime_for(&file), &shared.app_csp),
        Err(_) => assets::status(StatusCode::NOT_FOUND, "not found"),
    }
}

fn typed(body: Body, mime: &str, csp: &str) -> Response<Body> {
    Response::builder()
        .header(header::CONTENT_TYPE, mime)
        .header(header::CACHE_CONTROL, "no-store")
        .header("X-Content-Type-Options", "nosniff")
        .header("Content-Security-Policy", csp)
        .body(body)
        .unwrap_or_else(|_| assets::status(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use portcullis_core::Config;

    use super::*;
    use crate::Portcullis;

    #[test]
    fn every_response_is_served_under_a_csp() {
        let config = Config::from_json(
            r#"{"app":{"security":{"pattern":{"use":"isolation","options":{"dir":"isolation-app"}},
                "csp":"default-src 'self'",
                "capabilities":[{"identifier":"c","windows":["*"],"origins":["app://localhost"]}]}}}"#,
        )
        .unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let frontend = root.join("crates/portcullis-demo/frontend");
        let p = Portcullis::builder(config, &root, &frontend)
            .build()
            .unwrap();
        // A document, a script a page could start as a module worker, and the sealer.
        for path in ["/index.html", "/app.js", "/__portcullis/sealer.js"] {
            let request = Request::builder()
                .uri(format!("app://localhost{path}"))
                .body(Vec::new())
                .unwrap();
            let response = handle(&p.shared, &request);
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let csp = response.headers()["Content-Security-Policy"]
                .to_str()
                .unwrap();
            assert!(csp.starts_with("default-src 'self'"), "{path}: {csp}");
        }
        // An error page of the app's own origin, which a page could frame, runs nothing.
        let request = Request::builder()
            .uri("app://localhost/does-not-exist")
            .body(Vec::new())
            .unwrap();
        let response = handle(&p.shared, &request);
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            response.headers()["Content-Security-Policy"],
            assets::ERROR_CSP
        );
    }
}
