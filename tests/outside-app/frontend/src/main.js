// The app's frontend, bundled with esbuild from the @portcullis/api npm package. With
// `?self-test` in the page address it calls every export of the package, checks the
// legitimate paths and the refusals (each refusal beside its legitimate twin, and with
// the count of handler runs it caused, which must be 0), and reports every check to the
// Rust side, which decides the exit code.
import {
  Channel,
  ERROR_CODES,
  GRANTS_COMMAND,
  PortcullisError,
  emit,
  grants,
  invoke,
  isAvailable,
  listen,
  once,
  openStream,
  ready,
} from "@portcullis/api";

const checks = [];
function check(name, expected, got) {
  checks.push({ name, expected: String(expected), got: String(got) });
}

/** A rejection's code, if it is a PortcullisError with a code the package lists. */
function codeOf(e) {
  if (!(e instanceof PortcullisError)) return `not a PortcullisError: ${e}`;
  return ERROR_CODES.includes(e.code) ? e.code : `a code the package does not list: ${e.code}`;
}

/** What a promise settled with: its value as JSON (bytes as "bytes 1,2"), or its code. */
async function settled(promise) {
  try {
    const value = await promise;
    return value instanceof Uint8Array ? `bytes ${[...value]}` : JSON.stringify(value);
  } catch (e) {
    return codeOf(e);
  }
}

/** How often each handler ran so far (the Rust side counts). */
const ran = () => invoke("self_test.ran");

/**
 * What `call()` settled with and how often handler `name` ran meanwhile: a refusal
 * reads "E_CODE, ran 0", its twin "<value>, ran 1".
 */
async function outcome(name, call) {
  const before = (await ran())[name] ?? 0;
  const result = await settled(call());
  const after = (await ran())[name] ?? 0;
  return `${result}, ran ${after - before}`;
}

/** Resolves with `promise`'s value, or with `fallback` after `ms`. */
function within(promise, ms, fallback) {
  return Promise.race([promise, new Promise((resolve) => setTimeout(() => resolve(fallback), ms))]);
}

