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
// naming where it was. The one change made instead of a refusal: `-0` becomes `0` (JSON
// has no negative zero, and `Math.round(-0.4)` is common in honest code).
//
// The copy is deep-frozen: the hook reads exactly what will be sealed, and a hook that
// wants to change it assigns a new `payload` (hook files load as ES modules, so a write
// to a frozen object throws instead of being silently ignored). What the hook returns is
// checked the same way before it is sealed.

const { getPrototypeOf, getOwnPropertyDescriptor, freeze, is } = Object;
const { ownKeys } = Reflect;
const { isArray } = Array;
const { isFinite, isSafeInteger } = Number;
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
  return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? `${where}.${key}` : `${where}[${JSON.stringify(key)}]`;
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
 */
export function canonicalJson(value, where, maxDepth) {
  const ancestors = new Set();
  const copy = (v, at, depth) => {
    if (v === null || typeof v === "boolean") return v;
    if (typeof v === "string") {
      if (!wellFormed(v)) throw refuse(at, "a string with a lone surrogate");
      return v;
    }
    if (typeof v === "number") {
      if (!isFinite(v)) throw refuse(at, `${v}`);
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
      for (const key of ownKeys(v)) {
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
        out.push(copy(d.value, `${at}[${i}]`, depth + 1));
      }
    } else {
      if (proto !== ObjectPrototype && proto !== null) throw refuse(at, describe(v));
      out = {};
      for (const key of ownKeys(v)) {
        if (typeof key === "symbol") throw refuse(at, `an object with a symbol key ${String(key)}`);
        const here = member(at, key);
        if (key === "__proto__") throw refuse(here, "a __proto__ key");
        const d = getOwnPropertyDescriptor(v, key);
        if (!("value" in d)) throw refuse(here, "a getter");
        if (!d.enumerable) throw refuse(here, "a non-enumerable property");
        if (d.value === undefined) throw refuse(here, "undefined");
        out[key] = copy(d.value, here, depth + 1);
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
export function canonicalPayload(value, where, maxDepth) {
  if (value === undefined) return freeze({});
  if (isBytes(value)) return new Uint8Array(value);
  if (value !== null && typeof value === "object" && (ArrayBuffer.isView(value) || toTag.call(value) === "[object ArrayBuffer]")) {
    throw refuse(where, `${describe(value)}: binary data must be a Uint8Array`);
  }
  return canonicalJson(value, where, maxDepth);
}
