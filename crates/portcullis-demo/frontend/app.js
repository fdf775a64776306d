// The notes page. Talks to Rust only through window.portcullis (the bridge): every call
// passes the isolation frame's hook, is sealed, and is checked by the allowlist.

const { invoke, emit, listen } = window.portcullis;
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

/** Runs one call, shows its outcome, and (in scripted mode) reports it to Rust. */
async function attempt(call, run, expected, scripted) {
  step += 1;
  let outcome;
  let detail = "";
  try {
    const result = await run();
    outcome = "allowed";
    detail = result === undefined ? "" : JSON.stringify(result).slice(0, 80);
  } catch (e) {
    outcome = e.code ?? "E_UNKNOWN";
    detail = e.message;
  }
  show(call, outcome, detail, expected);
  if (scripted) {
    await invoke("demo.report", { step, call, expected, outcome, detail });
  }
  return outcome;
}

async function refresh() {
  const notes = await invoke("notes.list");
  $("notes").replaceChildren(
    ...notes.map((n) => {
      const li = document.createElement("li");
      li.textContent = `#${n.id} ${n.title}: ${n.body}`;
      return li;
    }),
  );
}

async function scenario() {
  const s = true;
  await attempt("notes.list", () => invoke("notes.list"), "allowed", s);
  await attempt('notes.add {title: "Groceries"}', () => invoke("notes.add", { title: "Groceries", body: "milk, eggs" }), "allowed", s);
  await attempt('notes.add {title: ""} (bad argument)', () => invoke("notes.add", { title: "", body: "x" }), "E_INVALID_ARGS", s);
  await attempt("notes.add {extra field} (bad argument)", () => invoke("notes.add", { title: "t", body: "b", admin: true }), "E_INVALID_ARGS", s);
  await attempt("notes.purge (denied command)", () => invoke("notes.purge"), "E_DENIED", s);
  await attempt("notes.rename (not in the allowlist)", () => invoke("notes.rename", { id: 1 }), "E_NOT_ALLOWED", s);
  await attempt("notes.add with <script> (hook rejects)", () => invoke("notes.add", { title: "<script>alert(1)</script>", body: "" }), "E_HOOK_REJECTED", s);
  await attempt("notes.attach 4 KiB Uint8Array", () => invoke("notes.attach", new Uint8Array(4096).fill(7)), "allowed", s);
  await attempt("notes.export to /etc/passwd (outside scope)", () => invoke("notes.export", { path: "/etc/passwd" }), "E_OUT_OF_SCOPE", s);
  await attempt("emit note-opened {id: 1}", () => emit("note-opened", { id: 1 }), "allowed", s);
  await attempt("emit note-deleted (event not allowed)", () => emit("note-deleted", { id: 1 }), "E_NOT_ALLOWED", s);
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
$("purge").addEventListener("click", () => attempt("notes.purge", () => invoke("notes.purge")));
$("attach").addEventListener("click", () => attempt("notes.attach", () => invoke("notes.attach", new Uint8Array(4096))));

try {
  const mode = await invoke("demo.mode");
  $("status").textContent = mode.scripted ? "running the scripted scenario…" : "ready";
  await refresh();
  if (mode.scripted) await scenario();
} catch (e) {
  $("status").textContent = `failed: ${e.code ?? ""} ${e.message}`;
  console.error(`demo page failed: ${e.code ?? ""} ${e.message}`);
}
