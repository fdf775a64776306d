// A reload starts a new session: messages of the old page are dead, the app keeps working.

export default async function (t) {
  if (t.info.phase === 0) {
    await t.invoke("echo", { phase: 0 });
    await t.check("first page load works", "ok", "ok");
    return;
  }
  const [old] = await t.captured(t.info.label);
  await t.check("a sealed message of the previous page load", "E_SESSION_REVOKED", await t.raw(old));
  await t.check("the reloaded page works", '{"phase":1}', t.stringify(await t.invoke("echo", { phase: 1 })));
}
