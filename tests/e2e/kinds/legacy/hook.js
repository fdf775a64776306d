// A hook written before streams existed, as many are: it refuses the names it knows in
// every style hooks use (throwing, returning false, renaming `cmd` to a harmless
// command) and passes what it does not recognise. It declares no `kinds`, so it judges
// commands and events only: a stream open never reaches it, and is refused, instead of
// passing through its last line.
export default function hook(message) {
  switch (message.cmd) {
    case "secret.read":
      throw new Error("the canary never passes");
    case "old.false":
      return false;
    case "old.renamed":
      message.cmd = "echo";
      return undefined;
    default:
      return message;
  }
}
