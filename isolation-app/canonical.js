// The canonical request value: the one value the validation hook sees and the sealer seals.
//
// The page's request reaches the isolation frame as a structured clone, which keeps many
// things JSON changes or drops: boxed primitives (`new String("admin")` becomes "admin"),
// array holes and non-finite numbers (become null), `undefined` members (dropped), Dates
// (become strings), Maps, Sets and class instances (become `{}` or lose their prototype),
// typed arrays and buffers. If the hook judged the clone and the core received its JSON,
// the two would disagree, and a careful hook could be walked around. So before the hook
// runs, the arguments are copied into plain JSON data (objects, arrays, strings, finite
// numbers, booleans, null), and anything that JSON would not carry unchanged is refused,
// naming where it was. That includes integers beyond ±(2^53 - 1): JSON.stringify writes
// 2**60 as 1152921504606847000, which Rust reads as another integer. The one change made
// instead of a refusal: `-0` becomes `0` (JSON has no negative zero, and
// `Math.round(-0.4)` is common in honest code). The copy is counted as it is made (values
// and string lengths) against limits.maxMessageBytes, so shared references cannot make it
// explode (E_TOO_LARGE).
//
// The sealed text is written by `serialize` below from that copy, not by JSON.stringify,
// which would consult `toJSON` on prototypes the hook's realm could change.
//
// The copy is deep-frozen: the hook reads exactly what will be sealed, and a hook that
// wants to change it assigns a new `payload` (hook files load as ES modules, so a write
// to a frozen object throws instead of being silently ignored). What the hook returns is
// checked the same way before it is sealed.

