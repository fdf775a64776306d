#!/usr/bin/env bash
# Instructions per admitted 200 B message, admit + dispatch (BENCHMARKS.md, "instruction
# counts"): builds benches/callgrind.rs in release mode and runs it twice under
# `valgrind --tool=callgrind`, once admitting N messages and once with `--baseline`
# (the same set-up, sealing and warm-up, without the N). Prints the difference of the
# two totals divided by N. Counts do not depend on the machine's load; they do on the
# CPU features valgrind reports and on the toolchain, so compare figures from one machine.
#
#   bash scripts/callgrind.sh [N]      (N defaults to 20000)
#
# Honours CARGO_TARGET_DIR. The callgrind files stay in <target>/callgrind/ for
# `callgrind_annotate`. Not part of the tests: valgrind is slow.
set -euo pipefail
cd "$(dirname "$0")/.."

n="${1:-20000}"
if ! [[ "$n" =~ ^[1-9][0-9]*$ ]]; then
    echo "usage: $0 [N]   (N a positive number of messages)" >&2
    exit 2
fi
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 1; }

# Cargo says where the binary is, wherever the target directory is.
exe="$(cargo build --release --locked -p portcullis-tests --example callgrind \
        --message-format=json-render-diagnostics |
    sed -n 's/.*"executable":"\([^"]*\/callgrind\)".*/\1/p' | tail -n 1)"
if [[ -z "$exe" || ! -x "$exe" ]]; then
    echo "could not find the built harness" >&2
    exit 1
fi
out="$(dirname "$exe")/../../callgrind"
mkdir -p "$out"
out="$(cd "$out" && pwd)"

# Total instructions (Ir) of one run, from its out file's `totals:` line.
run() {
    local file="$out/$1.out"
    shift
    valgrind --tool=callgrind --callgrind-out-file="$file" "$exe" "$@" 2>"$file.log" || {
        cat "$file.log" >&2
        echo "valgrind run failed: $exe $*" >&2
        return 1
    }
    local total
    total="$(sed -n 's/^totals: *\([0-9][0-9]*\).*/\1/p' "$file")"
    [[ -z "$total" ]] && total="$(sed -n 's/^summary: *\([0-9][0-9]*\).*/\1/p' "$file")"
    if [[ -z "$total" ]]; then
        echo "no totals in $file" >&2
        return 1
    fi
    echo "$total"
}

full="$(run full "$n")"
base="$(run baseline "$n" --baseline)"
if (( full <= base )); then
    echo "the full run ($full) did not cost more than the baseline ($base)" >&2
    exit 1
fi
echo "harness:  $exe"
echo "full:     $full instructions ($n messages admitted after the warm-up)"
echo "baseline: $base instructions (the same without them)"
awk -v f="$full" -v b="$base" -v n="$n" \
    'BEGIN { printf "per message, admit + dispatch: %.1f instructions\n", (f - b) / n }'
echo "(callgrind files: $out/full.out, $out/baseline.out)"
