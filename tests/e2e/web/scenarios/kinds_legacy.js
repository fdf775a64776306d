// A hook written before streams (tests/e2e/kinds/legacy/hook.js): no `kinds`, so it
// judges commands and events only, and every stream open is refused without calling it,
// whatever style it refuses in and although it passes names it does not recognise.
import { NOT_JUDGED, refusedStream } from "./kinds-checks.js";

export default async function (t) {
  // Twins: what the hook was written for still works, in each of its styles.
  await t.check("a command passes a hook that declares no kinds", '{"a":1}', t.stringify(await t.invoke("echo", { a: 1 })));
  await t.check("so does an event", "resolved", await t.code(t.emit("ping", {})));
  await t.check("a command it renames is sealed renamed", '{"b":2}', t.stringify(await t.invoke("old.renamed", { b: 2 })));
  await t.expectCode("a command it returns false for is refused", "E_HOOK_REJECTED", () => t.invoke("old.false"));
  await t.expectCode("a command it throws for is refused", "E_HOOK_REJECTED", () => t.invoke("secret.read"));
  // Stream opens: the names it passes, renames, refuses, and the canary.
  for (const name of ["stream.collect", "secret.stream", "old.renamed", "old.false"]) {
    await refusedStream(t, `a stream open (${name}) never reaches a hook that does not judge streams`, name, {}, NOT_JUDGED("stream"));
  }
}
