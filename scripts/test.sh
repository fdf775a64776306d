#!/usr/bin/env bash
# README command 2: every test, from nothing. Installs what is missing, then runs the
# TypeScript declarations' type check, then the whole workspace's unit, behaviour,
# property, vector and end-to-end tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/typecheck.sh
cargo test --workspace --locked
