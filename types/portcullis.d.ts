// Types of the Portcullis frontend bridge: `window.portcullis`, installed in the main
// frame by portcullis-wry before any page script runs.

/** Stable rejection codes (docs/PROTOCOL.md §9). */
export type PortcullisErrorCode =
  | "E_UNSEALED"
  | "E_TOO_LARGE"
  | "E_MALFORMED"
  | "E_UNSUPPORTED_VERSION"
  | "E_BAD_NONCE"
  | "E_UNKNOWN_SESSION"
  | "E_SESSION_REVOKED"
  | "E_WRONG_WEBVIEW"
  | "E_ORIGIN_MISMATCH"
  | "E_REPLAY"
  | "E_STALE"
  | "E_TAMPERED"
  | "E_BAD_REQUEST"
  | "E_TOO_DEEP"
  | "E_NOT_ALLOWED"
  | "E_DENIED"
  | "E_INVALID_ARGS"
  | "E_OUT_OF_SCOPE"
  | "E_UNKNOWN_COMMAND"
  | "E_HANDLER"
  | "E_HANDLER_PANICKED"
  | "E_HOOK_REJECTED"
  | "E_HOOK_TIMEOUT"
  | "E_TIMEOUT"
  | "E_ISOLATION_UNAVAILABLE"
  | "E_INTERNAL";

/** What a rejected `invoke` or `emit` promise rejects with. */
export interface PortcullisError extends Error {
  /** The stable code: what to branch on. */
  readonly code: PortcullisErrorCode;
  /** A message a person can act on. */
  readonly message: string;
  /** The app's own code, when a handler failed with one (`code` is then `E_HANDLER`). */
  readonly appCode?: string;
}

/** A JSON value, as arguments and results travel. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Binary arguments travel as bytes, never as arrays of numbers. */
export type Bytes = ArrayBuffer | ArrayBufferView;

/** Options of one call. */
export interface InvokeOptions {
  /** Reject with `E_TIMEOUT` when no reply arrives within this many milliseconds. */
  timeoutMs?: number;
}

/** A core-to-frontend event as a listener receives it. */
export interface PortcullisEvent<P = Json> {
  /** The event's name. */
  event: string;
  /** Its payload. */
  payload: P;
}

/** The bridge. */
export interface Portcullis {
  /**
   * Calls a Rust command. The call passes the app's validation hook, is sealed, and is
   * checked by the allowlist; resolves with the handler's JSON result (or a Uint8Array
   * for a bytes result), rejects with a {@link PortcullisError}.
   */
  invoke<R = Json>(cmd: string, args?: Json | Bytes, options?: InvokeOptions): Promise<R>;
  /** Sends an event to the core's listeners; resolves once the core accepted it. */
  emit(event: string, payload?: Json | Bytes): Promise<void>;
  /**
   * Resolves once calls can be sent (the isolation frame said it is ready); rejects with
   * the {@link PortcullisError} every call would get if it never can be. Calls made
   * before it resolves are queued, so waiting is never required.
   */
  ready(): Promise<void>;
  /** Listens to core-to-frontend events; returns a function that stops listening. */
  listen<P = Json>(event: string, handler: (event: PortcullisEvent<P>) => void): () => void;
}

declare global {
  interface Window {
    /** The Portcullis bridge (frozen, non-writable). */
    readonly portcullis: Portcullis;
  }
}
