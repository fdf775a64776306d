// The built-in hook: it checks only that a call has a name. Portcullis serves it only to
// apps whose config asks for it ("hook": "builtin:names-only"); copy it into your
// isolation directory as hook.js and make it your app's own validation.
//
// Called with (message, context):
//   message: { cmd, kind, payload, callback, error, options }   (Tauri's shape, plus kind)
//     cmd      the command, event or stream name
//     kind     "command", "event" or "stream" (a stream's open: the hook judges whether
//              it may be opened; its chunks do not pass the hook)
//     payload  the arguments (a stream's metadata): exactly the JSON value that will be
//              sealed (deeply frozen; assign a new one to change it), or a Uint8Array
//              for binary calls
//   context: { webview, origin, kind }   trusted facts from the Rust side
//
// Return (or resolve to):
//   the message (its cmd and payload, possibly changed, are what is sealed), true or
//   undefined: let it through;
//   false, or throw / reject: refuse it. The caller's promise rejects with
//   E_HOOK_REJECTED and your error's message.
// A hook that does not settle within limits.hookTimeoutMs refuses with E_HOOK_TIMEOUT.
//
// The hook is shown only the kinds it declares in `kinds` below; every message of
// another kind is refused (E_HOOK_REJECTED) without calling it. A hook that declares
// nothing judges ["command", "event"], the kinds that existed before streams, so a hook
// written then never lets a stream open through by not recognising it. This one names
// all three because asking for it in the config is choosing names-only checks for all.
// When you make it yours, keep only the kinds your hook really judges (docs/HOOKS.md).
//
// The Rust allowlist still checks every message afterwards; the hook is where the app's
// own judgement goes (business rules, rate limits, content checks).

export const kinds = ["command", "event", "stream"];

export default function hook(message, context) {
  if (typeof message.cmd !== "string" || message.cmd.length === 0) {
    throw new Error("a command name is required");
  }
  return message;
}
