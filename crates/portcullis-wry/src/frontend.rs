//! The `app://` protocol: the app's frontend, from a directory, from assets embedded in
//! the binary, or from a dev server, always under the app's origin and served with the
//! app's CSP (plus the sources Portcullis needs), and the request encoder brownfield mode
//! loads.
//!
//! Every response carries the CSP, not only documents: a worker runs under its own
//! script's response headers, not the page's, so a module worker started from a script
//! served without one could reach `ipc://` and any address the page's CSP closes.
//!
//! A dev server is not loaded directly: its files are fetched from it and served here,
//! so the pages keep the app's origin (the one the allowlist names), the CSP is the
//! app's, and no header of the dev server's reaches the webview.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use portcullis_core::Origin;
use wry::RequestAsyncResponder;
use wry::http::{Method, Request, Response, StatusCode, header};

use crate::assets::Files;
use crate::{Shared, assets, isolation};

type Body = Cow<'static, [u8]>;

/// The largest file a dev server may send for one request.
const DEV_SERVER_MAX_BYTES: u64 = 256 * 1024 * 1024;
/// Threads fetching from the dev server, and requests that may wait for one: a page
/// that floods `app://` gets `503`s, not unbounded threads and memory.
const DEV_SERVER_WORKERS: usize = 4;
const DEV_SERVER_QUEUE: usize = 256;

/// One `app://` request waiting for a dev-server worker.
struct Job {
    shared: Arc<Shared>,
    target: String,
    responder: RequestAsyncResponder,
}

/// Where `app://` takes the app's files from.
#[derive(Clone)]
pub enum Frontend {
    /// A directory read at run time, or files compiled into the binary.
    Files(Files),
    /// A dev server on this machine, fetched from for every request.
    DevServer(DevServer),
}

impl std::fmt::Debug for Frontend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Frontend::Files(files) => files.fmt(f),
            Frontend::DevServer(server) => f.debug_tuple("DevServer").field(&server.url).finish(),
        }
    }
}

/// A dev server (`build.devUrl`), checked by [`portcullis_core::config::dev_server`].
#[derive(Clone)]
pub struct DevServer {
    /// As the config gives it.
    pub url: String,
    /// Its origin, `http://localhost:5173`.
    pub origin: Origin,
    /// The path it serves the frontend under, `/` or `/app/`.
    pub base: String,
    agent: ureq::Agent,
    jobs: std::sync::mpsc::SyncSender<Job>,
}

impl DevServer {
    /// The dev server at `url`, or why Portcullis will not use it.
    pub fn new(url: &str) -> Result<DevServer, String> {
        let (origin, base) = portcullis_core::config::dev_server(url)?;
        let agent = ureq::Agent::config_builder()
            // Straight to the server on this machine: a proxy from the environment
            // (HTTP_PROXY, ALL_PROXY) would resolve `localhost` on its own side, and
            // another machine would serve the app's code.
            .proxy(None)
            // A redirect could point anywhere; the dev server's own answers only.
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .build()
            .into();
        let (jobs, queue) = std::sync::mpsc::sync_channel::<Job>(DEV_SERVER_QUEUE);
        let queue = Arc::new(std::sync::Mutex::new(queue));
        for i in 0..DEV_SERVER_WORKERS {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("portcullis-dev-server-{i}"))
                .spawn(move || work(&queue))
                .map_err(|e| format!("cannot start a thread for the dev server: {e}"))?;
        }
        Ok(DevServer {
            url: url.to_owned(),
            origin,
            base,
            agent,
            jobs,
        })
    }

    /// Whether something listens at the server's address (within a second).
    pub fn is_listening(&self) -> bool {
        use std::net::{TcpStream, ToSocketAddrs};
        let port = self.origin.port().unwrap_or(80);
        let Ok(addrs) = (self.origin.host(), port).to_socket_addrs() else {
            return false;
        };
        addrs
            .into_iter()
            .any(|a| TcpStream::connect_timeout(&a, Duration::from_secs(1)).is_ok())
    }

    /// Fetches `path?query` from the server: its status, content type and body.
    fn fetch(&self, path_and_query: &str) -> Result<(StatusCode, Option<String>, Vec<u8>), String> {
        let url = format!(
            "{}{}{}",
            self.origin,
            self.base,
            path_and_query.trim_start_matches('/')
        );
        let mut response = self.agent.get(&url).call().map_err(|e| e.to_string())?;
        let status = response.status();
        if status.is_redirection() {
            return Err(format!("{url} answered with a redirect ({status})"));
        }
        let mime = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response
            .body_mut()
            .with_config()
            .limit(DEV_SERVER_MAX_BYTES)
            .read_to_vec()
            .map_err(|e| e.to_string())?;
        Ok((
            StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY),
            mime,
            body,
        ))
    }
}

