// Channels from the core in a real webview: JSON and bytes in order through the isolation
// frame, the end reaching onclose, the page closing a channel (the handler's next send
// fails), a call the hook refuses (its handler never runs, the channel closes), and a
// reload while a handler is still sending (the handler sees its channel closed).

const { Channel } = window.portcullis;


/** A channel that records what it gets; `ended` resolves when it closes. */
function recorder() {
  const got = [];
  let ended;
  const done = new Promise((resolve) => (ended = resolve));
  const channel = new Channel((message) => got.push(message));
  channel.onclose = () => ended(got);
  return { channel, got, done };
}


export default async function (t) {
  if (t.info.phase === 0) {
    const ticks = recorder();
    await t.check("the call resolves with the handler's result", 5, await t.invoke("channel.ticks", { n: 5, progress: ticks.channel }));
    await t.check("JSON messages arrive in order, then the end", '[{"tick":0},{"tick":1},{"tick":2},{"tick":3},{"tick":4}]', t.stringify(await ticks.done));

    const bytes = recorder();
    await t.invoke("channel.bytes", { count: 40, size: 65536, data: bytes.channel });
    const chunks = await bytes.done;
    await t.check("bytes arrive as Uint8Arrays", true, chunks.every((c) => c instanceof Uint8Array));
    const intact = chunks.map((c, i) => c.length === 65536 && c.every((b) => b === i % 251)).every(Boolean);
    await t.check("40 byte messages of 64 KiB, each whole and in order", "40 true", `${chunks.length} ${intact}`);

    // The page closes a channel: the handler's next send fails, and its error is the call's.
    const closing = new Channel(() => closing.close());
    await t.check("closing the channel fails the handler's send", "E_HANDLER CHANNEL_CLOSED", await t.code(t.invoke("channel.until_closed", { c: closing })));
    await t.check("the handler saw its channel closed", 1, (await t.poll("harness.channels", (c) => c.closed >= 1)).closed);

    // A call the hook refuses: no handler runs, and the channel it carried closes.
    const refused = recorder();
    await t.check("a refused call carrying a channel", "E_HOOK_REJECTED", await t.code(t.invoke("channel.refused", { c: refused.channel })));
    await refused.done;
    await t.check("its channel closed and its handler never ran", "true 0", `${refused.channel.closed} ${(await t.invoke("harness.channels")).refusedRan}`);

    // A handler that needs a channel refuses a call without one.
    await t.check("a command that takes a channel, called without one", "E_INVALID_ARGS", await t.code(t.invoke("channel.ticks", { n: 3 })));
    const twin = recorder();
    await t.check("its twin with a channel", 1, await t.invoke("channel.ticks", { n: 1, c: twin.channel }));

    // Page script asking the isolation frame to pull ids it made up: each is refused and
    // makes nothing, so the page's own channels still fit after many.
    const frame = document.querySelector("iframe").contentWindow;
    const strayPull = (body) => new Promise((resolve) => {
      const token = Math.floor(Math.random() * 2 ** 40);
      const onReply = (e) => {
        if (e.data && e.data.pulled === token) {
          window.removeEventListener("message", onReply);
          resolve(e.data.error ? e.data.error.code : "frames");
        }
      };
      window.addEventListener("message", onReply);
      frame.postMessage({ pull: body, token }, "*");
    });
    const madeUp = [];
    for (let i = 0; i < 40; i++) madeUp.push(await strayPull(`pull ${i.toString(16).padStart(32, "0")}`));
    await t.check("40 made-up pulls are refused", "E_NO_SUCH_CHANNEL x40", `${[...new Set(madeUp)].join(",")} x${madeUp.length}`);
    const after = recorder();
    await t.check("a channel after them still works", 3, await t.invoke("channel.ticks", { n: 3, c: after.channel }));
    await t.check("and its messages arrive", '[{"tick":0},{"tick":1},{"tick":2}]', t.stringify(await after.done));

    // Page script racing the bridge's pulls on the bridge's own channel: the bridge goes
    // on pulling (a pull that lost its place is answered empty, not failed) and its
    // channel ends normally.
    const raced = recorder();
    const racing = t.invoke("channel.bytes", { count: 20, size: 1024, data: raced.channel });
    const id = raced.channel.id;
    const racers = [];
    for (let i = 0; i < 10; i++) racers.push(strayPull(`pull ${id}`));
    await t.check("the raced call resolves", 20, await racing);
    await raced.done;
    const racerAnswers = [...new Set(await Promise.all(racers))].sort().join(",");
    // What the bridge got is whole and in order (what a racer took is the racer's).
    const firsts = raced.got.map((m) => m[0]);
    const inOrder = firsts.every((b, i) => i === 0 || b > firsts[i - 1]) && raced.got.every((m) => m.byteLength === 1024);
    await t.check("the bridge's channel survived the race and ended normally", "true true", `${raced.channel.closed} ${inOrder}`);
    await t.check("the racers got messages or E_NO_SUCH_CHANNEL, nothing else", true, /^(E_NO_SUCH_CHANNEL|frames)(,(E_NO_SUCH_CHANNEL|frames))?$/.test(racerAnswers));

    // A task still sending after its call returned when the page reloads: the reload
    // closes its channel.
    const live = recorder();
    await t.invoke("channel.background", { c: live.channel });
    for (let i = 0; i < 150 && live.got.length < 3; i++) await t.sleep(10);
    await t.check("a task that outlives its call streams to the page", "0,1,2", live.got.slice(0, 3).join(","));
    return;
  }
  // Reloaded: the task that was sending saw its channel closed.
  await t.check("the reload closed the old page's channel under the task sending on it", 2, (await t.poll("harness.channels", (c) => c.closed >= 2)).closed);
  const fresh = recorder();
  await t.check("the reloaded page gets a channel of its own", 2, await t.invoke("channel.ticks", { n: 2, c: fresh.channel }));
  await t.check("and its messages", '[{"tick":0},{"tick":1}]', t.stringify(await fresh.done));
}
