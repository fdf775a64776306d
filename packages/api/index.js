// @portcullis/api: the Portcullis frontend API as an ES module, for apps with a bundler.
//
// The bridge itself (`window.portcullis`) is installed by portcullis-wry in the main
// frame before any page script runs, frozen and non-writable; this module only calls
// it, reading it at each call so that importing the module never fails. Rejections
// become PortcullisError instances, so `instanceof` works across the app.

/** Every code, in the order of docs/PROTOCOL.md (checked against the Rust core). */
export const ERROR_CODES = Object.freeze([
  "E_BAD_METHOD",
  "E_NO_PAGE_ORIGIN",
  "E_UNSEALED",
  "E_TOO_LARGE",
  "E_MALFORMED",
  "E_UNSUPPORTED_VERSION",
  "E_BAD_NONCE",
  "E_UNKNOWN_SESSION",
  "E_SESSION_REVOKED",
  "E_WRONG_WEBVIEW",
  "E_ORIGIN_MISMATCH",
  "E_REPLAY",
  "E_STALE",
  "E_TAMPERED",
  "E_BAD_REQUEST",
  "E_TOO_DEEP",
  "E_NOT_ALLOWED",
  "E_DENIED",
  "E_NOT_GRANTED",
  "E_GRANT_REVOKED",
  "E_INVALID_ARGS",
  "E_OUT_OF_SCOPE",
  "E_UNKNOWN_COMMAND",
  "E_HANDLER",
  "E_HANDLER_PANICKED",
  "E_CANCELLED",
  "E_NO_SUCH_CALL",
  "E_NO_SUCH_STREAM",
  "E_STREAM_ORDER",
  "E_STREAM_CLOSED",
  "E_NO_SUCH_CHANNEL",
  "E_HOOK_REJECTED",
  "E_HOOK_TIMEOUT",
  "E_TIMEOUT",
  "E_ISOLATION_UNAVAILABLE",
  "E_INTERNAL",
]);

/**
 * What every promise of this module rejects with. In a Portcullis webview this is the
 * bridge's own class (`window.portcullis.PortcullisError`), so `instanceof` holds for
 * rejections of the module and of the global alike; elsewhere (tests, a browser) it is
 * this class of the module's. The two must both exist: the bridge runs before any page
 * script and loads nothing the page serves, so it cannot import this package, and
 * without a bridge there is no class to take. tests/error.test.js keeps them identical.
 */
class ModuleError extends Error {
  constructor(code, message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "PortcullisError";
    this.code = code;
    if (options.appCode !== undefined) this.appCode = options.appCode;
    if (options.data !== undefined) this.data = options.data;
  }
}

const installed = globalThis.portcullis;
export const PortcullisError =
  installed !== null && typeof installed === "object" && typeof installed.PortcullisError === "function"
    ? installed.PortcullisError
    : ModuleError;

/** Constructing one outside a Portcullis webview fails: there is no core to send. */
class ModuleChannel {
  constructor() {
    throw new PortcullisError(
      "E_ISOLATION_UNAVAILABLE",
      "window.portcullis is missing: a Channel needs a Portcullis webview",
    );
  }
}

/**
 * A channel from the core (`new Channel((message) => ...)`): pass it as a top-level
 * member of a command's arguments; the handler's messages reach `onmessage` in order
 * (JSON as the value, bytes as a Uint8Array), `onclose` runs once it ended, and
 * `close()` stops it. In a webview this is the bridge's own class.
 */
export const Channel =
  installed !== null && typeof installed === "object" && typeof installed.Channel === "function"
    ? installed.Channel
    : ModuleChannel;

/** The bridge's rejection as a PortcullisError (it is one already in a webview). */
function wrap(error) {
  if (error instanceof PortcullisError) return error;
  const known = error !== null && typeof error === "object" && ERROR_CODES.includes(error.code);
  if (!known) return new PortcullisError("E_INTERNAL", `unexpected rejection: ${String(error)}`, { cause: error });
  return new PortcullisError(error.code, error.message, { appCode: error.appCode, data: error.data, cause: error });
}

