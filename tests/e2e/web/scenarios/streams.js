// Streams from the page in a real webview: openStream's WritableStream through the hook
// (kind "stream"), the allowlist (a maxBytes limit) and the sealed chunk envelopes; the
// attacks a compromised page can make on them (replay, a chunk moved to another stream
// or number, a chunk for a refused or closed stream, another stream's chunks without its
// token), and a reload mid-stream. The Rust side counts what the handlers did.

const { openStream } = window.portcullis;


/** Bytes of `length` whose value at i is (i * 7 + seed) mod 256, and their sum. */
function pattern(length, seed = 0) {
  const bytes = new Uint8Array(length);
  let sum = 0;
  for (let i = 0; i < length; i++) {
    bytes[i] = (i * 7 + seed) & 0xff;
    sum = (sum + bytes[i]) >>> 0;
  }
  return { bytes, sum };
}

/** Writes `parts` to a new stream and closes it; the handler's result. */
async function send(name, meta, parts) {
  const stream = openStream(name, meta);
  const writer = stream.getWriter();
  for (const part of parts) await writer.write(part);
  await writer.close();
  return stream.result;
}

/** Posts a forged chunk message to the isolation frame; its answer's code. */
function forgeToFrame(message) {
  const frame = document.querySelector("iframe[sandbox]").contentWindow;
  const key = 424242 + Math.floor(Math.random() * 1000);
  return new Promise((resolve) => {
    const listen = (event) => {
      if (event.source !== frame || !event.data || event.data.key !== key) return;
      window.removeEventListener("message", listen);
      resolve(event.data.ok ? "OK" : event.data.error.code);
    };
    window.addEventListener("message", listen);
    frame.postMessage({ ...message, key }, "*");
    setTimeout(() => resolve("no answer"), 2000);
  });
}


export default async function (t) {
  if (t.info.phase === 0) {
    const a = pattern(1000, 1);
    const b = pattern(5000, 2);
    const result = await send("stream.collect", { name: "notes" }, [a.bytes, b.bytes.buffer]);
    await t.check("a stream's chunks reach the handler whole and in order", `6000 2 ${(a.sum + b.sum) >>> 0}`, `${result.bytes} ${result.chunks} ${result.sum}`);
    await t.check("the handler gets the stream's metadata", '{"name":"notes"}', t.stringify(result.meta));

    // Larger than limits.maxMessageBytes (1 MiB here): split into chunks that fit.
    const big = pattern(3 * 1024 * 1024 + 5, 3);
    const whole = await send("stream.collect", {}, [big.bytes]);
    await t.check("a 3 MiB write is split to fit and arrives whole", `${big.bytes.length} 4 ${big.sum}`, `${whole.bytes} ${whole.chunks} ${whole.sum}`);

    // The hook judges the open (it sees kind "stream" and the metadata).
    const guarded = openStream("stream.guarded", { secret: true });
    await t.check("the hook refuses a stream's open", "E_HOOK_REJECTED", await t.code(guarded.result));
    await t.check("a write to a refused stream fails with the refusal", "E_HOOK_REJECTED", await t.code(guarded.getWriter().write(new Uint8Array(3))));
    const before = (await t.invoke("harness.streams")).started;
    await t.check("its twin the hook lets through", 3, (await send("stream.guarded", { secret: false }, [new Uint8Array(3)])).bytes);
    await t.check("only the twin's handler started", before + 1, (await t.invoke("harness.streams")).started);
    await t.check("a stream no capability allows", "E_NOT_ALLOWED", await t.code(openStream("stream.unlisted").result));
    await t.check("a hook returning false refuses a stream", "E_HOOK_REJECTED", await t.code(openStream("stream.false").result));
    await t.check("a hook renaming a stream's cmd in place is honoured", 3, (await send("stream.alias", {}, [new Uint8Array(3)])).bytes);

    // The rule's maxBytes.
    await t.check("a stream past its maxBytes", "E_TOO_LARGE", await t.code(send("stream.limited", {}, [new Uint8Array(60000), new Uint8Array(60000)])));
    await t.check("its twin within the limit", 100000, (await send("stream.limited", {}, [new Uint8Array(60000), new Uint8Array(40000)])).bytes);

    // Aborted by the page: the handler sees the abort.
    const aborted = openStream("stream.collect", {});
    const writer = aborted.getWriter();
    await writer.write(new Uint8Array(10));
    await writer.abort("changed my mind");
    await t.check("an aborted stream's result", "E_CANCELLED", await t.code(aborted.result));
    await t.check("the handler saw the abort", 1, (await t.poll("harness.streams", (c) => c.aborted >= 1)).aborted);

    // Attacks with the sealed chunks the core admitted (as an attacker who saw them).
    const sealed = (await t.captured(t.info.label)).filter((m) => m[3] === 1);
    await t.check("chunks travel in chunk envelopes (flags 1)", true, sealed.length >= 6);
    const chunk = sealed[0];
    await t.check("a captured chunk replayed", "E_REPLAY", await t.raw(chunk));
    const open = openStream("stream.collect", {});
    const openWriter = open.getWriter();
    await openWriter.write(new Uint8Array(1));
    const target = t.captured(t.info.label).then((all) => all.filter((m) => m[3] === 1).slice(-1)[0]);
    const streamOf = (m) => new DataView(m.buffer, m.byteOffset).getBigUint64(40);
    const spliced = t.fresh(chunk, 2_000_000);
    new DataView(spliced.buffer).setBigUint64(40, streamOf(await target));
    await t.check("a captured chunk moved to another open stream", "E_TAMPERED", await t.raw(spliced));
    const renumbered = t.fresh(chunk, 2_000_001);
    new DataView(renumbered.buffer).setBigUint64(48, 5n);
    await t.check("a captured chunk given another number", "E_TAMPERED", await t.raw(renumbered));
    await openWriter.close();
    await t.check("the stream under attack is intact", 1, (await open.result).bytes);

    // The page asks the isolation frame to seal chunks it has no right to.
    await t.check("a chunk for a stream whose open was refused is never sealed", "E_NO_SUCH_STREAM", await forgeToFrame({ chunk: 999999, token: 1, bytes: new Uint8Array(4) }));
    const live = openStream("stream.slow", {});
    const liveWriter = live.getWriter();
    await liveWriter.write(new Uint8Array(8));
    const liveId = Number(streamOf(await t.captured(t.info.label).then((all) => all.filter((m) => m[3] === 1).slice(-1)[0])));
    await t.check("another stream's chunks without its token are never sealed", "E_NO_SUCH_STREAM", await forgeToFrame({ chunk: liveId, token: 7, bytes: new Uint8Array(4) }));
    // Left open: the reload finds the handler mid-stream.
    await liveWriter.write(new Uint8Array(8));
    return;
  }
  // Reloaded: the stream the old page load left open was aborted, its handler cancelled.
  await t.check("the reload cancelled the handler mid-stream", 1, (await t.poll("harness.streams", (c) => c.dropped >= 1)).dropped);
  const again = await send("stream.collect", {}, [new Uint8Array(2)]);
  await t.check("the reloaded page streams", 2, again.bytes);
}
