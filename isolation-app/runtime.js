// The Portcullis isolation runtime. Runs inside the hidden, sandboxed isolation frame.
//
// 1. Reads this page load's session (key, id, webview label) from the JSON data block
//    the Rust side put in the document, removes the block, and imports the key as
//    non-extractable. The document is served once per page load; no other request gets it.
// 2. Accepts requests only from its parent (the app's main frame): window messages whose
//    source is another frame, or synthetic events, are ignored. (A MessageChannel port
//    would be no more private, since the main frame holds it, and each message on a port
//    is brokered through another WebKit process: about 300 µs a round trip, against
//    about 10 µs for window messages.)
// 3. For each request: copies its arguments into the canonical value (canonical.js:
//    plain JSON data, deep-frozen; anything JSON would change is refused), refuses it if
//    the hook does not judge its kind (kinds.js: a hook is shown only the kinds it
//    declares), runs the app's
//    validation hook (sync or async) under a timeout on that copy, seals the `cmd` and
//    `payload` the hook decided on (after the same canonical check) with AES-256-GCM,
//    posts it to the Rust gate (transport.js), and returns the gate's answer to
//    the parent. A call refused here (bad request, hook refusal or timeout) is reported
//    to the gate, sealed, before the caller's promise is rejected: the app's audit sees it.
//
// It tells the parent it is ready as soon as it listens; requests wait for the key import
// and the hook load, which run side by side.
//
// Replies to the parent are {id, ok: true, json} | {id, ok: true, bytes} |
// {id, ok: false, error: {code, message, appCode?, data?}}.
//
// Cancels: the parent posts {cancel: id, token} when its caller aborted call `id` or gave
// up waiting. The token must be the one the call came with, so only whoever made the
// call (the bridge) can cancel it. A call still at its hook is never sealed; a call
// already sent is cancelled at the gate by a sealed cancel (PROTOCOL.md §2), which the gate
// honours only for a call of this page load. Cancels do not go through the hook: they
// can only stop a call this page load made, never start anything.

import { PROTOCOL } from "./protocol.js";
import { mark } from "./marks.js";
import { NAME_PATTERN, NAME_RULE, Sealer, chunkPlaintext, encodeRequest, fromBase64 } from "./sealer.js";
import { NotCanonical, canonicalPayload, isBytes, serialize } from "./canonical.js";
import { HOOK_KINDS, hookKinds, unjudged } from "./kinds.js";
import { pullChannel, toGate, warmTransport } from "./transport.js";

// The protocol's constants, as Rust defines them (protocol.js).
/** How many of a stream's chunks may be unanswered at once. */
const STREAM_WINDOW = PROTOCOL.streamWindow;
/** The names a refusal report and a cancel are framed under (PROTOCOL.md §2). */
const { report: REPORT_NAME, cancel: CANCEL_NAME } = PROTOCOL.names;
/** The longest report message and abort reason the core keeps. */
const MAX_REPORT_MESSAGE = PROTOCOL.maxReportMessage;
const MAX_REASON = PROTOCOL.maxReason;
const PULL_PATTERN = /^(pull|close|done) [0-9a-f]{32}$/;
/** A stream's writer key: 128 random bits the bridge made, in hex (see chunkOf). */
const WRITER_PATTERN = /^[0-9a-f]{32}$/;
// Kept before the hook loads: a hook cannot change how requests are encoded.
const stringify = JSON.stringify;
const parse = JSON.parse;

function readSession() {
  const block = document.getElementById("portcullis-session");
  if (!block) return null;
  const session = JSON.parse(block.textContent);
  block.remove();
  return session;
}

/** The WebAssembly sealer's bytes from the document (base64), or null without them. */
function readSealerModule() {
  const block = document.getElementById("portcullis-sealer");
  if (!block) return null;
  block.remove();
  try {
    return fromBase64(block.textContent.trim());
  } catch (e) {
    console.warn(`portcullis: unreadable WebAssembly sealer, sealing with WebCrypto: ${e}`);
    return null;
  }
}

function unavailable(message) {
  // Tell the parent, so queued calls fail with a clear code instead of timing out.
  window.parent.postMessage({ portcullis: "unavailable", message }, "*");
}

