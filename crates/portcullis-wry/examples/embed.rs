//! The smallest complete app with Portcullis: one window, one command, one event, a hook
//! and a capability. `docs/EMBEDDING.md` walks through it. Run it with
//! `cargo run -p portcullis-wry --example embed` (it needs a display).

use std::path::Path;

use portcullis_core::emit::EmitTarget;
use portcullis_core::{HandlerError, Router};
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
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/embed");
    let event_loop = EventLoopBuilder::<()>::with_user_event().build();
    let proxy = event_loop.create_proxy();

    // 1. The config (isolation on, one capability, `build.frontendDist`) and the
    //    frontend, embedded in release builds.
    let builder =
        Portcullis::from_config_file(&dir.join("portcullis.json"))?.embedded_frontend::<Frontend>();
    // 2. The routing table: name → typed handler.
    let emitter = builder.emitter();
    let router = Router::new().command("greet", move |args: Greet| {
        let _ = emitter.emit(EmitTarget::All, "greeted", &args.name);
        Ok::<_, HandlerError>(Greeting {
            text: format!("Hello, {}!", args.name),
        })
    });
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
