// A hook written for Tauri's isolation pattern, unchanged: a classic script that assigns
// window.__TAURI_ISOLATION_HOOK__ and returns the (possibly modified) payload.
window.__TAURI_ISOLATION_HOOK__ = (payload) => {
  if (payload.cmd === "secret.read") {
    throw new Error("tauri hook refuses the canary");
  }
  if (payload.cmd === "hook.rewrite") {
    payload.payload = { tauri: true };
  }
  return payload;
};
