#!/usr/bin/env bash
# The protocol's model check (crates/portcullis-model, docs/MODEL.md) at release-time
# depth, optimised. Usage:
#   bash scripts/model-check.sh            (PORTCULLIS_MODEL_DEPTH=1: one more attacker
#                                           action, grant change and reload of webview b)
#   PORTCULLIS_MODEL_DEPTH=2 bash scripts/model-check.sh
# PORTCULLIS_MODEL_THREADS=1 explores in strict breadth-first order, so that a
# counterexample it prints is a shortest one. The test command runs depth 0.
set -euo pipefail
cd "$(dirname "$0")/.."
export PORTCULLIS_MODEL_DEPTH="${PORTCULLIS_MODEL_DEPTH:-1}"
cargo test --release --locked -p portcullis-model --test check -- --nocapture --test-threads 1
