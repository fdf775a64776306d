// A hook whose `kinds` declaration is not an array of kind names: it must not load, so
// every call is refused (as when no hook is installed), never judged by a hook whose
// kinds nobody knows.
export const kinds = "stream";

export default function hook(message) {
  return message;
}
