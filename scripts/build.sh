#!/bin/sh
# Configures and builds Tauon into build/ (the binary is build/tauon).
# Extra arguments go to the CMake configure step, e.g. -DTAUON_SANITIZE=ON.
set -eu
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build build -j2
