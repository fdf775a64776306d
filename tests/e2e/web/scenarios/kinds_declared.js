// A hook that declares it judges streams (tests/e2e/kinds/declared/hook.js): it is shown
// stream opens and judges them in every style. A kind the runtime does not know is
// refused before any hook, even one declaring every kind there is.
import { admittedStream, refusedStream } from "./kinds-checks.js";

/** Posts a request of kind `kind` straight to the isolation frame; its answer's code. */
function kindToFrame(kind) {
  const frame = document.querySelector("iframe[sandbox]").contentWindow;
  const id = 900000 + Math.floor(Math.random() * 1000);
  const token = 77;
  return new Promise((resolve) => {
    const listen = (event) => {
      if (event.source !== frame || !event.data || event.data.id !== id || event.data.token !== token) return;
      window.removeEventListener("message", listen);
      resolve(event.data.ok ? "resolved" : event.data.error.code);
    };
    window.addEventListener("message", listen);
    frame.postMessage({ id, token, kind, name: "echo", args: {} }, "*");
    setTimeout(() => resolve("no answer"), 2000);
  });
}

export default async function (t) {
  await admittedStream(t, "twin: a stream the hook allows is opened and gets its bytes", "stream.collect");
  await admittedStream(t, "a stream the hook renames in place is opened under the new name", "stream.renamed");
  await refusedStream(t, "a stream the hook returns false for is refused", "stream.false");
  await refusedStream(t, "a stream the hook throws for (the canary) is refused", "secret.stream", {}, /not one this app opens/);
  await t.check("commands still pass it", '{"a":1}', t.stringify(await t.invoke("echo", { a: 1 })));
  await t.check("grants() passes it as a command", true, Array.isArray((await t.invoke("portcullis:grants", {})).capabilities));
  await t.check("a kind the runtime does not know is refused before the hook", "E_BAD_REQUEST", await kindToFrame("future"));
  await t.check("its twin, a known kind posted the same way, is answered", "resolved", await kindToFrame("command"));
}