/// Handles one `app://` request. Files from a directory or the binary are answered at
/// once; a dev server's on a thread of their own, so a slow server never stalls the
/// webviews' thread.
pub fn handle(shared: &Arc<Shared>, request: Request<Vec<u8>>, responder: RequestAsyncResponder) {
    // Only the app's own host: `app://evil/` (or, on WebView2, `https://app.evil.com/`,
    // which wry's filter also hands here) serves nothing.
    if !crate::engine::handler_uri_is(crate::engine::Served::App, request.uri()) {
        return responder.respond(assets::status(
            StatusCode::NOT_FOUND,
            "the app is served at its own host only",
        ));
    }
    let path = request.uri().path();
    // Brownfield mode's encoder (the bridge imports it), and the constants it imports.
    let served = match path {
        "/__portcullis/sealer.js" => Some(isolation::SEALER_JS),
        "/__portcullis/protocol.js" => Some(crate::protocol::module()),
        _ => None,
    };
    if let Some(text) = served {
        return responder.respond(typed(
            Cow::Borrowed(text.as_bytes()),
            "text/javascript",
            &shared.app_csp,
        ));
    }
    if request.method() != Method::GET {
        return responder.respond(assets::status(
            StatusCode::METHOD_NOT_ALLOWED,
            "the app's files are only read",
        ));
    }
    match &shared.frontend {
        Frontend::Files(files) => responder.respond(from_files(files, path, &shared.app_csp)),
        Frontend::DevServer(server) => {
            let target = request
                .uri()
                .path_and_query()
                .map_or_else(|| path.to_owned(), |p| p.as_str().to_owned());
            let job = Job {
                shared: shared.clone(),
                target,
                responder,
            };
            // Every request is answered: by a worker, or at once when none can take it.
            if let Err(e) = server.jobs.try_send(job) {
                let (std::sync::mpsc::TrySendError::Full(job)
                | std::sync::mpsc::TrySendError::Disconnected(job)) = e;
                job.responder.respond(assets::status(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "too many requests for the dev server at once",
                ));
            }
        }
    }
}

