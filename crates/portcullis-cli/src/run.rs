//! `portcullis run`: a development runner. Serves a frontend directory in a real window
//! with the config's isolation and allowlist, prints every call's fate as it happens,
//! and reloads the page when a file of the frontend or the isolation app changes.
//!
//! It has no app handlers: each allowed command answers with what it received, so you
//! can see exactly what passes your hook and your capabilities before writing Rust.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anstyle::{AnsiColor, Style};
use notify_debouncer_mini::notify::{RecommendedWatcher, RecursiveMode};
use notify_debouncer_mini::{DebounceEventResult, new_debouncer};
use portcullis_core::config::Pattern;
use portcullis_core::router::{Payload, RESERVED_PREFIX};
use portcullis_core::{Body, Caller, Config, Router};
use portcullis_wry::Portcullis;

use crate::app::{load, scope_vars, send};
use serde_json::{Value, json};
use tao::event::{Event, WindowEvent};
use tao::event_loop::{ControlFlow, EventLoopBuilder, EventLoopProxy};
use tao::platform::run_return::EventLoopExtRunReturn;
use tao::window::WindowBuilder;

/// What the runner is asked to do.
pub struct Options {
    /// The config file.
    pub config: PathBuf,
    /// The frontend directory (with `index.html`); `None` for the config's
    /// `build.frontendDist`.
    pub frontend: Option<PathBuf>,
    /// `$NAME` directories for path scopes.
    pub vars: Vec<(String, PathBuf)>,
    /// Stop after this long (for scripts and tests).
    pub exit_after: Option<Duration>,
    /// The app's command manifest, for rules that take their handler's schema.
    pub manifest: Option<PathBuf>,
}

enum UserEvent {
    Pump,
    Reload(PathBuf),
    Stop,
}

/// Runs until the window closes (or `exit_after`). Returns the process exit code.
pub fn run(options: Options) -> Result<i32, Box<dyn std::error::Error>> {
    if let Some(status) = portcullis_xvfb::rerun_under_xvfb_if_needed()? {
        return Ok(status.code().unwrap_or(1));
    }
    let (mut config, base) = load(&options.config)?;
    // Rules that take their handler's schema: there are no handlers here, so the
    // app's manifest gives them.
    if let Some(path) = &options.manifest {
        let manifest = crate::handlers::load(path).map_err(|f| f.message)?;
        config.take_handler_schemas(&manifest)?;
    }
    let frontend = match (
        &options.frontend,
        config.build.as_ref().and_then(|b| b.frontend_dist.as_ref()),
    ) {
        (Some(dir), _) => dir.clone(),
        (None, Some(dist)) => base.join(dist),
        (None, None) => {
            return Err(
                "no frontend: pass --frontend DIR, or name build.frontendDist in the config".into(),
            );
        }
    };
    let isolation_dir = match &config.app.security.pattern {
        Pattern::Isolation { options } => Some(base.join(&options.dir)),
        Pattern::Brownfield => None,
    };
    let vars = scope_vars(&options.vars);

    let mut event_loop = EventLoopBuilder::<UserEvent>::with_user_event().build();
    let proxy = Arc::new(Mutex::new(event_loop.create_proxy()));
    let wake = proxy.clone();
    // The isolation app is read from disk in every build: the CLI is a release binary.
    let mut builder = Portcullis::builder(config.clone(), &base).frontend_dir(&frontend);
    if let Some(dir) = &isolation_dir {
        builder = builder.isolation_dir(dir);
    }
    let portcullis = builder
        .router(echo_router(&config))
        .scope_vars(vars)
        .audit_sink(|e: &portcullis_core::AuditEvent<'_>| {
            let red = Style::new().fg_color(Some(AnsiColor::Red.into())).bold();
            let name = e.name.unwrap_or("(sealed)");
            anstream::println!(
                "{red}blocked{red:#} {name} {} ({}): {}",
                e.code,
                e.webview,
                e.message
            );
        })
        .waker(move || send(&wake, UserEvent::Pump))
        .build()?;
    let window = WindowBuilder::new()
        .with_title(format!("portcullis run: {}", frontend.display()))
        .build(&event_loop)?;
    let webview = portcullis.build_webview("main", wry::WebViewBuilder::new(), &window)?;
    portcullis_wry::inspect::forward_console_to_stdout(&webview);

    let mut watched = vec![frontend.clone()];
    watched.extend(isolation_dir);
    // Kept alive for the whole run: dropping it stops the watching.
    let _watcher = watch(&watched, proxy.clone())?;
    println!(
        "serving {} in window \"main\"; edit files to reload, close the window to stop",
        frontend.display()
    );

    if let Some(after) = options.exit_after {
        let stop = proxy.clone();
        std::thread::spawn(move || {
            std::thread::sleep(after);
            send(&stop, UserEvent::Stop);
        });
    }
    event_loop.run_return(|event, _, control_flow| {
        *control_flow = ControlFlow::Wait;
        match event {
            Event::UserEvent(UserEvent::Stop) => *control_flow = ControlFlow::Exit,
            Event::UserEvent(UserEvent::Pump) => portcullis.pump(),
            Event::UserEvent(UserEvent::Reload(path)) => {
                println!("changed: {}; reloading", path.display());
                let _ = webview.reload();
            }
            Event::WindowEvent {
                event: WindowEvent::CloseRequested,
                ..
            } => *control_flow = ControlFlow::Exit,
            _ => {}
        }
    });
    portcullis.close_webview("main");
    Ok(0)
}

