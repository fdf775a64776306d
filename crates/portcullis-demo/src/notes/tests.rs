//! The demo's bindings are its handlers', and its error codes the ones it declares.

use std::path::Path;

use portcullis_core::emit::{EmitError, EventSink};
use portcullis_wry::bindings::{Bindings, Mode, Runtime};

use super::*;

struct Nowhere;

impl EventSink for Nowhere {
    fn deliver(&self, _: EmitTarget<'_>, _: &str, _: &str) -> Result<(), EmitError> {
        Ok(())
    }
}

/// The codes the bindings promise the page are the codes the errors give.
#[test]
fn every_error_code_is_declared_for_the_page() {
    let errors = [
        NotesError::Unavailable,
        NotesError::NotFound(1),
        NotesError::Export(std::io::Error::other("x")),
        NotesError::Read(std::io::Error::other("x")),
        NotesError::WrongPassword,
        NotesError::Grant(GrantError::UnknownCapability("x".into())),
        NotesError::Stream(StreamError::PageGone),
        NotesError::NotText,
    ];
    for e in &errors {
        let code = e.app_code().unwrap();
        assert!(NotesError::app_codes().contains(&code.as_str()), "{code}");
    }
    assert_eq!(errors.len(), NotesError::app_codes().len());
}

/// The page's bindings (`frontend/bindings.js` and `.d.ts`) and the command manifest
/// are the router's: `PORTCULLIS_BINDINGS=write cargo test -p portcullis-demo`
/// writes them; otherwise a file that differs fails here, so a stale one is never
/// committed.
#[test]
fn the_bindings_and_the_manifest_are_the_handlers() {
    let files = Files {
        exports: "/exports".into(),
        sample: "/sample.txt".into(),
    };
    let emitter = portcullis_core::Emitter::new(Arc::new(Nowhere));
    let router = notes_router(emitter, Arc::new(|| {}), Arc::default(), false, files);
    let manifest = router.manifest().unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    Bindings::new(&manifest, Runtime::Global)
        .sync(
            &dir.join("frontend/bindings"),
            &dir.join("portcullis.manifest.json"),
            Mode::from_env(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
}
