#!/usr/bin/env bash
# Accuracy check, not a test: runs each example pipeline with `lanner run --save-splits`, trains
# XGBoost (Debian's python3-xgboost) on exactly the same train/valid/test rows and features, and
# prints both test ROC AUCs and their difference.
# Usage: bench/pipeline_vs_xgboost.sh [path/to/lanner]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
lanner=${1:-$root/build/lanner}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

command -v /usr/bin/python3 >/dev/null && /usr/bin/python3 -c 'import xgboost, sklearn, pandas' 2>/dev/null || {
    echo "needs Debian's python3-xgboost, python3-sklearn and python3-pandas: apt-get install -y python3-xgboost python3-sklearn python3-pandas" >&2
    exit 1
}

field() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))$2)" "$1"; }

compare() {
    local name=$1 pipeline=$2 data=$3 target=$4 positive=$5
    "$lanner" run "$pipeline" --data "$data" --runs-dir "$scratch/runs" --no-register --save-splits \
        --json --quiet >"$scratch/$name.json"
    local run_dir leaves rate trees
    run_dir=$(field "$scratch/$name.json" '["run_dir"]')
    leaves=$(grep -Po 'max_leaves: \K[0-9]+' "$pipeline" || echo 31)
    rate=$(grep -Po 'learning_rate: \K[0-9.]+' "$pipeline" || echo 0.05)
    trees=$(grep -Po 'trees: \K[0-9]+' "$pipeline" || echo 300)
    /usr/bin/python3 "$root/bench/xgboost_on_splits.py" "$run_dir" "$target" "$positive" "$leaves" "$rate" \
        "$trees" >"$scratch/$name.xgb.json"
    /usr/bin/python3 - "$name" "$scratch/$name.json" "$scratch/$name.xgb.json" <<'PY'
import json, sys
name, ours, theirs = sys.argv[1], json.load(open(sys.argv[2])), json.load(open(sys.argv[3]))
auc = ours["test"]["model"]["auc"]
print(f"{name:14s} lanner AUC {auc:.4f} ({ours['model']['trees']:3d} trees)   "
      f"XGBoost {theirs['xgboost']} AUC {theirs['auc']:.4f} ({theirs['trees']:3d} trees)   "
      f"difference {auc - theirs['auc']:+.4f}")
PY
}

compare lending-club "$root/examples/lending-club/pipeline.yaml" "$root/tests/data/lending_club.csv" Class bad
compare churn "$root/examples/churn/pipeline.yaml" "$root/tests/data/mlc_churn.csv" churn yes
