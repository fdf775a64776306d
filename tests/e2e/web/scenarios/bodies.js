// No message comes to the transport cut, and no request body can crash the app
// (scenarios/bodies.rs says why either could): raw request bodies in every shape the
// engine could split, Blobs among them, are never read at all; messages of many sizes
// sent the two ways the transport takes them (the request header, the native handler)
// and through the isolated path (invoke with bytes, openStream chunks) are compared by
// length and FNV-1a hash with what the transport's observer saw or the handler received.

const { openStream } = window.portcullis;
const nativeFetch = window.fetch.bind(window);
const KiB = 1024;
const MiB = 1024 * KiB;

/** FNV-1a, 32 bits, continuing from `hash` (bodies.rs computes the same). */
export function fnv(bytes, hash = 0x811c9dc5) {
  let h = hash | 0;
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i];
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A seeded generator (mulberry32): the same sizes every run. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = random(33);
const below = (n) => Math.floor(rand() * n);

/** `length` bytes that differ in every KiB, so a piece dropped or moved changes the hash. */
export function pattern(length, seed) {
  const bytes = new Uint8Array(length);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x & 0xff;
  }
  return bytes;
}

/** The boundaries of wry's 1 KiB reads, of pages and of 64 KiB buffers, and beyond. */
export const BOUNDARIES = [
  0, 1, 2, 1023, 1024, 1025, 2047, 2048, 2049, 4095, 4096, 4097, 16383, 16384, 16385,
  65535, 65536, 65537, 131072, 262143, 262144, 262145, MiB - 1, MiB, MiB + 1, 2 * MiB + 3, 4 * MiB,
];
const RANDOM_SMALL = Array.from({ length: 12 }, () => below(8 * KiB));
const RANDOM_LARGE = Array.from({ length: 4 }, () => 64 * KiB + below(4 * MiB - 64 * KiB));

/** The shapes a raw body can take; each makes the body of `bytes` (or says why it cannot). */
const SHAPES = {
  "Uint8Array": (bytes) => bytes,
  "ArrayBuffer": (bytes) => bytes.slice().buffer,
  "Uint8Array view at offset 3": (bytes) => {
    const backing = new Uint8Array(bytes.length + 10);
    backing.set(bytes, 3);
    return backing.subarray(3, 3 + bytes.length);
  },
  "DataView at offset 5": (bytes) => {
    const backing = new Uint8Array(bytes.length + 9);
    backing.set(bytes, 5);
    return new DataView(backing.buffer, 5, bytes.length);
  },
  "string (ASCII)": (bytes) => {
    // Only bytes below 0x80, so the UTF-8 body is the same bytes.
    for (let i = 0; i < bytes.length; i++) bytes[i] &= 0x7f;
    let text = "";
    for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
    return text;
  },
};

// Blob bodies crashed the app inside WebKitGTK while wry read request bodies.
SHAPES["Blob of one part"] = (bytes) => new Blob([bytes]);
SHAPES["Blob of several parts"] = (bytes) => new Blob(parts(bytes));

/**
 * `bytes` cut at 1, 1023, 1024 and 1025 bytes, then at random lengths: Uint8Array,
 * ArrayBuffer and nested Blob parts in turn.
 */
function parts(bytes) {
  const out = [];
  const cuts = [1, 1023, 1024, 1025];
  let at = 0;
  for (let i = 0; at < bytes.length; i++) {
    const n = Math.min(bytes.length - at, cuts[i] ?? 1 + below(96 * KiB));
    const piece = bytes.slice(at, at + n);
    out.push(i % 3 === 0 ? piece : i % 3 === 1 ? piece.buffer : new Blob([piece.subarray(0, n >> 1), piece.subarray(n >> 1)]));
    at += n;
  }
  return out;
}

/** What the transport read since the last call (the caller's own envelope last). */
const seen = () => window.portcullis.invoke("body.seen");

/** What the transport saw of the one raw message `send` makes (refused by the gate). */
async function observed(send) {
  await seen();
  await send();
  const raw = (await seen()).filter((s) => s.refused);
  return raw.length === 1 ? raw[0] : { len: `${raw.length} bodies`, hash: 0 };
}

/** Posts `body` as a request body: never read on this engine, so nothing can crash. */
export const postRaw = (body, init = {}) =>
  observed(() => nativeFetch("ipc://localhost/", { method: "POST", body, ...init }));

/** Posts `bytes` the way the fetch transport carries a message here: base64 in a header. */
const BODY_HEADER = "portcullis-body";
/** A string of one character per byte. */
function latin1(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return text;
}
const base64 = (bytes) => btoa(latin1(bytes));
const postHeader = (bytes) =>
  observed(() => nativeFetch("ipc://localhost/", { method: "POST", headers: { [BODY_HEADER]: base64(bytes) } }));

/** The native handler, when Rust chose it for this webview. */
const native = window.webkit && window.webkit.messageHandlers && window.webkit.messageHandlers.portcullisIpc;
/** Posts `bytes` the way the native transport carries an envelope: "E", then base64. */
const postNative = (bytes) => observed(() => native.postMessage("E" + base64(bytes)));

