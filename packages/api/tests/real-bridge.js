// The real bridge (crates/portcullis-wry/js/bridge.js) under Node: what the package calls
// in a webview, with the same frozen, read-only objects. It runs in its brownfield mode
// (no isolation frame), so its requests go to `fetch`, which a stand-in core answers. It
// defines `window.portcullis` for good, as in a webview: load it in a test file of its
// own.
import { readFileSync } from "node:fs";

// The protocol's constants as Rust writes them (the bridge gets the same object).
import { PROTOCOL } from "../../../isolation-app/protocol.js";

const root = new URL("../../../", import.meta.url);
// PORTCULLIS_BRIDGE names another copy (an older one, to see a test fail before a fix).
const BRIDGE = process.env.PORTCULLIS_BRIDGE
  ? new URL(`file://${process.env.PORTCULLIS_BRIDGE}`)
  : new URL("crates/portcullis-wry/js/bridge.js", root);
const SEALER = new URL("isolation-app/sealer.js", root);

/** The DOM classes and getters the bridge keeps when it starts (none is used here). */
function domStandIns() {
  const g = globalThis;
  const withGetter = (C, name) => {
    if (!Object.getOwnPropertyDescriptor(C.prototype, name)) {
      Object.defineProperty(C.prototype, name, { get: () => null, configurable: true });
    }
    return C;
  };
  g.HTMLIFrameElement ??= withGetter(class HTMLIFrameElement {}, "contentWindow");
  g.Node ??= withGetter(class Node { appendChild() {} }, "isConnected");
  g.MutationObserver ??= class MutationObserver { observe() {} disconnect() {} };
  g.Document ??= class Document { createElement() {} };
  g.Element ??= class Element { setAttribute() {} };
}

/**
 * A plain request or chunk as the core reads it (PROTOCOL.md §2): its kind byte, id,
 * name and body; for a brownfield chunk also its number, operation (PROTOCOL.chunkOps)
 * and data.
 */
export function decode(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const nameLength = view.getUint16(10);
  const at = PROTOCOL.prefixLen + nameLength;
  const message = {
    kind: bytes[0],
    id: Number(view.getBigUint64(2)),
    name: new TextDecoder().decode(bytes.subarray(PROTOCOL.prefixLen, at)),
    body: bytes.subarray(at),
  };
  if (message.kind === PROTOCOL.kinds.chunk) {
    message.number = Number(view.getBigUint64(at));
    message.op = bytes[at + 8];
    message.data = bytes.subarray(at + 9);
  }
  return message;
}

/**
 * Installs `window.portcullis` from the real bridge. `core(message)` answers each
 * request (decoded) with `{status, json}`: JSON text, an error object for a status
 * other than 200.
 */
export async function installRealBridge(core) {
  domStandIns();
  globalThis.fetch = async (url, init) => {
    // The message as the engine's transport carries it: in the `Portcullis-Body` header
    // (base64) where request bodies are not read (WebKitGTK), else in the body.
    const carried = PROTOCOL.transport.bodyHeader && init.headers && init.headers[PROTOCOL.transport.bodyHeader];
    const bytes = carried !== undefined && carried !== null
      ? Uint8Array.from(atob(carried), (c) => c.charCodeAt(0))
      : new Uint8Array(await new Response(init.body).arrayBuffer());
    // A channel pull (`pull <id>`, `close <id>`) is text, not a request: the core gets
    // `{pull}` and may answer with `frames` (an ArrayBuffer) instead of JSON.
    const message = String(url) === PROTOCOL.transport.channelUrl
      ? { pull: new TextDecoder().decode(bytes) }
      : decode(bytes);
    const { status = 200, json = "", frames } = await core(message);
    if (frames) return new Response(frames, { status, headers: { "content-type": "application/octet-stream" } });
    return new Response(json, { status, headers: { "content-type": "application/json" } });
  };
  globalThis.__PORTCULLIS_CONFIG__ = {
    isolation: false,
    sealerUrl: SEALER.href,
    protocol: PROTOCOL,
    fallbackTimeoutMs: 5000,
    maxChunkBytes: 1024,
  };
  new Function(readFileSync(BRIDGE, "utf8"))();
  await globalThis.portcullis.ready();
  return globalThis.portcullis;
}