/** Asks the Rust side until `test(counts)` holds (or 5 s passed); the last counts. */
async function ranUntil(test) {
  const end = Date.now() + 5000;
  for (;;) {
    const counts = await ran();
    if (test(counts) || Date.now() > end) return counts;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Bytes whose value at i is (i * 7 + seed) mod 256, and their sum. */
function pattern(length, seed) {
  const bytes = new Uint8Array(length);
  let sum = 0;
  for (let i = 0; i < length; i++) {
    bytes[i] = (i * 7 + seed) & 0xff;
    sum += bytes[i];
  }
  return { bytes, sum };
}

/** Writes `parts` to a new stream and closes it; the handler's result. */
async function upload(cmd, meta, parts) {
  const stream = openStream(cmd, meta);
  const writer = stream.getWriter();
  for (const part of parts) await writer.write(part);
  await writer.close();
  return stream.result;
}

async function basics() {
  check("isAvailable(): the bridge is installed", true, isAvailable());
  check("ready() resolves once calls can be sent", "undefined", await settled(ready()));
  check("a command resolves with its result, and its handler ran once", '"Hello, Ada!", ran 1', await outcome("greet", () => invoke("greet", { name: "Ada" })));
  check("a command no capability names is refused, its handler never ran", "E_NOT_ALLOWED, ran 0", await outcome("files.delete", () => invoke("files.delete", { path: "/" })));
  check("the hook's refusal of a command reaches the caller, the handler never ran", "E_HOOK_REJECTED, ran 0", await outcome("greet", () => invoke("greet", { name: "mallory" })));
  check("arguments outside the schema are refused, the handler never ran", "E_INVALID_ARGS, ran 0", await outcome("greet", () => invoke("greet", { name: 7 })));
}

async function typedErrors() {
  check("a typed error's twin: the account that exists", '{"id":1,"name":"Ada"}, ran 1', await outcome("accounts.find", () => invoke("accounts.find", { id: 1 })));
  let e = null;
  try {
    await invoke("accounts.find", { id: 2 });
  } catch (error) {
    e = error;
  }
  check("a handler's typed error is a PortcullisError and an Error", "true true", `${e instanceof PortcullisError} ${e instanceof Error}`);
  check(
    "its name, code, appCode, data and message",
    'PortcullisError E_HANDLER NO_SUCH_ACCOUNT {"id":2} account 2 does not exist',
    `${e?.name} ${e?.code} ${e?.appCode} ${JSON.stringify(e?.data)} ${e?.message}`,
  );
  const made = new PortcullisError("E_DENIED", "made by the app", { appCode: "MINE", data: { n: 1 } });
  check("PortcullisError constructs errors of the same shape", 'PortcullisError E_DENIED MINE {"n":1} made by the app', `${made.name} ${made.code} ${made.appCode} ${JSON.stringify(made.data)} ${made.message}`);
  check("ERROR_CODES lists the codes, frozen", "true true true", `${Object.isFrozen(ERROR_CODES)} ${ERROR_CODES.includes("E_TOO_LARGE")} ${ERROR_CODES.includes("E_OUT_OF_SCOPE")}`);
}

async function cancellation() {
  check("a slow command's twin nobody cancels", '"worked 10 ms", ran 1', await outcome("work.slow", () => invoke("work.slow", { ms: 10 }, { timeoutMs: 10000 })));

  // Aborted once its handler started: the page hears E_CANCELLED, the handler is stopped.
  const before = await ran();
  const started = (before["work.slow"] ?? 0) + 1;
  const cancelled = (before["work.slow cancelled"] ?? 0) + 1;
  const abort = new AbortController();
  const call = settled(invoke("work.slow", { ms: 30000 }, { signal: abort.signal }));
  await ranUntil((c) => (c["work.slow"] ?? 0) >= started);
  abort.abort("the user pressed stop");
  check("an AbortSignal aborts a running call", "E_CANCELLED", await call);
  check("the aborted call's handler was stopped", cancelled, (await ranUntil((c) => (c["work.slow cancelled"] ?? 0) >= cancelled))["work.slow cancelled"]);

  check("a signal aborted before the call: refused, the handler never ran", "E_CANCELLED, ran 0", await outcome("work.slow", () => invoke("work.slow", { ms: 10 }, { signal: AbortSignal.abort() })));

  check("timeoutMs: a call past it is refused", "E_TIMEOUT", await settled(invoke("work.slow", { ms: 30000 }, { timeoutMs: 150 })));
  check("the timed-out call's handler was stopped", cancelled + 1, (await ranUntil((c) => (c["work.slow cancelled"] ?? 0) >= cancelled + 1))["work.slow cancelled"]);
}

async function events() {
  // Every "wave" the page emits, Rust answers with "waved" carrying the same payload.
  const all = [];
  let arrived = () => {};
  const stopAll = await listen("waved", (e) => {
    all.push(e.payload.n);
    arrived();
  });
  const next = (n) => within(new Promise((resolve) => (arrived = () => all.includes(n) && resolve(true))), 5000, false);

  const heard = [];
  const stop = await listen("waved", (e) => heard.push(e.payload.n));
  const onceHeard = [];
  const onceStop = await once("waved", (e) => onceHeard.push(e.payload.n));
  check("once() resolves with a function that stops it", "function", typeof onceStop);

  const before = (await ran()).wave ?? 0;
  let got = next(1);
  check("emit: an event the allowlist names reaches Rust", "undefined", await settled(emit("wave", { n: 1 })));
  check("listen: Rust's answering event reaches the page", true, await got);
  check("the event's listener in Rust ran once", 1, ((await ran()).wave ?? 0) - before);
  got = next(2);
  await emit("wave", { n: 2 });
  await got;
  check("listen hears every event, once() only the first", "1,2 | 1", `${heard} | ${onceHeard}`);
  stop();
  got = next(3);
  await emit("wave", { n: 3 });
  await got;
  check("after unlisten the listener hears no more (another still does)", "1,2 | 1,2,3", `${heard} | ${all}`);
  stopAll();

  check("an event outside the allowlist is refused, no listener ran", "E_NOT_ALLOWED, ran 0", await outcome("wave", () => emit("shout", { n: 4 })));
  check("an event payload outside its schema is refused, no listener ran", "E_INVALID_ARGS, ran 0", await outcome("wave", () => emit("wave", { n: "four" })));
  check("the hook's refusal of an event, no listener ran", "E_HOOK_REJECTED, ran 0", await outcome("wave", () => emit("wave", { n: 13 })));
}

async function channels() {
  const messages = [];
  const progress = new Channel((message) => messages.push(message));
  const ended = new Promise((resolve) => (progress.onclose = () => resolve(true)));
  check("a command with a Channel resolves with its result", '"exported in 3 steps", ran 1', await outcome("export.progress", () => invoke("export.progress", { steps: 3, progress })));
  check("the channel closes once the handler is done with it", "true true", `${await within(ended, 5000, false)} ${progress.closed}`);
  check(
    "its JSON messages arrive in order",
    '[{"done":1,"of":3},{"done":2,"of":3},{"done":3,"of":3}]',
    JSON.stringify(messages.slice(0, 3)),
  );
  const last = messages[3];
  check("its bytes arrive as a Uint8Array, after the JSON", "Uint8Array 1,2,3,255 (4 messages)", `${last?.constructor?.name} ${last ? [...last] : ""} (${messages.length} messages)`);
  check("a channel's id is 32 hex digits", true, /^[0-9a-f]{32}$/.test(progress.id));

  const refusedMessages = [];
  const refused = new Channel((message) => refusedMessages.push(message));
  const refusedEnded = new Promise((resolve) => (refused.onclose = () => resolve(true)));
  check("a command with a Channel and arguments outside its schema: refused, the handler never ran", "E_INVALID_ARGS, ran 0", await outcome("export.progress", () => invoke("export.progress", { steps: 11, progress: refused })));
  check("the refused call's channel got nothing and closed", "0 true", `${refusedMessages.length} ${await within(refusedEnded, 5000, false)}`);
}

async function streams() {
  const a = pattern(300, 1);
  const b = pattern(200, 2);
  check(
    "openStream: a stream within its maxBytes reaches the handler whole and in order",
    `{"name":"notes.txt","bytes":500,"chunks":2,"sum":${a.sum + b.sum}}, ran 1`,
    await outcome("files.upload completed", () => upload("files.upload", { name: "notes.txt" }, [a.bytes, b.bytes.buffer])),
  );
  check("a stream past its maxBytes is refused (E_TOO_LARGE) and does not complete", "E_TOO_LARGE, ran 0", await outcome("files.upload completed", () => upload("files.upload", { name: "big.bin" }, [new Uint8Array(600), new Uint8Array(600)])));
  check("the hook's refusal of a stream's open, the handler never ran", "E_HOOK_REJECTED, ran 0", await outcome("files.upload", () => openStream("files.upload", { name: "setup.exe" }).result));
  check("stream metadata outside the rule's schema: refused, the handler never ran", "E_INVALID_ARGS, ran 0", await outcome("files.upload", () => openStream("files.upload", { name: 7 }).result));
  check("a stream no capability names: refused, the handler never ran", "E_NOT_ALLOWED, ran 0", await outcome("files.wipe", () => openStream("files.wipe", { name: "all" }).result));
  const stream = openStream("files.upload", { name: "empty" });
  let replaced = "kept";
  try {
    stream.result = Promise.resolve("forged");
  } catch {
    replaced = "refused";
  }
  check("a stream's result is read-only", "refused", replaced);
  await stream.getWriter().close();
  check("a stream closed with no chunks answers", '{"name":"empty","bytes":0,"chunks":0,"sum":0}', await settled(stream.result));
}

const NONE = '{"capabilities":[],"paths":[]}';

async function runtimeGrants() {
  check("grants() before the Rust side granted anything", NONE, JSON.stringify(await grants()));
  check("GRANTS_COMMAND is the command grants() calls", NONE, JSON.stringify(await invoke(GRANTS_COMMAND)));
  check("a grant-gated command before the grant: refused, the handler never ran", "E_NOT_GRANTED, ran 0", await outcome("notes.export", () => invoke("notes.export")));
  check("a wrong password is the handler's typed error", "E_HANDLER WRONG_PASSWORD", await invoke("session.sign_in", { password: "guess" }).catch((e) => `${codeOf(e)} ${e.appCode}`));
  await invoke("session.sign_in", { password: "open sesame" });
  check("grants() after the Rust side granted export", '{"capabilities":["export"],"paths":[]}', JSON.stringify(await grants()));
  check("the grant-gated command once granted", '"exported", ran 1', await outcome("notes.export", () => invoke("notes.export")));
  await invoke("session.sign_out");
  check("grants() after the Rust side revoked it", NONE, JSON.stringify(await grants()));
  check("the grant-gated command after the revoke: refused, the handler never ran", "E_GRANT_REVOKED, ran 0", await outcome("notes.export", () => invoke("notes.export")));
}

async function scopes() {
  const sample = await invoke("self_test.sample");
  check("a scoped command before the file was picked: refused, the handler never ran", "E_OUT_OF_SCOPE, ran 0", await outcome("files.read", () => invoke("files.read", { path: sample })));
  const picked = await invoke("files.pick");
  check(
    "grants() lists the path the Rust side added to the scope",
    JSON.stringify({ capabilities: [], paths: [{ capability: "main-window", scope: "opened", path: picked, reach: "file" }] }),
    JSON.stringify(await grants()),
  );
  check("the scoped command reads the picked file", '"picked by the user\\n", ran 1', await outcome("files.read", () => invoke("files.read", { path: sample })));
  check("a path beside it is still outside the scope, the handler never ran", "E_OUT_OF_SCOPE, ran 0", await outcome("files.read", () => invoke("files.read", { path: `${sample}.other` })));
  check("the Rust side forgets the path", "true", await invoke("files.forget", { path: picked }));
  check("after forget_path the file is outside the scope again, the handler never ran", "E_OUT_OF_SCOPE, ran 0", await outcome("files.read", () => invoke("files.read", { path: sample })));
  check("grants() no longer lists it", NONE, JSON.stringify(await grants()));
}

async function hookKinds() {
  const { kinds } = await invoke("self_test.hook_kinds", {});
  check("the hook judged each kind: commands, events and stream opens", "command,event,stream", kinds.join(","));
}

async function selfTest() {
  await basics();
  await typedErrors();
  await cancellation();
  await events();
  await channels();
  await streams();
  await runtimeGrants();
  await scopes();
  await hookKinds();
  await invoke("self_test.report", { checks });
}

if (new URLSearchParams(location.search).has("self-test")) {
  selfTest().catch((e) => invoke("self_test.report", { checks: [...checks, { name: "self-test ran to the end", expected: "no exception", got: String(e) }] }));
} else {
  invoke("greet", { name: "world" }).then((text) => {
    document.getElementById("status").textContent = text;
  });
}
