// Built with a custom start URL (Portcullis::build_webview_at), which must protect the
// webview exactly as the start page does. The page goes to another page and comes back
// with history.back(). WebKit's page cache would restore this page, with its JS state and
// its isolation frame whose session the navigation revoked, while the new page load
// re-armed key delivery: a frame the attacker then inserts would get the key. With the
// page cache off, coming back is a fresh page load, whose own frame takes the one key.

const KEY = "portcullis-e2e-restore";

/** Inserts a frame for the isolation document and returns what its runtime says. */
function insertFrame() {
  const frame = document.createElement("iframe");
  frame.setAttribute("sandbox", "allow-scripts");
  frame.src = "isolation://localhost/";
  return new Promise((resolve) => {
    window.addEventListener("message", (e) => {
      if (e.source === frame.contentWindow && e.data && e.data.portcullis) resolve(e.data);
    });
    document.body.append(frame);
    setTimeout(() => resolve({ portcullis: "silent" }), 3000);
  });
}

export default async function (t) {
  const state = sessionStorage.getItem(KEY);
  if (state === null) {
    await t.check("twin: the custom start URL was loaded", "?via=url", location.search);
    await t.check("twin: calls work on it", '{"first":1}', t.stringify(await t.invoke("echo", { first: 1 })));
    sessionStorage.setItem(KEY, "away");
    // Only a page restored from the cache runs this (the page it was in is gone).
    window.addEventListener("pageshow", async (e) => {
      if (!e.persisted) return;
      const reply = await insertFrame();
      const seen = [
        ["the page was not restored from the page cache", "false", "true"],
        ["a frame inserted into the restored page gets no key", "unavailable", reply.portcullis],
      ];
      await t.carryOverAndReload(`${KEY}-restored`, seen, () => sessionStorage.setItem(KEY, "restored"));
    });
    location.href = "away.html";
    await new Promise(() => {});
  }
  if (state === "restored") {
    sessionStorage.removeItem(KEY);
    await t.reportCarriedOver(`${KEY}-restored`);
    return;
  }
  sessionStorage.removeItem(KEY);
  await t.check("coming back is a fresh load of this page (a back/forward navigation)", "back_forward", performance.getEntriesByType("navigation")[0]?.type);
  const reply = await insertFrame();
  await t.check("a frame inserted after coming back gets no key", "unavailable", reply.portcullis);
  await t.check("because this page load's key went to its own frame", "true", String(/no session key/.test(reply.message || "")));
  await t.check("twin: the app's own frame works", '{"back":1}', t.stringify(await t.invoke("echo", { back: 1 })));
}
