// A hook that parses, passes every start-up check and exports a function, so Portcullis
// starts, but throws while the isolation frame evaluates it, so it never loads. Every call
// must then be refused (E_HOOK_REJECTED), never sealed without a hook.
const rules = JSON.parse("{ this is not JSON }");

export default function hook(message) {
  return rules.allow.includes(message.cmd) ? message : false;
}
