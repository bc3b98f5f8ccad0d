#!/usr/bin/env bash
# Drift of 1,000,000 current rows x 30 features (20 numeric, 10 category) against a model's
# reference: lanner monitor against numpy/scipy doing the same work (numpy PSI on the same 20
# quantile bins, scipy.stats.ks_2samp on the raw train values, chi2_contingency for categories).
#
#   bench/monitor.sh BUILD_DIR [ROWS]
#
# Both sides are timed on data already in memory: lanner's "compared in" figure (its --verbose
# log) and the Python loop. Loading the CSV and scoring it with the model are reported apart.
set -euo pipefail

BUILD=${1:?usage: bench/monitor.sh BUILD_DIR [ROWS]}
ROWS=${2:-1000000}
LANNER=$(cd "$BUILD" && pwd)/lanner
PYTHON=${PYTHON:-/usr/bin/python3}
WORK=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$WORK"' EXIT
cd "$WORK"

"$PYTHON" - "$ROWS" <<'EOF'
import sys
import numpy as np
import pandas as pd

rows = int(sys.argv[1])
rng = np.random.default_rng(7)

def frame(n, shift):
    data = {}
    for f in range(20):
        data[f"x{f}"] = np.round(rng.lognormal(3 + f * 0.1, 0.7, n) * (1.6 if shift and f < 3 else 1.0), 3)
    for f in range(10):
        values = np.array([f"v{k}" for k in range(20)])
        p = np.linspace(1, 3 if shift and f < 2 else 2, 20)
        data[f"c{f}"] = values[rng.choice(20, n, p=p / p.sum())]
    return pd.DataFrame(data)

train = frame(40000, False)
train["y"] = np.where(rng.random(40000) < 1 / (1 + np.exp(-(train["x0"] / 20 - 1.5))), "bad", "good")
train.to_csv("train.csv", index=False)
frame(rows, True).to_csv("current.csv", index=False)
EOF

cat >pipeline.yaml <<'EOF'
name: bench-monitor
data: {csv: train.csv}
target: y
positive: bad
baseline: {rule: "x0 > 40"}
model: {type: gbdt, trees: 50, max_leaves: 15}
outcome: {true_positive: "0", false_positive: "-1", false_negative: "-x0", true_negative: "1"}
monitor: {psi_max: 0.2}
EOF
"$LANNER" run pipeline.yaml --quiet >/dev/null

start=$(date +%s.%N)
"$LANNER" monitor bench-monitor --current current.csv --json --verbose >monitor.json 2>monitor.err || test $? -eq 3
end=$(date +%s.%N)
compare=$(grep -Eo 'compared in [0-9.]+' monitor.err | grep -Eo '[0-9.]+$')
load=$(grep -Eo 'loaded and scored in [0-9.]+' monitor.err | grep -Eo '[0-9.]+$')

"$PYTHON" - "$compare" "$load" "$start" "$end" <<'EOF'
import json, sys, time
import numpy as np
import pandas as pd
from scipy import stats

lanner_compare, lanner_load = float(sys.argv[1]), float(sys.argv[2])
lanner_total = float(sys.argv[4]) - float(sys.argv[3])
train = pd.read_csv("train.csv")
loaded = time.perf_counter()
current = pd.read_csv("current.csv")
pandas_load = time.perf_counter() - loaded
result = json.load(open("monitor.json"))

def psi(r, c):
    r = np.maximum(r / r.sum(), 1e-4)
    c = np.maximum(c / c.sum(), 1e-4)
    return float(np.sum((c - r) * np.log(c / r)))

start = time.perf_counter()
ours = {}
for name in current.columns:
    ref, cur = train[name].to_numpy(), current[name].to_numpy()
    if name.startswith("x"):
        s = np.sort(ref)
        edges = np.unique(s[(np.arange(1, 20) * len(s)) // 20])
        r = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1)
        c = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1)
        ks = stats.ks_2samp(ref, cur)
        ours[name] = (psi(r, c), ks.pvalue)
    else:
        values, r = np.unique(ref, return_counts=True)
        index = {v: i for i, v in enumerate(values)}
        codes, c_raw = np.unique(cur, return_counts=True)
        c = np.zeros(len(values))
        for v, k in zip(codes, c_raw):
            c[index[v]] += k
        chi = stats.chi2_contingency(np.array([r, c]), correction=False)
        ours[name] = (psi(r.astype(float), c), chi[1])
python_compare = time.perf_counter() - start

worst = max(abs(f["psi"] - ours[f["name"]][0]) for f in result["features"])
print(f"rows: {result['rows']}, features: {len(result['features'])}, alerts: {len(result['alerts'])}")
print(f"lanner monitor, comparison only:   {lanner_compare:8.3f} s")
print(f"numpy/scipy, comparison only:      {python_compare:8.3f} s  ({python_compare / lanner_compare:.1f}x lanner)")
print(f"lanner: CSV load and model scoring {lanner_load:8.3f} s; whole command {lanner_total:.3f} s")
print(f"pandas.read_csv of the same file:  {pandas_load:8.3f} s")
print(f"largest PSI difference between the two: {worst:.2e}")
EOF
