// Hook helpers (isolation-app/helpers.js) running in the real isolation frame, composed
// in tests/e2e/helpers/isolation/hook.js.
import { NOT_JUDGED, refusedStream } from "./kinds-checks.js";

export default async function (t) {
  // A chain with rules for commands and events only judges no stream: every open is
  // refused, the canary's and one the allowlist would admit alike (issue 30).
  await refusedStream(t, "a stream open behind a chain with no stream rule (allowed by the allowlist)", "stream.collect", {}, NOT_JUDGED("stream"));
  await refusedStream(t, "the canary stream behind the same chain", "secret.stream", {}, NOT_JUDGED("stream"));
  await t.check("allowed command with the right shape passes", '{"text":"hi"}', t.stringify(await t.invoke("echo", { text: "hi" })));
  await t.check("optional field", '{"count":2,"text":"hi"}', t.stringify(await t.invoke("echo", { text: "hi", count: 2 })));
  await t.expectCode("command outside allowCommands", "E_HOOK_REJECTED", () => t.invoke("slow.echo"));
  await t.expectCode("event outside allowEvents", "E_HOOK_REJECTED", () => t.emit("other-event", {}));
  await t.expectCode("missing field", "E_HOOK_REJECTED", () => t.invoke("echo", {}));
  await t.expectCode("wrong type", "E_HOOK_REJECTED", () => t.invoke("echo", { text: 5 }));
  await t.expectCode("non-integer count", "E_HOOK_REJECTED", () => t.invoke("echo", { text: "a", count: 1.5 }));
  await t.expectCode("extra field", "E_HOOK_REJECTED", () => t.invoke("echo", { text: "a", admin: true }));
  await t.expectCode("bytes over maxBytes", "E_HOOK_REJECTED", () => t.invoke("echo.bytes", new Uint8Array(4096)));
  await t.check("bytes under maxBytes pass", 16, (await t.invoke("echo.bytes", new Uint8Array(16))).length);
  let message = "";
  try {
    await t.invoke("echo", { text: "x".repeat(3000) });
  } catch (e) {
    message = e.message;
  }
  await t.check("the rule's reason reaches the caller", true, message.includes("exceeds 2048"));
  // Rate limit: echo at most 5 per second. Wait for the window of the calls above to
  // pass; then 5 pass and the 6th is refused.
  await t.sleep(1100);
  const codes = [];
  for (let i = 0; i < 6; i++) {
    try {
      await t.invoke("echo", { text: `r${i}` });
      codes.push("ok");
    } catch (e) {
      codes.push(e.code);
    }
  }
  await t.check("rate limit: the sixth call in a second is refused", "ok,ok,ok,ok,ok,E_HOOK_REJECTED", codes.join(","));
}
