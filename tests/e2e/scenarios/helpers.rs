//! `helpers` (`web/scenarios/helpers.js`): the hook helpers (`isolation-app/helpers.js`)
//! composed in `tests/e2e/helpers/isolation/hook.js`, in the real isolation frame.

use super::{app, streams, vectors};
use crate::{DEFAULTS, Scenario};

pub const HELPERS: Scenario = Scenario {
    name: "helpers",
    config: "helpers/portcullis.json",
    min_checks: 15,
    routes: &[
        app::echo,
        app::slow,
        app::ping,
        streams::collecting,
        vectors::fixture,
    ],
    ..DEFAULTS
};
