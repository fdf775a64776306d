// The page `portcullis audit` loads for each run of an attack file: it waits until the
// isolation frame is ready, runs the attack in the main frame, lets every call the attack
// made through `ctx` settle, then sets the document title, which is how the Rust side
// learns it finished (a channel that needs no command the app's allowlist would have to
// allow). Notes go to the console, which the audit reads from the page's output.
// What the attack reports is information only: breaches are judged in Rust.

import * as forge from "./forge.js";

const params = new URL(location.href).searchParams;
const attackUrl = params.get("attack");
// A document-start attack already ran as a classic script before the bridge, and left
// its main part here.
const early = params.get("early") === "1";
// `// windows: 2`: this page is the attack's second window, which runs its `second`
// export (or, without one, makes the app seal what it allows) and tells the Rust side,
// which tells the attack's `ctx.second()`.
const role = params.get("role") === "second" ? "second" : "main";
const { invoke, emit, listen, ready, openStream, Channel } = window.portcullis;
const NOTE = "PORTCULLIS-AUDIT-NOTE ";
// Kept before the attack runs: attacks override builtins.
const stringify = JSON.stringify;
const log = console.log.bind(console);
const MAX_NOTE = 2000;
const SETTLE_MS = 3000;

// ctx.captured(): the Rust side answers a title request with the sealed envelopes the
// gate admitted so far, as JSON data.
const capturedWaiters = new Map();
let capturedSeq = 0;
window.__portcullisAuditCaptured = ({ n, envelopes }) => {
  const resolve = capturedWaiters.get(n);
  capturedWaiters.delete(n);
  if (resolve) resolve(envelopes.map((b64) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0))));
};

// ctx.grant / ctx.revoke: the Rust side grants or revokes for this window and answers
// with JSON data. One request at a time: two title changes in one task could merge.
const grantWaiters = new Map();
let grantSeq = 0;
let grantQueue = Promise.resolve();
window.__portcullisAuditGrant = ({ n, error }) => {
  const waiter = grantWaiters.get(n);
  grantWaiters.delete(n);
  if (!waiter) return;
  if (error) waiter.reject(new Error(error));
  else waiter.resolve();
};
function changeGrant(op, capability) {
  const ask = () =>
    new Promise((resolve, reject) => {
      const n = ++grantSeq;
      grantWaiters.set(n, { resolve, reject });
      document.title = `portcullis-audit:${op}:${n}:${capability}`;
      setTimeout(() => grantWaiters.delete(n) && reject(new Error(`no answer to ${op} ${capability}`)), 3000);
    });
  const done = grantQueue.then(ask, ask);
  grantQueue = done.catch(() => {});
  return done;
}

/** The second window's part when the attack has none: calls each harmless command twice. */
async function sealWhatIsAllowed(ctx) {
  for (const name of ctx.harmless) {
    await ctx.codeOf(ctx.invoke(name, {}));
    await ctx.codeOf(ctx.invoke(name, {}));
  }
}

const calls = [];
let settledCalls = 0;
/** Every call the attack makes through ctx is tracked until it settles. */
function tracked(promise) {
  calls.push(promise);
  promise.then(
    () => settledCalls++,
    () => settledCalls++,
  );
  return promise;
}

/** Waits for `promise` at most `ms`, resolving to `fallback` after that. */
function within(promise, ms, fallback) {
  return Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(fallback), ms))]);
}

