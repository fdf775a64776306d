// class: generated
// The attack `portcullis audit` generates from the app's config: it makes every call
// listed in cases.json (written beside it for this run: data, never code), each of which
// the app must refuse. Markers {"$js": NAME} stand for JS values JSON cannot hold.

function revive(value) {
  if (Array.isArray(value)) return value.map(revive);
  if (value === null || typeof value !== "object") return value;
  if (typeof value.$js === "string") {
    switch (value.$js) {
      case "boxed-string":
        return new String("x");
      case "infinity":
        return Infinity;
      case "undefined-member":
        return undefined;
      case "date":
        return new Date(0);
      case "map":
        return new Map([["k", "v"]]);
      case "hole":
        return [1, , 3]; // eslint-disable-line no-sparse-arrays
      case "big-integer":
        return 2 ** 60;
      default:
        throw new Error(`unknown JS value ${value.$js}`);
    }
  }
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revive(v)]));
}

export default async function (ctx) {
  const cases = await (await fetch("./cases.json")).json();
  for (const c of cases) {
    const args = revive(c.args);
    const call = c.kind === "event" ? ctx.emit(c.name, args) : ctx.invoke(c.name, args);
    ctx.note(`${c.what}: ${await ctx.codeOf(call)}`);
  }
}
