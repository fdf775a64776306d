#!/usr/bin/env bash
# README command 2: every test, from nothing. Installs what is missing, then runs the
# JS package's type check and module tests, then the whole workspace's unit, behaviour,
# property, vector and end-to-end tests (the end-to-end suite under both transports),
# then the compile checks for Windows and macOS (scripts/cross-check.sh), then an app
# outside the workspace built from the packages (cargo package, npm pack) as a release
# binary, and its self-test.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/typecheck.sh
cargo test --workspace --locked
bash scripts/cross-check.sh
bash scripts/outside-app.sh
