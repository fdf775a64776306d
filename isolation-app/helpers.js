// Hook helpers: small, composable rules for validation hooks. Import them in your
// hook.js:
//
//   import { chain, allowCommands, allowEvents, allowStreams, requireShape, maxBytes, rateLimit } from "./__portcullis/helpers.js";
//   export default chain(
//     allowCommands(["notes.list", "notes.add"]),
//     allowEvents(["note-opened"]),
//     allowStreams(["notes.import"]),
//     requireShape("notes.add", { title: "string", body: "string" }),
//     maxBytes(64 * 1024),
//     rateLimit({ perSecond: 20 }),
//   );
//
// Every rule is a hook itself: (message, context) => verdict. A rule refuses by
// throwing an Error whose message says why (the caller gets E_HOOK_REJECTED and that
// message); it passes by returning undefined.
//
// Kinds (docs/HOOKS.md): a naming rule judges one kind of message and says so in its
// `kinds` property (allowCommands: "command", allowEvents: "event", allowStreams:
// "stream"). A chain judges the kinds its rules judge, and no other: its `kinds` is
// their union, which the isolation runtime reads, so a message of any other kind never
// reaches it, and the chain refuses one itself too if it is called from a hook that
// judges more. So `chain(allowCommands([...]), allowEvents([...]))` refuses every stream
// open, and any kind added later, until a rule for that kind is added. The other rules
// (requireShape, maxBytes, rateLimit, and plain functions) judge no kind of their own:
// they apply to every message that reaches them, a stream's open (its metadata) included.

/** The kinds a rule judges (its `kinds` property), as an array; none for a plain function. */
function kindsOf(rule) {
  const kinds = rule.kinds;
  if (kinds === undefined) return [];
  if (!Array.isArray(kinds) || !kinds.every((k) => typeof k === "string")) {
    throw new TypeError(`the kinds of rule ${rule.name || "(anonymous)"} must be an array of kind names`);
  }
  return kinds;
}

/** `rule` with the kinds it judges recorded on it. */
function judging(kinds, rule) {
  Object.defineProperty(rule, "kinds", { value: Object.freeze([...kinds]), enumerable: true });
  return rule;
}

/** What a chain passes its rules: they run inside it, so a chain among them filters nothing. */
const NESTED = Symbol("nested in a chain");

/**
 * Runs rules in order; the first refusal wins. The message is passed on unchanged. A
 * chain with naming rules judges the kinds they judge (its `kinds`) and, as the hook,
 * refuses a message of any other kind before running a rule. A chain inside a chain is a
 * rule like any other: it adds its kinds to the outer one's and filters nothing itself.
 * A chain with no naming rule judges no kind of its own (it declares none: as the hook,
 * it judges commands and events, as any hook that declares nothing).
 */
export function chain(...rules) {
  for (const rule of rules) {
    if (typeof rule !== "function") throw new TypeError("chain(...rules): every rule must be a function");
  }
  const kinds = [...new Set(rules.flatMap(kindsOf))];
  const chained = async function chained(message, context, nested) {
    if (kinds.length > 0 && nested !== NESTED && !kinds.includes(message.kind)) {
      throw new Error(
        `no rule of this hook judges ${message.kind} messages, so every ${message.kind} is refused (add a rule for them, such as allowStreams for streams)`,
      );
    }
    for (const rule of rules) {
      const verdict = await rule(message, context, NESTED);
      if (verdict === false) throw new Error(`refused by rule ${rule.name || "(anonymous)"}`);
    }
    return message;
  };
  return kinds.length > 0 ? judging(kinds, chained) : chained;
}

/** A rule for one kind: only these names of that kind pass (other kinds are not its to judge). */
function allowNames(kind, names, ruleName) {
  const allowed = new Set(names);
  const rule = {
    [ruleName](message) {
      if (message.kind === kind && !allowed.has(message.cmd)) {
        throw new Error(`${kind} ${message.cmd} is not allowed by the hook`);
      }
    },
  }[ruleName];
  return judging([kind], rule);
}

/** Only these command names pass. Judges commands (events and streams are not affected). */
export function allowCommands(names) {
  return allowNames("command", names, "allowCommandsRule");
}

/** Only these event names pass. Judges events (commands and streams are not affected). */
export function allowEvents(names) {
  return allowNames("event", names, "allowEventsRule");
}

/**
 * Only streams of these names may be opened. Judges streams (commands and events are
 * not affected). The hook sees a stream's open (its name and metadata), not its chunks:
 * limit a stream's size with the allowlist's `maxBytes` for it.
 */
export function allowStreams(names) {
  return allowNames("stream", names, "allowStreamsRule");
}

const TYPES = {
  string: (v) => typeof v === "string",
  number: (v) => typeof v === "number" && Number.isFinite(v),
  integer: (v) => Number.isInteger(v),
  boolean: (v) => typeof v === "boolean",
  array: (v) => Array.isArray(v),
  object: (v) => v !== null && typeof v === "object" && !Array.isArray(v),
};

/**
 * The payload of `cmd` (a command's arguments, an event's payload, a stream's metadata)
 * must be an object with exactly these fields and types
 * (`"string"`, `"number"`, `"integer"`, `"boolean"`, `"array"`, `"object"`; a trailing
 * `?` makes a field optional). Extra fields are refused.
 */
export function requireShape(cmd, shape) {
  const fields = Object.entries(shape).map(([key, type]) => {
    const optional = type.endsWith("?");
    const name = optional ? type.slice(0, -1) : type;
    if (!TYPES[name]) throw new TypeError(`unknown type ${type} for ${cmd}.${key}`);
    return { key, optional, check: TYPES[name], name };
  });
  return function requireShapeRule(message) {
    if (message.cmd !== cmd) return;
    const payload = message.payload;
    if (!TYPES.object(payload)) throw new Error(`${cmd}: arguments must be an object`);
    for (const { key, optional, check, name } of fields) {
      if (!Object.hasOwn(payload, key)) {
        if (optional) continue;
        throw new Error(`${cmd}: missing ${key}`);
      }
      if (!check(payload[key])) throw new Error(`${cmd}: ${key} must be ${name}`);
    }
    for (const key of Object.keys(payload)) {
      if (!Object.hasOwn(shape, key)) throw new Error(`${cmd}: unexpected field ${key}`);
    }
  };
}

/**
 * The payload (JSON text or bytes) may be at most `limit` bytes: a command's arguments,
 * an event's payload, a stream's metadata (not its chunks, which the hook never sees).
 */
export function maxBytes(limit) {
  const utf8 = new TextEncoder();
  return function maxBytesRule(message) {
    const p = message.payload;
    const size = p instanceof Uint8Array ? p.byteLength : utf8.encode(JSON.stringify(p ?? null)).byteLength;
    if (size > limit) throw new Error(`${message.cmd}: payload of ${size} bytes exceeds ${limit}`);
  };
}

/**
 * At most `perSecond` messages per second (per name when `perCommand` is set), measured
 * over a sliding one-second window. A stream counts once, at its open.
 */
export function rateLimit({ perSecond, perCommand = false }) {
  const seen = new Map();
  return function rateLimitRule(message) {
    const key = perCommand ? message.cmd : "";
    const now = performance.now();
    const times = (seen.get(key) ?? []).filter((t) => now - t < 1000);
    if (times.length >= perSecond) {
      seen.set(key, times);
      throw new Error(`rate limit: more than ${perSecond} messages per second${perCommand ? ` for ${message.cmd}` : ""}`);
    }
    times.push(now);
    seen.set(key, times);
  };
}
