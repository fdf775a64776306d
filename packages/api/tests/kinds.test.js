// Which kinds a validation hook judges (isolation-app/kinds.js, docs/HOOKS.md "Kinds")
// and the helpers' kinds (isolation-app/helpers.js), under Node's test runner: the same
// modules the isolation frame runs.
import { test } from "node:test";
import assert from "node:assert/strict";

import { HOOK_KINDS, KindsDeclarationError, UNDECLARED_KINDS, hookKinds, unjudged } from "../../../isolation-app/kinds.js";
import { allowCommands, allowEvents, allowStreams, chain, maxBytes, rateLimit, requireShape } from "../../../isolation-app/helpers.js";
import * as builtin from "../../../isolation-app/hook.js";

const pass = (message) => message;
const message = (kind, cmd, payload = {}) => ({ kind, cmd, payload, callback: 1, error: 1, options: {} });

test("a hook that declares nothing judges commands and events, not streams", () => {
  assert.deepEqual(UNDECLARED_KINDS, ["command", "event"]);
  const kinds = hookKinds({ default: pass }, pass);
  assert.deepEqual([...kinds], ["command", "event"]);
  assert.equal(unjudged(kinds, "command"), null);
  assert.equal(unjudged(kinds, "event"), null);
  const why = unjudged(kinds, "stream");
  assert.match(why, /does not judge stream messages/);
  assert.match(why, /export const kinds = \["command", "event", "stream"\]/);
  assert.match(why, /docs\/HOOKS\.md/);
});

test("kinds are declared by the module's export or the hook's property; the export wins", () => {
  const hook = (m) => m;
  hook.kinds = ["command"];
  assert.deepEqual([...hookKinds({}, hook)], ["command"]);
  assert.deepEqual([...hookKinds({ kinds: ["stream"] }, hook)], ["stream"]);
  assert.deepEqual([...hookKinds({ kinds: ["command", "event", "stream"] }, pass)], ["command", "event", "stream"]);
  // An empty declaration judges nothing: every message is refused.
  const none = hookKinds({ kinds: [] }, pass);
  for (const kind of HOOK_KINDS) assert.notEqual(unjudged(none, kind), null);
});

