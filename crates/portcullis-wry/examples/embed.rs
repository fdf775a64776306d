//! The smallest complete app with Portcullis: one window, one command, one event, a hook
//! and a capability. `docs/EMBEDDING.md` walks through it. Run it with
//! `cargo run -p portcullis-wry --example embed` (it needs a display).

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use portcullis_core::emit::EmitTarget;
use portcullis_core::{AppError, Args, Emitter, Router, State};
use portcullis_wry::Portcullis;
use serde::{Deserialize, Serialize};
use tao::event::{Event, WindowEvent};
use tao::event_loop::{ControlFlow, EventLoopBuilder};
use tao::window::WindowBuilder;

/// The frontend's files: read from the folder in debug builds, compiled into the binary
/// in release builds (rust-embed), the folder the config names as `build.frontendDist`.
#[derive(rust_embed::Embed)]
#[folder = "examples/embed/frontend"]
struct Frontend;

/// Arguments of `greet`, deserialized for the handler (the config's schema has already
/// checked them).
#[derive(Deserialize)]
struct Greet {
    name: String,
}

/// Its result, serialized for the handler.
#[derive(Serialize)]
struct Greeting {
    text: String,
    /// How many greetings this run has given.
    count: u64,
}

/// State every handler that asks for `State<Greeter>` shares.
#[derive(Default)]
struct Greeter {
    greeted: AtomicU64,
}

/// What `greet` can fail with: the page gets `E_HANDLER` with `appCode` and `data`.
#[derive(Debug, thiserror::Error)]
enum GreetError {
    #[error("{0:?} is a name nobody should be greeted by")]
    Refused(String),
}

impl AppError for GreetError {
    fn app_code(&self) -> Option<String> {
        Some("REFUSED".into())
    }

    fn data(&self) -> Option<serde_json::Value> {
        let GreetError::Refused(name) = self;
        Some(serde_json::json!({ "name": name }))
    }
}

/// The handler: its arguments are extractors, in any order; `?` works on its own error.
fn greet(
    greeter: State<Greeter>,
    emitter: State<Emitter>,
    Args(args): Args<Greet>,
) -> Result<Greeting, GreetError> {
    if args.name.eq_ignore_ascii_case("nobody") {
        return Err(GreetError::Refused(args.name));
    }
    let count = greeter.greeted.fetch_add(1, Ordering::Relaxed) + 1;
    let _ = emitter.emit(EmitTarget::All, "greeted", &args.name);
    Ok(Greeting {
        text: format!("Hello, {}!", args.name),
        count,
    })
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/embed");
    let event_loop = EventLoopBuilder::<()>::with_user_event().build();
    let proxy = event_loop.create_proxy();

    // 1. The config (isolation on, one capability, `build.frontendDist`) and the
    //    frontend, embedded in release builds.
    let builder =
        Portcullis::from_config_file(&dir.join("portcullis.json"))?.embedded_frontend::<Frontend>();
    // 2. The routing table: the state handlers share, and name → handler.
    let router = Router::new()
        .state(Greeter::default())
        .state(builder.emitter())
        .command("greet", greet);
    // 3. Build; the waker lets handlers on any thread emit events.
    let portcullis = builder
        .router(router)
        .waker(move || {
            let _ = proxy.send_event(());
        })
        .build()?;

    // 4. One call puts the webview behind the gate.
    let window = WindowBuilder::new()
        .with_title("Portcullis")
        .build(&event_loop)?;
    let _webview = portcullis.build_webview("main", wry::WebViewBuilder::new(), &window)?;

    event_loop.run(move |event, _, control_flow| {
        *control_flow = ControlFlow::Wait;
        match event {
            // 5. Deliver queued core-to-frontend events on this thread.
            Event::UserEvent(()) => portcullis.pump(),
            Event::WindowEvent {
                event: WindowEvent::CloseRequested,
                ..
            } => {
                portcullis.close_webview("main");
                *control_flow = ControlFlow::Exit;
            }
            _ => {}
        }
    });
}
