// How the isolation frame's messages reach the Rust gate and its answers come back
// (portcullis-wry's src/transport/): one of two ways, the one Rust chose for this webview.
//
// - Native: the engine's script message handler with replies
//   (`window.webkit.messageHandlers.<nativeHandler>`), which Rust registers only when it
//   chose it. `postMessage` takes one string and its promise resolves to one string,
//   each marked by its first character (portcullis-wry's src/engine/native_form.rs):
//   "E" an envelope or "C" a channel request (or "W", a warm-up); "=" a JSON result, "!"
//   a JSON error, "#" a bytes result. Bytes travel as standard base64: the engine passes
//   strings whole but no ArrayBuffer through this path, and its own base64 conversions
//   are far faster than any string made byte by byte in JavaScript.
// - Fetch: `POST ipc://localhost/`, the answer being the HTTP response (a short JSON
//   answer also in the reply header). Where the engine's request bodies are not read
//   (`bodyHeader` is set), the message travels base64 in that request header instead.
//
// The frame is a window of its own (sandboxed, opaque origin): nothing the main frame
// does can change its `webkit` object or its `fetch`.
//
// Every answer is {ok: true, json} | {ok: true, bytes} | {ok: false, error}.

import { PROTOCOL } from "./protocol.js";

const { ipcUrl: IPC_URL, channelUrl: CHANNEL_URL, replyHeader: INLINE_REPLY } = PROTOCOL.transport;
const BODY_HEADER = PROTOCOL.transport.bodyHeader;
const parseJson = JSON.parse;

/** The native handler, when Rust registered one for this webview; else null. */
const NATIVE_WAY = (() => {
  const handlers = globalThis.webkit && globalThis.webkit.messageHandlers;
  const handler = handlers && handlers[PROTOCOL.transport.nativeHandler];
  return handler && typeof handler.postMessage === "function" ? handler : null;
})();

/** Which way this frame's messages travel: "native" or "fetch". */
export const TRANSPORT_WAY = NATIVE_WAY ? "native" : "fetch";

const transportFailed = (e) => ({
  ok: false,
  error: { code: "E_ISOLATION_UNAVAILABLE", message: `transport failed: ${e}` },
});
const unreadableAnswer = (what) => ({
  ok: false,
  error: { code: "E_INTERNAL", message: `unreadableAnswer error reply (${what})` },
});

/** Posts an envelope (bytes) to the gate; resolves to its answer. */
export async function toGate(envelope) {
  return exchangeWithGate(IPC_URL, envelope);
}

/** Sends a channel pull's text (`pull <id>`, `close <id>`, `done <id>`); resolves to its answer. */
export async function pullChannel(text) {
  return exchangeWithGate(CHANNEL_URL, text);
}

/**
 * Takes the first use's cost (the engine's plumbing for this way) off the app's first
 * call. Sends nothing to the gate: a CORS preflight for fetch; natively a warm-up
 * message ("W"), which Rust answers at once without reading any state.
 */
export function warmTransport() {
  if (NATIVE_WAY) NATIVE_WAY.postMessage("W").catch(() => {});
  else fetch(IPC_URL, { method: "OPTIONS" }).catch(() => {});
}

async function exchangeWithGate(url, message) {
  if (NATIVE_WAY) {
    let value;
    try {
      value = await NATIVE_WAY.postMessage(typeof message === "string" ? "C" + message : "E" + base64OfBytes(message));
    } catch (e) {
      return transportFailed(e);
    }
    return answerOfNative(value);
  }
  let response;
  try {
    response = await fetch(url, fetchInitOf(message));
  } catch (e) {
    return transportFailed(e);
  }
  return answerOfResponse(response);
}

/** A view or an ArrayBuffer as a Uint8Array over the same bytes. */
function bytesOf(message) {
  return ArrayBuffer.isView(message)
    ? new Uint8Array(message.buffer, message.byteOffset, message.byteLength)
    : new Uint8Array(message);
}

// The engine's own base64 conversions where it has them (WebKitGTK 2.48 and later); a
// string made piece by piece and the engine's atob/btoa otherwise.
const TO_BASE64 = Uint8Array.prototype.toBase64;
const FROM_BASE64 = Uint8Array.fromBase64;

/** Standard base64 (padded) of bytes (a view or an ArrayBuffer). */
export function base64OfBytes(message) {
  const bytes = bytesOf(message);
  if (TO_BASE64) return TO_BASE64.call(bytes);
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

/** The bytes standard base64 `text` stands for, from index `from`; throws if it is not base64. */
export function bytesOfBase64(text, from) {
  const encoded = text.slice(from);
  if (FROM_BASE64) return FROM_BASE64.call(Uint8Array, encoded, { lastChunkHandling: "strict" }).buffer;
  const binary = atob(encoded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes.buffer;
}

function answerOfNative(value) {
  if (typeof value !== "string" || value.length === 0) return unreadableAnswer(`native answer of type ${typeof value}`);
  if (value[0] === "#") {
    try {
      return { ok: true, bytes: bytesOfBase64(value, 1) };
    } catch (e) {
      return unreadableAnswer("native bytes answer");
    }
  }
  const text = value.slice(1);
  if (value[0] === "=") return { ok: true, json: text };
  if (value[0] !== "!") return unreadableAnswer("native answer without its mark");
  try {
    return { ok: false, error: parseJson(text) };
  } catch (e) {
    return unreadableAnswer("native error answer");
  }
}

function fetchInitOf(message) {
  if (!BODY_HEADER) return { method: "POST", body: message };
  return { method: "POST", headers: { [BODY_HEADER]: base64Of(message) } };
}

/** Standard base64 of bytes, or of a string's UTF-8. */
function base64Of(message) {
  return base64OfBytes(typeof message === "string" ? new TextEncoder().encode(message) : message);
}

async function answerOfResponse(response) {
  // A short JSON answer comes in a header too: no wait for the body (transport/http.rs).
  const inline = response.headers.get(INLINE_REPLY);
  if (inline !== null) {
    if (response.ok) return { ok: true, json: inline };
    try {
      return { ok: false, error: parseJson(inline) };
    } catch (e) {
      return unreadableAnswer(`HTTP ${response.status}`);
    }
  }
  const type = response.headers.get("content-type") || "";
  if (response.ok && type.startsWith("application/octet-stream")) {
    return { ok: true, bytes: await response.arrayBuffer() };
  }
  if (response.ok) return { ok: true, json: await response.text() };
  try {
    return { ok: false, error: await response.json() };
  } catch (e) {
    return unreadableAnswer(`HTTP ${response.status}`);
  }
}