const ctx = {
  invoke: (...args) => tracked(invoke(...args)),
  emit: (...args) => tracked(emit(...args)),
  listen,
  /**
   * The bridge's `openStream(cmd, meta)`: a WritableStream whose `result` settles with
   * the handler's answer or the refusal (tracked like a call).
   */
  openStream(name, meta) {
    const stream = openStream(name, meta);
    tracked(stream.result);
    return stream;
  },
  /**
   * Opens stream `name` with `meta`, writes `chunks` (Uint8Arrays), closes it; resolves to
   * the handler's answer (`{bytes}` from the audit's handlers), rejects with the refusal.
   */
  async upload(name, meta, chunks = []) {
    const stream = ctx.openStream(name, meta);
    const writer = stream.getWriter();
    try {
      for (const chunk of chunks) await writer.write(chunk);
      await writer.close();
    } catch {
      // The refusal is the result's.
    }
    return stream.result;
  },
  /** The bridge's Channel class: pass `new ctx.Channel(onmessage)` in a command's arguments. */
  Channel,
  /**
   * A Channel that keeps what arrives: `{ channel, messages, closed }`, `closed` a
   * promise that resolves (to the messages) once it ended, or after 3 s.
   */
  channel() {
    const messages = [];
    let ended;
    const closed = new Promise((resolve) => (ended = resolve));
    const channel = new Channel((m) => messages.push(m));
    channel.onclose = () => ended(messages);
    return { channel, messages, closed: within(closed, 3000, messages) };
  },
  /** Resolves once the isolation frame is ready (the harness waits for it first). */
  ready,
  /** The canary command: it must never run. */
  canary: "portcullis.canary",
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  /**
   * Posts raw bytes (or a string, as its UTF-8) to the transport every way any frame
   * could reach it: the native handler (`portcullisIpc`) when the app has one, and
   * `POST ipc://localhost/` with the message in the `Portcullis-Body` header (engines
   * that read request bodies take it there too). Resolves to the code when every way
   * answered the same, else to each way's.
   */
  raw(body) {
    return tracked(rawEveryWay(body));
  },
  /**
   * Posts text to wry's IPC handler (`window.webkit.messageHandlers.ipc`), which every
   * frame can reach whatever the page's CSP; resolves to a note of what happened (the
   * handler sends no reply: the gate's refusal shows in the row's codes).
   */
  ipc(text) {
    try {
      window.webkit.messageHandlers.ipc.postMessage(String(text));
      return "posted to the IPC handler";
    } catch (e) {
      return `the IPC handler refused the post: ${e}`;
    }
  },
  /**
   * The sealed envelopes (binary, as Uint8Arrays) the gate admitted so far in this run,
   * as an attacker watching the transport would have them: for replay and splice attacks.
   */
  captured(from = role) {
    if (from !== "main" && from !== "second") return Promise.reject(new Error(`no window ${from}`));
    return new Promise((resolve, reject) => {
      const n = ++capturedSeq;
      capturedWaiters.set(n, resolve);
      document.title = `portcullis-audit:captured:${n}:${from}`;
      setTimeout(() => capturedWaiters.has(n) && reject(new Error("no captured envelopes came back")), 3000);
    });
  },
  /** Envelope tools: plaintext, header, seal, toJson, withSeq, sealCanaryWith (forge.js). */
  forge,
  /**
   * Grants run-time capability `capability` to this window, on the Rust side; resolves
   * once it took effect, rejects with the core's refusal (not a runtimeGrant capability,
   * a window it does not name).
   */
  grant: (capability) => changeGrant("grant", capability),
  /**
   * Revokes it from this window; resolves once the revoke returned (from then on the
   * core must start nothing that relied on it).
   */
  revoke: (capability) => changeGrant("revoke", capability),
  /** Which window this code runs in: "main" or "second". */
  window: role,
  /**
   * For `// windows: 2`: resolves once the second window's part finished, to
   * `{ threw, labels: { main, second } }`.
   */
  second() {
    // Asks the Rust side, which answers once the second window's part finished (it may
    // have already).
    document.title = "portcullis-audit:second-wait";
    return secondDone;
  },
  /** What the attack saw (shown in the report, never trusted). Long notes are cut, marked. */
  note(text) {
    let s = String(text);
    if (s.length > MAX_NOTE) s = `${s.slice(0, MAX_NOTE)}… (cut: ${s.length - MAX_NOTE} more characters)`;
    log(NOTE + stringify(s));
  },
};

const secondDone = new Promise((resolve, reject) => {
  window.__portcullisAuditSecondDone = resolve;
  setTimeout(() => reject(new Error("the second window did not finish (does the attack say // windows: 2?)")), 10000);
});
secondDone.catch(() => {});

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
  const app = await (await fetch("./app.json")).json();
  ctx.harmless = app.harmless;
  /** The allowed streams: `[{ name, maxBytes, meta }]` (`meta`: metadata its schema takes, or null). */
  ctx.streams = app.streams;
  /**
   * The run-time capabilities that name this window: `[{ capability, commands }]`,
   * `commands` its allowed commands as `{ name, args }`, `args` arguments its schema
   * takes where the audit can tell (a scope may still refuse them).
   */
  ctx.runtime = app.runtime;
  /** The webview labels: `{ main, second }` (`second` null without `// windows: 2`). */
  ctx.labels = app.labels;
  await ready();
  const run =
    role === "second"
      ? ((await import(attackUrl)).second ?? sealWhatIsAllowed)
      : early
        ? window.__portcullisAttack
        : (await import(attackUrl)).default;
  if (typeof run !== "function") throw new Error("the attack defines no function to run");
  await run(ctx);
} catch (e) {
  status = "threw";
  ctx.note(`${role === "second" ? "the second window's part" : "attack"} threw: ${e}`);
}
// Fire-and-forget calls are judged too: wait (bounded) until every tracked call settled.
await Promise.race([Promise.allSettled(calls), new Promise((resolve) => setTimeout(resolve, SETTLE_MS))]);
document.title = `portcullis-audit:${status}:${settledCalls}/${calls.length}`;

/** The bytes of `body`: a string's UTF-8, a view's bytes, an ArrayBuffer's. */
function bytesOf(body) {
  if (typeof body === "string") return new TextEncoder().encode(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  return new Uint8Array(body);
}

/** A string of one character per byte. */
function latin1(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return text;
}

/** See ctx.raw. */
async function rawEveryWay(body) {
  const bytes = bytesOf(body);
  const codes = {};
  const native = window.webkit && window.webkit.messageHandlers && window.webkit.messageHandlers.portcullisIpc;
  if (native) {
    try {
      const answer = await native.postMessage("E" + btoa(latin1(bytes)));
      codes.native = typeof answer !== "string" ? `answer ${typeof answer}` : answer[0] === "!" ? JSON.parse(answer.slice(1)).code : "OK";
    } catch (e) {
      codes.native = `refused by the engine: ${e}`;
    }
  }
  try {
    const response = await fetch("ipc://localhost/", { method: "POST", headers: { "portcullis-body": btoa(latin1(bytes)) } });
    codes.fetch = response.ok ? "OK" : (await response.json().catch(() => ({ code: `HTTP ${response.status}` }))).code;
  } catch (e) {
    codes.fetch = "blocked before sending (the page's CSP or the engine)";
  }
  const distinct = [...new Set(Object.values(codes))];
  return distinct.length === 1 ? distinct[0] : Object.entries(codes).map(([way, code]) => `${way}: ${code}`).join("; ");
}
