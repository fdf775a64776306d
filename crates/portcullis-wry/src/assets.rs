//! Serving files over a custom protocol: from a directory without leaving it, or from
//! files compiled into the binary.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

/// Files compiled into the binary, by their path inside their folder (`index.html`,
/// `assets/app.js`). [`Embedded`] implements it for any `rust_embed::Embed` type.
pub trait Assets: Send + Sync + 'static {
    /// The file at `path` (no leading `/`), if there is one.
    fn get(&self, path: &str) -> Option<Cow<'static, [u8]>>;
    /// Every file's path.
    fn names(&self) -> Vec<String>;
}

/// The files of a `#[derive(rust_embed::Embed)]` type: read from its folder at run time
/// in debug builds (unless rust-embed's `debug-embed` feature is on), compiled into the
/// binary in release builds.
pub struct Embedded<E>(PhantomData<fn() -> E>);

impl<E> Embedded<E> {
    /// The assets of `E`.
    pub fn new() -> Self {
        Embedded(PhantomData)
    }
}

impl<E> Default for Embedded<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E: rust_embed::Embed + 'static> Assets for Embedded<E> {
    fn get(&self, path: &str) -> Option<Cow<'static, [u8]>> {
        E::get(path).map(|file| file.data)
    }

    fn names(&self) -> Vec<String> {
        E::iter().map(Cow::into_owned).collect()
    }
}

/// A set of files a protocol serves: a directory read at run time, or files compiled in.
#[derive(Clone)]
pub enum Files {
    /// A directory; nothing outside it is served (see [`resolve`]).
    Directory(PathBuf),
    /// Files compiled into the binary.
    Embedded(Arc<dyn Assets>),
}

impl std::fmt::Debug for Files {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Files::Directory(dir) => f.debug_tuple("Directory").field(dir).finish(),
            Files::Embedded(assets) => write!(f, "Embedded({} files)", assets.names().len()),
        }
    }
}

impl Files {
    /// The file at the request path `uri_path` (percent-encoded, as in the URL; `/` is
    /// `index.html`) and its MIME type. The decoded path must be plain names: no `..`,
    /// no empty or absolute components, whichever encoding spells them.
    pub fn read(&self, uri_path: &str) -> Option<(Cow<'static, [u8]>, String)> {
        let decoded = percent_encoding::percent_decode_str(uri_path)
            .decode_utf8()
            .ok()?;
        let name = decoded.trim_start_matches('/');
        let name = if name.is_empty() { "index.html" } else { name };
        if name.contains(['\\', '\0']) || !name.split('/').all(|p| !matches!(p, "" | "." | "..")) {
            return None;
        }
        match self {
            Files::Directory(dir) => {
                let file = resolve(dir, name)?;
                let bytes = std::fs::read(&file).ok()?;
                Some((Cow::Owned(bytes), mime_for(&file)))
            }
            Files::Embedded(assets) => Some((assets.get(name)?, mime_for(Path::new(name)))),
        }
    }

    /// Where the file at `path` (relative) comes from, for messages.
    pub fn describe(&self, path: &str) -> PathBuf {
        match self {
            Files::Directory(dir) => dir.join(path),
            Files::Embedded(_) => Path::new("(embedded)").join(path),
        }
    }
}

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
    fn request_paths_are_decoded_then_kept_inside() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("my file.js"), "a").unwrap();
        std::fs::write(dir.path().join("sub/b.js"), "b").unwrap();
        std::fs::write(dir.path().join("index.html"), "i").unwrap();
        let files = Files::Directory(dir.path().join("sub"));
        let top = Files::Directory(dir.path().to_path_buf());
        let body = |f: &Files, p: &str| f.read(p).map(|(b, _)| b.into_owned());
        // Twins: the encoded names a page really asks for are found.
        assert_eq!(body(&top, "/my%20file.js").unwrap(), b"a");
        assert_eq!(body(&top, "/sub%2Fb.js").unwrap(), b"b");
        assert_eq!(body(&top, "/").unwrap(), b"i");
        // Climbing out, however it is spelled, is not.
        for bad in [
            "/..%2Findex.html",
            "/%2e%2e/index.html",
            "/%2E%2E%2Findex.html",
            "/.%2e/index.html",
            "/a%00b",
            "/%5c..%5cindex.html",
            "/%ff",
        ] {
            assert!(body(&files, bad).is_none(), "{bad}");
        }
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
