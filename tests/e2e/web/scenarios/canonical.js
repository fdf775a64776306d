// The hook sees exactly what is sealed. Arguments reach the isolation frame as a
// structured clone, which keeps values JSON would change or drop; each such value is
// refused (E_BAD_REQUEST) before the hook runs, and never reaches a handler. Each has a
// legitimate twin that passes, and for those the value the handler received is compared
// with the hook's own description of what it saw.
//
// The guarded.* commands sit behind careful hooks (refuse role "admin", require a
// non-negative number, strings only, a confirm member); their Rust handlers flag any value
// the hook would refuse, so a value that changed between hook and core shows up on the
// Rust side as a breach.

// The hook's own description function, from the isolation app's directory.
import { describe } from "isolation://localhost/describe.js";

/** Posts a request straight to the isolation frame, as any page script could. */
function postToFrame(request) {
  const frame = document.querySelector('iframe[src^="isolation:"]').contentWindow;
  return new Promise((resolve) => {
    const onReply = (e) => {
      if (e.source !== frame || !e.data || e.data.id !== request.id) return;
      window.removeEventListener("message", onReply);
      resolve(e.data.ok ? "OK" : e.data.error.code);
    };
    window.addEventListener("message", onReply);
    frame.postMessage(request, "*");
    setTimeout(() => resolve("no reply"), 3000);
  });
}

