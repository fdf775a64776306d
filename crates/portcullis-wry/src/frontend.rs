//! The `app://` protocol: the app's frontend files, served with the app's CSP (plus the
//! sources Portcullis needs), and the request encoder brownfield mode loads.

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
            None,
        );
    }
    let Some(file) = assets::resolve(&shared.frontend_dir, path) else {
        return assets::status(StatusCode::NOT_FOUND, "not found");
    };
    match std::fs::read(&file) {
        Ok(bytes) => {
            let mime = assets::mime_for(&file);
            let csp = (mime == "text/html").then_some(shared.app_csp.as_str());
            typed(Cow::Owned(bytes), &mime, csp)
        }
        Err(_) => assets::status(StatusCode::NOT_FOUND, "not found"),
    }
}

fn typed(body: Body, mime: &str, csp: Option<&str>) -> Response<Body> {
    let mut builder = Response::builder()
        .header(header::CONTENT_TYPE, mime)
        .header(header::CACHE_CONTROL, "no-store")
        .header("X-Content-Type-Options", "nosniff");
    if let Some(csp) = csp {
        builder = builder.header("Content-Security-Policy", csp);
    }
    builder
        .body(body)
        .unwrap_or_else(|_| assets::status(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))
}
