#!/usr/bin/env bash
# Runs the fuzz targets (fuzz/fuzz_targets/) for a fixed time each with cargo-fuzz and
# libFuzzer. Usage: bash scripts/fuzz.sh [SECONDS_PER_TARGET] (default 60).
# cargo-fuzz needs nightly compiler flags; on a stable toolchain RUSTC_BOOTSTRAP=1 allows them.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
# Seed the config corpus with the project's own valid and invalid configs.
mkdir -p fuzz/corpus/config
cp fixtures/configs/valid/*.json fixtures/configs/invalid/*.json fuzz/corpus/config/
for target in gate config; do
  mkdir -p "fuzz/corpus/$target"
  echo "== $target: ${secs}s"
  cargo fuzz run "$target" "fuzz/corpus/$target" -- -max_total_time="$secs" -rss_limit_mb=4096 2>&1 \
    | grep -E "^(#[0-9]+.*DONE|Done|==[0-9]+==|SUMMARY|stat::)|panicked|Crash|crash-" || true
done
