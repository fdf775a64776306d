// A hook built from the helpers that judges commands and streams: allowStreams names the
// streams the page may open, requireShape and maxBytes judge a stream's metadata as they
// judge a command's arguments. It has no rule for events, so the chain judges none:
// every event is refused.
import { allowCommands, allowStreams, chain, maxBytes, requireShape } from "./__portcullis/helpers.js";

export default chain(
  allowCommands(["echo", "harness.scenario", "harness.report", "harness.captured", "harness.done", "harness.streams"]),
  allowStreams(["stream.collect"]),
  requireShape("stream.collect", { name: "string" }),
  maxBytes(256),
);
