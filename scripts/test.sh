#!/usr/bin/env bash
# The test suite: installs what it needs, then builds and runs every test twice,
# once in a normal build and once under AddressSanitizer and UndefinedBehaviorSanitizer.
# Usage: scripts/test.sh [normal|sanitize]   (default: both)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

scripts/deps.sh test

jobs=$(nproc)
run_suite() {
    local dir=$1
    shift
    echo "== building $dir" >&2
    cmake -S . -B "$dir" "$@" >/dev/null
    cmake --build "$dir" -j"$jobs" >/dev/null
    echo "== testing $dir" >&2
    (cd "$dir" && ctest --output-on-failure -j"$jobs")
}

mode=${1:-all}
if [ "$mode" = all ] || [ "$mode" = normal ]; then
    run_suite build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
if [ "$mode" = all ] || [ "$mode" = sanitize ]; then
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        run_suite build-sanitize -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLANNER_SANITIZE=ON
fi
