// The app's validation hook: every call from the page passes here before it is sealed.
export default function hook(message) {
  if (message.cmd === "greet" && message.payload.name === "mallory") {
    throw new Error("mallory is not greeted");
  }
  return message;
}
