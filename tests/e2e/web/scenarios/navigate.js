// The main frame sends the isolation frame somewhere else (a script can set its src).
// The bridge sees the frame load a second time and fails every call from then on with
// E_ISOLATION_UNAVAILABLE, instead of posting requests to whatever document is there now
// or letting them time out. The page reloads itself to report from a working page load.

const KEY = "portcullis-e2e-navigate";

export default async function (t) {
  if (await t.reportCarriedOver(KEY)) {
    await t.check("after a reload the app works again", '{"after":"reload"}', t.stringify(await t.invoke("echo", { after: "reload" })));
    return;
  }
  const seen = [];
  seen.push(["a call before the navigation works", '{"before":1}', t.stringify(await t.invoke("echo", { before: 1 }))]);
  const frame = document.querySelector('iframe[src^="isolation:"]');
  const loaded = new Promise((resolve) => frame.addEventListener("load", resolve, { once: true }));
  frame.src = "about:blank";
  await loaded;
  await t.sleep(50);
  const codeOf = async (run) => {
    try {
      await run();
      return "resolved";
    } catch (e) {
      return e.code;
    }
  };
  seen.push(["a call after the frame navigated away fails at once", "E_ISOLATION_UNAVAILABLE", await codeOf(() => t.invoke("echo", { after: 1 }, { timeoutMs: 5000 }))]);
  await t.carryOverAndReload(KEY, seen);
}
