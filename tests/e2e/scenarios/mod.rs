//! The scenarios, one module per page module: `legit.rs` beside `web/scenarios/legit.js`
//! (the `kinds_*` scenarios share `kinds.rs`, as their pages share `kinds-checks.js`;
//! `hookfail` has a page of its own, `web/hookfail.html`). Each module declares its
//! scenarios and registers the routes its page calls, so the handlers a scenario runs
//! are beside it. Routes several pages call are in [`app`] (and the stream collector in
//! [`streams`], the vectors fixture in [`vectors`]); each scenario names the ones it
//! takes.
//!
//! Every run's router also has the harness's routes and the sentinels ([`harness`]):
//! the canaries and the probe are registered whatever the scenario, so a message that
//! gets past a hook or a frame runs them, and the run fails, instead of being refused as
//! an unknown command.

use std::sync::{Arc, Mutex};

use portcullis::Router;
use tao::event_loop::EventLoopProxy;

use crate::{Run, Scenario, UserEvent};

pub mod app;
mod attacks;
pub mod bodies;
mod canonical;
mod channels;
mod codes;
mod grants;
mod handlers;
mod harness;
mod helpers;
mod hookfail;
mod hostile;
mod kinds;
mod legit;
mod load;
mod midflight;
mod navigate;
mod recreate;
mod reload;
mod removed;
mod restore;
mod streams;
mod tauri;
mod vectors;
mod windows;

/// What a scenario's routes are given.
pub struct Cx {
    /// The page module the run loads (`harness.scenario` tells the page).
    pub name: &'static str,
    /// What the run observes: handlers count and record into it.
    pub run: Arc<Run>,
    /// The event loop, for `harness.done`.
    pub proxy: Arc<Mutex<EventLoopProxy<UserEvent>>>,
    /// The app's emitter, for routes that emit to the page.
    pub emitter: portcullis::Emitter,
}

/// Adds routes to a run's router.
pub type Routes = fn(Router, &Cx) -> Router;

/// Every scenario, in the order the suite runs them.
pub const ALL: &[Scenario] = &[
    legit::LEGIT,
    codes::CODES,
    handlers::HANDLERS,
    attacks::ATTACKS,
    recreate::RECREATE,
    vectors::VECTORS,
    navigate::NAVIGATE,
    windows::WINDOWS,
    reload::RELOAD,
    hostile::HOSTILE,
    midflight::MIDFLIGHT,
    load::LOAD,
    helpers::HELPERS,
    tauri::TAURI,
    canonical::CANONICAL,
    restore::RESTORE_GTK,
    hookfail::HOOKFAIL,
    removed::REMOVED,
    restore::RESTORE,
    restore::RESTORE_CACHED,
    channels::CHANNELS,
    streams::STREAMS,
    bodies::BODIES,
    grants::GRANTS,
    kinds::LEGACY,
    kinds::DECLARED,
    kinds::HELPERS_STREAMS,
    kinds::TAURI_STREAMS,
    kinds::MALFORMED,
    legit::EMBEDDED,
    legit::DEV_SERVER,
    attacks::DEV_SERVER,
];

/// Scenarios that show a defect not fixed yet, kept out of the suite (which must pass)
/// and run only when named exactly (`cargo test --test e2e -- <name>`). None today: the
/// last (`bodies_blob`, a `Blob` request body crashing the app) was fixed by not reading
/// request bodies at all (see `bodies`).
pub const KNOWN_FAILING: &[Scenario] = &[];

/// The router of a run of `scenario`: the harness's routes, the sentinels, then the
/// scenario's own.
pub fn router(scenario: &Scenario, cx: &Cx) -> Router {
    let router = harness::sentinels(harness::routes(Router::new(), cx), cx);
    scenario
        .routes
        .iter()
        .fold(router, |router, add| add(router, cx))
}