test("a declaration that is not an array of kind names does not load", () => {
  const bad = [
    ["stream", /export must be an array of kind names .*not the string "stream"/],
    [{ stream: true }, /not a object/],
    [null, /not null/],
    [["command", 5], /holds a number/],
    [["streams"], /holds "streams", which is no kind/],
  ];
  for (const [kinds, why] of bad) {
    assert.throws(() => hookKinds({ kinds }, pass), (e) => e instanceof KindsDeclarationError && why.test(e.message), String(kinds));
  }
  const hook = (m) => m;
  hook.kinds = "command";
  assert.throws(() => hookKinds({}, hook), /function's `kinds` property must be an array/);
});

test("the declaration is read once: changing it later changes nothing", () => {
  const declared = ["command"];
  const kinds = hookKinds({ kinds: declared }, pass);
  declared.push("stream");
  assert.notEqual(unjudged(kinds, "stream"), null);
});

test("a kind added to the runtime later is refused by every hook until it declares it", () => {
  const known = [...HOOK_KINDS, "future"];
  const undeclared = hookKinds({}, pass, known);
  const everyKindToday = hookKinds({ kinds: ["command", "event", "stream"] }, pass, known);
  assert.match(unjudged(undeclared, "future"), /does not judge future messages/);
  assert.match(unjudged(everyKindToday, "future"), /does not judge future messages/);
  // Its twin: a hook that declares it is shown it.
  assert.equal(unjudged(hookKinds({ kinds: ["future"] }, pass, known), "future"), null);
  // And a runtime that does not know it refuses a hook that names it.
  assert.throws(() => hookKinds({ kinds: ["future"] }, pass), KindsDeclarationError);
});

test("the built-in names-only hook declares all three kinds", () => {
  assert.deepEqual([...hookKinds(builtin, builtin.default)], ["command", "event", "stream"]);
});

test("each naming rule records its kind; the others judge none", () => {
  assert.deepEqual(allowCommands([]).kinds, ["command"]);
  assert.deepEqual(allowEvents([]).kinds, ["event"]);
  assert.deepEqual(allowStreams([]).kinds, ["stream"]);
  for (const rule of [requireShape("x", {}), maxBytes(1), rateLimit({ perSecond: 1 }), pass]) {
    assert.equal(rule.kinds, undefined, rule.name);
  }
});

test("a chain judges the union of its rules' kinds and refuses any other kind itself", async () => {
  const hook = chain(allowCommands(["notes.list"]), allowEvents(["ping"]), maxBytes(1024));
  assert.deepEqual(hook.kinds, ["command", "event"]);
  assert.deepEqual([...hookKinds({ default: hook }, hook)], ["command", "event"]);
  // Twins: what its rules allow passes.
  assert.ok(await hook(message("command", "notes.list")));
  assert.ok(await hook(message("event", "ping")));
  // A stream open and a kind nobody knows yet are refused, although no rule refuses them.
  await assert.rejects(hook(message("stream", "notes.list")), /no rule of this hook judges stream messages/);
  await assert.rejects(hook(message("future", "notes.list")), /no rule of this hook judges future messages/);
  // Nested chains add up; a chain of kind-agnostic rules declares nothing, so as the hook
  // it judges what any hook that declares nothing judges: commands and events, no stream.
  assert.deepEqual(chain(hook, allowStreams(["upload"])).kinds, ["command", "event", "stream"]);
  const agnostic = chain(maxBytes(10));
  assert.equal(agnostic.kinds, undefined);
  assert.deepEqual([...hookKinds({ default: agnostic }, agnostic)], ["command", "event"]);
  assert.match(unjudged(hookKinds({ default: agnostic }, agnostic), "stream"), /does not judge stream messages/);
  await assert.rejects(agnostic(message("command", "x", "a".repeat(20))), /exceeds 10/);
});

test("allowStreams refuses the streams it does not name, and leaves other kinds alone", async () => {
  const hook = chain(allowCommands(["upload"]), allowStreams(["upload"]));
  assert.ok(await hook(message("stream", "upload")));
  assert.ok(await hook(message("command", "upload")));
  await assert.rejects(hook(message("stream", "secret")), /stream secret is not allowed by the hook/);
  // A command rule never lets a stream of the same kind through, nor the other way round.
  await assert.rejects(chain(allowStreams(["a"]), allowCommands(["b"]))(message("stream", "b")), /stream b is not allowed/);
  await assert.rejects(chain(allowStreams(["a"]), allowCommands(["b"]))(message("command", "a")), /command a is not allowed/);
});

test("requireShape and maxBytes judge a stream's metadata as they judge arguments", async () => {
  const hook = chain(allowStreams(["upload"]), requireShape("upload", { name: "string" }), maxBytes(32));
  assert.ok(await hook(message("stream", "upload", { name: "a.txt" })));
  await assert.rejects(hook(message("stream", "upload", { name: 5 })), /name must be string/);
  await assert.rejects(hook(message("stream", "upload", { name: "x".repeat(40) })), /exceeds 32/);
});

test("a plain function rule may declare kinds of its own, which the chain adds", async () => {
  const onlySmallStreams = (m) => {
    if (m.kind === "stream" && JSON.stringify(m.payload).length > 20) throw new Error("too much metadata");
  };
  onlySmallStreams.kinds = ["stream"];
  const hook = chain(allowCommands([]), onlySmallStreams);
  assert.deepEqual(hook.kinds, ["command", "stream"]);
  assert.ok(await hook(message("stream", "any")));
  const bad = () => {};
  bad.kinds = "stream";
  assert.throws(() => chain(bad), /must be an array of kind names/);
});

test("chains nest: an inner chain filters nothing, and one of kind-less rules declares no kinds", async () => {
  const shape = chain(maxBytes(1024), requireShape("notes.import", { name: "string" }));
  assert.equal(shape.kinds, undefined, "a chain of no naming rule declares no kinds");
  const hook = chain(allowCommands(["notes.list"]), allowStreams(["notes.import"]), shape);
  assert.deepEqual([...hook.kinds], ["command", "stream"]);
  const list = message("command", "notes.list");
  assert.equal(await hook(list, {}), list);
  await hook(message("stream", "notes.import", { name: "a.txt" }), {});
  await assert.rejects(hook(message("stream", "notes.import", { name: 3 }), {}), /name must be string/);
  await assert.rejects(hook(message("event", "wave"), {}), /no rule of this hook judges event messages/);
  // Naming rules split over nested chains judge together.
  const split = chain(chain(allowCommands(["notes.list"])), chain(allowStreams(["notes.import"])));
  assert.deepEqual([...split.kinds], ["command", "stream"]);
  await split(message("stream", "notes.import"), {});
  await assert.rejects(split(message("stream", "other"), {}), /stream other is not allowed/);
  await assert.rejects(split(message("command", "other"), {}), /command other is not allowed/);
});
