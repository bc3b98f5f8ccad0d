#!/usr/bin/env bash
# The main job: installs what lanner needs, builds it, and runs the order-fraud demo
# (generates a SQLite warehouse, runs its pipeline, prints what the model adds over the rule).
# Extra arguments go to `lanner demo` (see `build/lanner demo --help`).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/deps.sh build
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release -DLANNER_TESTS=OFF >/dev/null
cmake --build build -j"$(nproc)" --target lanner-cli >/dev/null
exec build/lanner demo --dir "$root/lanner-demo" "$@"
