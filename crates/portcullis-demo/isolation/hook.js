// The demo app's validation hook. Every message the notes page sends passes here first.
//
// Rules of this app:
// - note titles and bodies must not carry markup (a stored-XSS guard the Rust side
//   would not know about);
// - attachments are at most 1 MiB.

const MARKUP = /<\s*\/?\s*(script|iframe|img|svg|object)\b/i;

// The kinds of message this hook judges: it is shown no others (docs/HOOKS.md). Stream
// opens pass it to the allowlist, which names the streams the app has.
export const kinds = ["command", "event", "stream"];

export default async function hook(message, context) {
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
