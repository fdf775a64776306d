//! The bindings of `fixtures/bindings/`: one handler, registered as `notes.add`
//! (`before/`) and renamed in Rust to `notes.create` (`renamed/`). This test keeps the
//! generated files equal to what the router gives (`PORTCULLIS_BINDINGS=write` writes
//! them); `scripts/typecheck.sh` then runs tsc over `fixtures/bindings/page.js`, which
//! calls `notes.add`, against each: it passes before the rename and fails after it.

use std::path::Path;

use portcullis_core::router::{Args, Router};
use portcullis_wry::bindings::{Bindings, Mode, Runtime};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A new note.
#[derive(Deserialize, JsonSchema)]
struct AddNote {
    title: String,
}

/// The note added.
#[derive(Serialize, JsonSchema)]
struct Note {
    id: u64,
}

fn add(Args(note): Args<AddNote>) -> Note {
    Note {
        id: note.title.len() as u64,
    }
}

#[test]
fn the_fixture_bindings_are_the_routers_before_and_after_the_rename() {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/bindings");
    for (dir, name) in [("before", "notes.add"), ("renamed", "notes.create")] {
        let manifest = Router::new().command_typed(name, add).manifest().unwrap();
        let dir = fixtures.join(dir);
        Bindings::new(&manifest, Runtime::Module)
            .sync(
                &dir.join("bindings"),
                &dir.join("portcullis.manifest.json"),
                Mode::from_env(),
            )
            .unwrap_or_else(|e| panic!("{e}"));
    }
}
