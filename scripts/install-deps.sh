#!/bin/sh
# Installs what Tauon needs to build, test and benchmark on Debian 12.
# Run as root. Only Debian's package registry is used.
set -eu
export DEBIAN_FRONTEND=noninteractive
packages="
  g++ cmake ninja-build pkg-config git ca-certificates
  libyaml-cpp-dev nlohmann-json3-dev libcli11-dev libfmt-dev libpugixml-dev
  libgit2-dev libsqlite3-dev zlib1g-dev libssl-dev libgtest-dev libgmock-dev libbenchmark-dev libboost-dev
  python3 python3-pytest python3-numpy python3-sklearn python3-pyflakes
"
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
echo "dependencies: ok"
