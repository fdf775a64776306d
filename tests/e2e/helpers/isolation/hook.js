// The e2e hook built from the helpers, as docs/HOOKS.md showed before streams: rules for
// commands and events only. The chain judges those two kinds and no other, so every
// stream open is refused (the config allows two streams, the canary among them).
import { allowCommands, allowEvents, chain, maxBytes, rateLimit, requireShape } from "./__portcullis/helpers.js";

const echoLimit = rateLimit({ perSecond: 5 });

export default chain(
  allowCommands(["echo", "echo.bytes", "harness.scenario", "harness.report", "harness.captured", "harness.fixture", "harness.done", "harness.streams"]),
  allowEvents(["ping"]),
  requireShape("echo", { text: "string", count: "integer?" }),
  maxBytes(2048),
  // Rules compose with plain functions: rate-limit echo only.
  (message, context) => (message.cmd === "echo" ? echoLimit(message, context) : undefined),
);
