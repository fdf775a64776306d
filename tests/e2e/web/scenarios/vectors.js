// The JavaScript sealer against fixtures/vectors/wire-v1.json, inside the real engine.

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
const unhex = (text) => new Uint8Array(text.match(/../g)?.map((h) => parseInt(h, 16)) ?? []);

export default async function (t) {
  const sealer = await import("isolation://localhost/__portcullis/sealer.js");
  const vectors = await t.invoke("harness.fixture");
  for (const c of vectors.cases) {
    const body = "json" in c.request.body ? { json: JSON.stringify(c.request.body.json) } : { bytes: unhex(c.request.body.bytes) };
    const plain = sealer.encodeRequest(c.request.kind, c.request.id, c.request.name, body);
    await t.check(`${c.name}: plaintext`, c.plaintext, hex(plain));
    await t.check(`${c.name}: aad`, c.aad, hex(sealer.associatedData(unhex(c.sid), c.seq, new TextEncoder().encode(c.label))));
    for (const encoding of ["binary", "json"]) {
      const s = await sealer.Sealer.create({ keyBytes: unhex(c.key), sid: unhex(c.sid), label: c.label, firstSeq: c.seq });
      const out = await s.seal(unhex(c.plaintext), encoding);
      await t.check(`${c.name}: ${encoding}`, encoding === "binary" ? c.binary : c.json, encoding === "binary" ? hex(out) : out);
    }
  }
  const keyBytes = unhex(vectors.cases[0].key);
  await sealer.Sealer.create({ keyBytes, sid: unhex(vectors.cases[0].sid), label: "x" });
  await t.check("the sealer zeroes the key bytes it was given", "0".repeat(64), hex(keyBytes));
}
