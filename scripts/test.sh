#!/usr/bin/env bash
# README command 2: every test, from nothing. Installs what is missing, then runs the
# whole workspace's unit, behaviour, property and vector tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo test --workspace --locked
