// The module's behaviour around the bridge, under Node's test runner (no webview: the
// bridge is a stand-in here; bridge.test.js runs the module against the real bridge.js,
// and the e2e suite in a real webview).
import { test } from "node:test";
import assert from "node:assert/strict";

import { Channel, ERROR_CODES, GRANTS_COMMAND, PortcullisError, openStream, grants, invoke, isAvailable, listen, once } from "../index.js";

function bridgeError(code, message, appCode, data) {
  const e = new Error(message);
  e.code = code;
  if (appCode !== undefined) e.appCode = appCode;
  if (data !== undefined) e.data = data;
  return e;
}

test("without a bridge every call rejects with E_ISOLATION_UNAVAILABLE", async () => {
  delete globalThis.portcullis;
  assert.equal(isAvailable(), false);
  await assert.rejects(invoke("notes.list"), (e) => e instanceof PortcullisError && e.code === "E_ISOLATION_UNAVAILABLE");
  await assert.rejects(listen("x", () => {}), (e) => e instanceof PortcullisError && e.code === "E_ISOLATION_UNAVAILABLE");
});

test("a bridge rejection becomes a PortcullisError with its code, message and app code", async () => {
  const data = { free: 0 };
  globalThis.portcullis = { invoke: () => Promise.reject(bridgeError("E_HANDLER", "disk full", "ENOSPC", data)) };
  assert.equal(isAvailable(), true);
  await assert.rejects(invoke("files.save", {}), (e) => {
    assert.ok(e instanceof PortcullisError);
    assert.equal(e.name, "PortcullisError");
    assert.equal(e.code, "E_HANDLER");
    assert.equal(e.message, "disk full");
    assert.equal(e.appCode, "ENOSPC");
    assert.deepEqual(e.data, { free: 0 });
    assert.equal(e.cause.code, "E_HANDLER");
    return true;
  });
});

test("a rejection without a known code is E_INTERNAL, not passed off as one", async () => {
  globalThis.portcullis = { invoke: () => Promise.reject(bridgeError("E_MADE_UP", "?")) };
  await assert.rejects(invoke("x"), (e) => e instanceof PortcullisError && e.code === "E_INTERNAL");
  globalThis.portcullis = { invoke: () => Promise.reject("a string") };
  await assert.rejects(invoke("x"), (e) => e instanceof PortcullisError && e.code === "E_INTERNAL");
});

test("the legitimate path resolves with the bridge's result and passes arguments as given", async () => {
  const seen = [];
  globalThis.portcullis = {
    invoke: (cmd, args, options) => {
      seen.push([cmd, args, options]);
      return Promise.resolve({ ok: 1 });
    },
  };
  assert.deepEqual(await invoke("notes.add", { title: "a" }, { timeoutMs: 5 }), { ok: 1 });
  assert.deepEqual(seen, [["notes.add", { title: "a" }, { timeoutMs: 5 }]]);
});

test("once delivers one event and stops listening, also when the event comes at once", async () => {
  const handlers = new Set();
  globalThis.portcullis = {
    invoke: () => Promise.resolve(null),
    listen: (event, handler) => {
      handlers.add(handler);
      handler({ event, payload: 0 }); // delivered before listen returned
      return () => handlers.delete(handler);
    },
  };
  const got = [];
  await once("tick", (e) => got.push(e.payload));
  for (const h of [...handlers]) h({ event: "tick", payload: 1 });
  assert.deepEqual(got, [0]);
  assert.equal(handlers.size, 0);
});

test("listen refuses a handler that is not a function", async () => {
  globalThis.portcullis = { invoke: () => Promise.resolve(null), listen: () => () => {} };
  await assert.rejects(listen("x", 42), (e) => e instanceof PortcullisError && e.code === "E_BAD_REQUEST");
});

test("the code list has no duplicates", () => {
  assert.equal(new Set(ERROR_CODES).size, ERROR_CODES.length);
});

test("the global's entry point resolves at run time, as an import of it is kept by bundlers", async () => {
  const module = await import("@portcullis/api/global");
  assert.deepEqual(Object.keys(module), []);
});

test("grants() asks the built-in command with no arguments and returns its answer", async () => {
  const seen = [];
  const answer = { capabilities: ["export"], paths: [{ capability: "base", scope: "picked", path: "/home/u/a.txt", reach: "file" }] };
  globalThis.portcullis = {
    invoke: (cmd, args) => {
      seen.push([cmd, args]);
      return Promise.resolve(answer);
    },
  };
  assert.deepEqual(await grants(), answer);
  assert.deepEqual(seen, [[GRANTS_COMMAND, {}]]);
  assert.equal(GRANTS_COMMAND, "portcullis:grants");
});

test("grants() rejects with the core's code, and with E_INTERNAL on a reply of another shape", async () => {
  globalThis.portcullis = { invoke: () => Promise.reject(bridgeError("E_NOT_ALLOWED", "add it to a capability")) };
  await assert.rejects(grants(), (e) => e instanceof PortcullisError && e.code === "E_NOT_ALLOWED");
  for (const reply of [null, [], { capabilities: "export", paths: [] }, { capabilities: [] }]) {
    globalThis.portcullis = { invoke: () => Promise.resolve(reply) };
    await assert.rejects(grants(), (e) => e instanceof PortcullisError && e.code === "E_INTERNAL", JSON.stringify(reply));
  }
});

test("a Channel outside a Portcullis webview cannot be made: there is no core to send", () => {
  assert.throws(
    () => new Channel(() => {}),
    (e) => e instanceof PortcullisError && e.code === "E_ISOLATION_UNAVAILABLE",
  );
});

test("in a webview the module's Channel is the bridge's own class", async () => {
  class BridgeChannel {}
  globalThis.portcullis = { invoke: () => Promise.resolve(null), Channel: BridgeChannel };
  const fresh = await import(`../index.js?channel=${Date.now()}`);
  assert.equal(fresh.Channel, BridgeChannel);
  delete globalThis.portcullis;
});

test("openStream outside a webview throws E_ISOLATION_UNAVAILABLE; in one, it is the bridge's stream as the bridge made it", async () => {
  delete globalThis.portcullis;
  assert.throws(() => openStream("upload"), (e) => e instanceof PortcullisError && e.code === "E_ISOLATION_UNAVAILABLE");
  const refused = Promise.reject(bridgeError("E_TOO_LARGE", "past maxBytes"));
  refused.catch(() => {});
  const seen = [];
  // `result` read-only, as bridge.js defines it (bridge.test.js runs the real bridge).
  const made = Object.defineProperty({}, "result", { value: refused, enumerable: true });
  globalThis.portcullis = {
    invoke: () => Promise.resolve(null),
    openStream: (cmd, meta) => {
      seen.push([cmd, meta]);
      return made;
    },
  };
  assert.equal(openStream("upload", { name: "a" }), made);
  assert.deepEqual(seen, [["upload", { name: "a" }]]);
  await assert.rejects(made.result, (e) => e.code === "E_TOO_LARGE");
  delete globalThis.portcullis;
});
