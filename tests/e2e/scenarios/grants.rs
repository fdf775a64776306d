//! `grants` (`web/scenarios/grants.js`): run-time grants in a real webview: a capability
//! granted by a sign-in and revoked by a sign-out, a picked file added to the window's
//! scope and forgotten, the page reading its own grants, the grant kept across a reload.

use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;

use portcullis::{Args, Caller, Grants, HandlerError, Reach, Router, Scoped};
use serde_json::Value;

use super::Cx;
use crate::{DEFAULTS, Scenario, handlers_dir};

pub const GRANTS: Scenario = Scenario {
    name: "grants",
    reloads: 1,
    audit_codes: &["E_NOT_GRANTED", "E_GRANT_REVOKED", "E_OUT_OF_SCOPE"],
    audit_names: &[
        ("E_NOT_GRANTED", "grants.export"),
        ("E_GRANT_REVOKED", "grants.export"),
        ("E_OUT_OF_SCOPE", "files.open"),
    ],
    min_checks: 16,
    grants: Some((
        2,
        &[
            "granted export",
            "path-allowed e2e",
            "path-allowed e2e",
            "path-forgotten e2e",
            "revoked export",
        ],
    )),
    routes: &[routes],
    ..DEFAULTS
};

/// Run-time grants as an app uses them: a sign-in grants the export capability to the
/// caller's window, a native file dialog (simulated: it creates the file) adds the picked
/// file to that window's scope; `grants.export` counts its runs (only while granted).
fn routes(router: Router, cx: &Cx) -> Router {
    let run = &cx.run;
    router
        .command(
            "session.sign_in",
            |caller: Caller, grants: Grants| -> Result<(), HandlerError> {
                Ok(grants.grant(&caller.webview, "export")?)
            },
        )
        .command(
            "session.sign_out",
            |caller: Caller, grants: Grants| -> Result<bool, HandlerError> {
                Ok(grants.revoke(&caller.webview, "export")?)
            },
        )
        .command(
            "files.pick",
            |caller: Caller,
             grants: Grants,
             Args(name): Args<String>|
             -> Result<PathBuf, HandlerError> {
                let picked = handlers_dir()
                    .canonicalize()?
                    .join(format!("picked-{name}"));
                std::fs::write(&picked, format!("picked {name}"))?;
                Ok(grants.allow_path(&caller.webview, "e2e", "picked", &picked, Reach::File)?)
            },
        )
        .command(
            "files.forget",
            |caller: Caller,
             grants: Grants,
             Args(path): Args<PathBuf>|
             -> Result<bool, HandlerError> {
                Ok(grants.forget_path(&caller.webview, "e2e", "picked", &path)?)
            },
        )
        .command(
            "files.open",
            |_: Args<Value>, scoped: Scoped| -> Result<String, HandlerError> {
                Ok(std::fs::read_to_string(
                    scoped.get("/path").unwrap_or(Path::new("")),
                )?)
            },
        )
        .command("grants.export", {
            let run = run.clone();
            move || run.exported.fetch_add(1, Ordering::SeqCst) + 1
        })
}
