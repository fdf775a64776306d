//! Serving files from a directory over a custom protocol, without leaving it.

use std::borrow::Cow;
use std::path::{Component, Path, PathBuf};

use wry::http::{Response, StatusCode, header};

/// Resolves the path of a request URI inside `root`: refuses `..`, absolute components,
/// and anything that resolves (through symlinks) outside `root`. `/` maps to `index.html`.
pub fn resolve(root: &Path, uri_path: &str) -> Option<PathBuf> {
    let rel = uri_path.trim_start_matches('/');
    let rel = if rel.is_empty() { "index.html" } else { rel };
    let rel = Path::new(rel);
    if !rel.components().all(|c| matches!(c, Component::Normal(_))) {
        return None;
    }
    let root = root.canonicalize().ok()?;
    let path = root.join(rel).canonicalize().ok()?;
    (path.starts_with(&root) && path.is_file()).then_some(path)
}

/// The MIME type for a file name.
pub fn mime_for(path: &Path) -> String {
    mime_guess::from_path(path)
        .first_or_octet_stream()
        .essence_str()
        .to_owned()
}

/// The policy of every error response: nothing may run or load in it, and it is a
/// sandboxed document. A page that frames an error of its own origin (a 404) would
/// otherwise get a same-origin document under no CSP at all.
pub const ERROR_CSP: &str = "default-src 'none'; sandbox";

/// A plain-text error response, under [`ERROR_CSP`].
pub fn status(code: StatusCode, text: &'static str) -> Response<Cow<'static, [u8]>> {
    Response::builder()
        .status(code)
        .header(header::CONTENT_TYPE, "text/plain")
        .header(header::CACHE_CONTROL, "no-store")
        .header("X-Content-Type-Options", "nosniff")
        .header("Content-Security-Policy", ERROR_CSP)
        .body(Cow::Borrowed(text.as_bytes()))
        .unwrap_or_else(|_| Response::new(Cow::Borrowed(text.as_bytes())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stays_inside_the_root() {
        let dir = std::env::temp_dir().join(format!("pc-assets-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("index.html"), "x").unwrap();
        std::fs::write(dir.join("sub/a.js"), "x").unwrap();
        assert_eq!(
            resolve(&dir, "/").unwrap(),
            dir.canonicalize().unwrap().join("index.html")
        );
        assert!(resolve(&dir, "/sub/a.js").is_some());
        assert!(resolve(&dir, "/../etc/passwd").is_none());
        assert!(resolve(&dir, "/sub/../index.html").is_none());
        assert!(resolve(&dir, "/missing.js").is_none());
        assert!(resolve(&dir, "/sub").is_none());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn mime_types() {
        assert_eq!(mime_for(Path::new("a.js")), "text/javascript");
        assert_eq!(mime_for(Path::new("a.html")), "text/html");
        assert_eq!(
            mime_for(Path::new("a.unknownext")),
            "application/octet-stream"
        );
    }
}
