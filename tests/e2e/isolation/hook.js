// The end-to-end suite's validation hook. Its verdicts are what the scenarios assert.

import { describe } from "./describe.js";

// It judges stream opens too (the stream.* cases below), so it says so: a hook is shown
// only the kinds it declares.
export const kinds = ["command", "event", "stream"];

function deeplyFrozen(v) {
  if (v === null || typeof v !== "object") return true;
  return Object.isFrozen(v) && Object.values(v).every(deeplyFrozen);
}

class Point {
  constructor() {
    this.x = 1;
  }
}

/** Hooks returning values that JSON would change: each must be refused before sealing. */
function returning(message) {
  switch (message.payload.what) {
    case "a class instance":
      return { ...message, payload: new Point() };
    case "a Date":
      return { ...message, payload: { when: new Date(0) } };
    case "a getter":
      return { ...message, payload: { get role() { return "admin"; } } };
    case "an undefined member":
      return { ...message, payload: { confirm: undefined } };
    case "a boxed string as cmd":
      return { ...message, cmd: new String("echo") };
    case "another kind":
      return { ...message, kind: "event" };
    case "a verdict object that is not a message":
      return { allowed: false, errors: ["role must not be admin"] };
    case "an empty array":
      return [];
    case "a deleted payload":
      delete message.payload;
      return message;
    case "a write to the frozen payload":
      message.payload.what = "changed"; // throws: hook modules are strict, the payload frozen
      return message;
    default:
      return { ...message, payload: { rebuilt: true } };
  }
}

/** Careful hooks, each refusing one thing; the Rust handler flags any value they refuse. */
const GUARDS = {
  "guarded.role": (p) => p.role !== "admin",
  "guarded.count": (p) => typeof p.n === "number" && p.n >= 0,
  "guarded.items": (p) => Array.isArray(p.items) && p.items.every((x) => typeof x === "string"),
  "guarded.confirm": (p) => "confirm" in p,
  "guarded.small": (p) => typeof p.n === "number" && p.n <= 2 ** 60,
};

export default async function hook(message, context) {
  switch (message.cmd) {
    case "secret.read":
      // The canary: the hook refuses it always, so if its handler ever runs, something
      // reached the core without passing this hook.
      throw new Error("the canary never passes");
    case "hook.throw":
      throw new Error("hook says no");
    case "hook.false":
      return false;
    case "stream.alias":
      // Tauri style: the message renamed in place, nothing returned. The new name is the
      // one the allowlist judges (stream.alias itself is in no capability).
      message.cmd = "stream.collect";
      return undefined;
    case "stream.false":
      return false;
    case "stream.guarded":
      // Sees the stream's open: its kind and its metadata.
      if (message.kind !== "stream" || context.kind !== "stream") throw new Error("a stream's open has kind stream");
      if (message.payload.secret) throw new Error("secret streams are refused by the hook");
      return message;
    case "channel.refused":
      // A call carrying a channel that the hook refuses: its handler must never run.
      return false;
    case "hook.hang":
      return new Promise(() => {});
    case "canon.sink":
      // Seals what it saw beside the value, so the page can compare the two.
      return {
        ...message,
        payload: { value: message.payload, saw: describe(message.payload), frozen: deeplyFrozen(message.payload) },
      };
    case "canon.returns":
      return returning(message);
    case "guarded.role":
    case "guarded.count":
    case "guarded.items":
    case "guarded.confirm":
    case "guarded.small":
      if (!GUARDS[message.cmd](message.payload)) throw new Error(`${message.cmd}: refused by the hook`);
      return message;
    case "hook.rewrite":
      return { ...message, payload: { rewritten: true, webview: context.webview } };
    default:
      return message;
  }
}
