// The isolation frame's transport (isolation-app/transport.js): its base64, the form
// bytes take on the native transport and in the fetch transport's header. The module
// takes the engine's `Uint8Array.prototype.toBase64` and `Uint8Array.fromBase64` where
// they exist (WebKitGTK 2.48 and later) and builds the text itself otherwise; each
// import below sees one or the other, whichever Node this runs on.
import { test } from "node:test";
import assert from "node:assert/strict";

const MODULE = new URL("../../../isolation-app/transport.js", import.meta.url);

/**
 * The module as an engine without the base64 builtins sees it, or with them (stand-ins
 * over Buffer, strict as the engine's, where this Node has none).
 */
async function transportWith(builtins) {
  const proto = Uint8Array.prototype;
  const saved = { to: Object.getOwnPropertyDescriptor(proto, "toBase64"), from: Object.getOwnPropertyDescriptor(Uint8Array, "fromBase64") };
  delete proto.toBase64;
  delete Uint8Array.fromBase64;
  if (builtins) {
    const native = saved.to && saved.from;
    Object.defineProperty(proto, "toBase64", native ? saved.to : { configurable: true, writable: true, value() { return Buffer.from(this.buffer, this.byteOffset, this.byteLength).toString("base64"); } });
    Object.defineProperty(Uint8Array, "fromBase64", native ? saved.from : {
      configurable: true,
      writable: true,
      value(text) {
        if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(text)) throw new SyntaxError("not base64");
        return new Uint8Array(Buffer.from(text, "base64"));
      },
    });
  }
  try {
    // A fresh instance each time: the module reads the builtins when it is evaluated.
    return await import(`${MODULE}?builtins=${builtins}`);
  } finally {
    delete proto.toBase64;
    delete Uint8Array.fromBase64;
    if (saved.to) Object.defineProperty(proto, "toBase64", saved.to);
    if (saved.from) Object.defineProperty(Uint8Array, "fromBase64", saved.from);
  }
}

const random = (n) => {
  const bytes = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(bytes.subarray(i, Math.min(n, i + 65536)));
  return bytes;
};

for (const builtins of [false, true]) {
  const way = builtins ? "with the engine's base64" : "without it";
  test(`${way}: bytes go as the standard padded base64 Rust decodes, and come back whole`, async () => {
    const { base64OfBytes, bytesOfBase64 } = await transportWith(builtins);
    const every = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (const bytes of [new Uint8Array(0), every, ...[1, 2, 3, 4, 5, 0x8000, 0x8001, 1 << 20].map(random)]) {
      const text = base64OfBytes(bytes);
      assert.equal(text, Buffer.from(bytes).toString("base64"), `${bytes.length} bytes`);
      assert.deepEqual(new Uint8Array(bytesOfBase64(`#${text}`, 1)), bytes, `${bytes.length} bytes back`);
    }
  });

  test(`${way}: a view's own bytes go, not its whole buffer; an ArrayBuffer goes whole`, async () => {
    const { base64OfBytes } = await transportWith(builtins);
    const buffer = Uint8Array.from([9, 1, 2, 3, 9]).buffer;
    assert.equal(base64OfBytes(new Uint8Array(buffer, 1, 3)), "AQID");
    assert.equal(base64OfBytes(new DataView(buffer, 1, 3)), "AQID");
    assert.equal(base64OfBytes(buffer), "CQECAwk=");
  });

  test(`${way}: an answer that is not base64 throws (the transport answers E_INTERNAL)`, async () => {
    const { bytesOfBase64 } = await transportWith(builtins);
    for (const bad of ["#a*b=", "#A", "#AQID€"]) assert.throws(() => bytesOfBase64(bad, 1), bad);
  });
}
