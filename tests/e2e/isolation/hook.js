// The end-to-end suite's validation hook. Its verdicts are what the scenarios assert.

export default async function hook(message, context) {
  switch (message.cmd) {
    case "secret.read":
      // The canary: the hook refuses it always, so if its handler ever runs, something
      // reached the core without passing this hook.
      throw new Error("the canary never passes");
    case "hook.throw":
      throw new Error("hook says no");
    case "hook.false":
      return false;
    case "hook.hang":
      return new Promise(() => {});
    case "hook.rewrite":
      return { ...message, payload: { rewritten: true, webview: context.webview } };
    default:
      return message;
  }
}
