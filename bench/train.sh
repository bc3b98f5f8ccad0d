#!/bin/sh
# Benchmarks lanner's trees against XGBoost (hist), LightGBM and
# scikit-learn's HistGradientBoostingClassifier on a seeded 1M-row
# order-fraud-like data set with a time split. All use the same settings:
# 300 rounds, 31 leaves, learning rate 0.05, 255 bins and 2 threads.
# XGBoost, LightGBM and lanner stop early after 50 rounds without
# improvement; scikit-learn runs all 300.
#
# usage: bench/train.sh [ROWS] [THREADS]
# Needs: cmake, /usr/bin/python3 with numpy, pandas, xgboost, scikit-learn;
# /usr/bin/time. LightGBM runs when its command-line program is at
# ${LIGHTGBM_BIN:-/tmp/lgbm-src/lightgbm} (built from source: see
# docs/benchmarks.md); its peak RSS is the larger of the Python driver's
# and the program's (GNU time reports the largest process). Writes data and logs under
# ${BENCH_DIR:-/tmp/lanner-bench}.
set -eu

ROWS=${1:-1000000}
THREADS=${2:-2}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${BENCH_DIR:-/tmp/lanner-bench}
BUILD=${BUILD_DIR:-$ROOT/build-bench}
PY=/usr/bin/python3
mkdir -p "$WORK"

cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DLANNER_TESTS=OFF >/dev/null
cmake --build "$BUILD" --target bench_train -j"$THREADS" >/dev/null

if [ ! -f "$WORK/orders_$ROWS/orders_test.csv" ]; then
    $PY "$ROOT/bench/make_orders.py" "$WORK/orders_$ROWS" "$ROWS" 42
fi
DATA=$WORK/orders_$ROWS

# Prints the JSON line of a run followed by its peak RSS from /usr/bin/time -v.
measure() {
    name=$1
    shift
    /usr/bin/time -v "$@" >"$WORK/$name.json" 2>"$WORK/$name.time"
    rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$WORK/$name.time")
    printf '%-8s peak_rss_mb=%-6s %s\n' "$name" $((rss / 1024)) "$(cat "$WORK/$name.json")"
}

measure lanner "$BUILD/src/learn/bench_train" --train "$DATA/orders_train.csv" --valid "$DATA/orders_valid.csv" \
    --test "$DATA/orders_test.csv" --label fraud --trees 300 --leaves 31 --lr 0.05 --bins 255 \
    --early-stop 50 --threads "$THREADS" --model "$WORK/orders.lnr"
measure xgboost $PY "$ROOT/bench/train_reference.py" xgboost "$DATA" "$THREADS"
if [ -x "${LIGHTGBM_BIN:-/tmp/lgbm-src/lightgbm}" ]; then
    measure lightgbm $PY "$ROOT/bench/train_reference.py" lightgbm "$DATA" "$THREADS"
else
    echo "lightgbm: skipped, no program at ${LIGHTGBM_BIN:-/tmp/lgbm-src/lightgbm}"
fi
measure sklearn $PY "$ROOT/bench/train_reference.py" sklearn "$DATA" "$THREADS"
echo "peak RSS includes loading the CSV files (lanner: the C driver's simple reader; others: pandas)."
