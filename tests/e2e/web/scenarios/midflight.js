// Faults a page can cause mid-flight: reloading its own isolation frame (which gets no
// key a second time) and reloading itself with calls in flight. Callers get clear codes;
// after the reload the app works.

const KEY = "portcullis-e2e-midflight";

export default async function (t) {
  if (await t.reportCarriedOver(KEY)) {
    await t.check("after reloading mid-flight the app works", '{"after":"reload"}', t.stringify(await t.invoke("echo", { after: "reload" })));
    return;
  }
  const seen = [];
  // Calls in flight when the isolation frame is reloaded by page script.
  const inFlight = Array.from({ length: 20 }, (_, i) => t.invoke("slow.echo").then(() => "ok", (e) => e.code));
  const frame = document.querySelector('iframe[src^="isolation:"]');
  frame.src = frame.src;
  const outcomes = await Promise.all(inFlight);
  seen.push(["every call in flight settles (answered, or refused with a code)", "true", String(outcomes.every((o) => o === "ok" || o === "E_ISOLATION_UNAVAILABLE"))]);
  let after = "resolved";
  try {
    await t.invoke("echo", {}, { timeoutMs: 5000 });
  } catch (e) {
    after = e.code;
  }
  seen.push(["calls after the frame lost its key fail at once with", "E_ISOLATION_UNAVAILABLE", after]);
  // Reload with more calls in flight; their page goes away with them.
  await t.carryOverAndReload(KEY, seen, () => {
    for (let i = 0; i < 20; i++) t.invoke("slow.echo").catch(() => {});
  });
}
