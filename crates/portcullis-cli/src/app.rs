//! What `audit` and `run` share: reading the app's config (and the folder it is relative
//! to), the scope variables given on the command line, and waking the event loop.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use portcullis_core::{Config, ScopeVars};
use tao::event_loop::EventLoopProxy;

/// The app's config and the folder its isolation `dir` is relative to.
pub fn load(path: &Path) -> Result<(Config, PathBuf), Box<dyn std::error::Error>> {
    let config = Config::from_json(&std::fs::read_to_string(path)?)?;
    let base = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    Ok((config, base))
}

/// `--var NAME=DIR` pairs as the app would pass them.
pub fn scope_vars(vars: &[(String, PathBuf)]) -> ScopeVars {
    vars.iter().fold(ScopeVars::new(), |acc, (name, dir)| {
        acc.with(name.clone(), dir.clone())
    })
}

/// Sends a user event to the loop from any thread.
pub fn send<T: 'static>(proxy: &Mutex<EventLoopProxy<T>>, event: T) {
    if let Ok(p) = proxy.lock() {
        let _ = p.send_event(event);
    }
}
