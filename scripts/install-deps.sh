#!/bin/sh
# Installs what Tauon needs to build, test and benchmark on Debian 12.
# Run as root. Debian's package registry, and the npm registry for the
# dashboard's packages (exact versions from the lockfiles, `npm ci`).
set -eu
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
packages="
  g++ cmake ninja-build pkg-config git ca-certificates
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libfmt-dev libpugixml-dev
  libgit2-dev libsqlite3-dev zlib1g-dev libssl-dev libgtest-dev libgmock-dev libbenchmark-dev libboost-dev
  python3 python3-pytest python3-numpy python3-sklearn python3-pyflakes
  nginx wrk prometheus chromium
"
# Node.js and npm for the dashboard (web/) and its browser tests. A Node.js
# installed from elsewhere (it bundles npm) conflicts with Debian's npm
# package: Debian's are installed only when the commands are missing.
command -v node >/dev/null 2>&1 || packages="$packages nodejs"
command -v npm >/dev/null 2>&1 || packages="$packages npm"
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "installing:$missing"
  apt-get update -qq
  # shellcheck disable=SC2086
  apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
# The dashboard embeds uPlot from web/node_modules; the browser tests drive
# Chromium with playwright-core (no browser download: Debian's chromium).
for dir in web tests/browser; do
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
done
echo "dependencies: ok"
