// The page `portcullis audit` loads for each attack file: it runs the attack in the main
// frame and then sets the document title, which is how the Rust side learns it finished
// (a channel that needs no command the app's allowlist would have to allow).
// What the attack reports is printed as information only: breaches are judged in Rust.

const attackUrl = new URL(location.href).searchParams.get("attack");
const { invoke, emit, listen } = window.portcullis;

const notes = [];
const ctx = {
  invoke,
  emit,
  listen,
  /** The canary command: it must never run. */
  canary: "portcullis.canary",
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  /** Posts raw bytes to the transport the way any frame could; resolves to the code. */
  async raw(body) {
    let response;
    try {
      response = await fetch("ipc://localhost/", { method: "POST", body });
    } catch (e) {
      return "blocked before sending (the page's CSP or the engine)";
    }
    if (response.ok) return "OK";
    return (await response.json().catch(() => ({ code: `HTTP ${response.status}` }))).code;
  },
  /** What the attack saw (shown in the report, never trusted). */
  note(text) {
    notes.push(String(text));
  },
};

async function codeOf(promise) {
  try {
    await promise;
    return "OK";
  } catch (e) {
    return e.code ?? String(e);
  }
}
ctx.codeOf = codeOf;

let status = "done";
try {
  const attack = await import(attackUrl);
  await attack.default(ctx);
} catch (e) {
  status = "error";
  notes.push(`attack threw: ${e}`);
}
// The title is the channel back: the Rust side watches it (and never trusts the notes).
document.title = `portcullis-audit:${status}:${JSON.stringify(notes.map((n) => n.slice(0, 200)))}`;
