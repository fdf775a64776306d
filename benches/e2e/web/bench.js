// The end-to-end benchmark, run in the main frame of a real WebKitGTK webview, once with
// isolation on and once in brownfield mode (same page, same handlers). It reports raw
// figures to Rust, which prints the table and the ratios.
//
// performance.now() has 1 ms resolution in this engine, so every figure is a total over
// many calls divided by their number, except the first invoke (one call by definition).

const { invoke, openStream, Channel, listen } = window.portcullis;

const SEQUENTIAL = 3000;
const PIPELINED = 100000;
const WINDOW = 500;
const LARGE_CALLS = 20;
const MiB = 1 << 20;
const IDLE_MS = 3000;

async function timed(n, run) {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await run(i);
  return (performance.now() - t0) / n;
}

/** Resident memory after IDLE_MS without calls (the engine collects and returns garbage when idle). */
async function rssWhenIdle() {
  await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
  return invoke("bench.rss", {});
}

/** PIPELINED calls, at most WINDOW in flight; returns calls per second. */
async function pipelined() {
  let answered = 0;
  const t0 = performance.now();
  for (let sent = 0; sent < PIPELINED; sent += WINDOW) {
    const batch = [];
    for (let i = 0; i < WINDOW && sent + i < PIPELINED; i++) {
      batch.push(invoke("echo", { i }).then(() => answered++));
    }
    await Promise.all(batch);
  }
  if (answered !== PIPELINED) throw new Error(`${answered} of ${PIPELINED} pipelined calls answered`);
  return (answered * 1000) / (performance.now() - t0);
}

const STREAM_MiB = 100;
// The largest chunk the bench's limits.maxMessageBytes (4 MiB) takes with its envelope.
const STREAM_CHUNK = 4 * MiB - 128;

/** 100 MiB written to a stream in STREAM_CHUNK writes; MiB per second. */
async function upload() {
  const block = new Uint8Array(STREAM_CHUNK).fill(0x5a);
  const writes = Math.ceil((STREAM_MiB * MiB) / STREAM_CHUNK);
  const total = writes * STREAM_CHUNK;
  const stream = openStream("bench.sink", {});
  const writer = stream.getWriter();
  const t0 = performance.now();
  for (let i = 0; i < writes; i++) await writer.write(block);
  await writer.close();
  const received = await stream.result;
  const seconds = (performance.now() - t0) / 1000;
  if (received !== total) throw new Error(`the stream handler got ${received} bytes, not ${total}`);
  return total / MiB / seconds;
}

/**
 * WebCrypto's AES-256-GCM in this engine, sealing STREAM_CHUNK bytes at a time (what the
 * isolation frame does to each chunk; measured in this frame): MiB per second.
 */
async function webcrypto() {
  const key = await crypto.subtle.generateKey({ name: "AES-GCM", length: 256 }, false, ["encrypt"]);
  const block = new Uint8Array(STREAM_CHUNK);
  const rounds = 16;
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) {
    await crypto.subtle.encrypt({ name: "AES-GCM", iv: new Uint8Array(12), additionalData: new Uint8Array(60) }, key, block);
  }
  return (rounds * STREAM_CHUNK) / MiB / ((performance.now() - t0) / 1000);
}

/** 100 MiB sent by the core on a channel in 1 MiB messages; MiB per second. */
function download() {
  return new Promise((resolve, reject) => {
    let got = 0;
    const t0 = performance.now();
    const channel = new Channel((bytes) => (got += bytes.length));
    channel.onclose = () => {
      const seconds = (performance.now() - t0) / 1000;
      if (got !== STREAM_MiB * MiB) reject(new Error(`the channel delivered ${got} bytes`));
      else resolve(STREAM_MiB / seconds);
    };
    invoke("bench.source", { count: STREAM_MiB, size: MiB, channel }).catch(reject);
  });
}

/** 100 MiB as one-shot 1 MiB invokes, up (argument) and down (result); MiB per second. */
async function oneShot(bytes) {
  const up = await timed(STREAM_MiB, async () => {
    if ((await invoke("bytes.len", bytes)) !== MiB) throw new Error("bytes.len");
  });
  const down = await timed(STREAM_MiB, async () => {
    if ((await invoke("bench.bytes", { size: MiB })).length !== MiB) throw new Error("bench.bytes");
  });
  return { up: 1000 / up, down: 1000 / down };
}

/**
 * 100 MiB each way: a stream and a channel, against one-shot 1 MiB invokes (Portcullis
 * modes only: the floor has neither).
 */
async function streams(out) {
  if (!openStream) return;
  const bytes = new Uint8Array(MiB).fill(0x5a);
  await upload();
  out.streamUpMiBps = await upload();
  await download();
  out.streamDownMiBps = await download();
  out.sealMiBps = await webcrypto();
  const shots = await oneShot(bytes);
  out.invokeUpMiBps = shots.up;
  out.invokeDownMiBps = shots.down;
}

/**
 * Replies, two ways, in alternating blocks (Portcullis modes only): the reply as it
 * travels (gate -> the frame that sent the call -> a window message to the bridge), and
 * the same 200 B delivered straight into the main frame by the core (`evaluate_script`,
 * the way events travel: `bench.pong` emits its argument back as an event, and the page
 * waits for the event, not the reply). Mean µs per call each way.
 */