/** tests/e2e/portcullis.json's limits.maxMessageBytes. */
const LIMIT = MiB;
/** The code the gate's answer carries for `bytes` sent in the header ("OK" for none). */
async function sendHeader(bytes) {
  const response = await nativeFetch("ipc://localhost/", { method: "POST", headers: { [BODY_HEADER]: base64(bytes) } });
  return response.ok ? "OK" : (await response.json()).code;
}
/** The same, sent to the native handler. */
async function sendNative(bytes) {
  const answer = await native.postMessage("E" + base64(bytes));
  return answer[0] === "!" ? JSON.parse(answer.slice(1)).code : "OK";
}

const mismatch = (size, sent, got) => `${size}: sent ${sent.len}/${sent.hash}, got ${got.len}/${got.hash}`;

export default async function (t) {
  // Raw bodies, every shape (Blobs too), every size: never read, so the transport sees
  // an empty message, and the app is still here to say so.
  const rawSizes = [...BOUNDARIES, ...RANDOM_SMALL, ...RANDOM_LARGE];
  let seed = 1;
  for (const [shape, make] of Object.entries(SHAPES)) {
    const bad = [];
    for (const size of rawSizes) {
      const got = await postRaw(make(pattern(size, seed++)));
      if (got.len !== 0) bad.push(`${size}: read ${got.len}`);
    }
    await t.check(`raw body, ${shape}: none of ${rawSizes.length} sizes (0 B to 4 MiB) is read`, "", bad.join("; "));
  }

  // Messages the two ways the transport takes them, every size, read whole.
  // A message that cannot fit limits.maxMessageBytes is refused E_TOO_LARGE; the
  // transport refuses one whose base64 is too long for it before decoding (it may
  // decode a message up to two bytes over the limit, and the gate refuses that).
  const ways = { "the request header": [postHeader, sendHeader] };
  if (native) ways["the native handler"] = [postNative, sendNative];
  console.log(`bodies: ways tried: ${Object.keys(ways).join(", ")}`);
  for (const [way, [post, send]] of Object.entries(ways)) {
    const bad = [];
    const tooLarge = [];
    for (const size of rawSizes) {
      const bytes = pattern(size, seed++);
      if (size > LIMIT + 2) {
        const code = await send(bytes);
        if (code !== "E_TOO_LARGE") tooLarge.push(`${size}: ${code}`);
        continue;
      }
      const sent = { len: size, hash: fnv(bytes) };
      const got = await post(bytes);
      if (got.len !== sent.len || got.hash !== sent.hash) bad.push(mismatch(size, sent, got));
    }
    const fit = rawSizes.filter((size) => size <= LIMIT + 2).length;
    await t.check(`message through ${way}: all ${fit} sizes up to the limit (0 B to 1 MiB + 2) read whole`, "", bad.join("; "));
    await t.check(`message through ${way}: all ${rawSizes.length - fit} sizes over it refused E_TOO_LARGE`, "", tooLarge.join("; "));
  }

  // The native warm-up: "W" alone is answered null at once and reaches nothing the
  // transport observes; "W" with anything after it is a message like any other, refused.
  if (native) {
    await seen();
    const warm = await native.postMessage("W");
    const warmSeen = (await seen()).filter((s) => s.refused).length;
    const longer = await native.postMessage("W{}");
    const longerSeen = (await seen()).filter((s) => s.refused).length;
    const code = typeof longer === "string" && longer[0] === "!" ? JSON.parse(longer.slice(1)).code : String(longer);
    await t.check(
      "the native warm-up: W answered =null and unseen; W{} refused and seen",
      "=null, 0 seen; E_BAD_REQUEST, 1 seen",
      `${warm}, ${warmSeen} seen; ${code}, ${longerSeen} seen`,
    );
  }

  // A ReadableStream body (fetch upload streaming), where the engine takes one: never
  // read either.
  const streamBad = [];
  let streamSupport = "sent";
  for (const size of [0, 1, 1023, 1024, 1025, 4096, 65537, MiB + 1]) {
    const bytes = pattern(size, seed++);
    let i = 0;
    const pieces = [bytes.subarray(0, size >> 1), bytes.subarray(size >> 1)];
    const body = new ReadableStream({
      pull(controller) {
        if (i >= pieces.length) return controller.close();
        controller.enqueue(pieces[i++]);
      },
    });
    let got;
    try {
      got = await postRaw(body, { duplex: "half" });
    } catch (e) {
      streamSupport = `refused by the engine: ${e.name}: ${e.message}`;
      continue;
    }
    if (got.len !== 0) streamBad.push(`${size}: read ${got.len}`);
  }
  console.log(`bodies: a ReadableStream request body is ${streamSupport}`);
  await t.check("raw body, ReadableStream: never read", "", streamBad.join("; "));

  // The isolated path: invoke with a bytes argument, in each shape the bridge takes.
  const callSizes = [...BOUNDARIES.filter((s) => s <= 512 * KiB), ...RANDOM_SMALL, 700 * KiB, 1000 * KiB];
  const argShapes = {
    "Uint8Array": (bytes) => bytes,
    "ArrayBuffer": (bytes) => bytes.slice().buffer,
    "Uint8Array view at offset 3": SHAPES["Uint8Array view at offset 3"],
    "DataView at offset 5": SHAPES["DataView at offset 5"],
  };
  for (const [shape, make] of Object.entries(argShapes)) {
    const bad = [];
    for (const size of callSizes) {
      const bytes = pattern(size, seed++);
      const sent = { len: size, hash: fnv(bytes) };
      const got = await t.invoke("body.digest", make(bytes));
      if (got.len !== sent.len || got.hash !== sent.hash) bad.push(mismatch(size, sent, got));
    }
    await t.check(`invoke with bytes, ${shape}: all ${callSizes.length} sizes reach the handler whole`, "", bad.join("; "));
  }

  // Sealed envelopes aimed at the boundaries exactly: what wry reads is the envelope the
  // isolation frame posts, a fixed overhead more than the argument.
  const targets = [1023, 1024, 1025, 2048, 4095, 4096, 4097, 65535, 65536, 65537, 262144, 262145];
  const hit = [];
  const targetBad = [];
  let overhead = null;
  for (const target of targets) {
    for (let attempt = 0; attempt < 4; attempt++) {
      const size = Math.max(0, target - (overhead ?? 0));
      const bytes = pattern(size, seed++);
      await seen();
      const got = await t.invoke("body.digest", bytes);
      const [envelope] = await seen();
      if (got.len !== size || got.hash !== fnv(bytes)) targetBad.push(mismatch(size, { len: size, hash: fnv(bytes) }, got));
      overhead = envelope.len - size;
      if (envelope.len === target) {
        hit.push(target);
        break;
      }
    }
  }
  await t.check("sealed call envelopes of exactly each boundary size were sent", targets.join(","), hit.join(","));
  await t.check("and each one's argument reached the handler whole", "", targetBad.join("; "));

  // openStream: chunks in many sizes and shapes, larger ones split by the bridge.
  const streamOf = async (chunks) => {
    const stream = openStream("body.stream", {});
    const writer = stream.getWriter();
    for (const chunk of chunks) await writer.write(chunk);
    await writer.close();
    return stream.result;
  };
  const cut = (bytes, size) => {
    const out = [];
    for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
    return out;
  };
  const randomCut = (bytes) => {
    const out = [];
    for (let at = 0; at < bytes.length; ) {
      const n = 1 + below(200 * KiB);
      out.push(bytes.slice(at, at + n));
      at += n;
    }
    return out;
  };
  const chunkings = {
    "one write": (bytes) => [bytes],
    "1023-byte writes": (bytes) => cut(bytes, 1023),
    "1024-byte writes": (bytes) => cut(bytes, 1024),
    "1025-byte writes": (bytes) => cut(bytes, 1025),
    "random writes, views at offsets": (bytes) => randomCut(bytes).map((c) => SHAPES["Uint8Array view at offset 3"](c)),
    "random writes, ArrayBuffers": (bytes) => randomCut(bytes).map((c) => c.buffer),
  };
  const streamSizes = [0, 1, 1023, 1024, 1025, 4097, 65536, 65537, 262145, MiB + 1, 3 * MiB + 5];
  for (const [chunking, split] of Object.entries(chunkings)) {
    const bad = [];
    const sizes = chunking.includes("-byte") ? streamSizes.filter((s) => s <= 262145) : streamSizes;
    for (const size of sizes) {
      const bytes = pattern(size, seed++);
      const sent = { len: size, hash: fnv(bytes) };
      const got = await streamOf(split(bytes));
      if (got.len !== sent.len || got.hash !== sent.hash) bad.push(mismatch(size, sent, got));
    }
    await seen();
    await t.check(`openStream, ${chunking}: all ${sizes.length} sizes reach the handler whole`, "", bad.join("; "));
  }

  // Chunk envelopes swept across 1 KiB, 4 KiB and 64 KiB: chunks of every size from
  // 96 bytes below each up to it, so some envelope lands on the boundary exactly.
  const boundaries = [1024, 4096, 65536];
  const sweep = [];
  for (const b of boundaries) for (let k = 96; k >= 0; k--) sweep.push(pattern(b - k, seed++));
  const all = new Uint8Array(sweep.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of sweep) all.set(c, (at += c.length) - c.length);
  await seen();
  const got = await streamOf(sweep);
  const lengths = new Set((await seen()).filter((s) => !s.refused).map((s) => s.len));
  await t.check("openStream, chunk sweep: every chunk reaches the handler whole", `${all.length}/${fnv(all)}`, `${got.len}/${got.hash}`);
  await t.check(
    "sealed chunk envelopes of exactly 1024, 4096 and 65536 bytes were sent",
    boundaries.join(","),
    boundaries.filter((b) => lengths.has(b)).join(","),
  );
}
