// The app's validation hook: every message from the frontend passes here before it is
// sealed and sent to the Rust core. Edit this file for your app.
//
// Called with (message, context):
//   message: { cmd, kind, payload, callback, error, options }   (Tauri's shape, plus kind)
//     cmd      the command or event name
//     kind     "command" or "event"
//     payload  the arguments: a JSON value, or a Uint8Array for binary calls
//   context: { webview, origin, kind }   trusted facts from the Rust side
//
// Return (or resolve to):
//   the message (optionally with a changed payload), true or undefined: let it through;
//   false, or throw / reject: refuse it. The caller's promise rejects with
//   E_HOOK_REJECTED and your error's message.
// A hook that does not settle within limits.hookTimeoutMs refuses with E_HOOK_TIMEOUT.
//
// The Rust allowlist still checks every message afterwards; the hook is where the app's
// own judgement goes (business rules, rate limits, content checks).

export default function hook(message, context) {
  if (typeof message.cmd !== "string" || message.cmd.length === 0) {
    throw new Error("a command name is required");
  }
  return message;
}
