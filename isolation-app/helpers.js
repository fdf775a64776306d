// Hook helpers: small, composable rules for validation hooks. Import them in your
// hook.js:
//
//   import { chain, allowCommands, requireShape, maxBytes, rateLimit } from "./__portcullis/helpers.js";
//   export default chain(
//     allowCommands(["notes.list", "notes.add"]),
//     requireShape("notes.add", { title: "string", body: "string" }),
//     maxBytes(64 * 1024),
//     rateLimit({ perSecond: 20 }),
//   );
//
// Every rule is a hook itself: (message, context) => verdict. A rule refuses by
// throwing an Error whose message says why (the caller gets E_HOOK_REJECTED and that
// message); it passes by returning undefined.

/** Runs rules in order; the first refusal wins. The message is passed on unchanged. */
export function chain(...rules) {
  return async (message, context) => {
    for (const rule of rules) {
      const verdict = await rule(message, context);
      if (verdict === false) throw new Error(`refused by rule ${rule.name || "(anonymous)"}`);
    }
    return message;
  };
}

/** Only these command names pass (events are not affected). */
export function allowCommands(names) {
  const allowed = new Set(names);
  return function allowCommandsRule(message) {
    if (message.kind === "command" && !allowed.has(message.cmd)) {
      throw new Error(`command ${message.cmd} is not allowed by the hook`);
    }
  };
}

/** Only these event names pass (commands are not affected). */
export function allowEvents(names) {
  const allowed = new Set(names);
  return function allowEventsRule(message) {
    if (message.kind === "event" && !allowed.has(message.cmd)) {
      throw new Error(`event ${message.cmd} is not allowed by the hook`);
    }
  };
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
 * The payload of `cmd` must be an object with exactly these fields and types
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

/** The payload (JSON text or bytes) may be at most `limit` bytes. */
export function maxBytes(limit) {
  const utf8 = new TextEncoder();
  return function maxBytesRule(message) {
    const p = message.payload;
    const size = p instanceof Uint8Array ? p.byteLength : utf8.encode(JSON.stringify(p ?? null)).byteLength;
    if (size > limit) throw new Error(`${message.cmd}: payload of ${size} bytes exceeds ${limit}`);
  };
}

/**
 * At most `perSecond` messages per second (per command name when `perCommand` is set),
 * measured over a sliding one-second window.
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
