#!/usr/bin/env bash
# Compares lanner's CSV loader (bench_load) with pandas.read_csv on generated files.
#
#   bench/load.sh [BUILD_DIR]
#
# BUILD_DIR contains the bench_load target (default: build). The script writes
# 1M- and 5M-row CSV files into $LANNER_BENCH_DIR (default /tmp/lanner-bench-load).
# Each has 30 columns: integers, floats with about 5% missing, categories,
# booleans, timestamps, and quoted text with commas, quotes and line breaks.
# For each file it prints the wall time and peak RSS of both loaders (median of
# 3 runs with a warm page cache), their throughput in MB/s, and the time of
# `cat FILE > /dev/null`.
set -euo pipefail

build_dir=${1:-build}
driver=$(find "$build_dir" -name bench_load -type f -perm -u+x | head -n 1)
if [[ -z "$driver" ]]; then
    echo "bench_load not found under $build_dir; build it with: cmake --build $build_dir --target bench_load" >&2
    exit 2
fi
python=/usr/bin/python3
"$python" -c 'import pandas' 2>/dev/null || { echo "pandas is missing for $python" >&2; exit 2; }
out_dir=${LANNER_BENCH_DIR:-/tmp/lanner-bench-load}
mkdir -p "$out_dir"

generate() {
    local rows=$1 path=$2
    [[ -s "$path" ]] && return
    "$python" - "$rows" "$path" <<'PY'
import sys
import numpy as np
import pandas as pd

rows, path = int(sys.argv[1]), sys.argv[2]
base = min(rows, 1_000_000)
rng = np.random.default_rng(7)
data = {}
for i in range(10):
    data[f"int_{i}"] = rng.integers(-100000, 100000, base)
for i in range(10):
    values = np.round(rng.normal(1000, 250, base), 3)
    values[rng.random(base) < 0.05] = np.nan
    data[f"float_{i}"] = values
for i in range(3):
    data[f"cat_{i}"] = np.array([f"level_{k}" for k in range(40)])[rng.integers(0, 40, base)]
for i in range(2):
    data[f"flag_{i}"] = np.where(rng.random(base) < 0.3, "true", "false")
for i in range(2):
    seconds = rng.integers(1_500_000_000, 1_700_000_000, base)
    data[f"time_{i}"] = pd.to_datetime(seconds, unit="s").strftime("%Y-%m-%dT%H:%M:%SZ")
words = np.array(["alpha", "beta, gamma", 'say "hi"', "line\nbreak", "delta", "epsilon"])
for i in range(2):
    data[f"note_{i}"] = np.char.add(words[rng.integers(0, len(words), base)],
                                    rng.integers(0, 50000, base).astype(str))
data["id"] = np.char.add("id-", np.arange(base).astype(str))
frame = pd.DataFrame(data)
frame.to_csv(path, index=False)
# Larger files repeat the first million rows' records (the id column repeats too).
if rows > base:
    body = open(path, "rb").read()
    header_end = body.index(b"\n") + 1
    with open(path, "ab") as out:
        for _ in range(rows // base - 1):
            out.write(body[header_end:])
PY
}

# Prints "seconds peak_kb" for a command, the median of three runs by wall time.
measure() {
    local runs=() log
    log=$(mktemp)
    for _ in 1 2 3; do
        /usr/bin/time -f "%e %M" -o "$log" "$@" >/dev/null 2>&1
        runs+=("$(tail -n 1 "$log")")
    done
    rm -f "$log"
    printf '%s\n' "${runs[@]}" | sort -n | sed -n 2p
}

pandas_read='import sys, pandas; pandas.read_csv(sys.argv[1])'
printf '%-10s %8s | %-22s | %-22s | %-14s | %s\n' rows MB "lanner s (MB/s)" "pandas s (MB/s)" "cat s (MB/s)" "speed-up, peak RSS lanner/pandas MB"
for rows in 1000000 5000000; do
    file="$out_dir/bench_${rows}.csv"
    generate "$rows" "$file"
    cat "$file" >/dev/null
    mb=$(du -m "$file" | cut -f1)
    read -r lanner_s lanner_kb < <(measure "$driver" "$file")
    read -r pandas_s pandas_kb < <(measure "$python" -c "$pandas_read" "$file")
    read -r cat_s _ < <(measure cat "$file")
    awk -v r="$rows" -v mb="$mb" -v ls="$lanner_s" -v lk="$lanner_kb" -v ps="$pandas_s" -v pk="$pandas_kb" -v cs="$cat_s" 'BEGIN {
        printf "%-10s %8d | %6.2f (%7.0f)       | %6.2f (%7.0f)       | %5.2f (%5.0f) | %.1fx, %d / %d\n",
            r, mb, ls, mb / (ls > 0 ? ls : 0.01), ps, mb / (ps > 0 ? ps : 0.01), cs, mb / (cs > 0 ? cs : 0.01),
            ps / (ls > 0 ? ls : 0.01), lk / 1024, pk / 1024
    }'
done
echo "threads: bench_load uses all $(nproc) online cores; pandas.read_csv is single-threaded (C engine)."
