use std::path::Path;

use portcullis_core::router::{Args, Router};
use portcullis_core::{Caller, Channel, ChannelArg};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::*;

/// A note's fields, as the page sends them.
#[derive(Deserialize, JsonSchema)]
struct AddNote {
    title: String,
    body: Option<String>,
}

#[derive(Serialize, JsonSchema)]
struct Note {
    id: u32,
}

#[derive(Deserialize, JsonSchema)]
struct Export {
    progress: ChannelArg<Note>,
}

fn manifest() -> Manifest {
    Router::new()
        .command_typed("notes.add", |Args(a): Args<AddNote>| Note {
            id: a.title.len() as u32 + a.body.map_or(0, |b| b.len() as u32),
        })
        .command_typed("notes.export", |Args(e): Args<Export>, _: Channel<Note>| {
            let _ = e.progress.id();
        })
        .command("notes.plain", || 1)
        .on_event_typed("opened", |_: &Caller, _: u32| {})
        .emits::<Note>("note-added")
        .manifest()
        .unwrap()
}

#[test]
fn every_name_has_its_overload_with_its_types() {
    let dts = Bindings::new(&manifest(), Runtime::Global).dts().to_owned();
    for line in [
        "/** A note's fields, as the page sends them. */\nexport type AddNote = {\n  body?: string | null;\n  title: string;\n};",
        "export declare function invoke(cmd: \"notes.add\", args: Commands[\"notes.add\"][\"args\"], options?: api.InvokeOptions): Promise<Commands[\"notes.add\"][\"result\"]>;",
        "\"notes.add\": { args: AddNote; result: Note; appCode: never; data: never };",
        "progress: api.Channel<Note>;",
        "\"notes.plain\": { args: api.Args; result: api.Json | Uint8Array; appCode: string; data: api.Json };",
        "export declare function invoke(cmd: \"notes.plain\", args?: api.Args, options?: api.InvokeOptions)",
        "export interface PageEvents {\n  \"opened\": number;\n}",
        "export interface CoreEvents {\n  \"note-added\": Note;\n}",
        "export declare function emit(event: \"opened\", payload: PageEvents[\"opened\"]): Promise<void>;",
        "export declare function listen(event: \"note-added\", handler: (event: api.PortcullisEvent<CoreEvents[\"note-added\"]>) => void): Promise<api.UnlistenFn>;",
        "export declare function openStream(cmd: never, meta?: never): never;",
    ] {
        assert!(dts.contains(line), "missing {line}\n---\n{dts}");
    }
}

#[test]
fn the_same_manifest_gives_the_same_bytes() {
    let a = Bindings::new(&manifest(), Runtime::Module);
    let b = Bindings::new(&manifest(), Runtime::Module);
    assert_eq!((a.js(), a.dts()), (b.js(), b.dts()));
    assert!(a.js().contains("from \"@portcullis/api\""));
    assert!(
        Bindings::new(&manifest(), Runtime::Global)
            .js()
            .contains("globalThis.portcullis")
    );
}

#[test]
fn check_mode_fails_on_a_stale_or_missing_file_and_write_mode_mends_it() {
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("frontend/bindings");
    let manifest_file = dir.path().join("portcullis.manifest.json");
    let bindings = Bindings::new(&manifest(), Runtime::Global);
    let missing = bindings
        .sync(&module, &manifest_file, Mode::Check)
        .unwrap_err();
    assert!(
        matches!(&missing, SyncError::Stale(s) if s.files.len() == 3),
        "{missing}"
    );
    assert_eq!(
        bindings
            .sync(&module, &manifest_file, Mode::Write)
            .unwrap()
            .len(),
        3
    );
    assert!(
        bindings
            .sync(&module, &manifest_file, Mode::Check)
            .unwrap()
            .is_empty()
    );
    let dts = Path::new(&module).with_extension("d.ts");
    std::fs::write(&dts, "// edited by hand\n").unwrap();
    let stale = bindings
        .sync(&module, &manifest_file, Mode::Check)
        .unwrap_err();
    assert!(stale.to_string().contains("bindings.d.ts"), "{stale}");
    assert!(
        stale.to_string().contains("PORTCULLIS_BINDINGS=write"),
        "{stale}"
    );
}
