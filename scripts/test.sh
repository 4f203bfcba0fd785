#!/bin/sh
# Builds with warnings as errors and runs the whole test suite (unit and
# end-to-end) with ctest, which prints the summary.
set -eu
cd "$(dirname "$0")/.."
scripts/build.sh -DTAUON_WERROR=ON
cd build
ctest --output-on-failure -j2 --timeout 600
