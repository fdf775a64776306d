//! A model of the Portcullis IPC protocol, explored exhaustively with
//! [`stateright`] against an attacker; `docs/MODEL.md` says what is checked, at which
//! bounds, and what the model leaves out.
//!
//! The actors are the page loads of two webviews that reload, their isolation frames
//! sealing calls, cancels, stream opens and chunks with their sequence numbers, an
//! attacker that sees every sealed message and may drop, delay, duplicate, replay and
//! move it to the other webview, splice one message's header onto another's body and
//! seal under a key it made up, the app revoking and granting a run-time capability, and
//! the embedder dispatching and finishing calls. The core is the real `portcullis-core`,
//! rebuilt from each state's trace ([`core`]).
//!
//! Read in order: [`world`] (what a state holds), [`core`] (the real core taking a
//! step), [`protocol`] (the bounds, a state, the model), [`model`] (which actions are
//! enabled and what each does), [`properties`].

#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod core;
pub mod model;
pub mod properties;
pub mod protocol;
pub mod world;

pub use protocol::{Bounds, Protocol, State};