/// A dev-server worker: takes jobs until the server is gone.
fn work(queue: &std::sync::Mutex<std::sync::mpsc::Receiver<Job>>) {
    loop {
        let job = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let response = match &job.shared.frontend {
            Frontend::DevServer(server) => {
                from_dev_server(server, &job.target, &job.shared.app_csp)
            }
            Frontend::Files(_) => {
                assets::status(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
            }
        };
        job.responder.respond(response);
    }
}

fn from_files(files: &Files, path: &str, csp: &str) -> Response<Body> {
    match files.read(path) {
        Some((bytes, mime)) => typed(bytes, &mime, csp),
        None => assets::status(StatusCode::NOT_FOUND, "not found"),
    }
}

fn from_dev_server(server: &DevServer, target: &str, csp: &str) -> Response<Body> {
    match server.fetch(target) {
        Ok((status, mime, body)) => {
            let path = target.split('?').next().unwrap_or(target);
            let mime = mime.unwrap_or_else(|| assets::mime_for(Path::new(path)));
            let mut response = typed(Cow::Owned(body), &mime, csp);
            *response.status_mut() = status;
            response
        }
        Err(e) => {
            tracing::warn!(target: "portcullis", "dev server {}: {e}", server.url);
            assets::status(StatusCode::BAD_GATEWAY, "the dev server did not answer")
        }
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

    use super::*;

    const CSP: &str = "default-src 'self'";

    fn get(frontend: &Frontend, path: &str) -> Response<Body> {
        match frontend {
            Frontend::Files(files) => from_files(files, path, CSP),
            Frontend::DevServer(server) => from_dev_server(server, path, CSP),
        }
    }

    struct Two;
    impl crate::Assets for Two {
        fn get(&self, path: &str) -> Option<Body> {
            ["index.html", "app.js"]
                .contains(&path)
                .then(|| Cow::Borrowed(b"x".as_slice()))
        }
        fn names(&self) -> Vec<String> {
            vec!["index.html".into(), "app.js".into()]
        }
    }

    #[test]
    fn every_response_is_served_under_a_csp() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let frontends = [
            Frontend::Files(Files::Directory(
                root.join("crates/portcullis-demo/frontend"),
            )),
            Frontend::Files(Files::Embedded(Arc::new(Two))),
        ];
        for frontend in &frontends {
            // A document, and a script a page could start as a module worker.
            for path in ["/", "/index.html", "/app.js"] {
                let response = get(frontend, path);
                assert_eq!(response.status(), StatusCode::OK, "{frontend:?} {path}");
                let csp = response.headers()["Content-Security-Policy"]
                    .to_str()
                    .unwrap();
                assert_eq!(csp, CSP, "{frontend:?} {path}");
                assert_eq!(response.headers()["X-Content-Type-Options"], "nosniff");
            }
            // An error page of the app's own origin, which a page could frame, runs
            // nothing.
            let response = get(frontend, "/does-not-exist");
            assert_eq!(response.status(), StatusCode::NOT_FOUND);
            assert_eq!(
                response.headers()["Content-Security-Policy"],
                assets::ERROR_CSP
            );
        }
    }

    #[test]
    fn a_dev_server_that_is_down_is_a_gateway_error_under_the_error_csp() {
        // Port 9 (discard) on loopback: nothing listens there on a test machine.
        let server = DevServer::new("http://127.0.0.1:9").unwrap();
        assert!(!server.is_listening());
        let response = get(&Frontend::DevServer(server), "/index.html");
        assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
        assert_eq!(
            response.headers()["Content-Security-Policy"],
            assets::ERROR_CSP
        );
    }

    /// A dev server on loopback that answers every request with `answer(path)`, until
    /// `count` requests were served.
    fn dev_server(
        count: usize,
        answer: fn(&str) -> tiny_http::Response<std::io::Cursor<Vec<u8>>>,
    ) -> (String, std::thread::JoinHandle<Vec<String>>) {
        let server = tiny_http::Server::http("127.0.0.1:0").unwrap();
        let url = format!("http://{}", server.server_addr().to_ip().unwrap());
        let thread = std::thread::spawn(move || {
            let mut seen = Vec::new();
            for request in server.incoming_requests().take(count) {
                seen.push(request.url().to_owned());
                let response = answer(request.url());
                request.respond(response).unwrap();
            }
            seen
        });
        (url, thread)
    }

    fn header(name: &str, value: &str) -> tiny_http::Header {
        tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()).unwrap()
    }

    #[test]
    fn a_dev_servers_files_are_served_under_the_apps_csp_and_none_of_its_headers() {
        let (url, server) = dev_server(3, |path| {
            if path.starts_with("/src/main.js") {
                tiny_http::Response::from_data(b"export const x = 1;".to_vec())
                    .with_header(header("Content-Type", "text/javascript"))
                    .with_header(header("Content-Security-Policy", "default-src *"))
                    .with_header(header("Set-Cookie", "a=b"))
            } else if path == "/moved" {
                tiny_http::Response::from_data(Vec::new())
                    .with_status_code(302)
                    .with_header(header("Location", "http://example.com/"))
            } else {
                tiny_http::Response::from_data(b"no".to_vec()).with_status_code(404)
            }
        });
        let frontend = Frontend::DevServer(DevServer::new(&url).unwrap());
        let response = get(&frontend, "/src/main.js?v=3");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.body().as_ref(), b"export const x = 1;");
        let headers = response.headers();
        assert_eq!(headers[header::CONTENT_TYPE], "text/javascript");
        assert_eq!(headers["Content-Security-Policy"], CSP);
        assert!(headers.get(header::SET_COOKIE).is_none());
        // The server's own statuses pass, still under the app's CSP.
        let response = get(&frontend, "/missing.js");
        assert_eq!(response.status(), StatusCode::NOT_FOUND);
        assert_eq!(response.headers()["Content-Security-Policy"], CSP);
        // A redirect is not followed, nor passed on: it could point anywhere.
        let response = get(&frontend, "/moved");
        assert_eq!(response.status(), StatusCode::BAD_GATEWAY);
        assert!(response.headers().get(header::LOCATION).is_none());
        // The query reached the server as the page asked for it.
        let seen = server.join().unwrap();
        assert_eq!(seen, ["/src/main.js?v=3", "/missing.js", "/moved"]);
    }

    /// Run by the test below in a process of its own, with a proxy in its environment.
    #[test]
    #[ignore = "run by a_proxy_in_the_environment_is_never_used"]
    fn fetch_with_a_proxy_in_the_environment() {
        let (url, server) = dev_server(1, |_| {
            tiny_http::Response::from_data(b"from the dev server".to_vec())
        });
        let response = get(&Frontend::DevServer(DevServer::new(&url).unwrap()), "/x.js");
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.body().as_ref(), b"from the dev server");
        assert_eq!(server.join().unwrap(), ["/x.js"]);
    }

    #[test]
    fn a_proxy_in_the_environment_is_never_used() {
        // A proxy that would answer in the dev server's place (it only counts callers).
        let proxy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = format!("http://{}", proxy.local_addr().unwrap());
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "--exact",
                "frontend::tests::fetch_with_a_proxy_in_the_environment",
            ])
            .args(["--ignored", "--test-threads=1"])
            .env("HTTP_PROXY", &address)
            .env("http_proxy", &address)
            .env("ALL_PROXY", &address)
            .env_remove("NO_PROXY")
            .env_remove("no_proxy")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(stdout.contains("1 passed"), "{stdout}");
        proxy.set_nonblocking(true).unwrap();
        assert!(
            proxy.accept().is_err(),
            "the dev server was reached through the proxy"
        );
    }
}
