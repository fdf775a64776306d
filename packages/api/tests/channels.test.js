// Channels on the real bridge (see real-bridge.js): a channel pulls only once a call
// carrying it was sent, tries again while the core has not made it yet, and stops once
// its call was answered (issue 30: pulls never make channels in the core; the review
// found loops that outlived calls refused before they were sent).
import { test } from "node:test";
import assert from "node:assert/strict";

import { PROTOCOL } from "../../../isolation-app/protocol.js";
import { installRealBridge } from "./real-bridge.js";

const { channelFrames: FRAMES, kinds: KINDS } = PROTOCOL;

const NO_SUCH = { status: 404, json: '{"code":"E_NO_SUCH_CHANNEL","message":"no channel"}' };
/** Pulls the stand-in core saw, by channel id. */
const pulls = new Map();
/** Channel id -> the frames its next pulls get (after `refuse` refusals), once made. */
const made = new Map();

function frames(messages, end) {
  const parts = [];
  for (const m of messages) {
    const data = new TextEncoder().encode(JSON.stringify(m));
    const head = new Uint8Array(5);
    head[0] = FRAMES.json;
    new DataView(head.buffer).setUint32(1, data.length);
    parts.push(head, data);
  }
  if (end) parts.push(new Uint8Array([FRAMES.end, 0, 0, 0, 0]));
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all.buffer;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

const bridge = await installRealBridge(async (message) => {
  if (message.pull !== undefined) {
    const [op, id] = message.pull.split(" ");
    pulls.set(id, (pulls.get(id) ?? 0) + 1);
    const channel = made.get(id);
    if (op !== "pull" || !channel || channel.refuse-- > 0) return NO_SUCH;
    made.delete(id);
    return { frames: channel.frames };
  }
  if (message.kind === KINDS.command && message.name === "ticks") {
    // The handler takes the channel a little after the call arrived.
    const { c } = JSON.parse(new TextDecoder().decode(message.body));
    await sleep(20);
    made.set(c.slice(PROTOCOL.channelPrefix.length), { refuse: 0, frames: frames([{ tick: 0 }, { tick: 1 }], true) });
    return { json: "2" };
  }
  if (message.kind === KINDS.command) {
    await sleep(30);
    return { json: "null" };
  }
  return { status: 400, json: '{"code":"E_BAD_REQUEST","message":"not in this test"}' };
});

test("a call refused before it is sent starts no pull loop", async () => {
  const onEvent = new bridge.Channel(() => {});
  await assert.rejects(bridge.emit("wave", { c: onEvent }), { code: "E_BAD_REQUEST" });
  const aborted = new bridge.Channel(() => {});
  await assert.rejects(bridge.invoke("keep", { c: aborted }, { signal: AbortSignal.abort() }), { code: "E_CANCELLED" });
  const badSignal = new bridge.Channel(() => {});
  await assert.rejects(bridge.invoke("keep", { c: badSignal }, { signal: {} }), { code: "E_BAD_REQUEST" });
  const stringified = new bridge.Channel(() => {});
  JSON.stringify({ c: stringified });
  await sleep(100);
  for (const channel of [onEvent, aborted, badSignal, stringified]) {
    assert.equal(pulls.get(channel.id) ?? 0, 0, "a refused call's channel pulled");
  }
});

test("a channel the core has not made yet is pulled again, and its messages arrive", async () => {
  const got = [];
  const ticks = new bridge.Channel((m) => got.push(m));
  const closed = new Promise((resolve) => (ticks.onclose = resolve));
  assert.equal(await bridge.invoke("ticks", { c: ticks }), 2);
  await closed;
  assert.deepEqual(got, [{ tick: 0 }, { tick: 1 }]);
  assert.ok(pulls.get(ticks.id) >= 2, "the first pull found no channel and was tried again");
});

test("a channel no handler took stops pulling once its call was answered", async () => {
  const untaken = new bridge.Channel(() => {});
  const closed = new Promise((resolve) => (untaken.onclose = resolve));
  assert.equal(await bridge.invoke("keep", { c: untaken }), null);
  await closed;
  const after = pulls.get(untaken.id);
  await sleep(100);
  assert.equal(pulls.get(untaken.id), after, "it pulled after its call was answered and refused");
  assert.equal(untaken.closed, true);
});
