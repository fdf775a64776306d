// Types of @portcullis/api: the module's functions, and the bridge they call
// (`window.portcullis`, installed in the main frame by portcullis-wry before any page
// script runs; `@portcullis/api/global` declares it on `Window`).

/** Stable rejection codes (docs/PROTOCOL.md §9). */
export type PortcullisErrorCode =
  | "E_BAD_METHOD"
  | "E_NO_PAGE_ORIGIN"
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
  | "E_NOT_GRANTED"
  | "E_GRANT_REVOKED"
  | "E_INVALID_ARGS"
  | "E_OUT_OF_SCOPE"
  | "E_UNKNOWN_COMMAND"
  | "E_HANDLER"
  | "E_HANDLER_PANICKED"
  | "E_CANCELLED"
  | "E_NO_SUCH_CALL"
  | "E_NO_SUCH_STREAM"
  | "E_STREAM_ORDER"
  | "E_STREAM_CLOSED"
  | "E_NO_SUCH_CHANNEL"
  | "E_HOOK_REJECTED"
  | "E_HOOK_TIMEOUT"
  | "E_TIMEOUT"
  | "E_ISOLATION_UNAVAILABLE"
  | "E_INTERNAL";

/** Every code, in the order of docs/PROTOCOL.md. */
export declare const ERROR_CODES: readonly PortcullisErrorCode[];

/**
 * What every promise rejects with, the module's and the bridge's alike (in a webview the
 * module's class is the bridge's, `window.portcullis.PortcullisError`).
 */
export declare class PortcullisError<D = Json> extends Error {
  constructor(
    code: PortcullisErrorCode,
    message: string,
    options?: { appCode?: string; data?: D; cause?: unknown },
  );
  readonly name: "PortcullisError";
  /** The stable code: what to branch on. */
  readonly code: PortcullisErrorCode;
  /** The app's own code, when a handler failed with one (`code` is then `E_HANDLER`). */
  readonly appCode?: string;
  /** Structured data the handler's error carried (its `AppError::data`). */
  readonly data?: D;
}

/** The rejection of a bridge call: a PortcullisError. */
export type BridgeError = PortcullisError;

/** A JSON value, as arguments and results travel. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Binary arguments travel as bytes, never as arrays of numbers. */
export type Bytes = ArrayBuffer | ArrayBufferView;

/**
 * A channel from the core to this page: pass it as a top-level member of a command's
 * arguments (`invoke("export", {path, progress: channel})`); the handler takes it and
 * sends messages. It travels as the string `portcullis:channel:<32 hex digits>`, which
 * the validation hook and the allowlist's schema see.
 */
export declare class Channel<M = Json | Uint8Array> {
  /** `onmessage` gets each message in order: JSON as its value, bytes as a Uint8Array. */
  constructor(onmessage?: (message: M) => void);
  /** The handler for each message (may be set later). */
  onmessage: ((message: M) => void) | null;
  /** Runs once, when the handler is done with the channel, the call failed, or `close()`. */
  onclose: (() => void) | null;
  /** The 128-bit random id, as 32 lowercase hex digits. */
  readonly id: string;
  /** Whether it ended or was closed. */
  readonly closed: boolean;
  /** Stops taking messages; the handler's next send fails (`CHANNEL_CLOSED`). */
  close(): void;
  /** The argument the core sees: `portcullis:channel:<id>`. */
  toJSON(): string;
}

/** The stream `openStream` returns: write Uint8Array / ArrayBuffer chunks, then close. */
export interface PortcullisStream<R = Json> extends WritableStream<ArrayBuffer | ArrayBufferView> {
  /**
   * The handler's result once the stream is closed; rejects with a {@link PortcullisError}.
   * Read-only: the bridge defines it so, and page script cannot replace it.
   */
  readonly result: Promise<R>;
}

/**
 * Opens a stream of bytes to the Rust stream handler `cmd`, with JSON metadata `meta`:
 * the open passes the validation hook (`kind: "stream"`) and the allowlist's `streams`
 * rules; every chunk is sealed in order. The hook must declare that it judges streams
 * (`export const kinds = [..., "stream"]` in hook.js, docs/HOOKS.md): a hook that does
 * not is never shown the open, which is refused with `E_HOOK_REJECTED`. Returns the
 * bridge's own stream. Throws a {@link PortcullisError} outside a Portcullis webview.
 */
export declare function openStream<R = Json>(cmd: string, meta?: Json): PortcullisStream<R>;

/** Command arguments: JSON, bytes, or an object whose top-level members may be channels. */
export type Args = Json | Bytes | { [key: string]: Json | Channel<any> };

