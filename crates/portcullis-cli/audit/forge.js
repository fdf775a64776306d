// Envelope tools for attack files, offered as `ctx.forge`: the wire format of
// docs/PROTOCOL.md written out with WebCrypto, so an attack can seal the canary with a key
// it read or made up, re-encode a captured envelope, or move its header, without
// importing Portcullis's own sealer (a strict CSP may keep that module out of the page).
// They are the attacker's tools: nothing here is trusted by the audit, which judges on the
// Rust side.

const te = new TextEncoder();

/** Base64 of bytes, and back. */
export const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
export const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

/**
 * A plaintext request (PROTOCOL.md §2): `kind` 1 command, 2 event, 3 report; request
 * `id`; a JSON `body` text (default `{}`).
 */
export function plaintext(name, { kind = 1, id = 1, body = "{}" } = {}) {
  const n = te.encode(name);
  const b = te.encode(body);
  const out = new Uint8Array(12 + n.length + b.length);
  const view = new DataView(out.buffer);
  out[0] = kind;
  view.setBigUint64(2, BigInt(id));
  view.setUint16(10, n.length);
  out.set(n, 12);
  out.set(b, 12 + n.length);
  return out;
}

/** The 40-byte envelope header (§3) for session `sid` at `seq`, nonce derived from it. */
export function header(sid, seq) {
  const h = new Uint8Array(40);
  h.set([0x50, 0x43, 1, 0]);
  h.set(sid, 4);
  const view = new DataView(h.buffer);
  view.setBigUint64(20, BigInt(seq));
  view.setBigUint64(32, BigInt(seq));
  return h;
}

/**
 * Seals `plain` under raw key bytes and session id at `seq`, bound to webview `label`;
 * resolves to both encodings: `{ binary, json }`.
 */
export async function seal(keyBytes, sid, seq, plain, label) {
  const key = await crypto.subtle.importKey("raw", keyBytes, "AES-GCM", false, ["encrypt"]);
  const h = header(sid, seq);
  const l = te.encode(label);
  const aad = new Uint8Array(42 + l.length);
  aad.set(h);
  new DataView(aad.buffer).setUint16(40, l.length);
  aad.set(l, 42);
  const ct = new Uint8Array(
    await crypto.subtle.encrypt({ name: "AES-GCM", iv: h.slice(28), additionalData: aad }, key, plain),
  );
  const binary = new Uint8Array(40 + ct.length);
  binary.set(h);
  binary.set(ct, 40);
  return { binary, json: toJson(binary) };
}

/** A binary envelope in its JSON encoding (what wry's IPC handler takes). */
export function toJson(envelope) {
  const view = new DataView(envelope.buffer, envelope.byteOffset, envelope.byteLength);
  const seq = view.getBigUint64(20);
  return `{"v":1,"sid":"${b64(envelope.slice(4, 20))}","seq":${seq},"nonce":"${b64(envelope.slice(28, 40))}","ct":"${b64(envelope.slice(40))}"}`;
}

/** A copy of `envelope` moved to sequence number `seq` (its nonce moved with it). */
export function withSeq(envelope, seq) {
  const copy = envelope.slice();
  const view = new DataView(copy.buffer);
  view.setBigUint64(20, BigInt(seq));
  view.setBigUint64(32, BigInt(seq));
  return copy;
}

/**
 * Seals the canary with a session key found in `loot` (text holding the isolation
 * document's `"key":…,"sid":…`), or with a made-up one when none is there, and sends it
 * to both transports; notes what happened.
 */
export async function sealCanaryWith(ctx, loot) {
  const found = /"key":"([A-Za-z0-9+/=]+)","sid":"([A-Za-z0-9+/=]+)"/.exec(loot);
  ctx.note(found ? "A SESSION KEY WAS READ: sealing the canary with it" : "no key was read: sealing the canary with a made-up one");
  const keyBytes = found ? unb64(found[1]) : crypto.getRandomValues(new Uint8Array(32));
  const sid = found ? unb64(found[2]) : crypto.getRandomValues(new Uint8Array(16));
  const sealed = await seal(keyBytes, sid, 1_000_000, plaintext(ctx.canary), ctx.labels.main);
  ctx.note(`sealed canary, to ipc://: ${await ctx.raw(sealed.binary)}`);
  ctx.note(`sealed canary, to the IPC handler: ${ctx.ipc(sealed.json)}`);
}
