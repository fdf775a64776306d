// WebKit's page cache turned back on by the harness, as WebView2 and WKWebView have it
// (wry cannot switch theirs off). The page goes to another page and comes back with
// history.back(): the engine restores it with its JS state and its isolation frame,
// whose session the navigation revoked. The frame, out of the page's reach, must refuse
// every call from then on (it retires on pagehide/pageshow with `persisted`): calls fail
// at once with E_ISOLATION_UNAVAILABLE, and nothing is sealed under the dead session.
// Linux's bridge script has no reload-on-restore (that is the other engines' wrapper),
// so what is seen here is the frame's doing alone.

const KEY = "portcullis-e2e-restore-cached";

export default async function (t) {
  const state = sessionStorage.getItem(KEY);
  if (state === null) {
    await t.check("twin: calls work before leaving", '{"first":1}', t.stringify(await t.invoke("echo", { first: 1 })));
    sessionStorage.setItem(KEY, "away");
    window.addEventListener("pageshow", async (e) => {
      if (!e.persisted) return;
      const codeOf = (p) => p.then(() => "resolved", (err) => err.code ?? String(err));
      const seen = [
        ["the page was restored from the page cache", "true", "true"],
        ["a call from the restored page is refused by its frame", "E_ISOLATION_UNAVAILABLE", await codeOf(t.invoke("echo", { restored: 1 }))],
        ["and so is the canary", "E_ISOLATION_UNAVAILABLE", await codeOf(window.portcullis.invoke("secret.read", {}))],
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
  // Came back without a restore: the cache did not keep the page (the check above was
  // never made, and min_checks fails the scenario).
  sessionStorage.removeItem(KEY);
  await t.check("the page was restored from the page cache", "true", "false");
}
