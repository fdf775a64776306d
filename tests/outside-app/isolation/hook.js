// The app's validation hook: every call from the page passes here before it is sealed.
// It judges commands, events and stream opens (the kinds it declares; it is shown no
// others), and remembers the kinds it was shown, which the self-test asks for.
export const kinds = ["command", "event", "stream"];

/** The kinds of message this hook has judged in this page load. */
const judged = new Set();

export default function hook(message) {
  judged.add(message.kind);
  if (message.kind === "command" && message.cmd === "self_test.hook_kinds") {
    // The hook answers in the arguments it lets through: the handler echoes them.
    return { ...message, payload: { kinds: [...judged].sort() } };
  }
  if (message.kind === "command" && message.cmd === "greet" && message.payload.name === "mallory") {
    throw new Error("mallory is not greeted");
  }
  if (message.kind === "event" && message.cmd === "wave" && message.payload.n === 13) {
    throw new Error("nobody waves 13 times");
  }
  if (message.kind === "stream" && String(message.payload?.name).endsWith(".exe")) {
    throw new Error("programs are not uploaded");
  }
  return message;
}
