// Re-creating the isolation frame without its sandbox, to use it as a signing oracle.
// The new frame gets no key (one per page load) and, unsandboxed, refuses to run anyway.
// With its frame gone the page cannot reach the core, so it keeps its observations in
// sessionStorage, reloads itself, and reports them from the new page load.

const KEY = "portcullis-e2e-recreate";

export default async function (t) {
  if (await t.reportCarriedOver(KEY)) {
    await t.check("after a reload the app works again", '{"after":"reload"}', t.stringify(await t.invoke("echo", { after: "reload" })));
    return;
  }
  const seen = [];
  await t.invoke("echo", { before: "recreate" });
  const original = document.querySelector('iframe[src^="isolation:"]');
  const answer = new Promise((resolve) => {
    window.addEventListener("message", (e) => {
      if (e.data && e.data.portcullis) resolve(e.data);
    });
    setTimeout(() => resolve({ portcullis: "silent" }), 3000);
  });
  original.remove();
  const copy = document.createElement("iframe");
  copy.src = "isolation://localhost/";
  document.body.append(copy);
  const reply = await answer;
  seen.push(["the re-created frame reports it is unavailable", "unavailable", reply.portcullis]);
  seen.push(["because it gets no key: one per page load", "true", String(/no session key/.test(reply.message || ""))]);
  let code = "resolved";
  try {
    await t.invoke("secret.read", {}, { timeoutMs: 5000 });
  } catch (e) {
    code = e.code;
  }
  seen.push(["calls after the frame was removed fail at once, not by timeout", "E_ISOLATION_UNAVAILABLE", code]);
  await t.carryOverAndReload(KEY, seen);
}
