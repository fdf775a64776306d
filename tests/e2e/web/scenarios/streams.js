// Streams from the page in a real webview: openStream's WritableStream through the hook
// (kind "stream"), the allowlist (a maxBytes limit) and the sealed chunk envelopes; the
// attacks a compromised page can make on them (replay, a chunk moved to another stream
// or number, a chunk for a refused or closed stream, another stream's chunks without its
// writer key, a page snooping for that key to write into the bridge's own upload), and
// a reload mid-stream. The Rust side counts what the handlers did.

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

/**
 * Everything page script can snoop on while `run` runs: the values promises are resolved
 * with (resolution reads `then`, which a getter on Object.prototype answers) and the
 * isolation frame's messages to this window (every listener sees them).
 */
async function snooping(run) {
  const seen = [];
  const keep = (value) => {
    if (value !== null && typeof value === "object") seen.push(value);
  };
  Object.defineProperty(Object.prototype, "then", {
    configurable: true,
    get() {
      keep(this);
      return undefined;
    },
  });
  const overheard = (event) => keep(event.data);
  window.addEventListener("message", overheard);
  try {
    await run();
    // Listeners run in turn, with the promises they settle run in between: what `run`
    // awaited may be done before a later listener (this one) had its turn.
    await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    delete Object.prototype.then;
    window.removeEventListener("message", overheard);
  }
  return seen;
}

/** The stream ids and the secrets in what `snooping` saw. */
function loot(seen) {
  const ids = new Set();
  const secrets = [];
  for (const value of seen) {
    if (typeof value.stream === "number") ids.add(value.stream);
    if (typeof value.json === "string") {
      try {
        const parsed = JSON.parse(value.json);
        if (parsed && typeof parsed.stream === "number") ids.add(parsed.stream);
      } catch {}
    }
    for (const name of ["token", "writer"]) {
      if (value[name] !== undefined) secrets.push({ [name]: value[name] });
    }
  }
  return { ids: [...ids], secrets };
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
    await t.check("another stream's chunks without its writer key are never sealed", "E_NO_SUCH_STREAM", await forgeToFrame({ chunk: liveId, token: 7, bytes: new Uint8Array(4) }));
    await t.check("nor with a made-up writer key", "E_NO_SUCH_STREAM", await forgeToFrame({ chunk: liveId, writer: "0".repeat(32), bytes: new Uint8Array(4) }));

    // A page that snoops on the bridge (issue 30 item 6) and writes what it found into
    // the bridge's own upload: only the opener's bytes reach the handler.
    let upload;
    let uploadWriter;
    const seen = await snooping(async () => {
      upload = openStream("stream.collect", { upload: "legit" });
      uploadWriter = upload.getWriter();
      await uploadWriter.write(new Uint8Array([1, 2, 3]));
    });
    const { ids, secrets } = loot(seen);
    await t.check("the snooping page learnt the upload's stream id (the attack is real)", true, ids.length > 0);
    await t.check("no promise of the bridge was resolved with an object the page saw", "none", seen.filter((v) => typeof v.stream === "number").map((v) => t.stringify(Object.keys(v))).join(" ") || "none");
    const injected = [];
    for (const chunk of ids) {
      for (const secret of secrets.length > 0 ? secrets : [{}]) {
        injected.push(await forgeToFrame({ chunk, token: 1, ...secret, bytes: new Uint8Array(1001) }));
      }
    }
    await t.check("every write the page tried on the upload is refused", "E_NO_SUCH_STREAM", [...new Set(injected)].join(" "));
    await uploadWriter.write(new Uint8Array([4, 5, 6]));
    await uploadWriter.close();
    const uploaded = await upload.result;
    await t.check("the handler got exactly the bytes the opener wrote", "6 2 21", `${uploaded.bytes} ${uploaded.chunks} ${uploaded.sum}`);
    // Left open: the reload finds the handler mid-stream.
    await liveWriter.write(new Uint8Array(8));
    return;
  }
  // Reloaded: the stream the old page load left open was aborted, its handler cancelled.
  await t.check("the reload cancelled the handler mid-stream", 1, (await t.poll("harness.streams", (c) => c.dropped >= 1)).dropped);
  const again = await send("stream.collect", {}, [new Uint8Array(2)]);
  await t.check("the reloaded page streams", 2, again.bytes);
}
