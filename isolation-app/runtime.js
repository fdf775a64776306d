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
// 3. For each request: runs the app's validation hook (sync or async) under a timeout,
//    seals the (possibly changed) request with AES-256-GCM, posts it to the Rust gate over
//    the ipc:// protocol, and returns the gate's answer to the parent.
//
// It tells the parent it is ready as soon as it listens; requests wait for the key import
// and the hook load, which run side by side.
//
// Replies to the parent are {id, ok: true, json} | {id, ok: true, bytes} |
// {id, ok: false, error: {code, message, appCode?}}.

import { NAME_PATTERN, Sealer, encodeRequest, fromBase64 } from "./sealer.js";

const IPC_URL = "ipc://localhost/";

function readSession() {
  const block = document.getElementById("portcullis-session");
  if (!block) return null;
  const session = JSON.parse(block.textContent);
  block.remove();
  return session;
}

function unavailable(message) {
  // Tell the parent, so queued calls fail with a clear code instead of timing out.
  window.parent.postMessage({ portcullis: "unavailable", message }, "*");
}

function rejectWith(code, message) {
  return { ok: false, error: { code, message: String(message) } };
}

/** Finds the hook: an ES module default export, or a global as Tauri hooks assign it. */
async function loadHook(url) {
  const module = await import(url);
  const hook =
    (typeof module.default === "function" && module.default) ||
    globalThis.__PORTCULLIS_HOOK__ ||
    globalThis.__TAURI_ISOLATION_HOOK__;
  return typeof hook === "function" ? hook : null;
}

