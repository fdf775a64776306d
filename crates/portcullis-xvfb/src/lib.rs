//! Running a real webview without a display: start Xvfb and re-run the current program
//! under it. Tooling for the CLI, the demo and the tests; no app ships it.
//!
//! GTK reads `DISPLAY` when it initialises, and changing the environment of a running
//! multi-threaded program is unsound, so the program re-executes itself as a child with
//! `DISPLAY` set (and WebKit's cache directories pointed at a temporary directory). Xvfb
//! is started with `-displayfd` (it picks a free display and reports it: no races) and
//! stopped after the child has exited (stopping it while a GTK program still holds the
//! display would make GDK exit the program). It is not started with `-terminate`, so a
//! child may itself run several GTK processes one after another.
//!
//! Only Linux needs this: elsewhere the window system needs no display server to be
//! started, and the program always goes on in its own process.

#![forbid(unsafe_code)]
#![warn(missing_docs)]

use std::path::PathBuf;
use std::process::{ExitCode, ExitStatus};

/// Set in the child so it knows it already runs under our Xvfb.
const MARKER: &str = "PORTCULLIS_UNDER_XVFB";

/// Why the program could not be run headless.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    /// Xvfb is not installed.
    #[error(
        "no DISPLAY and Xvfb could not be started ({0}): install the `xvfb` package (scripts/setup.sh does)"
    )]
    NoXvfb(std::io::Error),
    /// Xvfb started but did not report a display.
    #[error("Xvfb did not report a display number")]
    NoDisplay,
    /// The re-executed child could not be started.
    #[error("could not re-run {0:?} under Xvfb: {1}")]
    Spawn(PathBuf, std::io::Error),
}

/// Whether this process is the child [`rerun_under_xvfb_if_needed`] started (so it runs
/// on a private display nobody looks at).
pub fn under_xvfb() -> bool {
    std::env::var_os(MARKER).is_some()
}

/// If there is no display, runs this program again under a private Xvfb and returns the
/// child's exit status; the caller should exit with it. Returns `Ok(None)` when a display
/// is available (or this already is the child, or the platform is not Linux) and the
/// caller should go on.
pub fn rerun_under_xvfb_if_needed() -> Result<Option<ExitStatus>, HeadlessError> {
    #[cfg(target_os = "linux")]
    if !under_xvfb() && std::env::var_os("DISPLAY").is_none_or(|d| d.is_empty()) {
        return xvfb::rerun().map(Some);
    }
    Ok(None)
}

/// [`rerun_under_xvfb_if_needed`] for a program's `main`: `Some(code)` to exit with (the
/// run under Xvfb is over, or Xvfb could not be started: said on stderr as
/// `program: …`), `None` to go on in this process.
pub fn exit_code_after_rerun(program: &str) -> Option<ExitCode> {
    match rerun_under_xvfb_if_needed() {
        Ok(Some(status)) => Some(ExitCode::from(
            status.code().unwrap_or(1).clamp(0, 255) as u8
        )),
        Ok(None) => None,
        Err(e) => {
            eprintln!("{program}: {e}");
            Some(ExitCode::FAILURE)
        }
    }
}

#[cfg(target_os = "linux")]
mod xvfb {
    use std::io::{BufRead, BufReader};
    use std::path::PathBuf;
    use std::process::{Child, Command, ExitStatus, Stdio};

    use super::{HeadlessError, MARKER};

    /// Runs this program again under a fresh Xvfb and waits for it.
    pub(super) fn rerun() -> Result<ExitStatus, HeadlessError> {
        let (mut xvfb, display) = start()?;
        let exe =
            std::env::current_exe().map_err(|e| HeadlessError::Spawn(PathBuf::from("?"), e))?;
        let scratch =
            std::env::temp_dir().join(format!("portcullis-webkit-{}", std::process::id()));
        for sub in ["data", "cache", "config"] {
            let _ = std::fs::create_dir_all(scratch.join(sub));
        }
        let status = Command::new(&exe)
            .args(std::env::args_os().skip(1))
            .env("DISPLAY", format!(":{display}"))
            .env(MARKER, "1")
            .env("XDG_DATA_HOME", scratch.join("data"))
            .env("XDG_CACHE_HOME", scratch.join("cache"))
            .env("XDG_CONFIG_HOME", scratch.join("config"))
            .envs(NO_SHADER_CACHE)
            .status()
            .map_err(|e| HeadlessError::Spawn(exe, e))?;
        let _ = xvfb.kill();
        let _ = xvfb.wait();
        let _ = std::fs::remove_dir_all(&scratch);
        Ok(status)
    }

    /// Mesa's on-disk shader cache, off for the child and its WebKit processes.
    ///
    /// Mesa (llvmpipe, under Xvfb) keeps it in `$XDG_CACHE_HOME/mesa_shader_cache`, here
    /// the scratch directory, and writes its entries from a background thread of every
    /// process that draws. WebKit's web and network processes outlive the child by a
    /// moment, so their last writes came after the scratch directory was removed above:
    /// "Failed to create …/cache/mesa_shader_cache/NN for shader cache (No such file or
    /// directory)---disabling." on the terminal, one line a process and cache entry, after
    /// the program's own output (0 to 21 lines a demo run here). A cache in a directory
    /// deleted after every run is never read again anyway: no cache, nothing to write.
    /// `MESA_GLSL_CACHE_DISABLE` is the name Mesa before 21 reads.
    pub(super) const NO_SHADER_CACHE: [(&str, &str); 2] = [
        ("MESA_SHADER_CACHE_DISABLE", "true"),
        ("MESA_GLSL_CACHE_DISABLE", "true"),
    ];

    fn start() -> Result<(Child, String), HeadlessError> {
        let mut child = Command::new("Xvfb")
            .args([
                "-displayfd",
                "1",
                "-screen",
                "0",
                "1280x1024x24",
                "-nolisten",
                "tcp",
                "-noreset",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(HeadlessError::NoXvfb)?;
        let Some(stdout) = child.stdout.take() else {
            let _ = child.kill();
            return Err(HeadlessError::NoDisplay);
        };
        let mut line = String::new();
        let read = BufReader::new(stdout).read_line(&mut line);
        let display = line.trim().to_owned();
        if read.is_err() || display.is_empty() || !display.bytes().all(|b| b.is_ascii_digit()) {
            let _ = child.kill();
            let _ = child.wait();
            return Err(HeadlessError::NoDisplay);
        }
        Ok((child, display))
    }
}
