// A hook that parses and exports a function, so Portcullis starts, but imports a module
// that does not exist, so it fails to load in the isolation frame. Every call must then
// be refused (E_HOOK_REJECTED), never sealed without a hook.
import { judge } from "./missing-module.js";

export default function hook(message) {
  return judge(message);
}
