//! Why the app's change of the grants was refused: each refusal is a mistake in the
//! app's code (a name the config does not have, a window the capability does not
//! cover, a path that cannot be added), never the page's, and a refused change changes
//! nothing.

/// Why a grant change was refused. Each is a mistake in the app's code, not the page's.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum GrantError {
    /// No capability has this identifier.
    #[error("no capability is named {0:?}")]
    UnknownCapability(String),
    /// The capability applies without a grant: granting it would change nothing.
    #[error(
        "capability {0:?} is not marked \"runtimeGrant\": true, so it cannot be granted or revoked"
    )]
    NotRuntime(String),
    /// The window is not open: it closed (or was never built) in an embedder that
    /// reports its windows (`portcullis-wry` does). A grant for it would wait for the
    /// next window with that label, whose user never signed in.
    #[error("window {0:?} is not open: grants and paths are for open windows only")]
    WindowNotOpen(String),
    /// The capability's `windows` do not match this webview label.
    #[error(
        "capability {capability:?} does not cover window {webview:?} (its \"windows\" do not match the label)"
    )]
    WindowNotCovered {
        /// The capability.
        capability: String,
        /// The label.
        webview: String,
    },
    /// The capability has no scope of this name.
    #[error("capability {capability:?} has no scope named {scope:?}")]
    UnknownScope {
        /// The capability.
        capability: String,
        /// The scope name asked for.
        scope: String,
    },
    /// The path cannot be added (or forgotten): relative, `..`, not UTF-8 (as given or
    /// resolved), a dangling symlink, or inside one of the scope's deny globs.
    #[error("path cannot be added to scope {scope:?}: {reason}")]
    BadPath {
        /// The scope.
        scope: String,
        /// Why.
        reason: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_refusal_names_what_the_app_got_wrong() {
        let cases = [
            (GrantError::UnknownCapability("exprt".into()), "\"exprt\""),
            (
                GrantError::NotRuntime("base".into()),
                "\"runtimeGrant\": true",
            ),
            (
                GrantError::WindowNotOpen("main".into()),
                "window \"main\" is not open",
            ),
            (
                GrantError::WindowNotCovered {
                    capability: "export".into(),
                    webview: "other".into(),
                },
                "does not cover window \"other\"",
            ),
            (
                GrantError::UnknownScope {
                    capability: "export".into(),
                    scope: "fles".into(),
                },
                "no scope named \"fles\"",
            ),
            (
                GrantError::BadPath {
                    scope: "files".into(),
                    reason: "it goes through a dangling symlink".into(),
                },
                "scope \"files\": it goes through a dangling symlink",
            ),
        ];
        for (e, says) in cases {
            assert!(e.to_string().contains(says), "{e}");
        }
    }
}
