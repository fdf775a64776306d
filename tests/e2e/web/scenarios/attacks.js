// Attacks from a compromised main frame. Each must fail with its code; Rust checks that
// the canary handler (secret.read) never ran and that the audit log saw the refusals.

function injectFrame({ sandboxed }) {
  // The injected frame tries every way it has to reach the core or the isolation frame.
  const script = `
    const tries = [];
    try { window.webkit.messageHandlers.ipc.postMessage('{"cmd":"secret.read"}'); tries.push("ipc"); } catch (e) { tries.push("ipc:" + e); }
    try { for (const f of parent.frames) f.postMessage({ id: 1, kind: "command", name: "probe", args: {} }, "*"); tries.push("post"); } catch (e) { tries.push("post:" + e); }
    fetch("ipc://localhost/", { method: "POST", headers: { "portcullis-body": btoa('{"cmd":"secret.read"}') } })
      .then((r) => r.json()).then((j) => parent.postMessage({ injected: j.code }, "*"))
      .catch((e) => parent.postMessage({ injected: "fetch failed" }, "*"));
  `;
  const frame = document.createElement("iframe");
  if (sandboxed) frame.setAttribute("sandbox", "allow-scripts");
  frame.srcdoc = `<script>${script}<\/script>`;
  return new Promise((resolve) => {
    const onMessage = (e) => {
      if (e.source === frame.contentWindow && e.data && e.data.injected) {
        window.removeEventListener("message", onMessage);
        frame.remove();
        resolve(e.data.injected);
      }
    };
    window.addEventListener("message", onMessage);
    document.body.append(frame);
    setTimeout(() => resolve("no answer"), 3000);
  });
}

