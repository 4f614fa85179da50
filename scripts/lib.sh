#!/usr/bin/env bash
# Shared by scripts/run and scripts/test: install missing Debian packages, build.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# Packages needed to build and run the server.
BUILD_PACKAGES=(g++ cmake ninja-build pkg-config libboost-dev libboost-system-dev
  libsimdjson-dev libexpected-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev libjemalloc-dev
  libgtest-dev libgmock-dev libbenchmark-dev ca-certificates)
# Extra packages for the test suite: clang + libFuzzer for the fuzz targets, clang-format,
# clang-tidy.
TEST_PACKAGES=(clang-14 libclang-rt-14-dev clang-format-14 clang-tidy-14 openssl curl prometheus-alertmanager)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Installs the given Debian packages, only those not installed yet.
ensure_packages() {
  local missing=()
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
      missing+=("$p")
    fi
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "==> installing: ${missing[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# The stock third-party clients the tests check us against (tests/node/package.json: the
# Standard Webhooks verifier, EventSource), from the npm registry at the locked versions.
# Installs Debian's nodejs/npm only when the machine has no node.
ensure_node_clients() {
  if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    ensure_packages nodejs npm
  fi
  local dir="$ROOT/tests/node"
  if ! cmp -s "$dir/package-lock.json" "$dir/node_modules/.causeloop-installed-lock" 2>/dev/null; then
    echo "==> npm ci (tests/node)"
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
    cp "$dir/package-lock.json" "$dir/node_modules/.causeloop-installed-lock"
  fi
}

# build DIR [cmake args…]: configure (once) and build with two jobs.
build() {
  local dir="$1"
  shift
  cmake -S "$ROOT" -B "$dir" -G Ninja "$@" >/dev/null
  ninja -C "$dir" -j2
}
