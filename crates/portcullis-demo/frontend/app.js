// The notes page. Talks to Rust only through the bridge (window.portcullis): every call
// passes the isolation frame's hook, is sealed, and is checked by the allowlist.
//
// The calls go through ./bindings.js, generated from the app's Rust handlers
// (src/notes/): `tsc` checks this file against its .d.ts (scripts/typecheck.sh), so a
// command renamed in Rust, or an argument of the wrong type, fails the test command.
// The calls that are wrong on purpose (to show the refusals) use the untyped bridge.

import { invoke, emit, listen, openStream, Channel } from "./bindings.js";

/** @typedef {import("./bindings.js").ExportProgress} ExportProgress */

/** The untyped bridge, for the calls the scenario makes wrong on purpose. */
const untyped = window.portcullis;
/** @type {(id: string) => any} */
const $ = (id) => document.getElementById(id);

let step = 0;

function show(call, outcome, detail, expected) {
  const li = document.createElement("li");
  const ok = outcome === "allowed";
  li.className = ok ? "allowed" : "blocked";
  if (expected && expected !== outcome) li.classList.add("mismatch");
  const code = document.createElement("span");
  code.className = "code";
  code.textContent = ok ? "allowed" : outcome;
  li.append(code, ` ${call}`, detail ? ` — ${detail}` : "");
  $("log").append(li);
}

/**
 * Runs one call, shows its outcome, and (in scripted mode) reports it to Rust. `shown`
 * turns an allowed call's result into the line the transcript prints under it.
 */
async function attempt(call, run, expected, scripted, shown) {
  step += 1;
  let outcome;
  let detail = "";
  let line = "";
  try {
    const result = await run();
    outcome = "allowed";
    detail = result === undefined ? "" : JSON.stringify(result).slice(0, 80);
    if (shown) line = shown(result);
  } catch (e) {
    outcome = e.code ?? "E_UNKNOWN";
    detail = e.message;
  }
  show(call, outcome, line || detail, expected);
  if (scripted) {
    await invoke("demo.report", { step, call, expected, outcome, detail, shown: line });
  }
  return outcome;
}

async function refresh() {
  const notes = await invoke("notes.list");
  $("notes").replaceChildren(
    ...notes.map((n) => {
      const li = document.createElement("li");
      const body = n.body.length > 60 ? `${n.body.slice(0, 60)}…` : n.body;
      li.textContent = `#${n.id} ${n.title}: ${body}`;
      return li;
    }),
  );
}

/** Shows this window's run-time grants (the read-only portcullis:grants). */
async function showGrants() {
  const mine = await invoke("portcullis:grants");
  const caps = mine.capabilities.length ? mine.capabilities.join(", ") : "none";
  $("grants").textContent = `grants: ${caps}; opened files: ${mine.paths.length}`;
  $("export").disabled = !mine.capabilities.includes("export");
  return mine;
}

let exportsDir = "";

/**
 * Exports the notes to `path`, passing a Channel on which the handler reports each note
 * it wrote: the bar follows it. Resolves with the result and the progress it heard.
 */
async function exportTo(path = `${exportsDir}/notes.md`) {
  /** @type {string[]} */
  const heard = [];
  /** @type {import("./bindings.js").Channel<ExportProgress>} */
  const progress = new Channel(({ done, of, title }) => {
    heard.push(`${done}/${of} ${title}`);
    $("progress").max = of;
    $("progress").value = done;
    $("progress-text").textContent = `${done} of ${of}: ${title}`;
  });
  const closed = new Promise((resolve) => (progress.onclose = () => resolve(undefined)));
  const result = await invoke("notes.export", { path, progress });
  // The last messages may arrive just after the answer: the channel closes after them.
  await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000))]);
  return { ...result, heard };
}

/** The text of an imported file of about `kib` KiB, as lines. */
function importedText(kib) {
  let text = "";
  for (let n = 1; text.length < kib * 1024; n++) text += `line ${n} of the imported file\n`;
  return text;
}

/**
 * Imports `text` as a note titled `title` through an upload stream, in `parts` chunks:
 * the open passes the hook and the allowlist (whose maxBytes bounds the whole file),
 * each chunk is sealed; the handler's result settles `result`.
 */
async function importFile(title, text, parts = 3) {
  const bytes = new TextEncoder().encode(text);
  const stream = openStream("notes.import", { title });
  // A refused stream rejects its writes and its result alike: the writes report it.
  stream.result.catch(() => {});
  const writer = stream.getWriter();
  const size = Math.ceil(bytes.length / parts);
  for (let at = 0; at < bytes.length; at += size) await writer.write(bytes.subarray(at, at + size));
  await writer.close();
  return stream.result;
}

const showImport = (r) => `note #${r.note.id} "${r.note.title}": ${r.bytes} bytes in ${r.chunks} chunks`;
const showExport = (r) => `${r.notes} notes, ${r.bytes} bytes; progress on the channel: ${r.heard.map((h) => h.split(" ")[0]).join(", ")}`;

async function openFile() {
  const path = await invoke("files.open_dialog");
  $("opened").textContent = await invoke("files.read", { path });
  await showGrants();
  return path;
}

