// Load and faults: many pipelined invokes (none lost, none duplicated, every promise
// settled), with failing hooks and panicking handlers mixed in; the app keeps working.

// Enough windows of pipelined calls to lose or duplicate one if the transport could; few
// enough that a slow machine's debug build (about 2,000 calls/s here) stays far inside the
// scenario's hang guard, which is not a speed limit.
const TOTAL = 20000;
const WINDOW = 500;

export default async function (t) {
  const seen = new Uint32Array(TOTAL);
  let inFlight = [];
  const t0 = performance.now();
  for (let i = 0; i < TOTAL; i++) {
    inFlight.push(
      t.invoke("echo", { i }).then((r) => {
        seen[r.i] += 1;
      }),
    );
    if (inFlight.length === WINDOW) {
      await Promise.all(inFlight);
      inFlight = [];
    }
  }
  await Promise.all(inFlight);
  const ms = performance.now() - t0;
  console.log(`load: ${TOTAL} invokes in ${ms.toFixed(0)} ms (${((TOTAL * 1000) / ms).toFixed(0)}/s, debug build)`);
  await t.check(`all ${TOTAL} pipelined invokes answered exactly once`, true, seen.every((n) => n === 1));

  const mixed = await Promise.allSettled(
    Array.from({ length: 300 }, (_, i) => {
      switch (i % 5) {
        case 0:
          return t.invoke("hook.throw");
        case 1:
          return t.invoke("boom");
        case 2:
          return t.invoke("hook.hang");
        default:
          return t.invoke("echo", { i });
      }
    }),
  );
  const codes = mixed.map((r) => (r.status === "fulfilled" ? "ok" : r.reason.code));
  const expected = Array.from({ length: 300 }, (_, i) => ["E_HOOK_REJECTED", "E_HANDLER_PANICKED", "E_HOOK_TIMEOUT", "ok", "ok"][i % 5]);
  await t.check("faults mixed with calls: each call gets its own outcome", expected.join(","), codes.join(","));
  await t.check("the app keeps working after the faults", '{"after":"faults"}', t.stringify(await t.invoke("echo", { after: "faults" })));
}
