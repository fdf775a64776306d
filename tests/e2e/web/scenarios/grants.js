// Run-time grants in a real webview: a capability granted by a sign-in (and revoked by a
// sign-out), a picked file added to this window's scope and forgotten, and the page
// reading its own grants. The grant outlives a reload. The Rust side checks that
// grants.export ran only while granted and that the grant sink saw every change.


export default async function (t) {
  const grants = () => t.invoke("portcullis:grants");
  if (t.info.phase === 0) {
    await t.check("no grants at first", '{"capabilities":[],"paths":[]}', t.stringify(await grants()));
    await t.check("a run-time capability refuses before it is granted", "E_NOT_GRANTED", await t.code(t.invoke("grants.export")));
    await t.invoke("session.sign_in");
    await t.check("after the sign-in it is admitted", 1, await t.invoke("grants.export"));
    await t.check("the page sees its grant", '["export"]', t.stringify((await grants()).capabilities));
    await t.check("the page cannot read another window's grants", "E_INVALID_ARGS", await t.code(t.invoke("portcullis:grants", { webview: "other" })));

    const unpicked = `${(await t.invoke("files.pick", "a.txt")).replace(/picked-a\.txt$/, "")}picked-b.txt`;
    await t.check("a file nobody picked is out of scope", "E_OUT_OF_SCOPE", await t.code(t.invoke("files.open", { path: unpicked })));
    const picked = await t.invoke("files.pick", "c.txt");
    await t.check("the picked file opens", "picked c.txt", await t.invoke("files.open", { path: picked }));
    const listed = (await grants()).paths.map((p) => `${p.scope} ${p.reach} ${p.path === picked}`);
    await t.check("the page sees the picked paths", "picked file false,picked file true", listed.join(","));
    const dotted = picked.replace(/picked-c\.txt$/, "x/../picked-c.txt");
    await t.check("the picked file through .. is refused", "E_OUT_OF_SCOPE", await t.code(t.invoke("files.open", { path: dotted })));
    await t.check("forgetting it", true, await t.invoke("files.forget", picked));
    await t.check("a forgotten file is out of scope again", "E_OUT_OF_SCOPE", await t.code(t.invoke("files.open", { path: picked })));
    return;
  }
  // Reloaded: a new page load of the same window keeps its grant.
  await t.check("the grant outlived the reload", '["export"]', t.stringify((await grants()).capabilities));
  await t.check("the reloaded page exports", 2, await t.invoke("grants.export"));
  await t.check("signing out revokes", true, await t.invoke("session.sign_out"));
  await t.check("a revoked grant refuses with its own code", "E_GRANT_REVOKED", await t.code(t.invoke("grants.export")));
  await t.check("the page sees no grant any more", "[]", t.stringify((await grants()).capabilities));
}
