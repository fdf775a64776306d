// Shared by the scenarios that put stream opens to hooks of every style (kinds_*,
// helpers, tauri; issue 30): a hook decides every kind it is shown, and is shown only
// the kinds it declares.

const { openStream } = window.portcullis;

/** How many stream handlers have started so far (the Rust side counts them). */
async function started(t) {
  return (await t.invoke("harness.streams")).started;
}

/**
 * Opens stream `name` with `meta`, writes 3 bytes and closes it. Resolves to what
 * happened: `code` ("resolved" or the refusal's), its `message`, the handler's `result`,
 * and `ran`, how many stream handlers started meanwhile.
 */
export async function attempt(t, name, meta = {}) {
  const before = await started(t);
  const stream = openStream(name, meta);
  const writer = stream.getWriter();
  try {
    await writer.write(new Uint8Array([1, 2, 3]));
    await writer.close();
  } catch {
    // The refusal is the result's.
  }
  const outcome = { code: "resolved", message: "", result: null };
  try {
    outcome.result = await stream.result;
  } catch (e) {
    outcome.code = e.code;
    outcome.message = e.message;
  }
  outcome.ran = (await started(t)) - before;
  return outcome;
}

/**
 * Checks that the hook refused stream `name` (E_HOOK_REJECTED) and no handler ran; when
 * `why` is given, that the refusal's message matches it.
 */
export async function refusedStream(t, what, name, meta = {}, why = null) {
  const a = await attempt(t, name, meta);
  const said = why === null || why.test(a.message) ? "" : ` (message: ${a.message})`;
  await t.check(what, "E_HOOK_REJECTED, no handler ran", `${a.code}, ${a.ran === 0 ? "no handler ran" : `${a.ran} handlers ran`}${said}`);
}

/** Checks that stream `name` was admitted and its handler got the 3 bytes. */
export async function admittedStream(t, what, name, meta = {}) {
  const a = await attempt(t, name, meta);
  await t.check(what, "3 bytes, 1 handler", a.code === "resolved" ? `${a.result.bytes} bytes, ${a.ran} handler` : `${a.code}: ${a.message}`);
}

/** The refusal the runtime gives for a kind the hook does not declare. */
export const NOT_JUDGED = (kind) => new RegExp(`does not judge ${kind} messages.*kinds`);
