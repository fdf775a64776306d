// Portcullis wire format v1, the JavaScript side: encodes requests and seals them.
//
// docs/PROTOCOL.md is the normative text; fixtures/vectors/wire-v1.json checks this
// file byte for byte (the e2e vector test runs it inside WebKitGTK).
//
// Runs in the isolation frame. Two AES-256-GCM engines seal, with the same key:
// - small messages (up to WASM_MAX_PLAINTEXT bytes, which is nearly every call):
//   RustCrypto's constant-time AES-GCM compiled to WebAssembly (sealer.wasm, built from
//   crates/portcullis-sealer-wasm), synchronously: WebCrypto's encrypt is asynchronous,
//   and the hop to its work queue and back cost more than the cipher (about 140 µs of a
//   call here, against a few µs in WebAssembly);
// - larger ones: WebCrypto, with the key imported as non-extractable.
// The key lives in the module's memory and in WebCrypto, both inside this sandboxed,
// cross-origin frame that the main frame cannot read. The raw bytes handed in are
// overwritten with zeros straight away. Without the module (not given, or the engine
// refused it), everything is sealed with WebCrypto.

import { PROTOCOL } from "./protocol.js";

// The wire format's constants, as Rust defines them (protocol.js).
const { magic: MAGIC, version: VERSION, headerLen: HEADER_LEN, chunkFlag: CHUNK_FLAG } = PROTOCOL.envelope;
const { nonceLen: NONCE_LEN, tagLen: TAG_LEN } = PROTOCOL.envelope;
/** A chunk envelope's header: the header, the stream id and the chunk number. */
const CHUNK_HEADER_LEN = PROTOCOL.envelope.chunkHeaderLen;
const PREFIX_LEN = PROTOCOL.prefixLen;
/** Each kind's first byte: command, event, report, cancel, stream, chunk. */
const KINDS = Object.freeze({ ...PROTOCOL.kinds });
const BODY_TYPES = Object.freeze({ ...PROTOCOL.bodyTypes });
/** A chunk's operations (PROTOCOL.md §6.3). */
const CHUNK_OPS = Object.freeze({ ...PROTOCOL.chunkOps });
/** The name a brownfield chunk is framed under. */
const CHUNK_NAME = PROTOCOL.names.chunk;
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/**
 * The name grammar of PROTOCOL.md §2, as a pattern and in words. The Rust core's
 * `portcullis_core::name` is the source; a test there checks these two lines against it.
 */
export const NAME_PATTERN = /^[A-Za-z0-9_.:|/-]{1,128}$/;
export const NAME_RULE = "1-128 characters from [A-Za-z0-9_.:|/-]";

const utf8 = new TextEncoder();

/** The largest plaintext the WebAssembly module seals; larger ones go to WebCrypto. */
export const WASM_MAX_PLAINTEXT = 2048;

/**
 * Encodes the plaintext request of PROTOCOL.md §2.
 * @param {"command"|"event"|"report"|"cancel"|"stream"} kind
 * @param {number} id request id (a safe integer)
 * @param {string} name command or event name
 * @param {{json: string} | {bytes: Uint8Array}} body JSON text, or raw bytes
 * @returns {Uint8Array}
 */
export function encodeRequest(kind, id, name, body) {
  // A chunk is framed by encodeClearChunk alone.
  const kindByte = kind === "chunk" || !Object.hasOwn(KINDS, kind) ? undefined : KINDS[kind];
  if (kindByte === undefined) throw new TypeError(`unknown kind ${kind}`);
  const json = "json" in body;
  const bodyBytes = json ? utf8.encode(body.json) : body.bytes;
  const { out, at } = framed(kindByte, json ? BODY_TYPES.json : BODY_TYPES.bytes, id, name, bodyBytes.length);
  out.set(bodyBytes, at);
  return out;
}

/**
 * The framing every plaintext shares (PROTOCOL.md §2) for a body of `bodyLength` bytes:
 * the buffer, and where its body starts.
 */
