// Attacks from a compromised main frame. Each must fail with its code; Rust checks that
// the canary handler (secret.read) never ran and that the audit log saw the refusals.

function injectFrame({ sandboxed }) {
  // The injected frame tries every way it has to reach the core or the isolation frame.
  const script = `
    const tries = [];
    try { window.webkit.messageHandlers.ipc.postMessage('{"cmd":"secret.read"}'); tries.push("ipc"); } catch (e) { tries.push("ipc:" + e); }
    try { for (const f of parent.frames) f.postMessage({ id: 1, kind: "command", name: "secret.read", args: {} }, "*"); tries.push("post"); } catch (e) { tries.push("post:" + e); }
    fetch("ipc://localhost/", { method: "POST", body: '{"cmd":"secret.read"}' })
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
  const text = new TextDecoder("latin1").decode(sealed);
  window.webkit.messageHandlers.ipc.postMessage(text);
  window.ipc.postMessage("");
  window.ipc.postMessage('{"cmd":"secret.read","payload":{}}');

  await t.check("injected sandboxed frame", "E_UNSEALED", await injectFrame({ sandboxed: true }));
  await t.check("injected unsandboxed frame", "E_UNSEALED", await injectFrame({ sandboxed: false }));

  // Key theft: every request a script can make for the isolation document gets no key.
  const keyPattern = /"key":"[A-Za-z0-9+/=]{40,}"/;
  const viaFetch = await fetch("isolation://localhost/").then((r) => r.text(), (e) => `fetch failed ${e}`);
  await t.check("fetch of the isolation document carries no key", false, keyPattern.test(viaFetch));
  const viaXhr = await new Promise((resolve) => {
    const x = new XMLHttpRequest();
    x.open("GET", "isolation://localhost/index.html");
    x.onload = () => resolve(x.responseText);
    x.onerror = () => resolve("xhr failed");
    x.send();
  });
  await t.check("XHR of the isolation document carries no key", false, keyPattern.test(viaXhr));
  const frames = [...document.querySelectorAll("iframe")];
  await t.check("the isolation frame's DOM is out of reach", "null", String(frames[0] && frames[0].contentDocument));

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
