// PortcullisError is defined twice, and must stay one class in all but identity: the
// bridge (crates/portcullis-wry/js/bridge.js) defines the class every rejection in a
// webview is, and the package (index.js) uses it whenever the bridge is installed. The
// package keeps its own copy (ModuleError) only for where no bridge is: tests, a page
// opened in a browser. The bridge cannot import the package (it is a classic script run
// before any page script, which must load nothing the page serves), and the package
// cannot reach the bridge's class without a bridge. So this test keeps the two
// identical: the same constructor, and the same errors from the same arguments.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";

import { installRealBridge } from "./real-bridge.js";

// The package first, with no bridge installed: its own class.
const standalone = await import("../index.js?standalone");
const bridge = await installRealBridge(() => ({ status: 400, json: '{"code":"E_BAD_REQUEST","message":"not in this test"}' }));

/** The constructor's text in `file`'s `class <name> extends <base> {…}`, as one line. */
function constructorOf(file, name) {
  const text = readFileSync(new URL(file, import.meta.url), "utf8");
  const start = text.indexOf(`class ${name} extends `);
  assert.notEqual(start, -1, `${file} defines class ${name}`);
  // From `constructor(` to the brace that closes its body (no braces in its strings).
  const from = text.indexOf("constructor(", start);
  let depth = 0;
  let at = text.indexOf(") {", from) + 2;
  do {
    if (text[at] === "{") depth += 1;
    if (text[at] === "}") depth -= 1;
    at += 1;
  } while (depth > 0);
  return text.slice(from, at).replace(/\s+/g, " ");
}

test("the package's own PortcullisError has the bridge's constructor", () => {
  assert.equal(
    constructorOf("../index.js", "ModuleError"),
    constructorOf("../../../crates/portcullis-wry/js/bridge.js", "PortcullisError"),
  );
});

test("both classes make the same error from the same arguments", () => {
  const Bridge = bridge.PortcullisError;
  const Module = standalone.PortcullisError;
  assert.notEqual(Bridge, Module, "one is the bridge's, the other the package's own");
  const cause = new Error("underneath");
  for (const args of [
    ["E_HANDLER", "disk full"],
    ["E_HANDLER", "disk full", { appCode: "ENOSPC", data: { free: 0 } }],
    ["E_TIMEOUT", "too slow", { cause }],
    ["E_INTERNAL", "", { appCode: undefined, data: null, cause: undefined }],
  ]) {
    const a = new Bridge(...args);
    const b = new Module(...args);
    const shape = (e) => ({
      name: e.name,
      message: e.message,
      own: Object.getOwnPropertyNames(e).filter((k) => k !== "stack").sort(),
      fields: { code: e.code, appCode: e.appCode, data: e.data, cause: e.cause },
      error: e instanceof Error,
      toString: String(e),
    });
    assert.deepEqual(shape(a), shape(b), JSON.stringify(args));
  }
});
