// Portcullis wire format v1, the JavaScript side: encodes requests and seals them.
//
// docs/PROTOCOL.md is the normative text; fixtures/vectors/wire-v1.json checks this
// file byte for byte (the e2e vector test runs it inside WebKitGTK).
//
// Runs in the isolation frame. The key is imported into WebCrypto as non-extractable and
// the raw bytes handed in are overwritten with zeros straight away.

const MAGIC_P = 0x50;
const MAGIC_C = 0x43;
const VERSION = 1;
const HEADER_LEN = 40;
const PREFIX_LEN = 12;
// Kind 3 is a refusal report: the isolation frame telling the gate it refused a call.
// Kind 4 is a cancel: the page load asking the gate to stop one of its calls.
const KINDS = { command: 1, event: 2, report: 3, cancel: 4 };
/** The name a cancel is framed under, with an empty JSON body (PROTOCOL.md §2). */
export const CANCEL_NAME = "portcullis.cancel";
const MAX_SEQ = Number.MAX_SAFE_INTEGER;

/**
 * The name grammar of PROTOCOL.md §2, as a pattern and in words. The Rust core's
 * `portcullis_core::name` is the source; a test there checks these two lines against it.
 */
export const NAME_PATTERN = /^[A-Za-z0-9_.:|/-]{1,128}$/;
export const NAME_RULE = "1-128 characters from [A-Za-z0-9_.:|/-]";

const utf8 = new TextEncoder();

/**
 * Encodes the plaintext request of PROTOCOL.md §2.
 * @param {"command"|"event"|"report"|"cancel"} kind
 * @param {number} id request id (a safe integer)
 * @param {string} name command or event name
 * @param {{json: string} | {bytes: Uint8Array}} body JSON text, or raw bytes
 * @returns {Uint8Array}
 */
export function encodeRequest(kind, id, name, body) {
  const kindByte = KINDS[kind];
  if (kindByte === undefined) throw new TypeError(`unknown kind ${kind}`);
  // Refuse rather than coerce: the name sealed must be exactly the name validated.
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
    throw new TypeError(`name must be ${NAME_RULE}`);
  }
  if (!Number.isSafeInteger(id) || id < 0) throw new TypeError("request id must be a safe non-negative integer");
  const nameBytes = utf8.encode(name);
  const bodyBytes = "json" in body ? utf8.encode(body.json) : body.bytes;
  const out = new Uint8Array(PREFIX_LEN + nameBytes.length + bodyBytes.length);
  const view = new DataView(out.buffer);
  out[0] = kindByte;
  out[1] = "json" in body ? 0 : 1;
  view.setBigUint64(2, BigInt(id));
  view.setUint16(10, nameBytes.length);
  out.set(nameBytes, PREFIX_LEN);
  out.set(bodyBytes, PREFIX_LEN + nameBytes.length);
  return out;
}

/** The 12-byte nonce of sequence number `seq`: four zero bytes, then seq (u64 BE). */
export function nonceFor(seq) {
  const nonce = new Uint8Array(12);
  new DataView(nonce.buffer).setBigUint64(4, BigInt(seq));
  return nonce;
}

/** The 40-byte header of PROTOCOL.md §4 / §6.1. */
export function header(sid, seq) {
  const h = new Uint8Array(HEADER_LEN);
  h[0] = MAGIC_P;
  h[1] = MAGIC_C;
  h[2] = VERSION;
  h[3] = 0;
  h.set(sid, 4);
  new DataView(h.buffer).setBigUint64(20, BigInt(seq));
  h.set(nonceFor(seq), 28);
  return h;
}

/** The associated data: header, then the webview label with a u16 length prefix. */
export function associatedData(sid, seq, labelBytes) {
  const aad = new Uint8Array(HEADER_LEN + 2 + labelBytes.length);
  aad.set(header(sid, seq), 0);
  new DataView(aad.buffer).setUint16(HEADER_LEN, labelBytes.length);
  aad.set(labelBytes, HEADER_LEN + 2);
  return aad;
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

/** Decodes standard base64. */
export function fromBase64(text) {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) out[i] = binary.charCodeAt(i);
  return out;
}

/**
 * Seals requests for one session. Owns the sequence counter: a nonce is used once.
 */
export class Sealer {
  #key;
  #sid;
  #label;
  #nextSeq;

  constructor(key, sid, labelBytes, firstSeq) {
    this.#key = key;
    this.#sid = sid;
    this.#label = labelBytes;
    this.#nextSeq = firstSeq;
  }

  /**
   * Imports `keyBytes` as a non-extractable AES-GCM key, then zeroes `keyBytes`.
   * @param {{keyBytes: Uint8Array, sid: Uint8Array, label: string, firstSeq?: number}} init
   */
  static async create({ keyBytes, sid, label, firstSeq = 1 }) {
    try {
      const key = await crypto.subtle.importKey("raw", keyBytes, { name: "AES-GCM" }, false, [
        "encrypt",
      ]);
      return new Sealer(key, sid, utf8.encode(label), firstSeq);
    } finally {
      keyBytes.fill(0);
    }
  }

  /**
   * Seals `plaintext` (from encodeRequest) and encodes it.
   * @param {Uint8Array} plaintext
   * @param {"binary"|"json"} encoding
   * @returns {Promise<Uint8Array|string>}
   */
  async seal(plaintext, encoding = "binary") {
    const seq = this.#nextSeq;
    if (seq > MAX_SEQ) throw new RangeError("sequence numbers exhausted: reload the page");
    this.#nextSeq = seq + 1;
    const ct = new Uint8Array(
      await crypto.subtle.encrypt(
        {
          name: "AES-GCM",
          iv: nonceFor(seq),
          additionalData: associatedData(this.#sid, seq, this.#label),
          tagLength: 128,
        },
        this.#key,
        plaintext,
      ),
    );
    if (encoding === "json") {
      return (
        `{"v":${VERSION},"sid":"${toBase64(this.#sid)}","seq":${seq},` +
        `"nonce":"${toBase64(nonceFor(seq))}","ct":"${toBase64(ct)}"}`
      );
    }
    const out = new Uint8Array(HEADER_LEN + ct.length);
    out.set(header(this.#sid, seq), 0);
    out.set(ct, HEADER_LEN);
    return out;
  }
}
