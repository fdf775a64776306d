// The package against the real bridge (see real-bridge.js): the bridge's objects are
// frozen and read-only as in a webview, and the package must work with them as they are
// (issue 31: openStream from the package once always failed in WebKitGTK, while a stand-in
// bridge of plain objects let its test pass).
import { test } from "node:test";
import assert from "node:assert/strict";

import { PROTOCOL } from "../../../isolation-app/protocol.js";
import { installRealBridge } from "./real-bridge.js";

const { kinds: KINDS, chunkOps: OPS } = PROTOCOL;

// The stand-in core: stream "upload" takes chunks and answers its end with how many
// bytes it got; stream "refused" is refused as the allowlist would.
const got = [];
const bridge = await installRealBridge(({ kind, name, op, data }) => {
  if (kind === KINDS.stream && name === "upload") return { json: '{"stream":7}' };
  if (kind === KINDS.stream) return { status: 403, json: '{"code":"E_NOT_ALLOWED","message":"stream not allowed"}' };
  if (kind === KINDS.chunk && op === OPS.data) {
    got.push(...data);
    return { json: "" };
  }
  if (kind === KINDS.chunk && op === OPS.end) return { json: JSON.stringify({ bytes: got.length }) };
  return { status: 400, json: '{"code":"E_BAD_REQUEST","message":"not in this test"}' };
});
const api = await import("../index.js");

test("the real bridge's stream is read-only: its result cannot be replaced", () => {
  const stream = bridge.openStream("upload", {});
  assert.throws(() => {
    stream.result = Promise.resolve("forged");
  }, TypeError);
});

test("openStream from the package works on the real bridge's stream and settles with the handler's result", async () => {
  got.length = 0;
  const stream = api.openStream("upload", { name: "a" });
  const writer = stream.getWriter();
  await writer.write(new Uint8Array([1, 2, 3]));
  await writer.write(new Uint8Array(2000).fill(4)); // split in chunks of maxChunkBytes
  await writer.close();
  assert.deepEqual(await stream.result, { bytes: 2003 });
  assert.deepEqual(got.slice(0, 4), [1, 2, 3, 4]);
});

test("a refused stream's result rejects with a PortcullisError of the package and its code", async () => {
  const stream = api.openStream("refused", {});
  await assert.rejects(stream.result, (e) => e instanceof api.PortcullisError && e.code === "E_NOT_ALLOWED");
});

test("listen: the global returns the function that stops it, the package a Promise of it", async () => {
  const stop = bridge.listen("tick", () => {});
  assert.equal(typeof stop, "function");
  const pending = api.listen("tick", () => {});
  assert.ok(pending instanceof Promise);
  assert.equal(typeof (await pending), "function");
});
