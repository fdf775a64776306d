// The demo app's validation hook. Every message the notes page sends passes here first.
//
// Rules of this app:
// - note titles and bodies must not carry markup (a stored-XSS guard the Rust side
//   would not know about), nor the title of an imported file;
// - attachments are at most 1 MiB;
// - the only stream the page opens is notes.import (its bytes are bounded by the
//   allowlist's maxBytes: chunks do not pass the hook).

const MARKUP = /<\s*\/?\s*(script|iframe|img|svg|object)\b/i;

// The kinds of message this hook judges: it is shown no others (docs/HOOKS.md).
export const kinds = ["command", "event", "stream"];

export default async function hook(message, context) {
  if (message.kind === "stream") {
    if (message.cmd !== "notes.import") throw new Error(`stream ${message.cmd} is not one this app opens`);
    if (MARKUP.test(message.payload?.title ?? "")) throw new Error("imported notes may not carry markup in their title");
    return message;
  }
  if (message.cmd === "notes.add") {
    const { title = "", body = "" } = message.payload ?? {};
    if (MARKUP.test(title) || MARKUP.test(body)) {
      throw new Error("notes may not contain markup");
    }
  }
  if (message.cmd === "notes.attach" && message.payload.byteLength > 1 << 20) {
    throw new Error("attachments are limited to 1 MiB");
  }
  return message;
}
