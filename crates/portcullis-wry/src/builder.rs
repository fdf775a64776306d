//! Setting Portcullis up: [`Portcullis::builder`] (or [`Portcullis::from_config_file`])
//! collects the config, the app's handlers and the embedder's hooks, and
//! [`PortcullisBuilder::build`] compiles them into the [`Shared`] state, refusing to start
//! when isolation is on and the app's hook is missing or cannot run.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_executor::ThreadPool;
use portcullis_core::config::Pattern;
use portcullis_core::gate::AuditSink;
use portcullis_core::{Config, Emitter, Gate, Router, ScopeVars};

use crate::{
    APP_ORIGIN, BRIDGE_JS, Error, IPC_ORIGIN, ISOLATION_ORIGIN, Portcullis, Shared, csp, events,
    hook, isolation, page, transport,
};

impl Portcullis {
    /// Starts from a parsed config. `config_dir` is what the isolation `dir` is relative
    /// to; `frontend_dir` holds the app's `index.html`.
    pub fn builder(config: Config, config_dir: &Path, frontend_dir: &Path) -> PortcullisBuilder {
        let waker = Arc::new(std::sync::OnceLock::new());
        PortcullisBuilder {
            config,
            config_dir: config_dir.to_path_buf(),
            frontend_dir: frontend_dir.to_path_buf(),
            router: Router::new(),
            vars: ScopeVars::new(),
            audit: None,
            events: Arc::new(events::EventQueue::new()),
            waker,
            default_timeout_ms: 30_000,
            observer: None,
            devtools: Devtools::Off,
        }
    }

    /// Reads the config file at `path` (the isolation `dir` is relative to its folder).
    pub fn from_config_file(path: &Path, frontend_dir: &Path) -> Result<PortcullisBuilder, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let config = Config::from_json(&text)?;
        let dir = path.parent().unwrap_or(Path::new("."));
        Ok(Portcullis::builder(config, dir, frontend_dir))
    }
}

/// Collects what Portcullis needs before it can attach to webviews.
pub struct PortcullisBuilder {
    config: Config,
    config_dir: PathBuf,
    frontend_dir: PathBuf,
    router: Router,
    vars: ScopeVars,
    audit: Option<AuditSink>,
    events: Arc<events::EventQueue>,
    waker: Arc<std::sync::OnceLock<Box<dyn Fn() + Send + Sync>>>,
    default_timeout_ms: u32,
    observer: Option<transport::Observer>,
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

    /// Receives every refusal as an audit event (as well as `tracing`).
    pub fn audit_sink(mut self, sink: AuditSink) -> Self {
        self.audit = Some(sink);
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

    /// How long `invoke` waits for a reply when the caller gives no `timeoutMs`.
    pub fn default_timeout_ms(mut self, ms: u32) -> Self {
        self.default_timeout_ms = ms.max(1);
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
    pub fn build(self) -> Result<Portcullis, Error> {
        let devtools = self.devtools.enabled(cfg!(debug_assertions))?;
        let mut gate = Gate::new(&self.config, &self.vars)?;
        if let Some(sink) = self.audit {
            gate = gate.with_audit_sink(sink);
        }
        // Fail closed: with isolation on, no webview starts without the app's hook.
        let (isolation_dir, hook) = match &self.config.app.security.pattern {
            Pattern::Isolation { options } => {
                let dir = self.config_dir.join(&options.dir);
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
        let isolation = isolation_dir.is_some();
        let base_csp = self
            .config
            .app
            .security
            .csp
            .as_deref()
            .unwrap_or(csp::DEFAULT_APP);
        let app_csp = if isolation {
            csp::allow(base_csp, "frame-src", ISOLATION_ORIGIN)
        } else {
            csp::allow(base_csp, "connect-src", IPC_ORIGIN)
        };
        let bridge_config = serde_json::json!({
            "isolation": isolation,
            "isolationUrl": format!("{ISOLATION_ORIGIN}/"),
            "ipcUrl": format!("{IPC_ORIGIN}/"),
            "sealerUrl": format!("{APP_ORIGIN}/__portcullis/sealer.js"),
            "defaultTimeoutMs": self.default_timeout_ms,
        });
        let init_script =
            format!("globalThis.__PORTCULLIS_CONFIG__ = {bridge_config};\n{BRIDGE_JS}");
        let waker = self.waker.clone();
        let events = self.events.clone();
        events.set_waker(Box::new(move || {
            if let Some(w) = waker.get() {
                w();
            }
        }));
        let pages = Arc::new(page::Pages::default());
        events.set_pages(pages.clone());
        let pool = ThreadPool::builder()
            .pool_size(2)
            .name_prefix("portcullis-handler-")
            .create()
            .map_err(Error::Pool)?;
        Ok(Portcullis::new(Shared {
            gate,
            router: self.router,
            frontend_dir: self.frontend_dir,
            isolation_dir,
            hook,
            app_csp,
            isolation_csp: csp::isolation(
                ISOLATION_ORIGIN,
                IPC_ORIGIN,
                &isolation::inline_script_hash(),
            ),
            pages,
            pool,
            events,
            init_script,
            observer: self.observer,
            devtools,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