export default async function (t) {
  // The canary through the front door: the hook refuses it.
  await t.expectCode("canary via the bridge", "E_HOOK_REJECTED", () => t.invoke("secret.read"));

  await t.invoke("echo", { seen: "by the attacker" });
  const [sealed] = (await t.captured(t.info.label)).slice(-1);

  // Forgery: a fresh header, ciphertext made without the key.
  const forged = t.fresh(sealed);
  crypto.getRandomValues(forged.subarray(40));
  await t.check("forged ciphertext (no key)", "E_TAMPERED", await t.raw(forged));
  const stranger = forged.slice();
  crypto.getRandomValues(stranger.subarray(4, 20));
  await t.check("forged session id", "E_UNKNOWN_SESSION", await t.raw(stranger));

  // Re-targeting: the command name is inside the ciphertext; changing it breaks the tag.
  const retarget = t.fresh(sealed, 2_000_000);
  retarget[40 + 12] ^= 0x01;
  await t.check("captured message re-targeted to another command", "E_TAMPERED", await t.raw(retarget));
  await t.check("captured message replayed", "E_REPLAY", await t.raw(sealed));

  // The same messages through wry's IPC handler: refused and audited (Rust checks).
  // wry's handler takes strings, so the attacker re-encodes the captured envelope in the
  // (equivalent) JSON encoding: the gate recognises it as the same, already-seen message.
  const b64 = (bytes) => btoa(String.fromCharCode(...bytes));
  const seq = new DataView(sealed.buffer).getBigUint64(20);
  const asJson = `{"v":1,"sid":"${b64(sealed.subarray(4, 20))}","seq":${seq},"nonce":"${b64(sealed.subarray(28, 40))}","ct":"${b64(sealed.subarray(40))}"}`;
  window.webkit.messageHandlers.ipc.postMessage(asJson);
  window.ipc.postMessage("");
  window.ipc.postMessage('{"cmd":"secret.read","payload":{}}');

  await t.check("injected sandboxed frame", "E_UNSEALED", await injectFrame({ sandboxed: true }));
  await t.check("injected unsandboxed frame", "E_UNSEALED", await injectFrame({ sandboxed: false }));

  // Key theft: the isolation document is not readable by scripts (no CORS on it), while
  // the public runtime is. Rust unit tests check that script requests never get a key.
  const readable = (url) => fetch(url).then((r) => r.text().then(() => "readable"), () => "blocked");
  await t.check("the isolation document is not readable by fetch", "blocked", await readable("isolation://localhost/"));
  await t.check("(the public runtime is readable, so the fetch itself works)", "readable", await readable("isolation://localhost/__portcullis/runtime.js"));
  const viaXhr = await new Promise((resolve) => {
    const x = new XMLHttpRequest();
    x.open("GET", "isolation://localhost/index.html");
    x.onload = () => resolve("readable");
    x.onerror = () => resolve("blocked");
    x.send();
  });
  await t.check("the isolation document is not readable by XHR", "blocked", viaXhr);

  // The main frame can post to the isolation frame directly, bypassing the bridge (it
  // is untrusted and holds the frame's window). The runtime treats whatever the parent
  // posts as hostile: names the hook would see differently from what would be sealed are
  // refused before the hook runs (Rust checks that neither the canary nor the probe ran).
  // No MessagePort is handed out for a script that ran first to steal.
  await t.check("the isolation frame hands out no MessagePort", 0, window.__stolenPorts.length);
  const isolationFrame = [...document.querySelectorAll("iframe")].find((f) => f.src.startsWith("isolation:"));
  await t.check("the attacker can find the isolation frame", true, Boolean(isolationFrame && isolationFrame.contentWindow));
  let id = 900000;
  for (const name of [new String("secret.read"), ["secret.read"], { toString: () => "secret.read" }, `secret.read${" ".repeat(65536)}`, new String("probe")]) {
    try {
      isolationFrame.contentWindow.postMessage({ id: id++, kind: "command", name, args: {} }, "*");
    } catch (e) {
      // Not cloneable: it never left the page.
    }
  }
  // A forged reply (a synthetic event claiming to come from the isolation frame) is not
  // taken for the frame's answer.
  const pending = t.invoke("echo", { real: true });
  window.dispatchEvent(new MessageEvent("message", { source: isolationFrame.contentWindow, data: { id: 1e9, ok: true, json: '"forged"' } }));
  for (let guess = 1; guess < 2000; guess++) {
    window.dispatchEvent(new MessageEvent("message", { source: isolationFrame.contentWindow, data: { id: guess, ok: true, json: '"forged"' } }));
  }
  await t.check("a synthetic reply event is ignored", '{"real":true}', t.stringify(await pending));
  // Requests posted straight to the frame under ids the bridge is using: their (real,
  // trusted) replies do not settle the app's calls, which carry tokens the page never saw.
  const slow = t.invoke("slow.echo");
  for (let guess = 1; guess < 400; guess++) {
    isolationFrame.contentWindow.postMessage({ id: guess, kind: "command", name: "echo", args: { forged: guess } }, "*");
  }
  await t.check("replies to requests under guessed ids do not settle the app's call", '"slow"', t.stringify(await slow));
  await t.expectCode("over-long name through the bridge", "E_BAD_REQUEST", () => t.invoke(`secret.read${" ".repeat(65536)}`));
  await t.sleep(200);

  // Overridden builtins before invoking: the bridge and the isolation frame are unaffected.
  const saved = {
    stringify: JSON.stringify,
    parse: JSON.parse,
    post: MessagePort.prototype.postMessage,
    winPost: window.postMessage,
    encrypt: crypto.subtle.encrypt,
  };
  JSON.stringify = () => '"evil"';
  JSON.parse = () => ({ evil: true });
  MessagePort.prototype.postMessage = function () {
    throw new Error("hooked");
  };
  window.postMessage = () => {};
  crypto.subtle.encrypt = async () => new ArrayBuffer(16);
  Object.prototype.polluted = "yes";
  Object.prototype.cmd = "secret.read";
  let result;
  try {
    result = await t.invoke("echo", { after: "overrides" });
  } finally {
    JSON.stringify = saved.stringify;
    JSON.parse = saved.parse;
    MessagePort.prototype.postMessage = saved.post;
    window.postMessage = saved.winPost;
    crypto.subtle.encrypt = saved.encrypt;
    delete Object.prototype.polluted;
    delete Object.prototype.cmd;
  }
  await t.check("invoke works unchanged with builtins overridden", '{"after":"overrides"}', JSON.stringify(result));
}