/** Runs the hook under a timeout. Resolves to the payload to send, or a rejection. */
async function validate(hook, request, context, timeoutMs) {
  // Tauri's hook contract: one object {cmd, callback, error, payload, options}; the hook
  // returns it (possibly changed). Portcullis adds `kind` and a second argument, context.
  const message = {
    cmd: request.name,
    kind: request.kind,
    callback: request.id,
    error: request.id,
    payload: request.args ?? request.bytes,
    options: {},
  };
  let timer;
  const timeout = new Promise((resolve) => {
    timer = setTimeout(
      () => resolve(rejectWith("E_HOOK_TIMEOUT", `validation hook did not settle within ${timeoutMs} ms`)),
      timeoutMs,
    );
  });
  const verdict = (async () => {
    let result;
    try {
      result = await hook(message, context);
    } catch (reason) {
      const text = reason instanceof Error ? reason.message : reason;
      return rejectWith("E_HOOK_REJECTED", text ?? "validation hook rejected the call");
    }
    if (result === false) return rejectWith("E_HOOK_REJECTED", "validation hook returned false");
    if (result === true || result === undefined) return { ok: true, payload: message.payload };
    if (result !== null && typeof result === "object") {
      return { ok: true, payload: "payload" in result ? result.payload : message.payload };
    }
    return rejectWith(
      "E_HOOK_REJECTED",
      "validation hook must return the message, true or undefined to pass, or false to reject",
    );
  })();
  try {
    return await Promise.race([verdict, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Whatever the parent posts is treated as hostile (the main frame is untrusted): the
 * hook must see exactly what will be sealed, so anything that would be coerced on the
 * way (a String object or array as name, an over-long name) is refused here.
 */
function checkRequest(request) {
  if (request.kind !== "command" && request.kind !== "event") return "kind must be command or event";
  if (typeof request.name !== "string" || !NAME_PATTERN.test(request.name)) {
    return "name must be a string of 1-128 characters from [A-Za-z0-9_.:|/-]";
  }
  if (request.bytes !== undefined && !(request.bytes instanceof Uint8Array)) return "bytes must be a Uint8Array";
  return null;
}

function bodyOf(payload) {
  if (payload instanceof ArrayBuffer) return { bytes: new Uint8Array(payload) };
  if (ArrayBuffer.isView(payload)) {
    return { bytes: new Uint8Array(payload.buffer, payload.byteOffset, payload.byteLength) };
  }
  return { json: JSON.stringify(payload === undefined ? {} : payload) };
}

async function send(sealer, request, payload) {
  const plaintext = encodeRequest(request.kind, request.id, request.name, bodyOf(payload));
  const sealed = await sealer.seal(plaintext, "binary");
  let response;
  try {
    response = await fetch(IPC_URL, { method: "POST", body: sealed });
  } catch (e) {
    return rejectWith("E_ISOLATION_UNAVAILABLE", `transport failed: ${e}`);
  }
  const type = response.headers.get("content-type") || "";
  if (response.ok && type.startsWith("application/octet-stream")) {
    return { ok: true, bytes: await response.arrayBuffer() };
  }
  if (response.ok) return { ok: true, json: await response.text() };
  try {
    return { ok: false, error: await response.json() };
  } catch (e) {
    return rejectWith("E_INTERNAL", `unreadable error reply (HTTP ${response.status})`);
  }
}

/**
 * The first AES-GCM operation and the first ipc:// request of a page load are several
 * times slower than later ones (the engine starts its crypto work queue and the scheme
 * handler's plumbing on first use). Doing both once, on the side, while the hook loads
 * takes that cost off the app's first call. Neither sends anything to the gate: the
 * request is a CORS preflight, and the key is a throwaway one.
 */
function warmUp() {
  fetch(IPC_URL, { method: "OPTIONS" }).catch(() => {});
  crypto.subtle
    .generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt"])
    .then((key) => crypto.subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12) }, key, new Uint8Array(16)))
    .catch(() => {});
}

async function start() {
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
  const sealerReady = Sealer.create({
    keyBytes: fromBase64(session.key),
    sid: fromBase64(session.sid),
    label: session.webview,
  }).catch((e) => {
    unavailable(`could not import the session key: ${e}`);
    return null;
  });
  delete session.key;
  const hookReady = loadHook(session.hook).catch((e) => {
    console.error(`portcullis: could not load the validation hook: ${e}`);
    return null;
  });
  warmUp();
  const context = Object.freeze({ webview: session.webview, origin: session.origin });
  const parent = window.parent;

  const handle = async (request) => {
    const respond = (reply) => {
      const transfer = reply.bytes ? [reply.bytes] : [];
      // The request's token goes back with the reply: the bridge settles a call only with
      // the reply that carries its token.
      parent.postMessage({ id: request.id, token: request.token, ...reply }, "*", transfer);
    };
    const problem = checkRequest(request);
    if (problem) {
      respond(rejectWith("E_BAD_REQUEST", problem));
      return;
    }
    const hook = await hookReady;
    if (!hook) {
      respond(rejectWith("E_HOOK_REJECTED", "no validation hook is installed: every call is refused"));
      return;
    }
    const ctx = { ...context, kind: request.kind };
    try {
      const verdict = await validate(hook, request, Object.freeze(ctx), session.hookTimeoutMs);
      if (!verdict.ok) {
        respond(verdict);
        return;
      }
      const sealer = await sealerReady;
      respond(
        sealer
          ? await send(sealer, request, verdict.payload)
          : rejectWith("E_ISOLATION_UNAVAILABLE", "the session key could not be imported"),
      );
    } catch (e) {
      // E.g. a payload the hook returned that JSON cannot encode (BigInt, cycles).
      respond(rejectWith("E_BAD_REQUEST", `cannot send this call: ${e}`));
    }
  };
  window.addEventListener("message", (event) => {
    if (!event.isTrusted || event.source !== parent) return;
    const request = event.data;
    if (!request || !Number.isSafeInteger(request.id) || request.id < 0) return;
    handle(request);
  });
  parent.postMessage({ portcullis: "ready" }, "*");
}

start().catch((e) => unavailable(`isolation runtime failed to start: ${e}`));
