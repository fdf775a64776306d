#!/usr/bin/env bash
# Rebuilds the isolation frame's WebAssembly sealer (crates/portcullis-sealer-wasm) and
# writes it to isolation-app/sealer.wasm, or to the path given as the first argument.
#
# The build is reproducible: a pinned toolchain, the crate's own Cargo.lock, no debug
# information, and source paths remapped, so the bytes do not depend on where the
# checkout or the cargo home is. The committed file is checked against a rebuild by the
# test `sealer_wasm_is_the_committed_build` whenever this toolchain and its wasm32 target
# are installed. With --install, this script installs them (rustup, needs the network).
set -euo pipefail

TOOLCHAIN=1.95.0
TARGET=wasm32-unknown-unknown
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$root/isolation-app/sealer.wasm"
install=0
for arg in "$@"; do
  case "$arg" in
    --install) install=1 ;;
    *) out="$arg" ;;
  esac
done

have_target() {
  rustup target list --installed --toolchain "$TOOLCHAIN" 2>/dev/null | grep -qx "$TARGET"
}
if ! have_target; then
  if [ "$install" = 1 ]; then
    rustup toolchain install "$TOOLCHAIN" --profile minimal
    rustup target add "$TARGET" --toolchain "$TOOLCHAIN"
  else
    echo "build-sealer-wasm: needs Rust $TOOLCHAIN with the $TARGET target (run with --install to add them)" >&2
    exit 2
  fi
fi

target_dir="$(mktemp -d)"
trap 'rm -rf "$target_dir"' EXIT
cargo_home="${CARGO_HOME:-$HOME/.cargo}"
CARGO_TARGET_DIR="$target_dir" \
  RUSTFLAGS="--remap-path-prefix=$root=/portcullis --remap-path-prefix=$cargo_home=/cargo" \
  cargo "+$TOOLCHAIN" build --quiet --release --locked --target "$TARGET" \
  --manifest-path "$root/crates/portcullis-sealer-wasm/Cargo.toml"
cp "$target_dir/$TARGET/release/portcullis_sealer_wasm.wasm" "$out"
echo "build-sealer-wasm: wrote $out ($(wc -c < "$out") bytes)"
