// A Tauri-style hook that throws for unknown names, updated for streams
// (tests/e2e/kinds/tauri_streams/hook.js): `__TAURI_ISOLATION_HOOK__.kinds` says it
// judges commands and streams.
import { NOT_JUDGED, admittedStream, refusedStream } from "./kinds-checks.js";

export default async function (t) {
  await admittedStream(t, "twin: a stream the Tauri hook knows is opened", "stream.collect");
  await refusedStream(t, "a stream it does not know (the canary) is refused by its throw", "secret.stream", {}, /unknown stream secret.stream/);
  await t.check("grants() passes it: the hook lists portcullis:grants", true, Array.isArray((await t.invoke("portcullis:grants", {})).capabilities));
  await t.check("commands pass it", '{"a":1}', t.stringify(await t.invoke("echo", { a: 1 })));
  let message = "";
  const code = await t.emit("ping", {}).then(() => "resolved", (e) => {
    message = e.message;
    return e.code;
  });
  await t.check("an event, a kind it does not declare, never reaches it", "E_HOOK_REJECTED true", `${code} ${NOT_JUDGED("event").test(message)}`);
}