/** Options of one call. */
export interface InvokeOptions {
  /**
   * Reject with `E_TIMEOUT` when no reply arrives within this many milliseconds, and
   * cancel the handler. Without it the command's own timeout in the config applies.
   */
  timeoutMs?: number;
  /** Aborting it rejects the call with `E_CANCELLED` and cancels the handler. */
  signal?: AbortSignal;
}

/** A core-to-frontend event as a listener receives it. */
export interface PortcullisEvent<P = Json> {
  /** The event's name. */
  event: string;
  /** Its payload. */
  payload: P;
}

/** Stops a listener. */
export type UnlistenFn = () => void;

/**
 * Calls a Rust command: the call passes the app's validation hook, is sealed, and is
 * checked by the allowlist. Resolves with the handler's JSON result (a Uint8Array for a
 * bytes result); rejects with a {@link PortcullisError}, also when the page is not in a
 * Portcullis webview (`E_ISOLATION_UNAVAILABLE`).
 */
export declare function invoke<R = Json>(cmd: string, args?: Args, options?: InvokeOptions): Promise<R>;

/** Sends an event to the core's listeners; resolves once the core accepted it. */
export declare function emit(event: string, payload?: Json | Bytes): Promise<void>;

/**
 * Listens to core-to-frontend events; resolves with the function that stops listening.
 * (The global `window.portcullis.listen` returns that function at once; the module's,
 * like all its functions, returns a Promise, which rejects outside a webview.)
 */
export declare function listen<P = Json>(event: string, handler: (event: PortcullisEvent<P>) => void): Promise<UnlistenFn>;

/** Like {@link listen}, for the next event of that name only. */
export declare function once<P = Json>(event: string, handler: (event: PortcullisEvent<P>) => void): Promise<UnlistenFn>;

/** One path the app added to this window's scope at run time. */
export interface GrantedPath {
  /** The capability whose scope it was added to. */
  capability: string;
  /** The scope's name. */
  scope: string;
  /** The path, symlinks resolved. */
  path: string;
  /** Exactly this file, or this directory and everything in it. */
  reach: "file" | "tree";
}

/** This window's run-time grants. */
export interface WindowGrants {
  /** The run-time (`"runtimeGrant": true`) capabilities granted to this window, in config order. */
  capabilities: string[];
  /** The paths added to this window's scopes. */
  paths: GrantedPath[];
}

/** The built-in command behind {@link grants}: allow it in a capability to use it. */
export declare const GRANTS_COMMAND: "portcullis:grants";

/**
 * This window's run-time grants, read-only (the UI adapts; only the app's Rust code
 * grants and revokes). Needs `"portcullis:grants"` in a capability's `commands.allow`;
 * rejects with `E_NOT_ALLOWED` without it. The call passes the app's validation hook as
 * the command `portcullis:grants` (the app decides whether its page may read its
 * grants): a hook that refuses names it does not know (a Tauri-style hook that throws
 * for them) must list it, or this rejects with `E_HOOK_REJECTED`.
 */
export declare function grants(): Promise<WindowGrants>;

/** Resolves once calls can be sent; see {@link Portcullis.ready}. */
export declare function ready(): Promise<void>;

/** Whether this page runs in a Portcullis webview (the bridge is installed). */
export declare function isAvailable(): boolean;

/** The bridge, `window.portcullis`: what the functions above call. */
export interface Portcullis {
  /**
   * Calls a Rust command. The call passes the app's validation hook, is sealed, and is
   * checked by the allowlist; resolves with the handler's JSON result (or a Uint8Array
   * for a bytes result), rejects with a {@link BridgeError}.
   */
  invoke<R = Json>(cmd: string, args?: Args, options?: InvokeOptions): Promise<R>;
  /** Sends an event to the core's listeners; resolves once the core accepted it. */
  emit(event: string, payload?: Json | Bytes): Promise<void>;
  /**
   * Resolves once calls can be sent (the isolation frame said it is ready); rejects with
   * the {@link BridgeError} every call would get if it never can be. Calls made
   * before it resolves are queued, so waiting is never required.
   */
  ready(): Promise<void>;
  /** Listens to core-to-frontend events; returns a function that stops listening. */
  listen<P = Json>(event: string, handler: (event: PortcullisEvent<P>) => void): () => void;
  /** The class of every rejection, for `instanceof`. */
  readonly PortcullisError: typeof PortcullisError;
  /** Core-to-frontend channels. */
  readonly Channel: typeof Channel;
  /** Frontend-to-core streams; see {@link openStream}. */
  openStream<R = Json>(cmd: string, meta?: Json): PortcullisStream<R>;
}
