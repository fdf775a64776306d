// A hook written for Tauri's isolation pattern, unchanged: a classic script that assigns
// window.__TAURI_ISOLATION_HOOK__ and returns the (possibly modified) payload. It uses
// every way real Tauri hooks refuse or redirect a call: renaming `cmd` to a command
// nobody allows (in place, on a new object, asynchronously), throwing, returning false.
window.__TAURI_ISOLATION_HOOK__ = (payload) => {
  switch (payload.cmd) {
    case "secret.read":
      // Refuse by renaming to a harmless command and emptying the payload.
      payload.cmd = "tauri.refused";
      payload.payload = {};
      return payload;
    case "tauri.inplace":
      // Renamed in place, and nothing returned.
      payload.cmd = "tauri.refused";
      return undefined;
    case "tauri.async":
      return Promise.resolve({ ...payload, cmd: "tauri.refused", payload: {} });
    case "tauri.alias":
      payload.cmd = "echo";
      return payload;
    case "tauri.rebuild":
      // A new object built from scratch, Tauri's shape without `kind`.
      return { cmd: "echo", callback: payload.callback, error: payload.error, payload: { rebuilt: true }, options: {} };
    case "tauri.throw":
      throw new Error("tauri hook refuses this call");
    case "tauri.false":
      return false;
    case "hook.rewrite":
      payload.payload = { tauri: true };
      return payload;
    default:
      return payload;
  }
};
