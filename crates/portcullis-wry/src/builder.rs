//! Setting Portcullis up: [`Portcullis::builder`] (or [`Portcullis::from_config_file`])
//! collects the config, the app's handlers and the embedder's hooks, and
//! [`PortcullisBuilder::build`] compiles them into the [`Shared`] state, refusing to start
//! when isolation is on and the app's hook is missing or cannot run.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use portcullis_core::config::{BuildConfig, Pattern, is_handler_schema};
use portcullis_core::gate::AuditSink;
use portcullis_core::grants::GrantSink;
use portcullis_core::manifest::drift;
use portcullis_core::wire::constants::max_chunk_data;
use portcullis_core::{Config, Emitter, Gate, Router, ScopeVars};

use crate::engine::{CURRENT, Served};
use crate::{
    BRIDGE_JS, Error, Portcullis, Shared, app, assets, csp, events, frontend, hook, page, runtime,
    transport,
};

impl Portcullis {
    /// Starts from a parsed config. `config_dir` is what the config's paths (the
    /// isolation `dir`, `build.frontendDist`) are relative to.
    pub fn builder(config: Config, config_dir: &Path) -> PortcullisBuilder {
        let waker = Arc::new(std::sync::OnceLock::new());
        PortcullisBuilder {
            config,
            config_dir: config_dir.to_path_buf(),
            frontend_dir: None,
            embedded: None,
            embedded_isolation: None,
            isolation_dir: None,
            router: Router::new(),
            vars: ScopeVars::new(),
            audit: None,
            grant_sink: None,
            events: Arc::new(events::EventQueue::new()),
            waker,
            runtime: runtime::Choice::default(),
            observer: None,
            transport: None,
            devtools: Devtools::Off,
        }
    }

    /// A config compiled into the binary (`include_str!("../portcullis.json")`);
    /// `config_dir` is the folder it was in, for debug builds that read the files it
    /// names (`env!("CARGO_MANIFEST_DIR")` when it sits beside `Cargo.toml`). A release
    /// build that embeds its frontend and isolation app reads nothing there.
    pub fn from_config_str(text: &str, config_dir: &Path) -> Result<PortcullisBuilder, Error> {
        Ok(Portcullis::builder(Config::from_json(text)?, config_dir))
    }

    /// Reads the config file at `path` (its paths are relative to its folder).
    pub fn from_config_file(path: &Path) -> Result<PortcullisBuilder, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let config = Config::from_json(&text)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Ok(Portcullis::builder(config, dir))
    }
}

/// Collects what Portcullis needs before it can attach to webviews.
pub struct PortcullisBuilder {
    config: Config,
    config_dir: PathBuf,
    frontend_dir: Option<PathBuf>,
    embedded: Option<Arc<dyn assets::Assets>>,
    embedded_isolation: Option<Arc<dyn assets::Assets>>,
    isolation_dir: Option<PathBuf>,
    router: Router,
    vars: ScopeVars,
    audit: Option<AuditSink>,
    grant_sink: Option<GrantSink>,
    events: Arc<events::EventQueue>,
    waker: Arc<std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>>,
    runtime: runtime::Choice,
    observer: Option<transport::Observer>,
    transport: Option<transport::Transport>,
    devtools: Devtools,
}

/// Whether the webviews' developer tools may open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Devtools {
    Off,
    /// In debug builds; a release build refuses to start.
    Debug,
    /// In every build, release included: the app asked for it knowingly.
    Forced,
}

impl Devtools {
    /// Whether devtools are on in a build with (`debug`) or without debug assertions, or
    /// why the app may not start.
    fn enabled(self, debug: bool) -> Result<bool, Error> {
        match self {
            Devtools::Off => Ok(false),
            Devtools::Debug if debug => Ok(true),
            Devtools::Debug => Err(Error::DevtoolsInRelease),
            Devtools::Forced => Ok(true),
        }
    }
}

impl PortcullisBuilder {
    /// Serves the frontend from `dir`, read at run time, whatever the config's `build`
    /// section says (for tools and tests; apps let the config decide).
    pub fn frontend_dir(mut self, dir: &Path) -> Self {
        self.frontend_dir = Some(dir.to_path_buf());
        self
    }

