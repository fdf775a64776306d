// The app's hook is a file written for Tauri (tests/e2e/tauri/isolation/hook.js): it
// assigns window.__TAURI_ISOLATION_HOOK__ and refuses or redirects calls in every style
// real Tauri hooks use. What it returns (its `cmd` and `payload`) is what is sealed: a
// renamed command is judged by the allowlist under its new name, so the canary and the
// other refused commands never run (checked on the Rust side). Written before streams,
// it declares no `kinds` and passes names it does not know: stream opens never reach it.
import { NOT_JUDGED, refusedStream } from "./kinds-checks.js";

export default async function (t) {
  await refusedStream(t, "a stream open never reaches a Tauri hook written before streams", "stream.collect", {}, NOT_JUDGED("stream"));
  await refusedStream(t, "nor does the canary stream's", "secret.stream", {}, NOT_JUDGED("stream"));
  await t.check("calls pass a Tauri hook", '{"via":"tauri"}', t.stringify(await t.invoke("echo", { via: "tauri" })));
  await t.check("the Tauri hook may rewrite the payload", '{"tauri":true}', t.stringify(await t.invoke("hook.rewrite", { original: 1 })));
  await t.expectCode("refused by renaming cmd (the canary)", "E_NOT_ALLOWED", () => t.invoke("secret.read", { want: "secret" }));
  await t.expectCode("refused by renaming cmd in place and returning nothing", "E_NOT_ALLOWED", () => t.invoke("tauri.inplace"));
  await t.expectCode("refused by an async hook returning a renamed copy", "E_NOT_ALLOWED", () => t.invoke("tauri.async"));
  await t.check("twin: renamed to an allowed command, the new command runs", '{"aliased":1}', t.stringify(await t.invoke("tauri.alias", { aliased: 1 })));
  await t.check("twin: a message rebuilt from scratch is sealed as built", '{"rebuilt":true}', t.stringify(await t.invoke("tauri.rebuild", { ignored: 1 })));
  await t.expectCode("a Tauri hook that throws rejects the call", "E_HOOK_REJECTED", () => t.invoke("tauri.throw"));
  await t.expectCode("a Tauri hook that returns false rejects the call", "E_HOOK_REJECTED", () => t.invoke("tauri.false"));
}
