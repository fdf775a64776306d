// The JavaScript sealer against fixtures/vectors/wire-v1.json, inside the real engine.

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (text) => new Uint8Array(text.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);

export default async function (t) {
  const sealer = await import("isolation://localhost/__portcullis/sealer.js");
  /** A sealer with every engine it was given ready (the module compiles asynchronously). */
  const ready = async (init) => {
    const s = await sealer.Sealer.create(init);
    await s.ready();
    return s;
  };
  const wasm = new Uint8Array(await (await fetch("isolation://localhost/__portcullis/sealer.wasm")).arrayBuffer());
  const vectors = await t.invoke("harness.fixture");
  for (const c of vectors.cases) {
    const body = "json" in c.request.body ? { json: JSON.stringify(c.request.body.json) } : { bytes: unhex(c.request.body.bytes) };
    const plain = sealer.encodeRequest(c.request.kind, c.request.id, c.request.name, body);
    await t.check(`${c.name}: plaintext`, c.plaintext, hex(plain));
    await t.check(`${c.name}: aad`, c.aad, hex(sealer.associatedData(unhex(c.sid), c.seq, new TextEncoder().encode(c.label))));
    // Both engines: WebCrypto alone, and the WebAssembly module (every vector is small
    // enough for it; the check of the engine makes sure it was not silently skipped).
    for (const engine of ["webcrypto", "wasm"]) {
      for (const encoding of ["binary", "json"]) {
        const s = await ready({
          keyBytes: unhex(c.key),
          sid: unhex(c.sid),
          label: c.label,
          firstSeq: c.seq,
          wasm: engine === "wasm" ? wasm : undefined,
        });
        const plaintext = unhex(c.plaintext);
        await t.check(`${c.name}: ${encoding} sealed by ${engine}`, engine, s.engineFor(plaintext.length));
        const out = await s.seal(plaintext, encoding);
        await t.check(
          `${c.name}: ${engine}, ${encoding}`,
          encoding === "binary" ? c.binary : c.json,
          encoding === "binary" ? hex(out) : out,
        );
      }
    }
  }
  // The two engines agree at every length the module takes and beyond (the module's
  // share forced up to its buffer, then WebCrypto takes over).
  const c = vectors.cases[0];
  const make = (module, wasmMax) =>
    ready({ keyBytes: unhex(c.key), sid: unhex(c.sid), label: c.label, firstSeq: 7, wasm: module, wasmMax });
  const [byWasm, byWebCrypto] = [await make(wasm, 1 << 20), await make(undefined)];
  const agree = [];
  for (const n of [0, 1, 15, 16, 17, 200, 2048, 4096, 8000, 8100, 65536]) {
    const plaintext = new Uint8Array(n).map((_, i) => (i * 31 + n) & 0xff);
    const a = hex(await byWasm.seal(plaintext));
    const b = hex(await byWebCrypto.seal(plaintext));
    agree.push(`${n}:${a === b}`);
  }
  await t.check(
    "WebAssembly and WebCrypto seal the same bytes",
    "0:true 1:true 15:true 16:true 17:true 200:true 2048:true 4096:true 8000:true 8100:true 65536:true",
    agree.join(" "),
  );
  await t.check(
    "the module seals what fits its buffer, WebCrypto the rest",
    "wasm webcrypto",
    `${byWasm.engineFor(8000)} ${byWasm.engineFor(65536)}`,
  );
  const small = await ready({ keyBytes: unhex(c.key), sid: unhex(c.sid), label: c.label, wasm });
  await t.check(
    "by default the module seals up to WASM_MAX_PLAINTEXT bytes, WebCrypto above",
    `wasm webcrypto`,
    `${small.engineFor(sealer.WASM_MAX_PLAINTEXT)} ${small.engineFor(sealer.WASM_MAX_PLAINTEXT + 1)}`,
  );
  const keyBytes = unhex(vectors.cases[0].key);
  await ready({ keyBytes, sid: unhex(vectors.cases[0].sid), label: "x", wasm });
  await t.check("the sealer zeroes the key bytes it was given", "0".repeat(64), hex(keyBytes));
}