const { getPrototypeOf, getOwnPropertyDescriptor, defineProperty, freeze, is } = Object;
const { ownKeys } = Reflect;
const { isArray } = Array;
const { isFinite, isInteger, isSafeInteger } = Number;
const quote = JSON.stringify;
const toTag = Object.prototype.toString;
const ObjectPrototype = Object.prototype;
const ArrayPrototype = Array.prototype;
const Uint8ArrayPrototype = Uint8Array.prototype;
const isWellFormed = String.prototype.isWellFormed;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A value that is not canonical JSON: `code` is the refusal code, `message` says where. */
export class NotCanonical extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function member(where, key) {
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${where}.${key}` : `${where}[${quote(key)}]`;
}

/** Defines a plain data property: never an assignment, which a setter on a prototype could catch. */
function put(target, key, value) {
  defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

function refuse(where, what) {
  return new NotCanonical("E_BAD_REQUEST", `${where} is ${what}, which JSON would not carry unchanged`);
}

function wellFormed(text) {
  return isWellFormed ? isWellFormed.call(text) : !LONE_SURROGATE.test(text);
}

/** What an object that is not plain data is, for the refusal message. */
function describe(value) {
  const tag = toTag.call(value).slice(8, -1);
  if (tag === "String" || tag === "Number" || tag === "Boolean" || tag === "BigInt" || tag === "Symbol") {
    return `a boxed ${tag.toLowerCase()} (new ${tag}(...))`;
  }
  if (tag !== "Object") return `a ${tag}`;
  return "an instance of a class (not a plain object)";
}

/**
 * Copies `value` into frozen plain JSON data, or throws NotCanonical.
 * @param {unknown} value
 * @param {string} where the name of the value in messages ("args", "args.role", ...)
 * @param {number} maxDepth nesting allowed, counted as the core counts it ([] is 1)
 * @param {number} maxBytes the most the copy may hold (values plus string lengths)
 */
export function canonicalJson(value, where, maxDepth, maxBytes) {
  const ancestors = new Set();
  let budget = maxBytes;
  const spend = (at, n) => {
    budget -= n;
    if (budget < 0) throw new NotCanonical("E_TOO_LARGE", `${where} is larger than limits.maxMessageBytes (${maxBytes}) as JSON`);
  };
  const copy = (v, at, depth) => {
    spend(at, 1);
    if (v === null || typeof v === "boolean") return v;
    if (typeof v === "string") {
      spend(at, v.length);
      if (!wellFormed(v)) throw refuse(at, "a string with a lone surrogate");
      return v;
    }
    if (typeof v === "number") {
      if (!isFinite(v)) throw refuse(at, `${v}`);
      if (isInteger(v) && !isSafeInteger(v)) throw refuse(at, `an integer beyond ±(2^53 - 1) (${v})`);
      return is(v, -0) ? 0 : v;
    }
    if (typeof v !== "object") throw refuse(at, v === undefined ? "undefined" : `a ${typeof v}`);
    if (ancestors.has(v)) throw refuse(at, "a reference to one of its own containers (a cycle)");
    if (depth >= maxDepth) {
      throw new NotCanonical("E_TOO_DEEP", `${at} nests deeper than limits.maxDepth (${maxDepth})`);
    }
    const proto = getPrototypeOf(v);
    ancestors.add(v);
    let out;
    if (isArray(v)) {
      if (proto !== ArrayPrototype) throw refuse(at, "an array of another realm or class");
      out = [];
      const length = v.length;
      const keys = ownKeys(v);
      for (let k = 0; k < keys.length; k++) {
        const key = keys[k];
        if (key === "length") continue;
        const index = typeof key === "string" ? Number(key) : NaN;
        if (!(isSafeInteger(index) && index >= 0 && index < length && String(index) === key)) {
          throw refuse(at, `an array with an extra property ${String(key)}`);
        }
      }
      for (let i = 0; i < length; i++) {
        const d = getOwnPropertyDescriptor(v, i);
        if (d === undefined) throw refuse(`${at}[${i}]`, "a hole");
        if (!("value" in d)) throw refuse(`${at}[${i}]`, "a getter");
        put(out, i, copy(d.value, `${at}[${i}]`, depth + 1));
      }
    } else {
      if (proto !== ObjectPrototype && proto !== null) throw refuse(at, describe(v));
      out = {};
      const keys = ownKeys(v);
      for (let k = 0; k < keys.length; k++) {
        const key = keys[k];
        if (typeof key === "symbol") throw refuse(at, `an object with a symbol key ${String(key)}`);
        if (!wellFormed(key)) throw refuse(at, "an object with a key holding a lone surrogate");
        const here = member(at, key);
        if (key === "__proto__") throw refuse(here, "a __proto__ key");
        const d = getOwnPropertyDescriptor(v, key);
        if (!("value" in d)) throw refuse(here, "a getter");
        if (!d.enumerable) throw refuse(here, "a non-enumerable property");
        if (d.value === undefined) throw refuse(here, "undefined");
        spend(here, key.length);
        put(out, key, copy(d.value, here, depth + 1));
      }
    }
    ancestors.delete(v);
    return freeze(out);
  };
  return copy(value, where, 0);
}

/** Whether `value` is exactly a Uint8Array (not another view, not a subclass). */
export function isBytes(value) {
  return value !== null && typeof value === "object" && getPrototypeOf(value) === Uint8ArrayPrototype;
}

/**
 * The canonical payload of a call: a fresh Uint8Array copy for binary calls, frozen JSON
 * data otherwise. `undefined` stands for "no arguments" and becomes `{}`, as in `invoke(cmd)`.
 */
export function canonicalPayload(value, where, maxDepth, maxBytes) {
  if (value === undefined) return freeze({});
  if (isBytes(value)) return new Uint8Array(value);
  if (value !== null && typeof value === "object" && (ArrayBuffer.isView(value) || toTag.call(value) === "[object ArrayBuffer]")) {
    throw refuse(where, `${describe(value)}: binary data must be a Uint8Array`);
  }
  return canonicalJson(value, where, maxDepth, maxBytes);
}

/**
 * The JSON text of a canonical value (from canonicalJson): written here rather than by
 * JSON.stringify, which looks up `toJSON` on prototypes. Strings and numbers are quoted
 * by JSON.stringify, kept from before any hook ran; for primitives it consults nothing.
 */
export function serialize(value) {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
    case "string":
      return quote(value);
    default:
      break;
  }
  // Concatenation only: no method of a prototype the hook's realm could change.
  let out = "";
  if (isArray(value)) {
    for (let i = 0; i < value.length; i++) out += (i === 0 ? "" : ",") + serialize(value[i]);
    return `[${out}]`;
  }
  const keys = ownKeys(value);
  for (let k = 0; k < keys.length; k++) out += (k === 0 ? "" : ",") + quote(keys[k]) + ":" + serialize(value[keys[k]]);
  return `{${out}}`;
}
