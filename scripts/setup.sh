#!/usr/bin/env bash
# Installs what building and testing Portcullis needs on a fresh Debian/Ubuntu machine:
# the system packages listed in scripts/system-packages.txt (only those missing), and
# the Rust dependencies (cargo fetch). Safe to run again: it does nothing when all is there.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf '[setup] %s\n' "$*" >&2; }

if ! command -v cargo >/dev/null 2>&1; then
  say "cargo not found: install a Rust toolchain (1.88 or newer), e.g. with rustup, then re-run."
  exit 1
fi

mapfile -t wanted < <(grep -vE '^\s*(#|$)' scripts/system-packages.txt)
missing=()
for pkg in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done

# Node.js and npm, for the TypeScript type check (any install of them will do).
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)

if ((${#missing[@]})); then
  if [ "$(id -u)" -eq 0 ]; then
    sudo=()
  elif command -v sudo >/dev/null 2>&1; then
    sudo=(sudo)
  else
    say "missing system packages: ${missing[*]}"
    say "run as root, or install sudo, or install them yourself with:"
    say "  apt-get install -y --no-install-recommends ${missing[*]}"
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    say "missing system packages (${missing[*]}) and no apt-get: this script supports Debian/Ubuntu only."
    exit 1
  fi
  say "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

cargo fetch --locked -q