function bridge() {
  const b = globalThis.portcullis;
  if (b === null || typeof b !== "object" || typeof b.invoke !== "function") {
    throw new PortcullisError(
      "E_ISOLATION_UNAVAILABLE",
      "window.portcullis is missing: this page is not running in a Portcullis webview (opened in a browser, or loaded from an origin no webview was built for)",
    );
  }
  return b;
}

async function through(call) {
  try {
    return await call(bridge());
  } catch (e) {
    throw wrap(e);
  }
}

/** Whether this page runs in a Portcullis webview. */
export function isAvailable() {
  try {
    bridge();
    return true;
  } catch {
    return false;
  }
}

/**
 * Calls a Rust command; resolves with its result, rejects with a PortcullisError.
 * `options.signal` (an AbortSignal) cancels the call, `options.timeoutMs` bounds it:
 * either rejects (E_CANCELLED, E_TIMEOUT) and stops the handler in Rust.
 */
export function invoke(cmd, args, options) {
  return through((b) => b.invoke(cmd, args, options));
}

/** Sends an event to the core; resolves once the core accepted it. */
export function emit(event, payload) {
  return through((b) => b.emit(event, payload));
}

/**
 * Opens a stream of bytes to the Rust stream handler `cmd` (registered with
 * `Router::stream`), with JSON metadata `meta`: the open passes the validation hook
 * (`kind: "stream"`, when the hook declares it judges streams) and the allowlist's
 * `streams` rules, then every chunk written is sealed in order. Returns the bridge's own
 * WritableStream of Uint8Array / ArrayBuffer chunks, whose read-only `result` promise
 * settles with the handler's result once the stream is closed, or rejects with a
 * PortcullisError (the open refused, a limit passed, an abort): the bridge's class,
 * which is this module's PortcullisError in a webview.
 */
export function openStream(cmd, meta) {
  // Returned as the bridge made it: the bridge defines `result` read-only, so page
  // script cannot swap it, and its rejections are PortcullisErrors already.
  return bridge().openStream(cmd, meta);
}

/** The built-in command behind grants(); it needs an allow entry like any command. */
export const GRANTS_COMMAND = "portcullis:grants";

/**
 * This window's run-time grants, read-only, so the UI can adapt (show "Export" once
 * signed in): resolves with `{capabilities, paths}`, where `capabilities` lists the
 * granted run-time capabilities and `paths` the files and directories the app added to
 * this window's scopes (`{capability, scope, path, reach: "file" | "tree"}`). The page
 * cannot change them; only the app's Rust code grants and revokes.
 */
export function grants() {
  return invoke(GRANTS_COMMAND, {}).then((reply) => {
    if (reply === null || typeof reply !== "object" || !Array.isArray(reply.capabilities) || !Array.isArray(reply.paths)) {
      throw new PortcullisError("E_INTERNAL", `${GRANTS_COMMAND} answered with an unexpected shape`);
    }
    return reply;
  });
}

/** Resolves once calls can be sent. */
export function ready() {
  return through((b) => b.ready());
}

/**
 * Listens to core-to-frontend events; resolves with the function that stops it. (The
 * global `window.portcullis.listen` returns that function at once; this one returns a
 * Promise of it, like every function of the module, so that it can reject with
 * E_ISOLATION_UNAVAILABLE outside a webview instead of throwing.)
 */
export function listen(event, handler) {
  if (typeof handler !== "function") {
    return Promise.reject(new PortcullisError("E_BAD_REQUEST", `the handler of ${event} is not a function`));
  }
  return through((b) => b.listen(event, handler));
}

/** Like listen, for the next event of that name only. */
export function once(event, handler) {
  if (typeof handler !== "function") {
    return Promise.reject(new PortcullisError("E_BAD_REQUEST", `the handler of ${event} is not a function`));
  }
  let stop = () => {};
  let done = false;
  return listen(event, (e) => {
    if (done) return;
    done = true;
    stop();
    handler(e);
  }).then((unlisten) => {
    stop = unlisten;
    if (done) unlisten();
    return unlisten;
  });
}
