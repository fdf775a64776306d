// Two webviews at once, each with its own session; a message sealed in one is refused
// when it arrives from the other.

export default async function (t) {
  const me = t.info.label;
  await t.check(`${me}: echo in its own window`, `{"from":"${me}"}`, t.stringify(await t.invoke("echo", { from: me })));
  if (me !== "second") return;
  let theirs = [];
  for (let i = 0; i < 50 && theirs.length === 0; i++) {
    theirs = await t.captured("main");
    if (theirs.length === 0) await t.sleep(50);
  }
  const [sealed] = theirs.slice(-1);
  await t.check("main's sealed message sent from the second window", "E_WRONG_WEBVIEW", await t.raw(sealed));
}
