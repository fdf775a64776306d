#!/usr/bin/env bash
# The JS package packages/api: its TypeScript declarations (and a usage file that imports
# it by name) with tsc from the npm registry, installed into target/ so nothing global
# changes; then its tests with Node's test runner.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v npm >/dev/null 2>&1; then
  echo "[typecheck] npm not found: install Node.js and npm (apt-get install nodejs npm)" >&2
  exit 1
fi
tools=target/ts-tools
if [ ! -x "$tools/node_modules/.bin/tsc" ]; then
  mkdir -p "$tools"
  npm install --silent --no-audit --no-fund --prefix "$tools" typescript@5 >/dev/null
fi
"$tools/node_modules/.bin/tsc" -p packages/api/tsconfig.json
echo "typecheck: packages/api passed tsc $("$tools/node_modules/.bin/tsc" --version)"
# The demo's page (plain JS, checkJs) against the bindings generated from its Rust
# handlers (crates/portcullis-demo/frontend/bindings.d.ts; `cargo test -p
# portcullis-demo` fails when they are stale).
"$tools/node_modules/.bin/tsc" -p crates/portcullis-demo/tsconfig.json
echo "typecheck: the demo's page passed tsc against its generated bindings"
# A command renamed in Rust fails the page that calls it by its old name: the same page
# against the bindings of one handler before and after its rename (fixtures/bindings/,
# kept equal to the router by `cargo test -p portcullis-wry --test bindings`).
"$tools/node_modules/.bin/tsc" -p fixtures/bindings/before/tsconfig.json
if renamed=$("$tools/node_modules/.bin/tsc" -p fixtures/bindings/renamed/tsconfig.json 2>&1); then
  echo "typecheck: fixtures/bindings/page.js passed tsc after notes.add was renamed in Rust" >&2
  exit 1
fi
if ! grep -q "Argument of type '\"notes.add\"' is not assignable" <<<"$renamed"; then
  echo "typecheck: the renamed bindings failed for another reason than the old name:" >&2
  echo "$renamed" >&2
  exit 1
fi
echo "typecheck: a command renamed in Rust fails the page calling its old name, as it must"
# Under Node's own test runner: the module around a stand-in bridge, the module on the
# real bridge.js (a file of its own: it defines window.portcullis for good), and the
# hook contract's kinds (isolation-app/kinds.js and helpers.js).
node --test packages/api/tests/*.test.js
