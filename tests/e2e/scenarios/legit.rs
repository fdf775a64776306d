//! `legit` (`web/scenarios/legit.js`): the legitimate paths, from a page served from the
//! frontend directory, from embedded assets and from a dev server.

use portcullis::emit::EmitTarget;
use portcullis::{Args, Caller, HandlerError, Router};
use serde_json::Value;

use super::{Cx, app};
use crate::{DEFAULTS, Scenario, Source};

pub const LEGIT: Scenario = Scenario {
    name: "legit",
    min_checks: 11,
    routes: &[app::echo, app::slow, app::ping, routes],
    ..DEFAULTS
};

// The legitimate paths again, with the pages from the other sources.
pub const EMBEDDED: Scenario = Scenario {
    name: "legit_embedded",
    module: Some("legit"),
    frontend: Source::Embedded,
    ..LEGIT
};

pub const DEV_SERVER: Scenario = Scenario {
    name: "legit_dev_server",
    module: Some("legit"),
    frontend: Source::DevServer,
    ..LEGIT
};

/// `emit.back`: emits `pong` with the arguments to the calling webview.
fn routes(router: Router, cx: &Cx) -> Router {
    let emitter = cx.emitter.clone();
    router.command(
        "emit.back",
        move |caller: Caller, Args(args): Args<Value>| {
            emitter
                .emit(EmitTarget::Webview(&caller.webview), "pong", &args)
                .map_err(HandlerError::from)
        },
    )
}