/// Every allowed command echoes its arguments; every allowed event is printed. A name
/// several capabilities allow gets one handler (the router refuses a second).
fn echo_router(config: &Config) -> Router {
    let mut commands = std::collections::BTreeSet::new();
    let mut events = std::collections::BTreeSet::new();
    for cap in &config.app.security.capabilities {
        commands.extend(cap.commands.allow.iter().map(|r| r.name.clone()));
        events.extend(cap.events.allow.iter().map(|r| r.name.clone()));
    }
    let mut router = Router::new();
    let green = Style::new().fg_color(Some(AnsiColor::Green.into())).bold();
    // `portcullis:` names are answered by Portcullis itself (`portcullis:grants`).
    for name in commands
        .into_iter()
        .filter(|n| !n.starts_with(RESERVED_PREFIX))
    {
        let shown = name.clone();
        // JSON arguments come back in an object naming the command; bytes come back as
        // they are. Either way the call is printed.
        router = router.command(&name, move |caller: Caller, body: Body| {
            let webview = caller.webview;
            match body {
                Body::Json(args) => {
                    // Printed compact, as serde_json writes it: the page's own whitespace
                    // (a carriage return, say) never reaches the terminal.
                    let args = args.value();
                    anstream::println!("{green}allowed{green:#} {shown} ({webview}): {args}");
                    Payload::Json(json!({ "command": shown, "args": args }).to_string())
                }
                Body::Bytes(bytes) => {
                    anstream::println!(
                        "{green}allowed{green:#} {shown} ({webview}): {} bytes",
                        bytes.as_slice().len()
                    );
                    Payload::Bytes(bytes.into_vec())
                }
            }
        });
    }
    for name in events {
        let shown = name.clone();
        router = router.on_event(&name, move |caller: &Caller, payload: Value| {
            anstream::println!(
                "{green}event{green:#} {shown} ({}): {payload}",
                caller.webview
            );
        });
    }
    router
}

/// Watches the frontend and isolation directories (the platform's file notifications,
/// through `notify`, debounced so one save is one reload) and asks for a reload when
/// anything below them changes.
fn watch(
    dirs: &[PathBuf],
    proxy: Arc<Mutex<EventLoopProxy<UserEvent>>>,
) -> Result<notify_debouncer_mini::Debouncer<RecommendedWatcher>, Box<dyn std::error::Error>> {
    let mut debouncer = new_debouncer(
        Duration::from_millis(150),
        move |result: DebounceEventResult| match result {
            Ok(events) => {
                if let Some(first) = events.first() {
                    send(&proxy, UserEvent::Reload(first.path.clone()));
                }
            }
            Err(e) => eprintln!("portcullis run: watching files: {e}"),
        },
    )?;
    for dir in dirs {
        debouncer.watcher().watch(dir, RecursiveMode::Recursive)?;
    }
    Ok(debouncer)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A command two capabilities allow (as in the demo's config) gets one handler.
    #[test]
    fn a_name_several_capabilities_allow_is_registered_once() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/configs/valid/demo.json"
        );
        let config = Config::from_json(&std::fs::read_to_string(path).unwrap()).unwrap();
        let allowing = |name: &str| {
            config
                .app
                .security
                .capabilities
                .iter()
                .filter(|c| c.commands.allow.iter().any(|r| r.name == name))
                .count()
        };
        assert!(
            allowing("notes.list") >= 2,
            "the fixture must allow it twice"
        );
        assert!(echo_router(&config).has_command("notes.list"));
    }
}
