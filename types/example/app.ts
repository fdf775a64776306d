// Type-checks (never runs): how an app uses the bridge and writes a hook, typed.
import type { PortcullisError } from "../portcullis";
import type { Hook } from "../hook";

interface Note {
  id: number;
  title: string;
}

export async function addNote(title: string): Promise<Note | PortcullisError["code"]> {
  try {
    return await window.portcullis.invoke<Note>("notes.add", { title, body: "" }, { timeoutMs: 2000 });
  } catch (e) {
    return (e as PortcullisError).code;
  }
}

export function watch(): () => void {
  return window.portcullis.listen<Note>("note-added", ({ payload }) => console.log(payload.title));
}

export async function upload(bytes: Uint8Array): Promise<Uint8Array> {
  await window.portcullis.emit("upload-started", { size: bytes.byteLength });
  return window.portcullis.invoke<Uint8Array>("files.upload", bytes);
}

export const hook: Hook = async (message, context) => {
  if (message.cmd === "notes.add" && context.webview !== "main") return false;
  if (message.kind === "event") return true;
  return message;
};
