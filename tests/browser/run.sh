#!/bin/sh
# Runs one browser test file under node's test runner (ctest calls this; see
# CMakeLists.txt here): checks first that what it needs is installed.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ ! -d "$here/node_modules/playwright-core" ]; then
  echo "browser tests: $here/node_modules is missing: run 'npm ci' in $here (scripts/install-deps.sh does)" >&2
  exit 1
fi
if [ ! -x "${TAUON_CHROMIUM:-/usr/bin/chromium}" ]; then
  echo "browser tests: ${TAUON_CHROMIUM:-/usr/bin/chromium} is missing: apt-get install chromium (scripts/install-deps.sh does)" >&2
  exit 1
fi
exec node --test --test-reporter=spec "$here/$1"
