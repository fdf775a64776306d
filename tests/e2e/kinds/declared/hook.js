// A hook that judges streams and says so: it declares all three kinds, and judges a
// stream's open in every style hooks use (passing an allowed name, renaming `cmd` in
// place, returning false, throwing for a name it does not know).
export const kinds = ["command", "event", "stream"];

export default function hook(message, context) {
  if (message.kind === "stream") {
    if (context.kind !== "stream") throw new Error("the context says the kind too");
    switch (message.cmd) {
      case "stream.collect":
        return message;
      case "stream.renamed":
        message.cmd = "stream.collect";
        return undefined;
      case "stream.false":
        return false;
      default:
        throw new Error(`stream ${message.cmd} is not one this app opens`);
    }
  }
  if (message.cmd === "secret.read") throw new Error("the canary never passes");
  return message;
}
