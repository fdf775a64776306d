#!/usr/bin/env bash
# The path a user takes, checked end to end from the packages (part of the test
# command): `cargo package` every publishable crate and `npm pack` the JS package, then
# build tests/outside-app outside the repository against those packages only, with its
# frontend bundled from the npm tarball, as a release binary; delete its frontend and
# isolation files, and run its self-test, which drives a real webview (under Xvfb when
# there is no display).
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cd "$repo"
say() { printf '[outside-app] %s\n' "$*" >&2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/portcullis-outside.XXXXXX")"
trap 'rm -rf "$work"' EXIT
# Builds go to the caller's CARGO_TARGET_DIR (the repository's target/ by default); the
# app's build directory stays under it, so a second run is quick.
target="${CARGO_TARGET_DIR:-$repo/target}"
export CARGO_TARGET_DIR="$target/outside-app"

say "cargo package (every publishable crate, each verified: built from its package alone)"
# Verifying a crate that depends on another of ours goes through a local registry of the
# new packages. Cargo takes a registry crate of a given version as immutable: it neither
# extracts it again (under $CARGO_HOME/registry/src/-<hash>/) nor rebuilds it, so on a
# machine that packaged 0.1.0 before, the verification would build against the older
# source. Our own crates' extractions and builds go first (third-party builds stay).
rm -rf "${CARGO_HOME:-$HOME/.cargo}"/registry/src/-*/portcullis-*-0.1.0
rm -rf "$target"/debug/.fingerprint/portcullis-* "$target"/debug/deps/*portcullis_*
# In the workspace's target directory, where the tests already built the dependencies.
log="$work/package.log"
if ! CARGO_TARGET_DIR="$target" cargo package --workspace \
  --exclude portcullis-demo --exclude portcullis-tests --exclude portcullis-model --allow-dirty >"$log" 2>&1; then
  cat "$log" >&2
  say "cargo package failed"
  exit 1
fi
if grep -q '^warning' "$log"; then
  grep -A4 '^warning' "$log" >&2
  say "cargo package warned: a package must be clean"
  exit 1
fi
# The libraries the app depends on (the CLI's package was verified above).
mkdir -p "$work/crates"
for name in portcullis portcullis-core portcullis-wry portcullis-xvfb; do
  tar -xzf "$target/package/$name-0.1.0.crate" -C "$work/crates"
done

say "npm pack (@portcullis/api)"
npm pack ./packages/api --pack-destination "$work" --silent >/dev/null

cp -r tests/outside-app "$work/app"
cp Cargo.lock "$work/app/Cargo.lock"
{
  echo
  echo "# Added by scripts/outside-app.sh: the versions above come from the cargo package output."
  echo "[patch.crates-io]"
  for dir in "$work"/crates/*/; do
    name="$(basename "$dir")"
    echo "${name%-*} = { path = \"$dir\" }"
  done
} >>"$work/app/Cargo.toml"

say "frontend: npm install (the tarball) and an esbuild bundle"
(cd "$work/app/frontend" && npm install --no-audit --no-fund --silent && npm run --silent build)

say "cargo build --release (outside the workspace)"
(cd "$work/app" && cargo build --release --quiet)

# Nothing of the app's is left on disk: what the binary serves, it carries.
rm -rf "$work/app/frontend" "$work/app/isolation" "$work/app/portcullis.json"
say "self-test"
(cd "$work" && "$CARGO_TARGET_DIR/release/outside-app" --self-test)
