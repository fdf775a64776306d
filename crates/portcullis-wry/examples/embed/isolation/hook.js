// This app's validation hook: every call from the page passes here before it is sealed.
export default function hook(message, context) {
  if (message.cmd === "greet" && /[<>]/.test(message.payload.name)) {
    throw new Error("names may not contain markup");
  }
  return message;
}
