// Runs one scenario module in the main frame and reports every check to Rust.
//
// A scenario is an ES module in scenarios/ whose default export is
// `async function (t)`. It makes checks with t.check / t.expectCode; Rust compares
// expected and got, and adds its own checks (the canary handler never ran, the audit
// log holds the codes the attacks should have caused).

const { invoke, emit, listen } = window.portcullis;
const nativeFetch = window.fetch.bind(window);
const stringify = JSON.stringify;

function fromBase64(text) {
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

const info = await invoke("harness.scenario");

const t = {
  info,
  invoke,
  emit,
  listen,
  stringify,
  fromBase64,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  /** "resolved", or the rejection's code (with its app code when it has one). */
  async code(promise) {
    try {
      await promise;
      return "resolved";
    } catch (e) {
      return e.appCode ? `${e.code} ${e.appCode}` : e.code;
    }
  },
  /** Asks `command` until its answer satisfies `ready` (or 3 s passed); the last answer. */
  async poll(command, ready) {
    let now;
    for (let i = 0; i < 150; i++) {
      now = await invoke(command, {});
      if (ready(now)) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return now;
  },
  async check(name, expected, got) {
    await invoke("harness.report", { name, expected: String(expected), got: String(got) });
  },
  async expectCode(name, expected, run) {
    let got;
    try {
      const value = await run();
      got = `resolved ${stringify(value)}`.slice(0, 120);
    } catch (e) {
      got = e.code ?? `threw ${e}`;
    }
    await this.check(name, expected, got);
  },
  /**
   * Posts raw bytes (or a string, as its UTF-8) to the transport every way any frame
   * could: the native handler when the app has one, and `POST ipc://localhost/` with the
   * message in the `Portcullis-Body` header. Returns the reply's code when every way
   * gave the same, else each way's (which no check expects).
   */
  async raw(body) {
    const bytes =
      typeof body === "string"
        ? new TextEncoder().encode(body)
        : ArrayBuffer.isView(body)
          ? new Uint8Array(body.buffer, body.byteOffset, body.byteLength)
          : new Uint8Array(body);
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    const codes = {};
    const native = window.webkit && window.webkit.messageHandlers && window.webkit.messageHandlers.portcullisIpc;
    if (native) {
      const answer = await native.postMessage("E" + btoa(text));
      codes.native = answer[0] === "!" ? JSON.parse(answer.slice(1)).code : "OK";
    }
    const response = await nativeFetch("ipc://localhost/", { method: "POST", headers: { "portcullis-body": btoa(text) } });
    try {
      codes.fetch = response.ok ? "OK" : (await response.json()).code;
    } catch (e) {
      codes.fetch = `HTTP ${response.status}`;
    }
    const distinct = [...new Set(Object.values(codes))];
    return distinct.length === 1 ? distinct[0] : JSON.stringify(codes);
  },
  /** Sealed messages the core admitted so far (as an attacker who saw them would have them). */
  async captured(label) {
    const list = await invoke("harness.captured");
    return list.filter((c) => !label || c.webview === label).map((c) => fromBase64(c.body));
  },
  /**
   * A copy of a captured envelope moved to a sequence number the session has not used
   * (header and nonce both updated), so the replay window lets it through to the AEAD
   * check, where only the key could make it valid.
   */
  fresh(envelope, seq = 1_000_000) {
    const copy = envelope.slice();
    const view = new DataView(copy.buffer);
    view.setBigUint64(20, BigInt(seq));
    view.setBigUint64(32, BigInt(seq));
    return copy;
  },
  /**
   * For scenarios that break their own page load: in the page load after the break,
   * reports the checks the broken one saved under `key` and returns true.
   */
  async reportCarriedOver(key) {
    const saved = sessionStorage.getItem(key);
    if (!saved) return false;
    sessionStorage.removeItem(key);
    for (const [name, expected, got] of JSON.parse(saved)) await this.check(name, expected, got);
    return true;
  },
  /** Saves `seen` ([name, expected, got] rows) under `key` and reloads the page for good. */
  async carryOverAndReload(key, seen, beforeReload = () => {}) {
    sessionStorage.setItem(key, JSON.stringify(seen));
    beforeReload();
    location.reload();
    await new Promise(() => {});
  },
  /** Waits for the core-to-frontend event `name`. */
  nextEvent(name, timeoutMs = 2000) {
    return new Promise((resolve, reject) => {
      const stop = listen(name, (e) => {
        stop();
        resolve(e.payload);
      });
      setTimeout(() => reject(new Error(`no ${name} event within ${timeoutMs} ms`)), timeoutMs);
    });
  },
};

try {
  const scenario = await import(`./scenarios/${info.name}.js`);
  await scenario.default(t);
} catch (e) {
  await t.check("scenario ran to the end", "no exception", `${e && e.stack ? e.stack : e}`);
}
document.getElementById("status").textContent = "done";
await invoke("harness.done");
