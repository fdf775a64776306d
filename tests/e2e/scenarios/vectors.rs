//! `vectors` (`web/scenarios/vectors.js`): the JavaScript sealer against
//! `fixtures/vectors/wire-v1.json`, inside the real engine.

use portcullis::{HandlerError, Router};
use serde_json::Value;

use super::Cx;
use crate::{DEFAULTS, Scenario, root};

pub const VECTORS: Scenario = Scenario {
    name: "vectors",
    min_checks: 54,
    routes: &[fixture],
    ..DEFAULTS
};

/// `harness.fixture`: the wire vectors, for the page to seal against (the helpers
/// scenario's hook names it too).
pub fn fixture(router: Router, _: &Cx) -> Router {
    router.command("harness.fixture", || {
        let text = std::fs::read_to_string(root().join("fixtures/vectors/wire-v1.json"))?;
        Ok::<Value, HandlerError>(serde_json::from_str(&text)?)
    })
}
