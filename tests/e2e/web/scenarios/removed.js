// A page script removes the isolation frame after it is ready. The frame's window is gone
// and sends nothing back, so the bridge must notice: the call in flight and every later
// call fail at once with E_ISOLATION_UNAVAILABLE (their timeouts are long, so a timeout
// would show as E_TIMEOUT). The next page load gets a new frame and works again.

const KEY = "portcullis-e2e-removed";

export default async function (t) {
  if (await t.reportCarriedOver(KEY)) {
    await t.check("after a reload the app works again", '{"after":"reload"}', t.stringify(await t.invoke("echo", { after: "reload" })));
    return;
  }
  const seen = [];
  seen.push(["twin: a call before the removal works", '{"before":1}', t.stringify(await t.invoke("echo", { before: 1 }))]);
  seen.push(["twin: ready() resolves while the frame is there", "undefined", String(await window.portcullis.ready())]);
  const codeOf = (promise) => promise.then(() => "resolved", (e) => e.code);
  // In flight when the frame goes: the handler sleeps 1.5 s, the caller would wait 8 s.
  const inFlight = codeOf(t.invoke("slow.sleep", {}, { timeoutMs: 8000 }));
  await t.sleep(100);
  document.querySelector('iframe[src^="isolation:"]').remove();
  // In the same task as the removal, before any mutation record is delivered: the
  // bridge checks the frame is still in the page before it posts.
  const sameTask = codeOf(t.invoke("echo", { same: "task" }, { timeoutMs: 8000 }));
  seen.push(["the call in flight fails at once", "E_ISOLATION_UNAVAILABLE", await Promise.race([inFlight, t.sleep(1000).then(() => "still pending after 1 s")])]);
  seen.push(["a call made in the task that removed the frame fails at once", "E_ISOLATION_UNAVAILABLE", await Promise.race([sameTask, t.sleep(1000).then(() => "still pending after 1 s")])]);
  seen.push(["a later call fails at once", "E_ISOLATION_UNAVAILABLE", await codeOf(t.invoke("echo", { after: 1 }, { timeoutMs: 8000 }))]);
  seen.push(["a later event fails at once", "E_ISOLATION_UNAVAILABLE", await codeOf(t.emit("ping", {}))]);
  seen.push(["ready() rejects like a call would", "E_ISOLATION_UNAVAILABLE", await codeOf(window.portcullis.ready())]);
  await t.carryOverAndReload(KEY, seen);
}
