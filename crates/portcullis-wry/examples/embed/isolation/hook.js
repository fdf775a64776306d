// This app's validation hook: every call from the page passes here before it is sealed.
// It is shown only the kinds it declares (keep only those it judges).
export const kinds = ["command", "event", "stream"];

export default function hook(message, context) {
  if (message.cmd === "greet" && /[<>]/.test(message.payload.name)) {
    throw new Error("names may not contain markup");
  }
  return message;
}
