#!/usr/bin/env bash
# Runs the fuzz targets (fuzz/fuzz_targets/) for a fixed time each with cargo-fuzz and
# libFuzzer, one after another. Usage:
#   bash scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]   (default 60 s, every target)
# Targets: gate (envelopes), config (config loading), chunk (stream chunks, PROTOCOL.md
# §6.3), pull (channel pulls, §12), cancel (cancel messages). FUZZ_SANITIZER=none builds
# without AddressSanitizer (the core forbids unsafe code; about 5x the executions per
# second), the default is cargo-fuzz's (address).
# cargo-fuzz needs nightly compiler flags; on a stable toolchain RUSTC_BOOTSTRAP=1 allows them.
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(gate config chunk pull cancel)
sanitizer="${FUZZ_SANITIZER:-address}"
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
# Seed the config corpus with the project's own valid and invalid configs.
mkdir -p fuzz/corpus/config
cp fixtures/configs/valid/*.json fixtures/configs/invalid/*.json fuzz/corpus/config/
status=0
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target"
  echo "== $target: ${secs}s (sanitizer $sanitizer)"
  # A crash makes cargo fuzz exit non-zero: the script does too, after every target ran.
  if ! cargo fuzz run --sanitizer "$sanitizer" "$target" "fuzz/corpus/$target" -- \
      -max_total_time="$secs" -rss_limit_mb=4096 -print_final_stats=1 >"$log" 2>&1; then
    status=1
  fi
  grep -E "^(#[0-9]+.*DONE|Done|==[0-9]+==|SUMMARY|stat::)|panicked|Crash|crash-" "$log" || true
done
exit "$status"