function rejectWith(code, message) {
  return { ok: false, error: { code, message: String(message) } };
}

/**
 * Finds the hook (an ES module default export, or a global as Tauri hooks assign it) and
 * the kinds it judges (kinds.js). Resolves to {hook, kinds}, or to {failure} saying why
 * there is no hook to judge with: every call is then refused.
 */
async function loadHook(url) {
  const none = (why) => ({ failure: `no validation hook is installed (${why}): every call is refused` });
  let module;
  try {
    module = await import(url);
  } catch (e) {
    return none(`hook.js failed to load: ${e}`);
  }
  const hook =
    (typeof module.default === "function" && module.default) ||
    globalThis.__PORTCULLIS_HOOK__ ||
    globalThis.__TAURI_ISOLATION_HOOK__;
  if (typeof hook !== "function") {
    return none("hook.js exports no default function and assigns no window.__TAURI_ISOLATION_HOOK__");
  }
  try {
    return { hook, kinds: hookKinds(module, hook) };
  } catch (e) {
    return none(`hook.js failed to load: ${e.message}`);
  }
}

/**
 * Runs the hook under a timeout on a fresh message whose payload is the frozen canonical
 * copy. Resolves to what the hook decided should be sealed ({ok, cmd, payload}) or to a
 * rejection.
 */
