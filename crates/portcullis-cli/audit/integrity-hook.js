// The hook `portcullis audit` runs in its integrity layer, in place of the app's (which
// is beside it as portcullis-audit-app-hook.js). The layer's allowlist allows the canary;
// this wrapper refuses it, both as asked and as the app's hook would seal it, and
// otherwise lets the app's hook decide. So the canary runs only if a message reached the
// Rust side without this hook's approval: a hole in isolation itself.
import * as app from "./portcullis-audit-app-hook.js";

const CANARY = "portcullis.canary";

function appHook() {
  const hook =
    (typeof app.default === "function" && app.default) ||
    globalThis.__PORTCULLIS_HOOK__ ||
    globalThis.__TAURI_ISOLATION_HOOK__;
  if (typeof hook !== "function") throw new Error("the app's hook file installs no hook");
  return hook;
}

// The kinds the app's hook declares, forwarded unchanged (its module's export, else its
// function's property; undefined when it declares none), so the runtime shows this
// wrapper exactly the kinds it would show the app's hook.
export const kinds = app.kinds !== undefined ? app.kinds : declaredOnHook();

function declaredOnHook() {
  const hook =
    (typeof app.default === "function" && app.default) ||
    globalThis.__PORTCULLIS_HOOK__ ||
    globalThis.__TAURI_ISOLATION_HOOK__;
  return typeof hook === "function" ? hook.kinds : undefined;
}

export default async function integrityHook(message, context) {
  if (message.cmd === CANARY) throw new Error("portcullis audit: the canary never passes the hook");
  const verdict = await appHook()(message, context);
  const sealed = verdict === true || verdict === undefined ? message : verdict;
  if (sealed !== null && typeof sealed === "object" && sealed.cmd === CANARY) {
    throw new Error("portcullis audit: the canary never passes the hook");
  }
  return verdict;
}
