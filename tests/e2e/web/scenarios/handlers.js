// Handlers as apps write them: extractors in any order, State shared by two handlers,
// tokio inside async handlers, typed errors through `?` arriving as PortcullisError with
// their code and data, and cancellation (an AbortSignal, the caller's timeoutMs, the
// command's own timeoutMs in the config) that stops the handler, not only the promise.
// The Rust side counts what the slow handlers did; the page asks it through harness.slow.

const { PortcullisError } = window.portcullis;

async function outcome(promise) {
  try {
    return { value: await promise };
  } catch (e) {
    return { error: e };
  }
}

/** Polls harness.slow until `ready(counts)` holds (or 3 s pass); returns the counts. */
async function slowCounts(t, ready = () => true) {
  let counts;
  for (let i = 0; i < 150; i++) {
    counts = await t.invoke("harness.slow");
    if (ready(counts)) break;
    await t.sleep(20);
  }
  return counts;
}

export default async function (t) {
  // tokio::fs and tokio::time inside an async handler.
  const file = await t.invoke("tokio.files", { name: "note.txt", text: "written by tokio" });
  await t.check("an async handler uses tokio::fs and tokio::time", "written by tokio", file.text);

  // State<T> shared by two handlers (one sync, one async).
  await t.invoke("counter.add", 2);
  await t.check("a sync handler changes shared state", 5, await t.invoke("counter.add", 3));
  await t.check("an async handler reads the same state", 5, await t.invoke("counter.get"));

  // Every extractor at once, in an order of the app's choosing.
  const all = await t.invoke("extract.all", { path: file.path });
  await t.check("Caller: the attested webview", t.info.label, all.webview);
  await t.check("Caller: the attested origin and a sealed session", "app://localhost true", `${all.origin} ${all.sealed}`);
  await t.check("Args: the admitted arguments", file.path, all.args.path);
  await t.check("Scoped: the path the policy checked", file.path, all.path);
  await t.check("State: the shared counter", 5, all.count);
  await t.check("CancellationToken: not cancelled", false, all.cancelled);
  const outside = await outcome(t.invoke("extract.all", { path: "/etc/passwd" }));
  await t.check("a path outside the handler's scope never reaches it", "E_OUT_OF_SCOPE", outside.error?.code);

  // A typed error through `?`: a PortcullisError instance with its code and data.
  const typed = (await outcome(t.invoke("typed.fail", 4))).error;
  await t.check("a typed error is a PortcullisError (and an Error)", "true true", `${typed instanceof PortcullisError} ${typed instanceof Error}`);
  await t.check(
    "its code, app code, message and data",
    'E_HANDLER NOT_FOUND note 4 does not exist {"hint":"list the notes first","id":4}',
    `${typed.code} ${typed.appCode} ${typed.message} ${t.stringify(typed.data)}`,
  );
  const io = (await outcome(t.invoke("typed.fail", 0))).error;
  await t.check("an io::Error through ? becomes the app's STORAGE error", "STORAGE undefined", `${io.appCode} ${io.data}`);
  const refused = (await outcome(t.invoke("admin.reset"))).error;
  await t.check("every rejection is a PortcullisError, refusals too", "true E_DENIED", `${refused instanceof PortcullisError} ${refused.code}`);

  // An abort cancels the running async handler: its future is dropped.
  let before = await t.invoke("harness.slow");
  const controller = new AbortController();
  const aborted = outcome(t.invoke("slow.cancellable", {}, { signal: controller.signal }));
  await slowCounts(t, (c) => c.started > before.started);
  controller.abort(new Error("the user closed the dialog"));
  const abortedError = (await aborted).error;
  await t.check("an aborted call rejects with E_CANCELLED", "E_CANCELLED", abortedError?.code);
  let after = await slowCounts(t, (c) => c.dropped > before.dropped);
  await t.check("the aborted handler was stopped, not left running", "1 0", `${after.dropped - before.dropped} ${after.finished - before.finished}`);

  // A signal aborted before the call: nothing is sent, nothing runs.
  before = after;
  const early = new AbortController();
  early.abort();
  const never = (await outcome(t.invoke("slow.cancellable", {}, { signal: early.signal }))).error;
  after = await t.invoke("harness.slow");
  await t.check("a call whose signal is already aborted is never sent", "E_CANCELLED 0", `${never?.code} ${after.started - before.started}`);

  // The caller's own timeoutMs cancels the handler too.
  before = after;
  const timedOut = (await outcome(t.invoke("slow.cancellable", {}, { timeoutMs: 250 }))).error;
  await t.check("the caller's timeoutMs rejects with E_TIMEOUT", "E_TIMEOUT", timedOut?.code);
  after = await slowCounts(t, (c) => c.dropped > before.dropped);
  await t.check("the timed-out handler was stopped", "1 0", `${after.dropped - before.dropped} ${after.finished - before.finished}`);

  // The command's timeoutMs in the config (300 ms): the core answers E_TIMEOUT itself.
  before = after;
  const limited = (await outcome(t.invoke("slow.limited"))).error;
  await t.check("a command past its configured timeoutMs gets E_TIMEOUT from the core", "E_TIMEOUT true", `${limited?.code} ${/timeoutMs/.test(limited?.message)}`);
  after = await slowCounts(t, (c) => c.dropped > before.dropped);
  await t.check("and its handler was stopped", "1 0", `${after.dropped - before.dropped} ${after.finished - before.finished}`);

  // A sync handler cannot be stopped from outside: it sees its token fire and returns.
  before = after;
  const blocking = new AbortController();
  const stopped = outcome(t.invoke("slow.blocking", {}, { signal: blocking.signal }));
  await slowCounts(t, (c) => c.started > before.started);
  blocking.abort();
  await t.check("an aborted sync call rejects with E_CANCELLED", "E_CANCELLED", (await stopped).error?.code);
  after = await slowCounts(t, (c) => c.sawToken > before.sawToken);
  await t.check("the sync handler saw its token fire and stopped", "1 0", `${after.sawToken - before.sawToken} ${after.finished - before.finished}`);

  // Page code can post cancels to the isolation frame, but without the bridge's token for
  // a call it cannot cancel it: the call runs to its end.
  const frame = document.querySelector("iframe");
  const running = t.invoke("slow.progress");
  for (let id = 1; id < 400; id++) frame.contentWindow.postMessage({ cancel: id, token: id }, "*");
  await t.check("forged cancels without the call's token cancel nothing", '"done"', t.stringify((await outcome(running)).value));

  // Twin of every cancellation above: the same slow command left alone finishes.
  const finishedBefore = (await t.invoke("harness.slow")).finished;
  await t.check("a call nobody cancels runs to its end", '"finished"', t.stringify(await t.invoke("slow.cancellable", {}, { timeoutMs: 20000 })));
  after = await t.invoke("harness.slow");
  await t.check("and its handler finished", 1, after.finished - finishedBefore);
}
