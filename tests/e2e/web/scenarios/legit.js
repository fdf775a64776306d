// Legitimate paths: JSON and binary arguments and results, events both ways, async
// handlers, a hook that rewrites the payload, and many calls in flight at once.

export default async function (t) {
  // Keys come back sorted (serde_json's map); compare canonical forms.
  const args = { a: 1, list: [1, 2, 3], nested: { ok: true }, text: "café ☕" };
  await t.check("echo returns JSON arguments unchanged", t.stringify(args), t.stringify(await t.invoke("echo", args)));
  await t.check("no arguments arrive as {}", "{}", t.stringify(await t.invoke("echo")));

  const bytes = new Uint8Array([1, 2, 3, 0, 255]);
  const back = await t.invoke("echo.bytes", bytes);
  await t.check("binary argument and binary result", "Uint8Array 255,0,3,2,1", `${back.constructor.name} ${Array.from(back)}`);
  await t.check("the caller's buffer is left intact", "1,2,3,0,255", Array.from(bytes).join(","));

  const big = new Uint8Array(256 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = i % 251;
  const bigBack = await t.invoke("echo.bytes", big.buffer);
  let same = bigBack.length === big.length;
  for (let i = 0; same && i < big.length; i++) same = bigBack[i] === big[big.length - 1 - i];
  await t.check("256 KiB ArrayBuffer round trip", true, same);

  const pong = t.nextEvent("pong");
  await t.emit("ping", { n: 7 });
  await t.check("frontend event reaches a core listener, which answers with a core event", '{"n":7}', t.stringify(await pong));

  const back2 = t.nextEvent("pong");
  await t.invoke("emit.back", { from: "command" });
  await t.check("a command handler emits to its caller", '{"from":"command"}', t.stringify(await back2));

  await t.check("the hook may rewrite the payload", `{"rewritten":true,"webview":"${t.info.label}"}`, t.stringify(await t.invoke("hook.rewrite", { original: 1 })));
  await t.check("async handler", '"slow"', t.stringify(await t.invoke("slow.echo")));

  const many = await Promise.all(Array.from({ length: 100 }, (_, i) => t.invoke("echo", { i })));
  await t.check("100 concurrent invokes each get their own reply", true, many.every((r, i) => r.i === i));
}
