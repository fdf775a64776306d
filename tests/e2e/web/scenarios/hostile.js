// More of what a hostile page tries: popups, navigating away, data:/blob: frames,
// hooking wry's IPC entry points, and flooding the transport while real calls run.

/** Loads a frame from `src` and waits for the code its script reports, if it can run one. */
function frameFrom(src) {
  return new Promise((resolve) => {
    const frame = document.createElement("iframe");
    const onMessage = (e) => {
      if (e.source === frame.contentWindow && e.data && e.data.probe) {
        removeEventListener("message", onMessage);
        resolve(e.data.probe);
      }
    };
    addEventListener("message", onMessage);
    frame.src = src;
    document.body.append(frame);
    setTimeout(() => resolve("no script ran"), 2500);
  });
}

const probeScript = `
  try { window.webkit.messageHandlers.ipc.postMessage('{"cmd":"probe"}'); } catch (e) {}
  for (const f of parent.frames) { try { f.postMessage({ id: 1, kind: "command", name: "probe", args: {} }, "*"); } catch (e) {} }
  fetch("ipc://localhost/", { method: "POST", headers: { "portcullis-body": btoa('{"cmd":"probe"}') } })
    .then((r) => r.json()).then((j) => parent.postMessage({ probe: j.code }, "*"))
    .catch((e) => parent.postMessage({ probe: "fetch refused" }, "*"));
`;
const refused = (code) => ["E_UNSEALED", "fetch refused", "no script ran"].includes(code);

export default async function (t) {
  await t.check("popups are refused (window.open returns null)", "null", String(window.open("app://localhost/index.html")));

  const before = location.href;
  try {
    location.href = "https://example.com/";
  } catch (e) {
    // Either way, the page must stay.
  }
  await t.sleep(500);
  await t.check("navigation to a remote origin is refused: the page stays", before, location.href);

  const viaData = await frameFrom(`data:text/html,<script>${encodeURIComponent(probeScript)}<\/script>`);
  // (the probe command runs only if a message passed the hook; Rust checks it never does)
  await t.check(`a data: frame gets nothing through (${viaData})`, true, refused(viaData));
  const blob = URL.createObjectURL(new Blob([`<script>${probeScript}<\/script>`], { type: "text/html" }));
  const viaBlob = await frameFrom(blob);
  await t.check(`a blob: frame gets nothing through (${viaBlob})`, true, refused(viaBlob));

  // Hooking wry's entry points changes nothing for Portcullis, which does not use them.
  for (const target of [window.webkit.messageHandlers.ipc, window.ipc]) {
    try {
      Object.defineProperty(target, "postMessage", { value: () => {} });
    } catch (e) {
      // Not configurable: the page cannot even hook it.
    }
  }
  await t.check("invoke works with wry's IPC entry points hooked", '{"hooked":true}', t.stringify(await t.invoke("echo", { hooked: true })));

  // Flood: garbage to the transport and a burst of real calls at the same time.
  const garbage = Array.from({ length: 300 }, (_, i) => t.raw(i % 2 ? new Uint8Array(i) : `{"cmd":"probe","n":${i}}`));
  const real = Array.from({ length: 300 }, (_, i) => t.invoke("echo", { i }));
  const [codes, results] = await Promise.all([Promise.all(garbage), Promise.all(real)]);
  await t.check("every garbage message was refused", true, codes.every((c) => c === "E_UNSEALED" || c === "E_MALFORMED"));
  await t.check("every real call under the flood got its own answer", true, results.every((r, i) => r.i === i));
}