export default async function (t) {
  const cycle = { a: 1 };
  cycle.self = cycle;
  const holes = ["a", , "c"]; // eslint-disable-line no-sparse-arrays
  const extra = ["a"];
  extra.note = "dropped by JSON";

  // Careful hooks that a changed value would walk around; each refused case with its twin.
  await t.expectCode("a boxed string 'admin' past a hook refusing role admin", "E_BAD_REQUEST", () =>
    t.invoke("guarded.role", { role: new String("admin") }));
  await t.check("twin: a plain role passes that hook", '{"role":"user"}', t.stringify(await t.invoke("guarded.role", { role: "user" })));
  await t.expectCode("the hook still refuses a plain 'admin'", "E_HOOK_REJECTED", () => t.invoke("guarded.role", { role: "admin" }));
  await t.expectCode("Infinity past a hook requiring a number >= 0", "E_BAD_REQUEST", () => t.invoke("guarded.count", { n: Infinity }));
  await t.expectCode("1e309 (Infinity) past the same hook", "E_BAD_REQUEST", () => t.invoke("guarded.count", { n: 1e309 }));
  await t.expectCode("NaN", "E_BAD_REQUEST", () => t.invoke("guarded.count", { n: NaN }));
  await t.check("twin: a finite number passes", '{"n":3}', t.stringify(await t.invoke("guarded.count", { n: 3 })));
  await t.expectCode("an array hole past a hook requiring strings (every() skips holes)", "E_BAD_REQUEST", () =>
    t.invoke("guarded.items", { items: holes }));
  await t.check("twin: a dense array of strings passes", '{"items":["a","b","c"]}', t.stringify(await t.invoke("guarded.items", { items: ["a", "b", "c"] })));
  await t.expectCode("an undefined member past a hook requiring it to be present", "E_BAD_REQUEST", () =>
    t.invoke("guarded.confirm", { confirm: undefined }));
  await t.check("twin: a present member passes", '{"confirm":false}', t.stringify(await t.invoke("guarded.confirm", { confirm: false })));

  // Every other class JSON changes, refused before the hook with where it was.
  const refused = [
    ["a boxed number", { n: new Number(1) }],
    ["a boxed boolean", { b: new Boolean(false) }],
    ["-Infinity", { n: -Infinity }],
    ["undefined in an array", { items: [1, undefined] }],
    ["an array with an extra property", { items: extra }],
    ["a Date", { when: new Date(0) }],
    ["a Map", { m: new Map([["role", "admin"]]) }],
    ["a Set", { s: new Set(["admin"]) }],
    ["a RegExp", { r: /admin/ }],
    ["a BigInt", { n: 10n }],
    ["a cycle", cycle],
    ["an ArrayBuffer inside the arguments", { data: new ArrayBuffer(4) }],
    ["a typed array inside the arguments", { data: new Uint8Array(4) }],
    ["a lone surrogate", { s: "\uD800" }],
    ["a __proto__ key", JSON.parse('{"__proto__": {"admin": true}}')],
  ];
  for (const [what, args] of refused) {
    let got;
    let message = "";
    try {
      got = `resolved ${t.stringify(await t.invoke("canon.sink", args))}`;
    } catch (e) {
      got = e.code;
      message = e.message;
    }
    await t.check(`refused before the hook: ${what}`, "E_BAD_REQUEST", got);
    // Only the isolation frame words it so (the gate's own refusals say otherwise).
    await t.check(`the isolation frame refused it, naming it: ${what}`, "true", String(/which JSON would not carry unchanged$/.test(message)));
  }
  const deep = await t.invoke("canon.sink", { a: [[[[[[[[[1]]]]]]]]] }).catch((e) => e);
  await t.check("nesting past maxDepth is refused before the hook, where it is", "E_TOO_DEEP args.a[0][0][0][0][0][0][0]", `${deep.code} ${String(deep.message).split(" ")[0]}`);
  // A million references to one 1000-character string, a thousand at a time: cheap to
  // post (the clone keeps the sharing), a gigabyte as JSON. The copy is counted against
  // maxMessageBytes as it is made, so it cannot explode.
  const row = new Array(1000).fill("x".repeat(1000));
  const shared = new Array(1000).fill(row);
  await t.expectCode("shared references that would expand past maxMessageBytes", "E_TOO_LARGE", () => t.invoke("canon.sink", { shared }));
  await t.expectCode("a key holding a lone surrogate", "E_BAD_REQUEST", () => t.invoke("canon.sink", { "\uD800": 1 }));
  // JSON.stringify writes 2**60 as 1152921504606847000, which Rust reads as another integer.
  await t.expectCode("an integer beyond 2^53 past a hook requiring n <= 2^60", "E_BAD_REQUEST", () => t.invoke("guarded.small", { n: 2 ** 60 }));
  await t.expectCode("2^60 - 1 (not representable either)", "E_BAD_REQUEST", () => t.invoke("guarded.small", { n: 2 ** 60 - 1 }));
  await t.check("twin: the largest safe integer passes that hook", `{"n":${2 ** 53 - 1}}`, t.stringify(await t.invoke("guarded.small", { n: 2 ** 53 - 1 })));

  // Twins: what the hook saw, described by the hook, equals what the handler received.
  const twins = [
    ["plain nested data", { title: "note", tags: ["a", "b"], meta: { pinned: true, n: 1.5, none: null } }],
    ["an empty object", {}],
    ["a top-level string", "just text"],
    ["unicode text with a surrogate pair", { s: "h\u00e9llo \uD83D\uDE00" }],
    ["a DAG (the same object twice, copied twice)", (() => { const o = { k: 1 }; return { a: o, b: o }; })()],
    ["a null-prototype object", Object.assign(Object.create(null), { k: "v" })],
  ];
  for (const [what, args] of twins) {
    const got = await t.invoke("canon.sink", args);
    await t.check(`the handler received what the hook saw: ${what}`, got.saw, describe(got.value));
    await t.check(`the hook saw a deeply frozen copy: ${what}`, "true", String(got.frozen));
  }
  const zero = await t.invoke("canon.sink", { z: -0 });
  await t.check("-0 is made 0 before the hook (decided and documented): hook | handler", '{"z":0}|{"z":0}', `${zero.saw}|${describe(zero.value)}`);

  // What the hook returns is checked the same way before it is sealed. (A class instance
  // can only come from the hook: the page's are flattened by the structured clone.)
  for (const [what, code] of [
    ["a class instance", "E_BAD_REQUEST"],
    ["a Date", "E_BAD_REQUEST"],
    ["a getter", "E_BAD_REQUEST"],
    ["an undefined member", "E_BAD_REQUEST"],
    ["a boxed string as cmd", "E_BAD_REQUEST"],
    ["another kind", "E_HOOK_REJECTED"],
    ["a write to the frozen payload", "E_HOOK_REJECTED"],
    ["a verdict object that is not a message", "E_HOOK_REJECTED"],
    ["an empty array", "E_HOOK_REJECTED"],
  ]) {
    await t.expectCode(`the hook returns ${what}`, code, () => t.invoke("canon.returns", { what }));
  }
  await t.check("twin: the hook returns a new plain payload", '{"rebuilt":true}', t.stringify(await t.invoke("canon.returns", { what: "a plain object" })));
  await t.check("a payload the hook deleted is sealed as no arguments, never the original", "{}", t.stringify(await t.invoke("canon.returns", { what: "a deleted payload", secret: "stripped" })));

  // Posted straight to the frame: binary data must be exactly a Uint8Array.
  let id = 900_000;
  const bytesCase = (bytes) => postToFrame({ id: id++, token: 1, kind: "command", name: "echo.bytes", bytes });
  await t.check("bytes as an ArrayBuffer, posted directly", "E_BAD_REQUEST", await bytesCase(new ArrayBuffer(4)));
  await t.check("bytes as a DataView, posted directly", "E_BAD_REQUEST", await bytesCase(new DataView(new ArrayBuffer(4))));
  await t.check("bytes as an Int16Array, posted directly", "E_BAD_REQUEST", await bytesCase(new Int16Array(2)));
  await t.check("args and bytes together, posted directly", "E_BAD_REQUEST",
    await postToFrame({ id: id++, token: 1, kind: "command", name: "echo.bytes", bytes: new Uint8Array(2), args: {} }));
  await t.check("twin: bytes as a Uint8Array, posted directly", "OK", await bytesCase(new Uint8Array([1, 2, 3])));
  const viaBridge = await t.invoke("echo.bytes", new DataView(new Uint8Array([1, 2, 3]).buffer));
  await t.check("twin: the bridge turns any view into a Uint8Array copy", "3,2,1", Array.from(viaBridge).join(","));
}
