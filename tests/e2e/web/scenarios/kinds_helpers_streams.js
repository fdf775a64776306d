// A hook of helpers with a stream rule (tests/e2e/kinds/helpers_streams/hook.js): the
// chain judges commands and streams; its shape and size rules judge a stream's metadata;
// it has no event rule, so events are refused.
import { NOT_JUDGED, admittedStream, refusedStream } from "./kinds-checks.js";

export default async function (t) {
  await admittedStream(t, "twin: a stream allowStreams names, with the metadata's shape", "stream.collect", { name: "a" });
  await refusedStream(t, "a stream allowStreams does not name (the canary)", "secret.stream", { name: "a" }, /stream secret.stream is not allowed by the hook/);
  await refusedStream(t, "metadata of the wrong shape (requireShape)", "stream.collect", { name: 5 }, /name must be string/);
  await refusedStream(t, "metadata over maxBytes", "stream.collect", { name: "x".repeat(300) }, /exceeds 256/);
  await t.check("commands pass their rule", '{"a":1}', t.stringify(await t.invoke("echo", { a: 1 })));
  let message = "";
  const code = await t.emit("ping", {}).then(() => "resolved", (e) => {
    message = e.message;
    return e.code;
  });
  await t.check("an event is refused: no rule of the chain judges events", "E_HOOK_REJECTED true", `${code} ${NOT_JUDGED("event").test(message)}`);
}
