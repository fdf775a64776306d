#!/usr/bin/env bash
# Compile-checks, without linking, what apps build for Windows and macOS:
# portcullis-core, portcullis-wry (its WebView2 and WKWebView engine modules are compiled
# only there) and portcullis-demo, for x86_64-pc-windows-msvc, aarch64-apple-darwin and
# x86_64-apple-darwin. (portcullis-cli is a binary with no library part, so apps use none
# of it.) Installs the packages in scripts/cross-packages.txt when missing.
#
# How, with no network and no target standard library: Debian's rustc-web ships the
# standard library's source, so cargo (rustup's) drives that rustc with
# `-Zbuild-std=std,panic_abort`. Build scripts still run for the target: ring's C and
# assembly are compiled with clang (clang-cl and llvm-lib for msvc), with ring's own
# RING_CORE_NOSTDLIBINC switch for building without a target sysroot (and, for Apple,
# -ffreestanding, so that clang's own intrinsics headers do not want <stdlib.h>), plus
# the one header without a libc that ring still names (TargetConditionals.h for Apple,
# stdlib.h under MSVC), written below as a stub. The objects are never linked; the Rust is checked with
# the target's real cfgs and the real wry, windows, webview2-com and objc2 crates.
#
# Output goes to $CARGO_TARGET_DIR/cross (target/cross by default), apart from the host
# build. Any error, or any warning in a workspace crate, fails the target and the script.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

say() { printf '[cross-check] %s\n' "$*" >&2; }

targets=(x86_64-pc-windows-msvc aarch64-apple-darwin x86_64-apple-darwin)
crates=(portcullis-core portcullis-wry portcullis-demo)

# --- packages -------------------------------------------------------------------------
mapfile -t wanted < <(grep -vE '^\s*(#|$)' scripts/cross-packages.txt)
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    say "missing packages: ${missing[*]}; install them with:"
    say "  apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    say "missing packages (${missing[*]}) and no apt-get: this script supports Debian/Ubuntu only."
    exit 1
  fi
  say "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- tools ----------------------------------------------------------------------------
# rustc-web's compiler (it installs as /usr/bin/rustc, which rustup's shims shadow on PATH).
rustc_web="$(dpkg -L rustc-web | grep -E '/bin/rustc$' | head -n1)"
[ -x "$rustc_web" ] || { say "rustc-web installs no rustc binary"; exit 1; }
sysroot="$("$rustc_web" --print sysroot)"
if [ ! -d "$sysroot/lib/rustlib/src/rust/library/std" ]; then
  say "no standard library source under $sysroot/lib/rustlib/src (rust-web-src)"
  exit 1
fi
version="$("$rustc_web" --version | awk '{print $2}')"
if ! printf '1.88.0\n%s\n' "${version%%-*}" | sort -V -C; then
  say "$rustc_web is $version; 1.88 or newer is needed (on Debian 12: bookworm-security)"
  exit 1
fi
llvm_bin="$(dirname "$(readlink -f "$(command -v clang)")")"
for tool in clang llvm-ar llvm-lib; do
  [ -x "$llvm_bin/$tool" ] || { say "no $tool in $llvm_bin"; exit 1; }
done

out="${CARGO_TARGET_DIR:-$root/target}/cross"
tools="$out/tools"
mkdir -p "$tools/bin" "$tools/include-msvc" "$tools/include-apple"
# clang picks its cl.exe-compatible driver from the name it is called by.
ln -sf "$llvm_bin/clang" "$tools/bin/clang-cl"
printf '/* Stub for ring under MSVC: it includes <stdlib.h> only for _byteswap_ulong, a clang builtin. */\n' \
  >"$tools/include-msvc/stdlib.h"
printf '/* Stub of the SDK header for ring, which reads only these. */\n#define TARGET_OS_MAC 1\n#define TARGET_OS_OSX 1\n#define TARGET_OS_IPHONE 0\n' \
  >"$tools/include-apple/TargetConditionals.h"

say "$("$rustc_web" --version) with -Zbuild-std; clang $("$llvm_bin/clang" -dumpversion); output in $out"

# --- the checks -----------------------------------------------------------------------
package_args=()
for c in "${crates[@]}"; do package_args+=(-p "$c"); done

# Each target's C compiler, archiver and flags (cc-rs reads them per target).
env_args=(RUSTC="$rustc_web" RUSTC_BOOTSTRAP=1 CARGO_TARGET_DIR="$out" RUSTFLAGS=)
for target in "${targets[@]}"; do
  t="${target//-/_}"
  case "$target" in
    *-windows-msvc)
      env_args+=("CC_$t=$tools/bin/clang-cl" "AR_$t=$llvm_bin/llvm-lib"
        "CFLAGS_$t=-DRING_CORE_NOSTDLIBINC=1 /imsvc $tools/include-msvc") ;;
    *-apple-darwin)
      env_args+=("CC_$t=$llvm_bin/clang" "AR_$t=$llvm_bin/llvm-ar"
        "CFLAGS_$t=-ffreestanding -nostdlibinc -DRING_CORE_NOSTDLIBINC=1 -isystem $tools/include-apple") ;;
  esac
done

# check TARGET... LOG: cargo check for those targets; its status.
check() {
  local log="${*: -1}" args=() target
  for target in "${@:1:$#-1}"; do args+=(--target "$target"); done
  env "${env_args[@]}" cargo check -Zbuild-std=std,panic_abort "${args[@]}" \
    "${package_args[@]}" --locked --keep-going --message-format short >"$log" 2>&1
}

# All targets in one cargo run first: the two cores stay busy across targets (about a
# quarter less time than one after another, cold). Then each target again, which is
# warm and takes seconds, to say which one fails and why.
say "checking ${crates[*]} for ${targets[*]}"
start=$SECONDS
check "${targets[@]}" "$out/all.log" || true
say "one run for all targets: $((SECONDS - start)) s"

failed=()
for target in "${targets[@]}"; do
  start=$SECONDS
  log="$out/$target.log"
  status=0
  check "$target" "$log" || status=$?
  # Errors and warnings in the workspace's crates (dependencies' lints are capped).
  found=0
  grep -E '^(crates/|src/|error|warning: `portcullis)' "$log" >&2 && found=1
  if [ "$status" -ne 0 ]; then
    # Not a compile error in the workspace (a build script's, say): the log's end says what.
    [ "$found" = 1 ] || tail -n 25 "$log" >&2
    say "$target: FAILED (cargo exited $status; full log: $log)"
    failed+=("$target")
  elif grep -qE '^warning: `portcullis[^`]*` \(' "$log"; then
    say "$target: FAILED: warnings in the workspace's crates (full log: $log)"
    failed+=("$target")
  else
    say "$target: ok ($((SECONDS - start)) s)"
  fi
done

if ((${#failed[@]})); then
  say "compile check failed for: ${failed[*]}"
  exit 1
fi
say "all ${#targets[@]} targets compile: ${targets[*]}"
