// The app's hook is a file written for Tauri (tests/e2e/tauri/isolation/hook.js): it
// assigns window.__TAURI_ISOLATION_HOOK__ and mutates and returns the payload object.

export default async function (t) {
  await t.check("calls pass a Tauri hook", '{"via":"tauri"}', t.stringify(await t.invoke("echo", { via: "tauri" })));
  await t.check("the Tauri hook may rewrite the payload", '{"tauri":true}', t.stringify(await t.invoke("hook.rewrite", { original: 1 })));
  await t.expectCode("a Tauri hook that throws rejects the call", "E_HOOK_REJECTED", () => t.invoke("secret.read"));
}
