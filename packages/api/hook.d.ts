// Types of the validation hook contract: the default export of the isolation app's
// hook.js (or, for Tauri hooks, `window.__TAURI_ISOLATION_HOOK__`), and the `kinds` it
// declares.

import type { Bytes, Json } from "./index.js";

/**
 * The kinds of message a hook can be shown: a command (expects a reply), an event, or a
 * stream's open (its name and metadata; its chunks do not pass the hook). More may come:
 * a hook is only ever shown the kinds it declares in {@link HookKinds}.
 */
export type HookKind = "command" | "event" | "stream";

/**
 * The kinds a hook judges: `export const kinds: HookKinds = ["command", "event", "stream"]`
 * in hook.js, or a `kinds` property on the hook function (see {@link DeclaredHook}).
 * The runtime refuses every message of another kind (E_HOOK_REJECTED) without calling
 * the hook. A hook that declares nothing judges `["command", "event"]`; a declaration
 * that is not an array of kind names stops the hook from loading (every call refused).
 */
export type HookKinds = readonly HookKind[];

/** The message a hook receives, in Tauri's shape plus `kind`. */
export interface HookMessage {
  /**
   * The command, event or stream name. A different name assigned here is what gets
   * sealed (judged by the allowlist under that name).
   */
  cmd: string;
  /** Which kind of message it is: only kinds the hook declares are shown to it. */
  kind: HookKind;
  /**
   * The arguments (a stream's metadata): exactly the JSON value that will be sealed
   * (deeply frozen), or a Uint8Array for binary calls. Assign a new value to change them;
   * writing into the frozen value throws.
   */
  payload: Json | Uint8Array;
  /** The caller's request id (Tauri compatibility). */
  callback: number;
  /** The caller's request id (Tauri compatibility). */
  error: number;
  /** Unused; present for Tauri compatibility. */
  options: Record<string, never>;
}

/** Trusted facts the Rust side gives the hook: not taken from the page. */
export interface HookContext {
  /** The label of the webview the message comes from. */
  readonly webview: string;
  /** The origin of the page loaded in it. */
  readonly origin: string | null;
  /** The message's kind. */
  readonly kind: HookKind;
}

/**
 * What a hook returns: the message (possibly changed; its `cmd` and `payload` are what
 * is sealed) or another object with its own `cmd` and `payload`, `true` or `undefined`
 * to seal the message as the hook left it, `false` to refuse. Any other object refuses.
 * Throwing or rejecting refuses too; the caller's promise rejects with `E_HOOK_REJECTED`
 * and the error's message. A returned `kind` must be the message's own.
 */
export type HookVerdict =
  | HookMessage
  | { cmd: string; payload: Json | Bytes; kind?: HookKind }
  | boolean
  | undefined;

/** The hook. It may be async; it is always awaited, under `limits.hookTimeoutMs`. */
export type Hook = (message: HookMessage, context: HookContext) => HookVerdict | Promise<HookVerdict>;

/**
 * A hook that carries its kinds as a property: how Tauri-style hooks
 * (`window.__TAURI_ISOLATION_HOOK__.kinds = [...]`) and composed hooks (the helpers'
 * `chain`) declare them. A `kinds` export of the hook module wins over it.
 */
export type DeclaredHook = Hook & { kinds?: HookKinds };

declare global {
  interface Window {
    /** Where a Tauri-style hook file puts its hook (its `kinds` property: what it judges). */
    __TAURI_ISOLATION_HOOK__?: ((message: HookMessage) => HookVerdict | Promise<HookVerdict>) & { kinds?: HookKinds };
  }
}
