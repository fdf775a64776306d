// The isolation frame's sealer (isolation-app/sealer.js) under Node, with the protocol's
// constants as Rust writes them (isolation-app/protocol.js), against the Rust core's
// known answers: fixtures/vectors/wire-v1.json (commands and events, sealed; the e2e
// suite runs the same inside WebKitGTK) and fixtures/vectors/messages-v1.json (every
// other kind of plaintext, and stream chunks sealed and clear; tests/protocol.rs checks
// it against the core's encoders). A constant the two sides disagree on changes a byte.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { Sealer, associatedData, chunkPlaintext, encodeClearChunk, encodeRequest } from "../../../isolation-app/sealer.js";

const root = new URL("../../../", import.meta.url);
const fixture = (name) => JSON.parse(readFileSync(new URL(`fixtures/vectors/${name}`, root), "utf8"));
const wasm = new Uint8Array(readFileSync(new URL("isolation-app/sealer.wasm", root)));
const hex = (bytes) => Buffer.from(bytes).toString("hex");
const unhex = (text) => new Uint8Array(Buffer.from(text, "hex"));

/** A sealer with every engine it was given ready (the module compiles asynchronously). */
async function sealer(init) {
  const s = await Sealer.create(init);
  await s.ready();
  return s;
}

test("commands and events: the plaintext, associated data and envelope the core writes", async () => {
  for (const c of fixture("wire-v1.json").cases) {
    const body = "json" in c.request.body ? { json: JSON.stringify(c.request.body.json) } : { bytes: unhex(c.request.body.bytes) };
    assert.equal(hex(encodeRequest(c.request.kind, c.request.id, c.request.name, body)), c.plaintext, c.name);
    assert.equal(hex(associatedData(unhex(c.sid), c.seq, new TextEncoder().encode(c.label))), c.aad, c.name);
    for (const module of [undefined, wasm]) {
      for (const encoding of ["binary", "json"]) {
        const s = await sealer({ keyBytes: unhex(c.key), sid: unhex(c.sid), label: c.label, firstSeq: c.seq, wasm: module });
        assert.equal(s.engineFor(c.plaintext.length / 2), module ? "wasm" : "webcrypto");
        const out = await s.seal(unhex(c.plaintext), encoding);
        assert.equal(encoding === "binary" ? hex(out) : out, encoding === "binary" ? c.binary : c.json, `${c.name}: ${encoding}`);
      }
    }
  }
});

test("cancels, reports and stream opens: the plaintext the core writes", () => {
  const { requests } = fixture("messages-v1.json");
  assert.deepEqual(requests.map((r) => r.kind), ["cancel", "report", "stream"]);
  for (const r of requests) {
    assert.equal(hex(encodeRequest(r.kind, r.id, r.requestName, r.body)), r.plaintext, r.name);
  }
});

test("stream chunks: the plaintext, the clear framing and the sealed envelope the core writes", async () => {
  const { chunks } = fixture("messages-v1.json");
  for (const c of chunks.cases) {
    let chunk = c.chunk;
    if (chunk.bytes !== undefined) {
      // The data after a first byte left for the operation, as the bridge hands it over.
      const data = unhex(chunk.bytes);
      const bytes = new Uint8Array(1 + data.length);
      bytes.set(data, 1);
      chunk = { bytes };
    }
    const plaintext = chunkPlaintext(chunk);
    assert.equal(hex(plaintext), c.plaintext, c.name);
    assert.equal(hex(encodeClearChunk(c.stream, c.number, plaintext)), c.clear, c.name);
    for (const module of [undefined, wasm]) {
      const s = await sealer({ keyBytes: unhex(chunks.key), sid: unhex(chunks.sid), label: chunks.label, firstSeq: c.seq, wasm: module });
      assert.equal(hex(await s.sealChunk(c.stream, c.number, plaintext)), c.sealed, `${c.name}: sealed`);
    }
  }
});

test("a chunk is framed only as a chunk", () => {
  assert.throws(() => encodeRequest("chunk", 1, "portcullis.x", { json: "" }), TypeError);
  assert.throws(() => encodeRequest("toString", 1, "x", { json: "" }), TypeError);
});