function framed(kindByte, bodyType, id, name, bodyLength) {
  // Refuse rather than coerce: the name sealed must be exactly the name validated.
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
    throw new TypeError(`name must be ${NAME_RULE}`);
  }
  if (!Number.isSafeInteger(id) || id < 0) throw new TypeError("request id must be a safe non-negative integer");
  const nameBytes = utf8.encode(name);
  const out = new Uint8Array(PREFIX_LEN + nameBytes.length + bodyLength);
  const view = new DataView(out.buffer);
  out[0] = kindByte;
  out[1] = bodyType;
  view.setBigUint64(2, BigInt(id));
  view.setUint16(10, nameBytes.length);
  out.set(nameBytes, PREFIX_LEN);
  return { out, at: PREFIX_LEN + nameBytes.length };
}
/** The nonce of sequence number `seq`: zero bytes, then seq (u64 BE) in its last 8. */
export function nonceFor(seq) {
  const nonce = new Uint8Array(NONCE_LEN);
  new DataView(nonce.buffer).setBigUint64(NONCE_LEN - 8, BigInt(seq));
  return nonce;
}

/** The header of PROTOCOL.md §4 / §6.1 (HEADER_LEN bytes). */
export function header(sid, seq) {
  const h = new Uint8Array(HEADER_LEN);
  h.set(MAGIC, 0);
  h[2] = VERSION;
  h[3] = 0;
  h.set(sid, 4);
  new DataView(h.buffer).setBigUint64(20, BigInt(seq));
  h.set(nonceFor(seq), 28);
  return h;
}

/** The header of a stream chunk (PROTOCOL.md §6.3, CHUNK_HEADER_LEN bytes). */
export function chunkHeader(sid, seq, stream, number) {
  const h = new Uint8Array(CHUNK_HEADER_LEN);
  h.set(header(sid, seq), 0);
  h[3] = CHUNK_FLAG;
  const view = new DataView(h.buffer);
  view.setBigUint64(HEADER_LEN, BigInt(stream));
  view.setBigUint64(HEADER_LEN + 8, BigInt(number));
  return h;
}

/** The associated data: header, then the webview label with a u16 length prefix. */
export function associatedData(sid, seq, labelBytes, head = header(sid, seq)) {
  const aad = new Uint8Array(head.length + 2 + labelBytes.length);
  aad.set(head, 0);
  new DataView(aad.buffer).setUint16(head.length, labelBytes.length);
  aad.set(labelBytes, head.length + 2);
  return aad;
}

/**
 * The plaintext of a chunk (PROTOCOL.md §6.3): its operation byte, then the data or the
 * abort's reason. `chunk` is `{bytes}` (the data, after a first byte left for the
 * operation, which is written there: no copy), `{end: true}` or `{abort: reason}`.
 */
export function chunkPlaintext(chunk) {
  if (chunk.end === true) return new Uint8Array([CHUNK_OPS.end]);
  if (typeof chunk.abort === "string") {
    const reason = utf8.encode(chunk.abort);
    const plaintext = new Uint8Array(1 + reason.length);
    plaintext[0] = CHUNK_OPS.abort;
    plaintext.set(reason, 1);
    return plaintext;
  }
  const plaintext = chunk.bytes;
  plaintext[0] = CHUNK_OPS.data;
  return plaintext;
}

/**
 * A brownfield chunk (unsealed): the request framing of kind "chunk" under its name,
 * with the stream id as request id and a bytes body: the chunk number (u64), then
 * `plaintext` (from chunkPlaintext).
 */
export function encodeClearChunk(stream, number, plaintext) {
  const { out, at } = framed(KINDS.chunk, BODY_TYPES.bytes, stream, CHUNK_NAME, 8 + plaintext.length);
  new DataView(out.buffer).setBigUint64(at, BigInt(number));
  out.set(plaintext, at + 8);
  return out;
}