    /// The frontend compiled into the binary: a `#[derive(rust_embed::Embed)]` type whose
    /// `#[folder]` is the config's `build.frontendDist`. Release builds serve it (and
    /// refuse to start without one when the config names a `frontendDist`); debug builds
    /// serve it too unless the config names a `devUrl`, and first check that it holds
    /// the same files as `frontendDist`.
    pub fn embedded_frontend<E: rust_embed::Embed + 'static>(self) -> Self {
        self.embedded_assets(assets::Embedded::<E>::new())
    }

    /// The isolation app compiled into the binary: a `#[derive(rust_embed::Embed)]` type
    /// whose `#[folder]` is the config's isolation `dir` (its `hook.js` and what that
    /// imports). Checked at build like a directory; in debug builds, also checked to hold
    /// the same files as `dir`.
    pub fn embedded_isolation<E: rust_embed::Embed + 'static>(mut self) -> Self {
        self.embedded_isolation = Some(Arc::new(assets::Embedded::<E>::new()));
        self
    }

    /// Reads the isolation app from `dir` at run time, in every build, instead of the
    /// config's `dir` (for tools and tests; a release build reads the config's `dir` only
    /// when told to, by this, and otherwise needs [`PortcullisBuilder::embedded_isolation`]).
    pub fn isolation_dir(mut self, dir: &Path) -> Self {
        self.isolation_dir = Some(dir.to_path_buf());
        self
    }

    /// Like [`PortcullisBuilder::embedded_frontend`], for assets embedded some other way.
    pub fn embedded_assets(mut self, assets: impl assets::Assets) -> Self {
        self.embedded = Some(Arc::new(assets));
        self
    }

    /// The command/event routing table.
    pub fn router(mut self, router: Router) -> Self {
        self.router = router;
        self
    }

    /// Directories that path scopes may name as `$VAR`.
    pub fn scope_vars(mut self, vars: ScopeVars) -> Self {
        self.vars = vars;
        self
    }

    /// Receives every refusal as an audit event (as well as `tracing`): a closure, called
    /// from whichever thread decided.
    pub fn audit_sink(
        mut self,
        sink: impl Fn(&portcullis_core::AuditEvent<'_>) + Send + Sync + 'static,
    ) -> Self {
        let sink: AuditSink = Arc::new(sink);
        self.audit = Some(sink);
        self
    }

    /// Receives every change of the run-time grants (as well as `tracing`): a closure.
    pub fn grant_sink(
        mut self,
        sink: impl Fn(&portcullis_core::GrantEvent<'_>) + Send + Sync + 'static,
    ) -> Self {
        let sink: GrantSink = Arc::new(sink);
        self.grant_sink = Some(sink);
        self
    }

    /// Called from any thread when core-to-frontend events are queued; it should make the
    /// event loop call [`Portcullis::pump`] (e.g. send a tao user event).
    pub fn waker(self, waker: impl Fn() + Send + Sync + 'static) -> Self {
        let _ = self.waker.set(Box::new(waker));
        self
    }

    /// Sees every raw message that reaches the transport and the gate's verdict (for
    /// audit tooling and tests).
    pub fn observe(mut self, observer: transport::Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Chooses which way messages travel ([`transport::Transport`]) instead of the
    /// default: the engine's native handler where this engine, as it runs here, has one
    /// (WebKitGTK 2.40 and later), else fetch. Asking for `Native` where there is none
    /// makes every `build_webview` fail with [`Error::Engine`], never a silent fetch.
    pub fn transport(mut self, transport: transport::Transport) -> Self {
        self.transport = Some(transport);
        self
    }

    /// Runs the handlers on the app's own tokio runtime (`tokio::runtime::Handle::current()`
    /// inside `#[tokio::main]`): async handlers as its tasks, sync ones on its blocking
    /// threads. Without it Portcullis starts a runtime of its own.
    pub fn tokio_handle(mut self, handle: tokio::runtime::Handle) -> Self {
        self.runtime = runtime::Choice::Handle(handle);
        self
    }

    /// The size of the runtime Portcullis starts when the app gives none: `workers`
    /// threads for async handlers, at most `blocking` threads for sync ones (defaults:
    /// one worker per core, 64 blocking threads).
    pub fn worker_threads(mut self, workers: usize, blocking: usize) -> Self {
        self.runtime = runtime::Choice::Own {
            workers: Some(workers.max(1)),
            blocking: blocking.max(1),
        };
        self
    }

    /// Lets the webviews' developer tools open (the inspector: the page's DOM, console and
    /// network, and a console in the isolation frame's context). Off by default. For
    /// debug builds: a release build with this set refuses to start
    /// ([`Error::DevtoolsInRelease`]) unless [`PortcullisBuilder::force_devtools_in_release`]
    /// says otherwise. (wry opens them in release builds only with its `devtools` feature.)
    pub fn devtools(mut self, on: bool) -> Self {
        self.devtools = if on { Devtools::Debug } else { Devtools::Off };
        self
    }

    /// Developer tools in release builds too: anyone using the shipped app can then read
    /// and drive the page and the isolation frame's context. Only for builds that never
    /// reach users.
    pub fn force_devtools_in_release(mut self) -> Self {
        self.devtools = Devtools::Forced;
        self
    }

    /// An emitter for core-to-frontend events, usable in handlers before `build`.
    pub fn emitter(&self) -> Emitter {
        Emitter::new(self.events.clone())
    }

    /// Compiles the policy and prepares the protocols.
    pub fn build(mut self) -> Result<Portcullis, Error> {
        let debug = cfg!(debug_assertions);
        // Rules that take their schema from their handler ("schema": "handler") get it
        // from the router's types before the policy compiles.
        if uses_handler_schemas(&self.config) {
            let manifest = self.router.manifest()?;
            self.config.take_handler_schemas(&manifest)?;
        }
        let devtools = self.devtools.enabled(debug)?;
        let frontend = choose_frontend(
            self.config.build.as_ref(),
            &self.config_dir,
            self.frontend_dir,
            self.embedded,
            debug,
        )?;
        let mut gate = Gate::new(&self.config, &self.vars)?;
        if let Some(sink) = self.audit {
            gate = gate.with_audit_sink(sink);
        }
        if let Some(sink) = self.grant_sink {
            gate.grants().set_sink(sink);
        }
        // Fail closed: with isolation on, no webview starts without the app's hook.
        let (isolation_files, hook) = match &self.config.app.security.pattern {
            Pattern::Isolation { options } => {
                let dir = choose_isolation(
                    &self.config_dir.join(&options.dir),
                    self.isolation_dir,
                    self.embedded_isolation,
                    debug,
                )?;
                let hook = hook::resolve(&dir, options.hook.as_deref())?;
                if hook == hook::HookSource::BuiltinNamesOnly {
                    tracing::warn!(
                        target: "portcullis",
                        "the config asks for the built-in hook, which checks only names: the app has no validation of its own"
                    );
                }
                (Some(dir), Some(hook))
            }
            _ => (None, None),
        };
        let isolation = isolation_files.is_some();
        let mut app_csp = csp::app_on(CURRENT, self.config.app.security.csp.as_deref(), isolation);
        if let frontend::Frontend::DevServer(server) = &frontend {
            // The one addition a dev server gets: its live-reload socket. Only the
            // server's own address, and only in debug builds.
            let socket = format!(
                "ws://{}",
                server.origin.to_string().trim_start_matches("http://")
            );
            app_csp = csp::allow(&app_csp, "connect-src", &socket);
        }
        let bridge_config = serde_json::json!({
            "isolation": isolation,
            "isolationUrl": CURRENT.url(Served::Isolation, "/"),
            "sealerUrl": CURRENT.url(Served::App, "/__portcullis/sealer.js"),
            // The protocol's constants (kinds, chunk operations, the stream window,
            // channel frame types, the transport's URLs): data, never written into code.
            "protocol": crate::protocol::data(),
            // The bridge's own deadline, for a reply that never comes: past the longest
            // time the core gives any command, which answers E_TIMEOUT itself first.
            "fallbackTimeoutMs": longest_timeout_ms(&self.config).saturating_add(5_000),
            // The most data one stream chunk carries: a chunk's envelope (header, operation,
            // tag; or the clear framing) stays within limits.maxMessageBytes.
            "maxChunkBytes": max_chunk_data(self.config.app.security.limits.max_message_bytes),
        });
        let init_script = bridge_script(&bridge_config);
        let waker = self.waker.clone();
        let events = self.events.clone();
        events.set_waker(Box::new(move || {
            if let Some(w) = waker.get() {
                w();
            }
        }));
        let pages = Arc::new(page::Pages::default());
        events.set_pages(pages.clone());
        // Grants go only to windows this crate built and has not closed.
        gate.grants().track_windows();
        // The App extractor's queue: handlers reach it as state, pump drains it.
        let requests = app::Requests::new(self.waker.clone());
        // The runtime watches every call's deadline through its token.
        let router = self
            .router
            .grants(gate.grants().clone())
            .state(requests.clone())
            .watches_calls();
        router.check()?;
        router
            .streams()
            .set_page_budget(self.config.app.security.limits.max_buffered_stream_bytes);
        if debug {
            warn_of_drift(&self.config, &router);
        }
        for path in unread_schemas(&self.config, &router) {
            tracing::warn!(
                target: "portcullis",
                "{path} constrains arguments its handler never reads (it takes no Args, Bytes, Body, Scoped or Channel): the check costs a call and protects nothing"
            );
        }
        let runtime = self.runtime.start().map_err(Error::Runtime)?;
        Ok(Portcullis::new(Shared {
            gate,
            router,
            frontend,
            isolation_files,
            hook,
            app_csp,
            isolation_csp: csp::isolation_on(CURRENT),
            pages,
            runtime,
            events,
            init_script,
            observer: self.observer,
            transport: self.transport,
            devtools,
            requests,
        }))
    }
}

/// The main frame's initialization script: the bridge's config (data), then (in the
/// profile build) the script that hands the bridge its marks, then the bridge.
fn bridge_script(config: &serde_json::Value) -> String {
    format!(
        "globalThis.__PORTCULLIS_CONFIG__ = {config};\n{}{BRIDGE_JS}",
        crate::profile::BRIDGE_MARKS_JS
    )
}

/// The longest a command may run under `config`: its `limits.callTimeoutMs`, or a longer
/// `timeoutMs` of a rule.
fn longest_timeout_ms(config: &Config) -> u32 {
    let security = &config.app.security;
    security
        .capabilities
        .iter()
        .flat_map(|c| c.commands.allow.iter())
        .filter_map(|r| r.timeout_ms)
        .fold(security.limits.call_timeout_ms, u32::max)
}

/// Where the frontend comes from, in this order: a directory the embedder named; in
/// debug builds, the config's dev server; the embedded assets; in debug builds, the
/// config's `frontendDist` read at run time. Anything else refuses to start: a release
/// build never falls back to reading files from disk.
fn choose_frontend(
    build: Option<&BuildConfig>,
    config_dir: &Path,
    explicit: Option<PathBuf>,
    embedded: Option<Arc<dyn assets::Assets>>,
    debug: bool,
) -> Result<frontend::Frontend, Error> {
    use frontend::Frontend;
    if let Some(dir) = explicit {
        return directory(dir);
    }
    let dist = build
        .and_then(|b| b.frontend_dist.as_ref())
        .map(|d| config_dir.join(d));
    let dev_url = build.and_then(|b| b.dev_url.as_deref());
    if let Some(assets) = &embedded {
        if !assets.names().iter().any(|n| n == "index.html") {
            return Err(Error::Frontend(
                "the embedded frontend has no index.html: is #[folder] the built frontend, and was it built before the app?".into(),
            ));
        }
        // Checked in debug builds whatever serves the pages now, so a #[folder] that is
        // not frontendDist shows while developing, not in the shipped app.
        if debug && let Some(dist) = &dist {
            same_files(assets.as_ref(), dist, "the embedded frontend").map_err(Error::Frontend)?;
        }
    }
    if debug && let Some(url) = dev_url {
        let server = frontend::DevServer::new(url).map_err(Error::Frontend)?;
        if !server.is_listening() {
            return Err(Error::Frontend(format!(
                "build.devUrl: nothing answers at {url}: start the dev server first (e.g. `npm run dev`), or build in release to serve the embedded frontend"
            )));
        }
        return Ok(Frontend::DevServer(server));
    }
    match (embedded, dist) {
        (Some(assets), _) => Ok(Frontend::Files(assets::Files::Embedded(assets))),
        (None, Some(dist)) if debug => directory(dist),
        (None, Some(dist)) => Err(Error::Frontend(format!(
            "a release build reads no frontend from disk, and none is embedded: derive rust_embed::Embed with #[folder = {:?}] and pass it to embedded_frontend()",
            dist.display()
        ))),
        (None, None) if dev_url.is_some() => Err(Error::Frontend(
            "a release build does not use build.devUrl (a dev server is for debug builds), and nothing is embedded: name build.frontendDist and pass it to embedded_frontend()".into(),
        )),
        (None, None) => Err(Error::Frontend(
            "no frontend: the config's build section names no frontendDist or devUrl, and none was given to the builder (embedded_frontend, frontend_dir)".into(),
        )),
    }
}

/// Where the isolation app comes from: a directory the embedder named; the embedded
/// files (in debug builds, first checked against the config's `dir`); in debug builds,
/// the config's `dir` (`on_disk`). A release build reads it from disk only when told to:
/// a path resolved at build time may not be the app's on a user's machine, and whoever
/// can create it there would choose the app's hook.
fn choose_isolation(
    on_disk: &Path,
    explicit: Option<PathBuf>,
    embedded: Option<Arc<dyn assets::Assets>>,
    debug: bool,
) -> Result<assets::Files, Error> {
    match (explicit, embedded) {
        (Some(dir), _) => Ok(assets::Files::Directory(dir)),
        (None, Some(files)) => {
            if debug {
                same_files(files.as_ref(), on_disk, "the embedded isolation app")
                    .map_err(Error::Isolation)?;
            }
            Ok(assets::Files::Embedded(files))
        }
        (None, None) if debug => Ok(assets::Files::Directory(on_disk.to_path_buf())),
        (None, None) => Err(Error::Isolation(format!(
            "a release build reads no isolation app from disk unless told to: derive rust_embed::Embed with #[folder = {:?}] and pass it to embedded_isolation(), or name the directory with isolation_dir()",
            on_disk.display()
        ))),
    }
}

fn directory(dir: PathBuf) -> Result<frontend::Frontend, Error> {
    if !dir.is_dir() {
        return Err(Error::Frontend(format!(
            "{} is not a directory (is the frontend built?)",
            dir.display()
        )));
    }
    Ok(frontend::Frontend::Files(assets::Files::Directory(dir)))
}

/// In debug builds, embedded assets (`what`) must have the names of the files of the
/// directory the config names (`build.frontendDist`, the isolation `dir`): a `#[folder]`
/// that names another directory would otherwise ship something else than what was
/// tested. Says what differs.
fn same_files(assets: &dyn assets::Assets, dist: &Path, what: &str) -> Result<(), String> {
    let mut on_disk = Vec::new();
    list_files(dist, dist, &mut on_disk).map_err(|e| format!("{what}: {}: {e}", dist.display()))?;
    on_disk.sort();
    let mut embedded = assets.names();
    embedded.sort();
    if on_disk != embedded {
        let missing: Vec<_> = on_disk.iter().filter(|f| !embedded.contains(f)).collect();
        let extra: Vec<_> = embedded.iter().filter(|f| !on_disk.contains(f)).collect();
        return Err(format!(
            "{what} is not the files of {}: not embedded {missing:?}, embedded but not there {extra:?}; point #[folder] at the directory the config names and rebuild",
            dist.display()
        ));
    }
    Ok(())
}

fn list_files(root: &Path, dir: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            list_files(root, &path, out)?;
        } else if let Ok(rel) = path.strip_prefix(root) {
            let parts: Vec<_> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect();
            out.push(parts.join("/"));
        }
    }
    Ok(())
}

