// The app's validation hook: every call from the page passes here before it is sealed.
// It judges commands, events and stream opens (the kinds it declares; it is shown no
// others).
export const kinds = ["command", "event", "stream"];

export default function hook(message) {
  if (message.cmd === "greet" && message.payload.name === "mallory") {
    throw new Error("mallory is not greeted");
  }
  return message;
}