/** Standard base64 with padding (PROTOCOL.md conventions). */
export function toBase64(bytes) {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode.apply(null, bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

/** Decodes standard base64 (the engine's own decoder where it has one: much faster). */
export function fromBase64(text) {
  if (typeof Uint8Array.fromBase64 === "function") return Uint8Array.fromBase64(text);
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

// The typed-array methods the WebAssembly sealer calls on a view of the module's
// memory, kept before the hook loads: a hook (or what it imports) that replaced them
// would otherwise be handed that memory, key schedule included.
const { apply } = Reflect;
const NativeUint8Array = Uint8Array;
const typedArray = Object.getPrototypeOf(Uint8Array.prototype);
const typedSet = typedArray.set;
const typedSlice = typedArray.slice;
const typedFill = typedArray.fill;
const NativeWebAssembly = WebAssembly;

/**
 * AES-256-GCM sealing in the WebAssembly module (crates/portcullis-sealer-wasm): one key,
 * synchronous calls, all data passed through the module's one buffer.
 */
export class WasmAead {
  #exports;
  #io;

  constructor(exports, io) {
    this.#exports = exports;
    this.#io = io;
  }

  /**
   * Compiles and instantiates `moduleBytes` and gives it the key, then zeroes
   * `keyBytes`. Compiling is asynchronous: the engine does it on its own threads (a
   * synchronous compile held the frame's thread for about 16 ms at start-up here). Rejects
   * if the engine refuses the module or the module the key; the module's copy of the key
   * bytes in its buffer is zeroed by the module itself.
   */
  static async create(moduleBytes, keyBytes) {
    try {
      const { instance } = await NativeWebAssembly.instantiate(moduleBytes, {});
      const { exports } = instance;
      const io = new NativeUint8Array(exports.memory.buffer, exports.io(), exports.io_len());
      apply(typedSet, io, [keyBytes, 0]);
      if (exports.key() !== 1) throw new Error("the WebAssembly sealer refused the key");
      return new WasmAead(exports, io);
    } finally {
      apply(typedFill, keyBytes, [0]);
    }
  }

  /** Whether a plaintext of `length` bytes with `aadLength` bytes of associated data fits. */
  fits(aadLength, length) {
    return NONCE_LEN + aadLength + length + TAG_LEN <= this.#io.length;
  }

  /** Ciphertext and tag of `plaintext`, or null when it does not fit the module's buffer. */
  seal(nonce, aad, plaintext) {
    const io = this.#io;
    const start = nonce.length + aad.length;
    const end = start + plaintext.length;
    if (nonce.length !== NONCE_LEN || !this.fits(aad.length, plaintext.length)) return null;
    apply(typedSet, io, [nonce, 0]);
    apply(typedSet, io, [aad, nonce.length]);
    apply(typedSet, io, [plaintext, start]);
    if (this.#exports.seal(aad.length, plaintext.length) !== 1) {
      throw new Error("the WebAssembly sealer failed");
    }
    return apply(typedSlice, io, [start, end + TAG_LEN]);
  }
}

/**
 * Seals requests for one session. Owns the sequence counter: a nonce is used once.
 */
export class Sealer {
  #key;
  #small = null;
  #smallReady;
  #smallMax;
  #sid;
  #label;
  #nextSeq;

  constructor(key, smallReady, smallMax, sid, labelBytes, firstSeq) {
    this.#key = key;
    // The module once it has the key (null without one, or if the engine refused it).
    this.#smallReady = smallReady.then((small) => (this.#small = small));
    this.#smallMax = smallMax;
    this.#sid = sid;
    this.#label = labelBytes;
    this.#nextSeq = firstSeq;
  }

  /**
   * Imports `keyBytes` as a non-extractable WebCrypto key and, given the module's bytes
   * (`wasm`), into the WebAssembly sealer, side by side; then zeroes `keyBytes`. Resolves
   * once one of them has the key: a message is sealed by the module once it is ready,
   * by WebCrypto until then. Rejects only if neither can have it.
   * @param {{keyBytes: Uint8Array, sid: Uint8Array, label: string, firstSeq?: number,
   *   wasm?: Uint8Array, wasmMax?: number}} init
   */
  static async create({ keyBytes, sid, label, firstSeq = 1, wasm, wasmMax = WASM_MAX_PLAINTEXT }) {
    let key;
    let smallReady = Promise.resolve(null);
    try {
      if (wasm) {
        // The module's own copy, zeroed by WasmAead.create once the module has it.
        smallReady = WasmAead.create(wasm, keyBytes.slice()).catch((e) => {
          console.warn(`portcullis: the WebAssembly sealer is unavailable, sealing with WebCrypto: ${e}`);
          return null;
        });
      }
      // importKey copies the bytes before it returns, so they can be zeroed right after.
      key = crypto.subtle.importKey("raw", keyBytes, { name: "AES-GCM" }, false, ["encrypt"]);
    } finally {
      keyBytes.fill(0);
    }
    const sealer = new Sealer(key, smallReady, wasmMax, sid, utf8.encode(label), firstSeq);
    const moduleReady = smallReady.then((small) => small !== null);
    const keyReady = key.then(() => true, () => false);
    // Ready once either engine has the key; refused (with WebCrypto's error) only if
    // neither can have it.
    if (!(await Promise.race([moduleReady, keyReady]))) {
      const [hasModule, hasKey] = await Promise.all([moduleReady, keyReady]);
      if (!hasModule && !hasKey) await key;
    }
    return sealer;
  }

  /** Resolves once every engine this sealer was given is ready or has failed. */
  async ready() {
    await this.#smallReady;
    await this.#key.catch(() => {});
  }

  /** Which engine seals a message of `length` bytes now: "wasm" or "webcrypto". */
  engineFor(length) {
    const aadLength = HEADER_LEN + 2 + this.#label.length;
    return this.#small && length <= this.#smallMax && this.#small.fits(aadLength, length) ? "wasm" : "webcrypto";
  }

  /**
   * Seals `plaintext` (from encodeRequest) and encodes it.
   * @param {Uint8Array} plaintext
   * @param {"binary"|"json"} encoding
   * @returns {Promise<Uint8Array|string>}
   */
  async seal(plaintext, encoding = "binary") {
    return this.#seal(plaintext, encoding, null);
  }

  /**
   * Seals chunk `number` of stream `stream` (PROTOCOL.md §6.3, binary only): `plaintext`
   * is the operation byte and the data. The stream id and number are in the header, so
   * in the associated data.
   */
  async sealChunk(stream, number, plaintext) {
    return this.#seal(plaintext, "binary", { stream, number });
  }

  async #seal(plaintext, encoding, chunk) {
    const seq = this.#nextSeq;
    if (seq > MAX_SEQ) throw new RangeError("sequence numbers exhausted: reload the page");
    this.#nextSeq = seq + 1;
    const iv = nonceFor(seq);
    const head = chunk ? chunkHeader(this.#sid, seq, chunk.stream, chunk.number) : header(this.#sid, seq);
    const additionalData = associatedData(this.#sid, seq, this.#label, head);
    const ct =
      (this.engineFor(plaintext.length) === "wasm" && this.#small.seal(iv, additionalData, plaintext)) ||
      new Uint8Array(
        await crypto.subtle.encrypt(
          { name: "AES-GCM", iv, additionalData, tagLength: TAG_LEN * 8 },
          await this.#key,
          plaintext,
        ),
      );
    if (encoding === "json") {
      return (
        `{"v":${VERSION},"sid":"${toBase64(this.#sid)}","seq":${seq},` +
        `"nonce":"${toBase64(iv)}","ct":"${toBase64(ct)}"}`
      );
    }
    const out = new Uint8Array(head.length + ct.length);
    out.set(head, 0);
    out.set(ct, head.length);
    return out;
  }
}
