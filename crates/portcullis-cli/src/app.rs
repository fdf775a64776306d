//! What the commands share: reading the app's config (and the folder it is relative to),
//! the scope variables given on the command line, and waking the event loop.

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

/// One `--var NAME=DIR`, as clap's value parser: a value without `=`, or with nothing
/// on either side of it, is refused with a message saying what was expected.
pub fn parse_var(value: &str) -> Result<(String, PathBuf), String> {
    match value.split_once('=') {
        Some((name, dir)) if !name.is_empty() && !dir.is_empty() => {
            Ok((name.to_owned(), PathBuf::from(dir)))
        }
        _ => Err(format!(
            "expected NAME=DIR (a scope variable's name and its directory), got {value:?}"
        )),
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_var_is_a_name_and_a_directory() {
        assert_eq!(
            parse_var("EXPORTS=/tmp/a=b"),
            Ok(("EXPORTS".to_owned(), PathBuf::from("/tmp/a=b")))
        );
    }

    #[test]
    fn a_var_without_both_halves_is_refused_saying_what_was_expected() {
        for bad in ["EXPORTS", "=/tmp", "EXPORTS=", "="] {
            let message = parse_var(bad).unwrap_err();
            assert!(message.starts_with("expected NAME=DIR"), "{bad}: {message}");
            assert!(message.contains(&format!("{bad:?}")), "{bad}: {message}");
        }
    }

    #[test]
    fn every_command_refuses_a_bad_var_before_it_runs() {
        use clap::Parser;
        for args in [
            &["check", "c.json"][..],
            &["audit", "--config", "c.json"],
            &["run", "c.json"],
        ] {
            let argv = [&["portcullis"][..], args, &["--var", "EXPORTS"]].concat();
            let error = match crate::Cli::try_parse_from(&argv) {
                Ok(_) => panic!("{argv:?}: a --var without = was accepted"),
                Err(e) => e,
            };
            assert_eq!(error.kind(), clap::error::ErrorKind::ValueValidation);
            let text = error.to_string();
            assert!(
                text.contains("--var") && text.contains("expected NAME=DIR"),
                "{text}"
            );
        }
    }

    #[test]
    fn every_var_given_reaches_the_command_in_order() {
        use clap::Parser;
        let argv = [
            "portcullis",
            "check",
            "c.json",
            "--var",
            "A=/a",
            "--var",
            "B=/b",
        ];
        let Ok(crate::Cli {
            command: crate::Command::Check { scope, .. },
        }) = crate::Cli::try_parse_from(argv)
        else {
            panic!("{argv:?} did not parse as check");
        };
        assert_eq!(
            scope.vars,
            [
                ("A".to_owned(), PathBuf::from("/a")),
                ("B".to_owned(), PathBuf::from("/b"))
            ]
        );
    }
}