async function scenario() {
  const s = true;
  await attempt("notes.list", () => invoke("notes.list"), "allowed", s);
  await attempt('notes.add {title: "Groceries"}', () => invoke("notes.add", { title: "Groceries", body: "milk, eggs" }), "allowed", s);
  await attempt('notes.add {title: ""} (bad argument)', () => invoke("notes.add", { title: "", body: "x" }), "E_INVALID_ARGS", s);
  await attempt("notes.add {extra field} (bad argument)", () => untyped.invoke("notes.add", { title: "t", body: "b", admin: true }), "E_INVALID_ARGS", s);
  await attempt("notes.purge (denied command)", () => untyped.invoke("notes.purge"), "E_DENIED", s);
  await attempt("notes.rename (not in the allowlist)", () => untyped.invoke("notes.rename", { id: 1 }), "E_NOT_ALLOWED", s);
  await attempt("notes.add with <script> (hook rejects)", () => invoke("notes.add", { title: "<script>alert(1)</script>", body: "" }), "E_HOOK_REJECTED", s);
  await attempt("notes.attach 4 KiB Uint8Array", () => invoke("notes.attach", new Uint8Array(4096).fill(7)), "allowed", s);
  await attempt("emit note-opened {id: 1}", () => emit("note-opened", { id: 1 }), "allowed", s);
  await attempt("emit note-deleted (event not allowed)", () => untyped.emit("note-deleted", { id: 1 }), "E_NOT_ALLOWED", s);
  // An upload stream: the file's bytes in sealed chunks, bounded by the rule's maxBytes.
  await attempt('openStream notes.import {title: "Imported"}, 12 KiB in 3 chunks', () => importFile("Imported", importedText(12)), "allowed", s, showImport);
  await attempt("openStream notes.import, 80 KiB (past its maxBytes, 64 KiB)", () => importFile("Too big", importedText(80), 2), "E_TOO_LARGE", s);
  await attempt("openStream notes.import with <script> in its title (hook rejects)", () => importFile("<script>x</script>", "x"), "E_HOOK_REJECTED", s);
  // Run-time grants: exporting needs the capability a sign-in grants to this window.
  await attempt("notes.export before signing in", () => exportTo(), "E_NOT_GRANTED", s);
  await attempt('session.sign_in {password: "guess"}', () => invoke("session.sign_in", { password: "guess" }), "E_HANDLER", s);
  await attempt('session.sign_in {password: "notes"}', () => invoke("session.sign_in", { password: "notes" }), "allowed", s);
  await attempt("portcullis:grants (read-only)", showGrants, "allowed", s);
  await attempt("notes.export to $EXPORTS/notes.md, progress on a Channel", () => exportTo(), "allowed", s, showExport);
  await attempt("notes.export to /etc/passwd (outside scope)", () => exportTo("/etc/passwd"), "E_OUT_OF_SCOPE", s);
  // A scope extended at run time: only the file the user opened joins it.
  const sample = await invoke("demo.mode").then((m) => m.sample);
  await attempt("files.read before opening it (outside scope)", () => invoke("files.read", { path: sample }), "E_OUT_OF_SCOPE", s);
  await attempt("files.open_dialog, then files.read of the picked file", openFile, "allowed", s);
  await attempt("files.read of ~/.ssh/id_ed25519 (outside scope)", () => invoke("files.read", { path: "/root/.ssh/id_ed25519" }), "E_OUT_OF_SCOPE", s);
  await attempt("session.sign_out", () => invoke("session.sign_out"), "allowed", s);
  await attempt("notes.export after signing out", () => exportTo(), "E_GRANT_REVOKED", s);
  await showGrants();
  await refresh();
  await invoke("demo.finished");
}

listen("note-added", ({ payload }) => {
  $("status").textContent = `core event: note #${payload.id} “${payload.title}” added`;
  refresh();
});

$("add").addEventListener("submit", (e) => {
  e.preventDefault();
  attempt("notes.add", () => invoke("notes.add", { title: $("title").value, body: $("body").value }));
});
$("purge").addEventListener("click", () => attempt("notes.purge", () => untyped.invoke("notes.purge")));
$("attach").addEventListener("click", () => attempt("notes.attach", () => invoke("notes.attach", new Uint8Array(4096))));
$("signin").addEventListener("submit", async (e) => {
  e.preventDefault();
  await attempt("session.sign_in", () => invoke("session.sign_in", { password: $("password").value }));
  await showGrants();
});
$("signout").addEventListener("click", async () => {
  await attempt("session.sign_out", () => invoke("session.sign_out"));
  await showGrants();
});
$("export").addEventListener("click", () => attempt("notes.export (progress on a Channel)", () => exportTo(), undefined, false, showExport));
$("import").addEventListener("click", () => attempt("openStream notes.import (12 KiB)", () => importFile("Imported", importedText(12)), undefined, false, showImport));
$("open").addEventListener("click", () => attempt("files.open_dialog + files.read", openFile));

try {
  const mode = await invoke("demo.mode");
  exportsDir = mode.exports;
  await showGrants();
  $("status").textContent = mode.scripted ? "running the scripted scenario…" : "ready";
  await refresh();
  if (mode.scripted) await scenario();
} catch (e) {
  $("status").textContent = `failed: ${e.code ?? ""} ${e.message}`;
  console.error(`demo page failed: ${e.code ?? ""} ${e.message}`);
}
