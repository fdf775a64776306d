// A Tauri-style hook (a classic script assigning window.__TAURI_ISOLATION_HOOK__) that
// throws for every name it does not know, updated for streams: it judges stream opens
// and declares the kinds it judges with a `kinds` property on the function. It lists
// portcullis:grants, the built-in command grants() calls, which passes the hook like
// any command. It judges no events: those are refused without calling it.
const COMMANDS = new Set(["echo", "portcullis:grants"]);
const STREAMS = new Set(["stream.collect"]);

function hook(payload) {
  if (payload.kind === "stream") {
    if (!STREAMS.has(payload.cmd)) throw new Error(`unknown stream ${payload.cmd}`);
    return payload;
  }
  if (COMMANDS.has(payload.cmd) || payload.cmd.startsWith("harness.")) return payload;
  throw new Error(`unknown command ${payload.cmd}`);
}
hook.kinds = ["command", "stream"];

window.__TAURI_ISOLATION_HOOK__ = hook;
