// Which kinds of message a validation hook judges (docs/HOOKS.md, "Kinds").
//
// A hook is shown only the kinds it declares; the runtime refuses every other message
// without calling it. So a hook written before a kind existed never approves that kind
// by passing through what it does not recognise: a new kind is refused until the hook's
// author says the hook judges it.
//
// A hook declares its kinds with `kinds`, an array of kind names: a named export of the
// hook module (`export const kinds = ["command", "event", "stream"]`), or a property of
// the hook function (`hook.kinds = [...]`: how Tauri-style hooks, which assign a global,
// and composed hooks such as the helpers' `chain` declare it). The export wins over the
// property. A hook that declares nothing judges UNDECLARED_KINDS. A declaration that is
// not an array of known kind names stops the hook from loading: every call is refused.

/** The kinds of message the runtime shows a hook. */
export const HOOK_KINDS = Object.freeze(["command", "event", "stream"]);

/** What a hook that declares nothing judges: the kinds that existed before streams. */
export const UNDECLARED_KINDS = Object.freeze(["command", "event"]);

/** A `kinds` declaration the runtime cannot use: the hook does not load. */
export class KindsDeclarationError extends Error {
  constructor(message) {
    super(message);
    this.name = "KindsDeclarationError";
  }
}

/**
 * The kinds the hook judges, as a Set read once, when the hook loads: the module's `kinds` export, else the hook
 * function's `kinds` property, else UNDECLARED_KINDS. `known` is the kinds the runtime
 * knows (HOOK_KINDS; a test passes others). Throws KindsDeclarationError for a
 * declaration that is not an array of known kind names.
 */
export function hookKinds(module, hook, known = HOOK_KINDS) {
  const exported = module === null || module === undefined ? undefined : module.kinds;
  const property = typeof hook === "function" ? hook.kinds : undefined;
  const [declared, where] =
    exported !== undefined ? [exported, "the hook module's `kinds` export"] : [property, "the hook function's `kinds` property"];
  if (declared === undefined) return new Set(UNDECLARED_KINDS);
  const named = `${where} must be an array of kind names (${known.map((k) => `"${k}"`).join(", ")})`;
  if (!Array.isArray(declared)) throw new KindsDeclarationError(`${named}, not ${described(declared)}`);
  const kinds = new Set();
  for (const kind of Array.from(declared)) {
    if (typeof kind !== "string") throw new KindsDeclarationError(`${named}; it holds ${described(kind)}`);
    if (!known.includes(kind)) throw new KindsDeclarationError(`${named}; it holds "${kind}", which is no kind`);
    kinds.add(kind);
  }
  return kinds;
}

/**
 * Why a hook that judges `kinds` is not shown a message of kind `kind`, or null when it
 * judges it: the refusal's message, naming what to change.
 */
export function unjudged(kinds, kind) {
  if (kinds.has(kind)) return null;
  return `the validation hook does not judge ${kind} messages, so every ${kind} is refused: if it should, make the hook judge them and declare it (\`export const kinds = [${[...kinds, kind].map((k) => `"${k}"`).join(", ")}]\` in hook.js, or a \`kinds\` property on the hook function; docs/HOOKS.md)`;
}

function described(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value === "string" ? `the string "${value}"` : `a ${typeof value}`;
}
