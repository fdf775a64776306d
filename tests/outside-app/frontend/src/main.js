// The app's frontend, bundled with esbuild from the @portcullis/api npm package. With
// `?self-test` in the page address it checks the legitimate paths and the refusals, and
// reports every check to the Rust side, which decides the exit code.
import { PortcullisError, emit, grants, invoke, isAvailable, once } from "@portcullis/api";

const checks = [];
function check(name, expected, got) {
  checks.push({ name, expected: String(expected), got: String(got) });
}

async function code(promise) {
  try {
    await promise;
    return "resolved";
  } catch (e) {
    return e instanceof PortcullisError ? e.code : `not a PortcullisError: ${e}`;
  }
}

async function selfTest() {
  check("the bridge is installed", true, isAvailable());
  check("a command resolves with its result", "Hello, Ada!", await invoke("greet", { name: "Ada" }));
  check("a command the allowlist does not name is refused", "E_NOT_ALLOWED", await code(invoke("files.delete", { path: "/" })));
  check("the hook's refusal reaches the caller", "E_HOOK_REJECTED", await code(invoke("greet", { name: "mallory" })));
  check("arguments outside the schema are refused", "E_INVALID_ARGS", await code(invoke("greet", { name: 7 })));
  const waved = new Promise((resolve) => once("waved", (e) => resolve(e.payload)));
  await emit("wave", { n: 3 });
  check("an event reaches Rust, and Rust's answer reaches the page", 3, (await waved).n);
  check("an event outside the allowlist is refused", "E_NOT_ALLOWED", await code(emit("shout", {})));
  check("grants() answers this window's run-time grants", '{"capabilities":[],"paths":[]}', JSON.stringify(await grants()));
  await invoke("self_test.report", { checks });
}

if (new URLSearchParams(location.search).has("self-test")) {
  selfTest().catch((e) => invoke("self_test.report", { checks: [...checks, { name: "self-test ran to the end", expected: "no exception", got: String(e) }] }));
} else {
  invoke("greet", { name: "world" }).then((text) => {
    document.getElementById("status").textContent = text;
  });
}
