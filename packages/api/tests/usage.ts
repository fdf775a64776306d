// Type-checks (never runs): how an app uses the package and the bridge, and writes a
// hook, typed. It imports the package by its name, as an app would.
import { Channel, ERROR_CODES, openStream, PortcullisError, emit, grants, invoke, listen, once, type UnlistenFn, type WindowGrants } from "@portcullis/api";
import type { DeclaredHook, Hook, HookKinds } from "@portcullis/api/hook";
import "@portcullis/api/global";

interface Note {
  id: number;
  title: string;
}

export async function addNote(title: string): Promise<Note | PortcullisError["code"]> {
  try {
    return await invoke<Note>("notes.add", { title, body: "" }, { timeoutMs: 2000 });
  } catch (e) {
    if (e instanceof PortcullisError) return e.code;
    throw e;
  }
}

/** A call the user can abort, with the handler's typed error data. */
export async function exportNotes(signal: AbortSignal): Promise<string> {
  try {
    return await invoke<string>("notes.export", { path: "/tmp/a.md" }, { signal, timeoutMs: 60_000 });
  } catch (e) {
    if (e instanceof PortcullisError && e.code === "E_CANCELLED") return "cancelled";
    if (e instanceof PortcullisError && e.appCode === "NOT_FOUND") return `missing ${JSON.stringify(e.data)}`;
    throw e;
  }
}

export function globalClass(e: unknown): boolean {
  return e instanceof window.portcullis.PortcullisError;
}

export function watch(): Promise<UnlistenFn> {
  return listen<Note>("note-added", ({ payload }) => console.log(payload.title));
}

export async function firstNote(): Promise<void> {
  await once<Note>("note-added", ({ event, payload }) => console.log(event, payload.id));
}

export async function upload(bytes: Uint8Array): Promise<Uint8Array> {
  await emit("upload-started", { size: bytes.byteLength });
  return invoke<Uint8Array>("files.upload", bytes);
}

// The global bridge, for pages without a bundler.
export function watchGlobal(): () => void {
  return window.portcullis.listen<Note>("note-added", ({ payload }) => console.log(payload.title));
}

export const known: boolean = ERROR_CODES.includes("E_REPLAY");

export const hook: Hook = async (message, context) => {
  if (message.cmd === "notes.add" && context.webview !== "main") return false;
  if (message.kind === "event") return true;
  return message;
};

/** What the hook above judges: its kinds, exported beside it from hook.js. */
export const kinds: HookKinds = ["command", "event", "stream"];

/** A hook that judges stream opens (issue 31: `kind === "stream"` must type-check). */
export const streamHook: DeclaredHook = (message, context) => {
  if (message.kind === "stream" && context.kind === "stream") {
    return message.cmd === "files.import" ? message : false;
  }
  return message;
};
streamHook.kinds = ["command", "stream"];

/** A Tauri-style hook declaring its kinds on the function. */
export function installTauriHook(): void {
  const tauri = (message: Parameters<Hook>[0]) => (message.kind === "stream" && message.cmd !== "files.import" ? false : message);
  window.__TAURI_ISOLATION_HOOK__ = Object.assign(tauri, { kinds: ["command", "event", "stream"] as const });
}

/** Shows "Export" once the app granted the export capability (after sign-in). */
export async function canExport(): Promise<boolean> {
  const mine: WindowGrants = await grants();
  return mine.capabilities.includes("export");
}

/** The files the user picked in this window, for a "recent files" list. */
export async function pickedFiles(): Promise<string[]> {
  return (await grants()).paths.filter((p) => p.reach === "file").map((p) => p.path);
}

/** An export that reports its progress on a channel; resolves with the exported size. */
export async function exportWithProgress(path: string, onProgress: (done: number) => void): Promise<number> {
  const progress = new Channel<{ done: number }>(({ done }) => onProgress(done));
  progress.onclose = () => onProgress(-1);
  return invoke<number>("notes.export", { path, progress });
}

/** Bytes from the core, chunk by chunk, until the handler is done. */
export function receiveBytes(cmd: string): Promise<Uint8Array[]> {
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    const channel = new Channel<Uint8Array>((chunk) => chunks.push(chunk));
    channel.onclose = () => resolve(chunks);
    invoke(cmd, { channel }).catch(reject);
  });
}

/** Uploads a file's bytes in slices; resolves with what the handler answered. */
export async function uploadFile(file: Blob, name: string): Promise<{ bytes: number }> {
  const stream = openStream<{ bytes: number }>("files.upload", { name });
  const writer = stream.getWriter();
  for (let at = 0; at < file.size; at += 1 << 20) {
    await writer.write(new Uint8Array(await file.slice(at, at + (1 << 20)).arrayBuffer()));
  }
  await writer.close();
  return stream.result;
}
