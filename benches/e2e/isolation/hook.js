// The benchmark's validation hook: the checks a typical app makes (a known command, an
// object or bytes as arguments), so the isolation path is measured doing real work.

const KNOWN = new Set([
  "echo", "len", "bytes.len", "bench.rss", "bench.profile", "bench.report", "bench.source", "bench.bytes", "bench.sink", "bench.only", "bench.pong",
]);

// It judges stream opens as it judges commands (a known name, object metadata).
export const kinds = ["command", "event", "stream"];

export default function hook(message) {
  if (!KNOWN.has(message.cmd)) throw new Error(`unknown command ${message.cmd}`);
  const p = message.payload;
  if (p === null || typeof p !== "object") throw new Error("arguments must be an object or bytes");
  return message;
}
