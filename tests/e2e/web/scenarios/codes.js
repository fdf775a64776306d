// Every rejection code a page can cause, each with the call that causes it.

function nested(depth) {
  let v = 1;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

export default async function (t) {
  await t.expectCode("unlisted command", "E_NOT_ALLOWED", () => t.invoke("nope.cmd"));
  await t.expectCode("denied command", "E_DENIED", () => t.invoke("admin.reset"));
  await t.expectCode("schema violation", "E_INVALID_ARGS", () => t.invoke("echo.strict", { x: "not a number" }));
  await t.expectCode("schema: extra property", "E_INVALID_ARGS", () => t.invoke("echo.strict", { x: 1, y: 2 }));
  await t.expectCode("bytes where JSON is required", "E_INVALID_ARGS", () => t.invoke("echo", new Uint8Array(3)));
  await t.expectCode("path outside its scope", "E_OUT_OF_SCOPE", () => t.invoke("fs.read", { path: "/etc/passwd" }));
  await t.expectCode("path traversal", "E_OUT_OF_SCOPE", () => t.invoke("fs.read", { path: "/nonexistent-e2e-docs/../etc/passwd" }));
  // The scoped path is a required string of the rule's schema (a config whose pointer
  // names no argument does not load): it cannot be left out or given another type.
  await t.expectCode("scoped path left out", "E_INVALID_ARGS", () => t.invoke("fs.read", { pth: "/etc/passwd" }));
  await t.expectCode("scoped path of another type", "E_INVALID_ARGS", () => t.invoke("fs.read", { path: ["/etc/passwd"] }));
  await t.expectCode("JSON nested past maxDepth", "E_TOO_DEEP", () => t.invoke("echo", nested(20)));
  // Refused by the isolation runtime before the hook: the name the hook would see must be
  // the name that is sealed. (The gate refuses such names too: unit-tested.)
  await t.expectCode("invalid command name", "E_BAD_REQUEST", () => t.invoke("bad name!"));
  await t.expectCode("allowed but no handler", "E_UNKNOWN_COMMAND", () => t.invoke("unregistered.cmd"));
  await t.expectCode("arguments that do not fit a sync handler's type", "E_INVALID_ARGS", () => t.invoke("counter.add", { unexpected: 1 }));
  await t.expectCode("arguments that do not fit an async handler's type", "E_INVALID_ARGS", () => t.invoke("tokio.files", { unexpected: 1 }));
  // A handler that takes no arguments ignores the ones the policy admitted (#31).
  await t.check("arguments to a handler that takes none are ignored", "slow", await t.invoke("slow.echo", { unexpected: 1 }));
  // Argument values in refused calls never reach the audit (the Rust side checks for it).
  await t.expectCode("a value of the wrong type for the handler", "E_INVALID_ARGS", () => t.invoke("counter.add", "e2e-secret-value"));
  await t.expectCode("a value of the wrong type for the schema", "E_INVALID_ARGS", () => t.invoke("echo.strict", { x: "e2e-secret-value" }));
  await t.expectCode("a value the frame refuses", "E_BAD_REQUEST", () => t.invoke("echo", { d: ["e2e-secret-value", new Date(0)] }));
  let appCode = "";
  await t.expectCode("handler error", "E_HANDLER", () => t.invoke("fail").catch((e) => { appCode = e.appCode; throw e; }));
  await t.check("handler error carries the app's code", "NOPE", appCode);
  await t.expectCode("handler panic", "E_HANDLER_PANICKED", () => t.invoke("boom"));
  await t.check("the app keeps serving after a panic", '{"after":"panic"}', t.stringify(await t.invoke("echo", { after: "panic" })));
  await t.expectCode("hook throws", "E_HOOK_REJECTED", () => t.invoke("hook.throw"));
  await t.expectCode("hook returns false", "E_HOOK_REJECTED", () => t.invoke("hook.false"));
  await t.expectCode("hook never settles", "E_HOOK_TIMEOUT", () => t.invoke("hook.hang"));
  await t.expectCode("caller's timeout", "E_TIMEOUT", () => t.invoke("slow.sleep", {}, { timeoutMs: 150 }));
  await t.expectCode("sealed message over maxMessageBytes", "E_TOO_LARGE", () => t.invoke("echo.bytes", new Uint8Array(1100 * 1024)));
  await t.expectCode("unlisted event", "E_NOT_ALLOWED", () => t.emit("pong", {}));

  const get = await fetch("ipc://localhost/", { method: "GET" });
  await t.check("a GET to the transport (audited before the gate)", "405 E_BAD_METHOD", `${get.status} ${(await get.json()).code}`);
  await t.check("empty body to the transport", "E_UNSEALED", await t.raw(new Uint8Array(0)));
  await t.check("plain JSON request to the transport", "E_UNSEALED", await t.raw('{"cmd":"secret.read","payload":{}}'));
  await t.check("truncated binary envelope", "E_MALFORMED", await t.raw(new Uint8Array([0x50, 0x43, 1, 0, 1, 2, 3])));
  await t.check("oversized raw body", "E_TOO_LARGE", await t.raw(new Uint8Array(1100 * 1024)));

  await t.invoke("echo", { capture: 1 });
  // The echo just admitted: the last capture is the harness.captured call itself.
  const first = (await t.captured(t.info.label)).at(-2);
  const mutate = (f) => {
    const copy = first.slice();
    f(copy);
    return copy;
  };
  await t.check("replayed sealed message", "E_REPLAY", await t.raw(first));
  await t.check("version byte changed", "E_UNSUPPORTED_VERSION", await t.raw(mutate((m) => (m[2] = 2))));
  await t.check("nonce changed", "E_BAD_NONCE", await t.raw(mutate((m) => (m[39] ^= 1))));
  await t.check("session id changed", "E_UNKNOWN_SESSION", await t.raw(mutate((m) => (m[4] ^= 1))));
  await t.check("bit flipped in an accepted message: refused before decryption", "E_REPLAY", await t.raw(mutate((m) => (m[45] ^= 1))));
  await t.check("sequence number moved (header is authenticated)", "E_TAMPERED", await t.raw(t.fresh(first, 5000)));
  const flipped = t.fresh(first, 5001);
  flipped[45] ^= 1;
  await t.check("ciphertext bit flipped", "E_TAMPERED", await t.raw(flipped));
  const tag = t.fresh(first, 5002);
  tag[tag.length - 1] ^= 0x80;
  await t.check("tag bit flipped", "E_TAMPERED", await t.raw(tag));
  for (let i = 0; i < 70; i++) await t.invoke("echo", { i });
  await t.check("message older than the replay window", "E_STALE", await t.raw(first));
}
