// A structural description of a value, shared by the e2e hook (which describes what it
// saw) and the canonical scenario (which describes what the handler received).

/**
 * A structural description of a value as the hook sees it, precise enough to tell apart
 * what JSON would merge: a boxed string from a string, a hole from null, -0 from 0,
 * a Map from an empty object. Keys are sorted (JSON objects have no order; the Rust
 * side's maps are sorted). The canonical scenario compares it with the same
 * description of what the Rust handler received.
 */
export function describe(v) {
  if (v === null) return "null";
  if (Array.isArray(v)) {
    const items = [];
    for (let i = 0; i < v.length; i++) items.push(i in v ? describe(v[i]) : "hole");
    return `[${items.join(",")}]`;
  }
  switch (typeof v) {
    case "string":
      return JSON.stringify(v);
    case "number":
      return Object.is(v, -0) ? "-0" : String(v);
    case "boolean":
      return String(v);
    case "object": {
      const proto = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return `<${Object.prototype.toString.call(v)}>`;
      return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${describe(v[k])}`).join(",")}}`;
    }
    default:
      return `<${typeof v}>`;
  }
}
