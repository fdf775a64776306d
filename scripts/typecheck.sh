#!/usr/bin/env bash
# Type-checks the TypeScript declarations in types/ (and an example that uses them) with
# tsc from the npm registry, installed into target/ so nothing global changes.
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
"$tools/node_modules/.bin/tsc" -p types/tsconfig.json
echo "typecheck: types/ passed tsc $("$tools/node_modules/.bin/tsc" --version)"
