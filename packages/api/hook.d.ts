// Types of the validation hook contract: the default export of the isolation app's
// hook.js (or, for Tauri hooks, `window.__TAURI_ISOLATION_HOOK__`).

import type { Bytes, Json } from "./index.js";

/** The message a hook receives, in Tauri's shape plus `kind`. */
export interface HookMessage {
  /** The command or event name. A different name assigned here is what gets sealed. */
  cmd: string;
  /** Whether it is a command (expects a reply) or an event. */
  kind: "command" | "event";
  /**
   * The arguments: exactly the JSON value that will be sealed (deeply frozen), or a
   * Uint8Array for binary calls. Assign a new value to change them; writing into the
   * frozen value throws.
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
  /** Command or event. */
  readonly kind: "command" | "event";
}

/**
 * What a hook returns: the message (possibly changed; its `cmd` and `payload` are what
 * is sealed) or another object with its own `cmd` and `payload`, `true` or `undefined`
 * to seal the message as the hook left it, `false` to refuse. Any other object refuses. Throwing or rejecting refuses too; the caller's
 * promise rejects with `E_HOOK_REJECTED` and the error's message.
 */
export type HookVerdict =
  | HookMessage
  | { cmd: string; payload: Json | Bytes; kind?: "command" | "event" }
  | boolean
  | undefined;

/** The hook. It may be async; it is always awaited, under `limits.hookTimeoutMs`. */
export type Hook = (message: HookMessage, context: HookContext) => HookVerdict | Promise<HookVerdict>;

declare global {
  interface Window {
    /** Where a Tauri-style hook file puts its hook. */
    __TAURI_ISOLATION_HOOK__?: (message: HookMessage) => HookVerdict | Promise<HookVerdict>;
  }
}
