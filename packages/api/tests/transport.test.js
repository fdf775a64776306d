// The isolation frame's transport (isolation-app/transport.js): its base64, the form
// bytes take on the native transport and in the fetch transport's header. Node 20 has no
// `Uint8Array.prototype.toBase64`, so this runs the fallback an engine without it takes
// (WebKitGTK before 2.48); the e2e suite runs the engine's own inside WebKitGTK 2.50.
import { test } from "node:test";
import assert from "node:assert/strict";

import { base64OfBytes, bytesOfBase64 } from "../../../isolation-app/transport.js";

const random = (n) => {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(n, i + 65536)));
  return bytes;
};

test("bytes go as the standard padded base64 Rust decodes, and come back whole", () => {
  assert.equal(typeof Uint8Array.prototype.toBase64, "undefined", "this test is meant to run the fallback");
  const every = Uint8Array.from({ length: 256 }, (_, i) => i);
  for (const bytes of [new Uint8Array(0), every, ...[1, 2, 3, 4, 5, 0x8000, 0x8001, 1 << 20].map(random)]) {
    const text = base64OfBytes(bytes);
    assert.equal(text, Buffer.from(bytes).toString("base64"), `${bytes.length} bytes`);
    assert.deepEqual(new Uint8Array(bytesOfBase64(`#${text}`, 1)), bytes, `${bytes.length} bytes back`);
  }
});

test("a view's own bytes go, not its whole buffer; an ArrayBuffer goes whole", () => {
  const buffer = Uint8Array.from([9, 1, 2, 3, 9]).buffer;
  assert.equal(base64OfBytes(new Uint8Array(buffer, 1, 3)), "AQID");
  assert.equal(base64OfBytes(new DataView(buffer, 1, 3)), "AQID");
  assert.equal(base64OfBytes(buffer), "CQECAwk=");
});

test("an answer that is not base64 throws (the transport answers E_INTERNAL)", () => {
  for (const bad of ["#a*b=", "#A", "#AQID€"]) assert.throws(() => bytesOfBase64(bad, 1), bad);
});