/// Whether a rule of `config` takes its schema from its handler.
fn uses_handler_schemas(config: &Config) -> bool {
    config.app.security.capabilities.iter().any(|cap| {
        [&cap.commands, &cap.streams, &cap.events]
            .iter()
            .any(|rules| {
                rules
                    .allow
                    .iter()
                    .any(|r| is_handler_schema(r.schema.as_ref()))
            })
    })
}

/// Debug builds: every drift between the allow rules and the router's handlers
/// (`portcullis_core::manifest::drift`), one warning each with the rule's JSON path.
fn warn_of_drift(config: &Config, router: &Router) {
    let Ok(manifest) = router.manifest() else {
        return;
    };
    for found in drift::findings(config, &manifest) {
        tracing::warn!(target: "portcullis", "{}: {}", found.path, found.message);
    }
}

/// The JSON paths of the allow rules whose schema constrains arguments the handler of
/// that name does not read (commands and streams with a handler; `Portcullis::build`
/// warns of each).
fn unread_schemas(config: &Config, router: &Router) -> Vec<String> {
    let mut found = Vec::new();
    for (c, capability) in config.app.security.capabilities.iter().enumerate() {
        for (kind, rules, stream) in [
            ("commands", &capability.commands, false),
            ("streams", &capability.streams, true),
        ] {
            for (r, rule) in rules.allow.iter().enumerate() {
                if rule.schema.is_some()
                    && router.reads_arguments(&rule.name, stream) == Some(false)
                {
                    found.push(format!(
                        "app.security.capabilities[{c}].{kind}.allow[{r}].schema"
                    ));
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_handler_asks_the_app_and_pump_hands_the_request_over_on_this_thread() {
        use portcullis_core::request::{Kind, Request};
        use portcullis_core::router::Dispatch;
        use portcullis_core::{Attested, Encoding, Origin};
        let config = Config::from_json(
            r#"{"app":{"security":{"pattern":{"use":"isolation","options":{"dir":"isolation-app"}},
                "capabilities":[{"identifier":"c","windows":["*"],"origins":["app://localhost"],
                  "commands":{"allow":["bye"]}}]}}}"#,
        )
        .unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let router = Router::new().command("bye", |app: crate::App| app.close_this());
        let built = Portcullis::builder(config, &root)
            .frontend_dir(&root)
            .router(router)
            .build()
            .unwrap();
        let origin = Origin::parse("app://localhost").unwrap();
        let mut sealer = built
            .gate()
            .begin_page_load("notes-2", origin.clone())
            .unwrap()
            .into_sealer();
        let call = |sealer: &mut portcullis_core::Sealer, id: u64| {
            let sealed = sealer
                .seal(
                    &Request::encode_json(Kind::Command, id, "bye", &serde_json::json!({})),
                    Encoding::Binary,
                )
                .unwrap();
            let facts = Attested {
                webview: "notes-2",
                origin: &origin,
            };
            let admitted = built.gate().admit(&sealed, facts).unwrap();
            match built.shared.router.dispatch(admitted) {
                Dispatch::Started(work, call) => call.finish(work.run_here()).result,
                _ => panic!("the command did not start"),
            }
        };
        // An app that takes no requests: the handler is told, nothing is kept.
        let refused = call(&mut sealer, 1).unwrap_err();
        assert_eq!(refused.app_code.as_deref(), Some("APP_NOT_HANDLED"));
        // The twin: once the app takes them, the request reaches it at the next pump.
        let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let sink = seen.clone();
        built.on_app_request(move |request| sink.borrow_mut().push(request));
        assert!(call(&mut sealer, 2).is_ok());
        assert!(seen.borrow().is_empty(), "handed over only by pump");
        built.pump();
        assert_eq!(
            *seen.borrow(),
            [crate::AppRequest::Close {
                webview: "notes-2".into()
            }]
        );
    }

    #[test]
    fn a_schema_no_handler_reads_is_found_by_its_json_path() {
        let config = Config::from_json(
            r#"{"app":{"security":{"pattern":{"use":"isolation","options":{"dir":"isolation-app"}},
                "capabilities":[{"identifier":"c","windows":["*"],"origins":["app://localhost"],
                  "commands":{"allow":[
                    {"name":"unread","schema":{"type":"object"}},
                    {"name":"read","schema":{"type":"object"}},
                    {"name":"scoped","schema":{"type":"object","required":["p"],"properties":{"p":{"type":"string"}}},"paths":{"/p":"s"}},
                    "plain"]},
                  "scopes":{"s":{"allow":["/tmp/**"]}}}]}}}"#,
        )
        .unwrap();
        let router = Router::new()
            .command("unread", || 1)
            .command("read", |_: portcullis_core::Args<serde_json::Value>| 1)
            .command("scoped", |_: portcullis_core::router::Scoped| 1)
            .command("plain", || 1);
        assert_eq!(
            unread_schemas(&config, &router),
            ["app.security.capabilities[0].commands.allow[0].schema"]
        );
    }

    #[test]
    fn a_rule_takes_its_schema_from_the_typed_handler_at_build_and_refuses_without_one() {
        #[derive(serde::Deserialize, schemars::JsonSchema)]
        struct Add {
            title: String,
        }
        let config = || {
            Config::from_json(
                r#"{"app":{"security":{"pattern":{"use":"isolation","options":{"dir":"isolation-app"}},
                    "capabilities":[{"identifier":"c","windows":["*"],"origins":["app://localhost"],
                      "commands":{"allow":[{"name":"add","schema":"handler"}]}}]}}}"#,
            )
            .unwrap()
        };
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let typed =
            Router::new().command_typed("add", |a: portcullis_core::Args<Add>| a.title.len());
        let built = Portcullis::builder(config(), &root)
            .frontend_dir(&root)
            .router(typed)
            .build();
        assert!(built.is_ok(), "{:?}", built.err());
        let untyped =
            Router::new().command("add", |a: portcullis_core::Args<serde_json::Value>| a.0);
        let refused = Portcullis::builder(config(), &root)
            .frontend_dir(&root)
            .router(untyped)
            .build()
            .err()
            .unwrap()
            .to_string();
        assert!(refused.contains("commands.allow[0].schema"), "{refused}");
    }

    fn isolated(router: Router) -> PortcullisBuilder {
        let config = Config::from_json(
            r#"{"app":{"security":{"pattern":{"use":"isolation","options":{"dir":"isolation-app"}},
                "capabilities":[{"identifier":"c","windows":["*"],"origins":["app://localhost"]}]}}}"#,
        )
        .unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        Portcullis::builder(config, &root)
            .frontend_dir(&root)
            .router(router)
    }

    #[test]
    fn a_routing_table_with_mistakes_does_not_start_and_a_sound_one_does() {
        struct Missing;
        for (router, needle) in [
            (
                Router::new().command("a", || 1).command("a", || 2),
                "registered twice",
            ),
            (
                Router::new().command("a", |_: portcullis_core::State<Missing>| 1),
                "never registered",
            ),
        ] {
            match isolated(router).build() {
                Err(Error::Router(e)) => assert!(e.to_string().contains(needle), "{e}"),
                Err(other) => panic!("another error: {other}"),
                Ok(_) => panic!("a table with mistakes started"),
            }
        }
        assert!(isolated(Router::new().command("a", || 1)).build().is_ok());
    }

    #[test]
    fn the_bridge_gets_the_protocol_and_chunks_that_fit_a_message_as_data() {
        let built = isolated(Router::new()).build().unwrap();
        let script = &built.shared.init_script;
        let (first, rest) = script.split_once('\n').unwrap();
        let json = first
            .strip_prefix("globalThis.__PORTCULLIS_CONFIG__ = ")
            .and_then(|j| j.strip_suffix(';'))
            .unwrap();
        let config: serde_json::Value = serde_json::from_str(json).unwrap();
        assert_eq!(&config["protocol"], crate::protocol::data());
        // Then the bridge as written (and in the profile build, its marks before it).
        assert!(rest.ends_with(BRIDGE_JS) && rest.starts_with(crate::profile::BRIDGE_MARKS_JS));
        // The most data a chunk carries leaves room for either framing, exactly.
        let limit = built.shared.gate.limits().max_message_bytes;
        let most = config["maxChunkBytes"].as_u64().unwrap() as usize;
        assert_eq!(most, max_chunk_data(limit));
        let at = portcullis_core::envelope::ChunkAt {
            stream: 1,
            number: 0,
        };
        let op = portcullis_core::wire::chunk::ChunkOp::Data(vec![7; most]);
        let plaintext = portcullis_core::wire::chunk::chunk_plaintext(&op);
        let sealed = portcullis_core::Sealer::new(
            portcullis_core::aead::default_backend().sealing_key(&[1; 32]),
            portcullis_core::SessionId([2; 16]),
            "main",
        )
        .unwrap()
        .seal_chunk(at, &plaintext)
        .unwrap();
        let clear = portcullis_core::wire::chunk::encode_clear_chunk(at, &op);
        assert!(sealed.len() <= limit && clear.len() <= limit);
        assert_eq!(sealed.len().max(clear.len()), limit);
    }

    #[test]
    fn handlers_run_on_the_apps_runtime_when_it_gives_one() {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let built = isolated(Router::new().command("a", || 1))
            .tokio_handle(runtime.handle().clone())
            .build()
            .unwrap();
        assert_eq!(built.shared.runtime.handle().id(), runtime.handle().id());
        let own = isolated(Router::new())
            .worker_threads(1, 2)
            .build()
            .unwrap();
        assert_ne!(own.shared.runtime.handle().id(), runtime.handle().id());
    }

    #[test]
    fn devtools_are_off_by_default_and_refused_in_release_unless_forced() {
        for debug in [true, false] {
            assert!(!Devtools::Off.enabled(debug).unwrap());
            assert!(Devtools::Forced.enabled(debug).unwrap());
        }
        assert!(Devtools::Debug.enabled(true).unwrap());
        assert!(matches!(
            Devtools::Debug.enabled(false),
            Err(Error::DevtoolsInRelease)
        ));
    }

    struct Files(Vec<&'static str>);
    impl assets::Assets for Files {
        fn get(&self, path: &str) -> Option<std::borrow::Cow<'static, [u8]>> {
            self.0
                .contains(&path)
                .then_some(std::borrow::Cow::Borrowed(b"x".as_slice()))
        }
        fn names(&self) -> Vec<String> {
            self.0.iter().map(|s| s.to_string()).collect()
        }
    }

    fn build(dist: Option<&str>, dev_url: Option<&str>) -> BuildConfig {
        BuildConfig {
            frontend_dist: dist.map(PathBuf::from),
            dev_url: dev_url.map(str::to_owned),
        }
    }

    fn kind(f: &frontend::Frontend) -> &'static str {
        match f {
            frontend::Frontend::Files(assets::Files::Directory(_)) => "directory",
            frontend::Frontend::Files(assets::Files::Embedded(_)) => "embedded",
            frontend::Frontend::DevServer(_) => "dev server",
        }
    }

    fn message(r: Result<frontend::Frontend, Error>) -> String {
        match r {
            Err(Error::Frontend(m)) => m,
            Err(other) => panic!("not a frontend error: {other}"),
            Ok(f) => panic!("chose {}", kind(&f)),
        }
    }

    /// A config directory with `dist/index.html` and `dist/app.js`.
    fn project() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("dist")).unwrap();
        std::fs::write(dir.path().join("dist/index.html"), "x").unwrap();
        std::fs::write(dir.path().join("dist/app.js"), "x").unwrap();
        dir
    }

    fn embedded(files: Vec<&'static str>) -> Option<Arc<dyn assets::Assets>> {
        Some(Arc::new(Files(files)))
    }

    #[test]
    fn a_release_build_serves_embedded_files_and_never_reads_the_disk() {
        let p = project();
        let b = build(Some("dist"), Some("http://127.0.0.1:9"));
        let chosen = choose_frontend(
            Some(&b),
            p.path(),
            None,
            embedded(vec!["index.html"]),
            false,
        );
        assert_eq!(kind(&chosen.unwrap()), "embedded");
        // Twin: nothing embedded, and the files on disk are not a fallback.
        let m = message(choose_frontend(Some(&b), p.path(), None, None, false));
        assert!(
            m.contains("release build reads no frontend from disk"),
            "{m}"
        );
    }

    #[test]
    fn a_debug_build_reads_frontend_dist_or_checks_the_embedded_copy_against_it() {
        let p = project();
        let b = build(Some("dist"), None);
        let chosen = choose_frontend(Some(&b), p.path(), None, None, true).unwrap();
        assert_eq!(kind(&chosen), "directory");
        let same = embedded(vec!["index.html", "app.js"]);
        assert_eq!(
            kind(&choose_frontend(Some(&b), p.path(), None, same, true).unwrap()),
            "embedded"
        );
        // Embedded from another folder (or before the last frontend build): refused.
        let other = embedded(vec!["index.html", "old.js"]);
        let m = message(choose_frontend(Some(&b), p.path(), None, other, true));
        assert!(m.contains("\"app.js\"") && m.contains("\"old.js\""), "{m}");
        // A frontendDist that is not there (not built yet).
        let missing = build(Some("nope"), None);
        let m = message(choose_frontend(Some(&missing), p.path(), None, None, true));
        assert!(m.contains("is not a directory"), "{m}");
    }

    #[test]
    fn a_debug_build_takes_the_dev_server_only_when_it_answers() {
        let p = project();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let b = build(Some("dist"), Some(&url));
        let chosen = choose_frontend(Some(&b), p.path(), None, None, true).unwrap();
        assert_eq!(kind(&chosen), "dev server");
        drop(listener);
        // Nothing listens: a clear refusal, not the files on disk instead.
        let m = message(choose_frontend(Some(&b), p.path(), None, None, true));
        assert!(m.contains("start the dev server first"), "{m}");
    }

    #[test]
    fn no_frontend_at_all_is_refused_and_an_explicit_directory_wins() {
        let p = project();
        let m = message(choose_frontend(None, p.path(), None, None, true));
        assert!(m.starts_with("no frontend"), "{m}");
        let explicit = Some(p.path().join("dist"));
        let b = build(None, Some("http://127.0.0.1:9"));
        let chosen = choose_frontend(Some(&b), p.path(), explicit, None, false).unwrap();
        assert_eq!(kind(&chosen), "directory");
    }

    #[test]
    fn an_embedded_frontend_without_index_html_is_refused_in_every_build() {
        let p = project();
        let b = build(Some("dist"), None);
        for debug in [false, true] {
            let m = message(choose_frontend(
                Some(&b),
                p.path(),
                None,
                embedded(vec![]),
                debug,
            ));
            assert!(m.contains("has no index.html"), "{m}");
        }
    }

    #[test]
    fn the_embedded_check_runs_with_a_dev_server_too() {
        let p = project();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let b = build(Some("dist"), Some(&url));
        let other = embedded(vec!["index.html", "old.js"]);
        let m = message(choose_frontend(Some(&b), p.path(), None, other, true));
        assert!(m.contains("\"old.js\""), "{m}");
        // Twin: the right files, and the dev server serves.
        let same = embedded(vec!["index.html", "app.js"]);
        let chosen = choose_frontend(Some(&b), p.path(), None, same, true).unwrap();
        assert_eq!(kind(&chosen), "dev server");
    }

    #[test]
    fn a_release_build_with_only_a_dev_server_says_the_dev_server_is_for_debug() {
        let p = project();
        let b = build(None, Some("http://127.0.0.1:9"));
        let m = message(choose_frontend(Some(&b), p.path(), None, None, false));
        assert!(m.contains("does not use build.devUrl"), "{m}");
    }

    #[test]
    fn a_release_build_reads_the_isolation_app_from_disk_only_when_told_to() {
        let p = project();
        let on_disk = p.path().join("dist");
        let isolation = |explicit: Option<PathBuf>, files, debug| {
            choose_isolation(&on_disk, explicit, files, debug)
        };
        match isolation(None, None, false) {
            Err(Error::Isolation(m)) => assert!(m.contains("embedded_isolation()"), "{m}"),
            other => panic!("{other:?}"),
        }
        // Twins: embedded, named explicitly, or a debug build reading the config's dir.
        assert!(matches!(
            isolation(None, embedded(vec!["index.html"]), false),
            Ok(assets::Files::Embedded(_))
        ));
        assert!(matches!(
            isolation(Some(on_disk.clone()), None, false),
            Ok(assets::Files::Directory(_))
        ));
        assert!(matches!(
            isolation(None, None, true),
            Ok(assets::Files::Directory(_))
        ));
        // In debug, the embedded copy must be the config's dir.
        assert!(matches!(
            isolation(None, embedded(vec!["hook.js"]), true),
            Err(Error::Isolation(_))
        ));
    }
}