async function validate(hook, request, payload, context, limits) {
  // Tauri's hook contract: one object {cmd, callback, error, payload, options}; the hook
  // returns it (possibly changed). Portcullis adds `kind` and a second argument, context.
  // The message itself may be changed in place (Tauri hooks assign `cmd` and `payload`);
  // the payload in it is frozen.
  const message = {
    cmd: request.name,
    kind: request.kind,
    callback: request.id,
    error: request.id,
    payload,
    options: {},
  };
  const rejected = (reason) => {
    const text = reason instanceof Error ? reason.message : reason;
    return rejectWith("E_HOOK_REJECTED", text ?? "validation hook rejected the call");
  };
  const judge = (result) => {
    if (result === false) return rejectWith("E_HOOK_REJECTED", "validation hook returned false");
    // `true`/`undefined` pass the message as the hook left it, so a hook that renamed
    // `cmd` in place and returned nothing is honoured too.
    const source = result === true || result === undefined ? message : result;
    if (source === null || typeof source !== "object") {
      return rejectWith(
        "E_HOOK_REJECTED",
        "validation hook must return the message, true or undefined to pass, or false to reject",
      );
    }
    return sealable(source, message, request, { ...limits, original: payload });
  };
  // A result `await` takes as it is (a primitive, or an object with no `then` anywhere on
  // its prototype chain, such as the message or a copy of it) is judged after one
  // microtask, as `await` would have done, but without arming a timer: a sync hook has
  // spent its time already, and a timer could not have stopped it. A thenable (a promise)
  // is awaited under the timeout, counted from the call.
  const began = performance.now();
  let result;
  try {
    result = hook(message, context);
  } catch (reason) {
    return rejected(reason);
  }
  const settled =
    result === null || (typeof result !== "object" && typeof result !== "function") || !("then" in result);
  if (settled) {
    await undefined;
    return judge(result);
  }
  let timer;
  const left = Math.max(0, limits.hookTimeoutMs - (performance.now() - began));
  const timeout = new Promise((resolve) => {
    timer = setTimeout(
      () => resolve(rejectWith("E_HOOK_TIMEOUT", `validation hook did not settle within ${limits.hookTimeoutMs} ms`)),
      left,
    );
  });
  const verdict = (async () => {
    let value;
    try {
      value = await result;
    } catch (reason) {
      return rejected(reason);
    }
    return judge(value);
  })();
  try {
    return await Promise.race([verdict, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * What the hook's verdict seals: its `cmd` (a renamed command is honoured and judged by
 * the allowlist like any name) and its `payload`, each read once and put through the same
 * canonical check as the request. The message the hook was given counts as it left it (a
 * deleted payload is no arguments, `{}`). Any other object must be a message: own `cmd`
 * and `payload`. An object that is not (`{allowed: false}`, a validator's error list)
 * refuses the call rather than letting the request through unchanged.
 */
function sealable(source, message, request, limits) {
  try {
    if (source !== message && !(Object.hasOwn(source, "cmd") && Object.hasOwn(source, "payload"))) {
      return rejectWith(
        "E_HOOK_REJECTED",
        "the validation hook returned an object that is not a message (it needs its own cmd and payload): return the message, true or undefined to pass, or false to refuse",
      );
    }
    const cmd = source.cmd;
    if (typeof cmd !== "string" || !NAME_PATTERN.test(cmd)) {
      return rejectWith(
        "E_BAD_REQUEST",
        `the validation hook returned a cmd that is not a name: a string of ${NAME_RULE}`,
      );
    }
    if ("kind" in source && source.kind !== request.kind) {
      return rejectWith("E_HOOK_REJECTED", `the validation hook cannot turn a ${request.kind} into another kind`);
    }
    const returned = source.payload;
    // The frozen copy the hook was given is canonical already.
    const payload =
      returned === limits.original
        ? returned
        : canonicalPayload(returned, "the payload the hook returned", limits.maxDepth, limits.maxBytes);
    return { ok: true, cmd, payload };
  } catch (e) {
    return refusalOf(e);
  }
}

/** A NotCanonical error as a rejection; anything else thrown is a bad request too. */
function refusalOf(e) {
  if (e instanceof NotCanonical) return rejectWith(e.code, e.message);
  return rejectWith("E_BAD_REQUEST", `cannot send this call: ${e}`);
}

/**
 * Whatever the parent posts is treated as hostile (the main frame is untrusted). Returns
 * the canonical payload, or throws NotCanonical naming what is wrong.
 */
function canonicalRequest(request, limits) {
  if (!HOOK_KINDS.includes(request.kind)) {
    throw new NotCanonical("E_BAD_REQUEST", `kind must be one of ${HOOK_KINDS.join(", ")}`);
  }
  if (request.kind === "stream" && request.bytes !== undefined) {
    throw new NotCanonical("E_BAD_REQUEST", "a stream's metadata is JSON: its bytes go in its chunks");
  }
  if (request.kind === "stream" && (typeof request.writer !== "string" || !WRITER_PATTERN.test(request.writer))) {
    throw new NotCanonical("E_BAD_REQUEST", "a stream's open carries its writer key: 32 hex digits");
  }
  if (typeof request.name !== "string" || !NAME_PATTERN.test(request.name)) {
    throw new NotCanonical("E_BAD_REQUEST", `name must be a string of ${NAME_RULE}`);
  }
  if (request.bytes !== undefined) {
    if (request.args !== undefined) throw new NotCanonical("E_BAD_REQUEST", "a call carries args or bytes, not both");
    if (!isBytes(request.bytes)) throw new NotCanonical("E_BAD_REQUEST", "bytes must be a Uint8Array");
    return new Uint8Array(request.bytes);
  }
  return canonicalPayload(request.args, "args", limits.maxDepth, limits.maxBytes);
}

function bodyOf(payload) {
  return isBytes(payload) ? { bytes: payload } : { json: serialize(payload) };
}

/**
 * Seals one plaintext and posts it to the gate; resolves to the reply for the parent.
 * `entry` is the call's in-flight entry, for the profile's marks (none for reports).
 */
async function post(sealer, plaintext, entry = {}) {
  mark(entry, "encode");
  const sealed = await sealer.seal(plaintext, "binary");
  mark(entry, "seal");
  return deliver(sealed, entry);
}

/** Posts a sealed envelope to the gate; resolves to the reply for the parent. */
async function deliver(sealed, entry = {}) {
  const reply = await toGate(sealed);
  mark(entry, "gate's reply");
  return reply;
}

function send(sealer, request, verdict, entry) {
  return post(sealer, encodeRequest(request.kind, request.id, verdict.cmd, bodyOf(verdict.payload)), entry);
}

/**
 * Tells the gate, sealed like any message, that this frame refused a call, so the app's
 * audit sink and logs see it. The gate records it and never dispatches it.
 */
async function report(sealer, request, refusal) {
  const name = typeof request.name === "string" && NAME_PATTERN.test(request.name) ? request.name : null;
  const kind = HOOK_KINDS.includes(request.kind) ? request.kind : null;
  // The gate keeps the first MAX_REPORT_MESSAGE bytes of the message; no need to send a
  // long one whole. Cut by code points, so no surrogate pair is split (a lone surrogate
  // would make the report unreadable to the gate, and the refusal lose its code).
  let message = "";
  for (const c of String(refusal.error.message)) {
    if (message.length >= MAX_REPORT_MESSAGE) break;
    message += c;
  }
  const body = { code: refusal.error.code, message, kind, name };
  try {
    await post(sealer, encodeRequest("report", request.id, REPORT_NAME, { json: stringify(body) }));
  } catch (e) {
    console.error(`portcullis: could not report a refusal to the core: ${e}`);
  }
}

/**
 * The first AES-GCM operation and the first message of a page load are several times
 * slower than later ones (the engine starts its crypto work queue and the transport's
 * plumbing on first use). Doing both once, on the side, while the hook loads takes that
 * cost off the app's first call. Neither sends anything to the gate: the transport's
 * warm-up sends nothing there (transport.js), and the key is a throwaway one.
 */
function warmUp() {
  warmTransport();
  mark(boot, "transport warm-up sent");
  crypto.subtle
    .generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt"])
    .then((key) => crypto.subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, key, new Uint8Array(16)))
    .catch(() => {});
}

// The frame's own start-up, marked like a call's stages (for the profile build).
const boot = { hops: undefined };

async function start() {
  mark(boot, "runtime started");
  if (self.origin !== "null" || window.parent === window || window.parent !== window.top) {
    // Not sandboxed, or not the direct child of the top frame: refuse to act as a sealer.
    unavailable("isolation frame must be a sandboxed direct child of the main frame");
    return;
  }
  const session = readSession();
  if (!session || !session.key) {
    unavailable("no session key for this document (the key is delivered once per page load)");
    return;
  }
  mark(boot, "session read");
  // On their way before the sealer's synchronous set-up holds this thread.
  warmUp();
  mark(boot, "warm-up started");
  // The hook first: its file is on its way already (the document preloads it).
  const hookReady = loadHook(session.hook)
    .catch((e) => ({ failure: `no validation hook is installed (${e}): every call is refused` }))
    .then((loaded) => {
      if (loaded.failure) console.error(`portcullis: ${loaded.failure}`);
      return loaded;
    });
  hookReady.then(() => mark(boot, "hook ready"));
  mark(boot, "hook import started");
  const wasm = readSealerModule();
  mark(boot, "sealer module read");
  const sealerReady = Sealer.create({
    keyBytes: fromBase64(session.key),
    sid: fromBase64(session.sid),
    label: session.webview,
    wasm,
  }).catch((e) => {
    unavailable(`could not import the session key: ${e}`);
    return null;
  });
  sealerReady.then(() => mark(boot, "sealer ready"));
  sealerReady.then((s) => s && s.ready()).then(() => mark(boot, "sealer: both engines ready"));
  mark(boot, "sealer started");
  delete session.key;
  const context = Object.freeze({ webview: session.webview, origin: session.origin });
  const limits = Object.freeze({
    hookTimeoutMs: session.hookTimeoutMs,
    maxDepth: session.maxDepth,
    maxBytes: session.maxMessageBytes,
  });
  const parent = window.parent;

  // Calls between their arrival and their reply: id -> {token, sent, cancelled}.
  const inflight = new Map();
  // Streams the gate opened: id -> {writer (the opener's key), next (the next chunk's
  // number), unanswered}.
  const streams = new Map();

  const handle = async (request) => {
    const entry = { token: request.token, sent: false, cancelled: false, hops: undefined };
    mark(entry, "received");
    const respond = (reply) => {
      const transfer = reply.bytes ? [reply.bytes] : [];
      mark(entry, "reply posted");
      // The request's token goes back with the reply: the bridge settles a call only with
      // the reply that carries its token.
      const message = { id: request.id, token: request.token, ...reply };
      // The profile build's marks (never set otherwise).
      if (entry.hops) Object.assign(message, { hops: entry.hops, boot: boot.hops });
      parent.postMessage(message, "*", transfer);
    };
    // Refusals made here are reported to the gate before the caller hears of them, so
    // the app's audit sees every refused call, whichever side refused it.
    const refuse = async (refusal) => {
      const sealer = await sealerReady;
      if (sealer) await report(sealer, request, refusal);
      respond(refusal);
    };
    if (inflight.has(request.id)) {
      // A cancel must never have two calls to choose from; the gate refuses the same.
      await refuse(rejectWith("E_BAD_REQUEST", `call ${request.id} of this page is still running: ids name one call`));
      return;
    }
    inflight.set(request.id, entry);
    try {
      let payload;
      try {
        payload = canonicalRequest(request, limits);
        mark(entry, "canonical copy");
      } catch (e) {
        await refuse(refusalOf(e));
        return;
      }
      const loaded = await hookReady;
      if (loaded.failure) {
        await refuse(rejectWith("E_HOOK_REJECTED", loaded.failure));
        return;
      }
      // A kind the hook does not declare never reaches it: a hook written before that
      // kind existed would pass what it does not recognise.
      const notJudged = unjudged(loaded.kinds, request.kind);
      if (notJudged !== null) {
        await refuse(rejectWith("E_HOOK_REJECTED", notJudged));
        return;
      }
      const ctx = { ...context, kind: request.kind };
      try {
        const verdict = await validate(loaded.hook, request, payload, Object.freeze(ctx), limits);
        mark(entry, "hook");
        if (!verdict.ok) {
          await refuse(verdict);
          return;
        }
        const sealer = await sealerReady;
        if (!sealer) {
          respond(rejectWith("E_ISOLATION_UNAVAILABLE", "the session key could not be imported"));
          return;
        }
        if (entry.cancelled) {
          respond(rejectWith("E_CANCELLED", "the call was cancelled before it was sent"));
          return;
        }
        entry.sent = true;
        const reply = await send(sealer, request, verdict, entry);
        // A stream the gate opened takes chunks from now on, only from whoever opened it:
        // whoever holds the writer key its open carried. The key never leaves this frame
        // (no reply carries it), unlike the call's token, which the reply echoes and any
        // listener in the main frame sees.
        if (request.kind === "stream" && reply.ok) {
          streams.set(request.id, { writer: request.writer, next: 0, unanswered: 0 });
        }
        respond(reply);
      } catch (e) {
        respond(rejectWith("E_BAD_REQUEST", `cannot send this call: ${e}`));
      }
    } finally {
      inflight.delete(request.id);
    }
  };

  /** A cancel from the parent, for one of its calls (the token says it is its own). */
  const cancel = async (message) => {
    const entry = inflight.get(message.cancel);
    if (!entry || entry.token !== message.token || entry.cancelled) return;
    entry.cancelled = true;
    if (!entry.sent) return;
    const sealer = await sealerReady;
    if (!sealer) return;
    // The gate answers E_NO_SUCH_CALL when the call finished meanwhile: nothing to do.
    await post(sealer, encodeRequest("cancel", message.cancel, CANCEL_NAME, { json: "" }));
  };
  /**
   * A channel pull for the parent (`pull <id>` or `close <id>`): not a message to the
   * gate, so not sealed and not hooked; it starts nothing, and the core serves it only
   * for this webview's current page load (PROTOCOL.md §12). The frames go back
   * transferred, not copied.
   */
  const relayPull = async (message) => {
    // A close or done is answered `null`: no frames.
    const reply = await pullChannel(message.pull);
    const answer = reply.ok ? { ok: true, frames: reply.bytes || new ArrayBuffer(0) } : reply;
    parent.postMessage({ pulled: message.token, ...answer }, "*", answer.frames ? [answer.frames] : []);
  };
  /**
   * A chunk for one of the parent's streams: `{chunk: id, writer, key, bytes}` (the data,
   * with its first byte left for the operation), `{chunk: id, writer, key, end: true}` or
   * `{chunk: id, writer, key, abort: reason}`. Only the stream's opener (the writer key
   * its open carried) may send on it, and only to a stream the gate opened: anything
   * else is never sealed.
   * Chunks do not pass the hook again: it judged the open (kind "stream", the metadata).
   */
  const chunkOf = (message) => {
    const id = message.chunk;
    const answer = (reply) => {
      const transfer = reply.bytes ? [reply.bytes] : [];
      // The bridge's key for this chunk comes back with its answer.
      parent.postMessage({ chunked: id, key: message.key, ...reply }, "*", transfer);
    };
    const stream = streams.get(id);
    if (!stream || typeof message.writer !== "string" || stream.writer !== message.writer) {
      answer(rejectWith("E_NO_SUCH_STREAM", `no stream ${id} of this page is open here: its open was refused, or never made`));
      return;
    }
    let plaintext;
    let last = false;
    if (message.end === true) {
      plaintext = chunkPlaintext({ end: true });
      last = true;
    } else if (typeof message.abort === "string") {
      plaintext = chunkPlaintext({ abort: message.abort.slice(0, MAX_REASON) });
      last = true;
    } else if (isBytes(message.bytes) && message.bytes.length >= 1) {
      plaintext = chunkPlaintext({ bytes: message.bytes });
    } else {
      answer(rejectWith("E_BAD_REQUEST", "a chunk carries bytes, end or abort"));
      return;
    }
    if (!last && stream.unanswered >= STREAM_WINDOW) {
      answer(rejectWith("E_BAD_REQUEST", `at most ${STREAM_WINDOW} chunks of a stream are sent at once`));
      return;
    }
    const number = stream.next++;
    if (last) streams.delete(id);
    stream.unanswered += 1;
    // Sealed and sent at once: the bridge keeps a few of a stream's chunks in flight,
    // and the core puts them back in their numbers' order.
    (async () => {
      let reply;
      try {
        const sealer = await sealerReady;
        if (!sealer) {
          reply = rejectWith("E_ISOLATION_UNAVAILABLE", "the session key could not be imported");
        } else {
          reply = await deliver(await sealer.sealChunk(id, number, plaintext));
        }
      } catch (e) {
        reply = rejectWith("E_BAD_REQUEST", `cannot seal this chunk: ${e}`);
      } finally {
        stream.unanswered -= 1;
      }
      // A refused chunk ends the stream for its opener (the bridge fails the stream on
      // it): the entry goes, so a stream that broke leaves nothing behind here.
      if (!reply.ok) streams.delete(id);
      answer(reply);
    })();
  };
  // A page the engine keeps in its back/forward cache (WebView2 and WKWebView keep one
  // that wry cannot switch off): this frame's session was revoked when the page was
  // left, so once hidden that way it sends nothing again, and a restored page is told
  // at once that calls cannot be made (the bridge fails them with E_ISOLATION_UNAVAILABLE
  // and its script reloads the page). Here, where the page's scripts cannot reach.
  let retired = false;
  window.addEventListener("pagehide", (event) => {
    if (event.persisted) retired = true;
  });
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    retired = true;
    unavailable("the page was restored from the back/forward cache: its session ended when it was left; reload the page");
  });
  window.addEventListener("message", (event) => {
    if (retired || !event.isTrusted || event.source !== parent) return;
    const request = event.data;
    if (!request || typeof request !== "object") return;
    if (Object.hasOwn(request, "chunk")) {
      if (Number.isSafeInteger(request.chunk) && Number.isSafeInteger(request.key)) {
        chunkOf(request);
      }
      return;
    }
    if (Object.hasOwn(request, "pull")) {
      if (typeof request.pull === "string" && PULL_PATTERN.test(request.pull) && Number.isSafeInteger(request.token)) {
        relayPull(request);
      }
      return;
    }
    if (Object.hasOwn(request, "cancel")) {
      if (Number.isSafeInteger(request.cancel)) cancel(request).catch(() => {});
      return;
    }
    if (!Number.isSafeInteger(request.id) || request.id < 0) return;
    handle(request);
  });
  parent.postMessage({ portcullis: "ready" }, "*");
}

start().catch((e) => unavailable(`isolation runtime failed to start: ${e}`));