async function replies(out, args) {
  if (!listen) return;
  let waiting = null;
  listen("bench.pong", (payload) => {
    const resolve = waiting;
    waiting = null;
    if (resolve) resolve(payload);
  });
  const byEvent = () =>
    new Promise((resolve, reject) => {
      waiting = resolve;
      invoke("bench.pong", args).catch(reject);
    });
  await timed(200, byEvent);
  let reply = 0;
  let direct = 0;
  const BLOCKS = 10;
  for (let b = 0; b < BLOCKS; b++) {
    reply += await timed(REPLY_BLOCK, () => invoke("echo", args));
    direct += await timed(REPLY_BLOCK, byEvent);
  }
  out.replyViaFrameUs = (reply / BLOCKS) * 1000;
  out.replyDirectUs = (direct / BLOCKS) * 1000;
}
const REPLY_BLOCK = 300;

async function main() {
  const out = {};
  // First invoke after page load: this module is the page's first script.
  const start = performance.now();
  await invoke("echo", {});
  const end = performance.now();
  out.firstInvokeMs = end - start;
  out.firstInvokeSinceNavigationMs = end;
  // PORTCULLIS_BENCH_ONLY=streams: the stream figures only (after the first invoke,
  // which must be the page's first call).
  const only = await invoke("bench.only", {});
  if (only === "streams") {
    await streams(out);
    return out;
  }
  const profile = window.__portcullis_profile__;
  if (profile) {
    // The first call on one time line, in ms since this page's navigation started: the
    // page's call, the frame's start-up and the call's stages (the profile build).
    const since = (t) => t - performance.timeOrigin;
    const line = [["page: first invoke called", start], ["page: first invoke settled", end]];
    const pairs = (list) => {
      for (let i = 0; list && i < list.length; i += 2) line.push([list[i], since(list[i + 1])]);
    };
    pairs(profile.startup);
    if (profile.first) {
      pairs(profile.first.boot?.map((x, i) => (i % 2 === 0 ? `frame: ${x}` : x)));
      line.push(["bridge: first call posted", since(profile.first.posted)]);
      pairs(profile.first.hops.map((x, i) => (i % 2 === 0 ? `frame: call ${x}` : x)));
      line.push(["bridge: first reply received", since(profile.first.replied)]);
    }
    for (const r of performance.getEntriesByType("resource")) {
      if (r.name.startsWith("isolation:")) {
        line.push([`engine: ${r.initiatorType} ${r.name} requested`, r.startTime]);
        line.push([`engine: ${r.initiatorType} ${r.name} received`, r.responseEnd]);
      }
    }
    // The Rust side's first requests on each scheme (epoch ms, as timeOrigin counts).
    const rust = await invoke("bench.profile", {});
    for (const [what, epochMs] of rust.requests) line.push([`Rust: ${what}`, epochMs - performance.timeOrigin]);
    out.firstCallTimeline = line.sort((a, b) => a[1] - b[1]);
  }
  // PORTCULLIS_BENCH_ONLY=first: the first invoke (and its time line) only.
  if (only === "first") return out;

  // Sequential round trip of a 200 B argument object.
  const args = { title: "groceries", body: "x".repeat(170) };
  await timed(300, () => invoke("echo", args));
  out.sequentialMs = await timed(SEQUENTIAL, () => invoke("echo", args));

  await replies(out, args);

  // The profile build only: the same calls again, with each stage's mean (bridge and
  // isolation frame from the bridge's totals, the transport's from the Rust side).
  if (profile) {
    await invoke("bench.profile", {});
    profile.reset();
    const perCallMs = await timed(SEQUENTIAL, () => invoke("echo", args));
    // [[stage, µs], …] in the order the stages were first passed (a JSON object would
    // lose it on the Rust side).
    const js = Object.entries(profile.totals).map(([stage, [ms, calls]]) => [stage, (ms / calls) * 1000]);
    out.profile = { perCallUs: perCallMs * 1000, jsUs: js, rust: await invoke("bench.profile", {}) };
  }

  // Pipelined, twice, with resident memory read before and after each run: right away,
  // and after some idle time. The first run also grows the engine's heaps to their
  // working size; growth over the second shows what each call leaves behind.
  out.rssBefore = await invoke("bench.rss", {});
  out.rssBeforeIdle = await rssWhenIdle();
  out.pipelinedPerSecond = await pipelined();
  out.rssAfter = await invoke("bench.rss", {});
  out.rssAfterIdle = await rssWhenIdle();
  out.pipelinedSecondPerSecond = await pipelined();
  out.rssSecondIdle = await rssWhenIdle();

  // 1 MiB arguments: a string inside JSON, and raw bytes.
  const text = "a".repeat(MiB);
  const bytes = new Uint8Array(MiB);
  for (let i = 0; i < bytes.length; i++) bytes[i] = i & 0xff;
  const check = (n) => {
    if (n !== MiB) throw new Error(`core saw ${n} bytes, not ${MiB}`);
  };
  await timed(3, async () => check(await invoke("len", { text })));
  out.string1MiBMs = await timed(LARGE_CALLS, async () => check(await invoke("len", { text })));
  await timed(3, async () => check(await invoke("bytes.len", bytes)));
  out.bytes1MiBMs = await timed(LARGE_CALLS, async () => check(await invoke("bytes.len", bytes)));

  await streams(out, bytes);
  return out;
}

main().then(
  (out) => invoke("bench.report", out),
  (e) => invoke("bench.report", { error: `${e && e.stack ? e.stack : e}` }),
);
