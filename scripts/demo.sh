#!/usr/bin/env bash
# README command 1: the demo app, from nothing. Installs what is missing, builds, and runs
# the notes demo. Without a display it runs headless under Xvfb, plays the scripted
# scenario, prints the transcript and saves a screenshot (demo-screenshot.png).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cargo build --release --locked -p portcullis-demo
# The binary cargo just built: under CARGO_TARGET_DIR when the caller set one.
demo="${CARGO_TARGET_DIR:-target}/release/portcullis-demo"
if [ -z "${DISPLAY:-}" ]; then
  exec "$demo" --scenario --screenshot demo-screenshot.png "$@"
fi
exec "$demo" "$@"
