#!/usr/bin/env bash
# Measures `lanner serve` against two references on 127.0.0.1 with wrk:
#   nginx    serving a static JSON file the size of a prediction response (the HTTP ceiling)
#   lanner   POST /v1/models/churn:predict scoring one row with a 300-tree model, with and
#            without the prediction log
#   flask    a Flask app scoring one row with an XGBoost model of 300 trees (same data)
# and prints requests/s, p50 and p99 latency at 32 connections, and the ratios. It fails when the
# prediction log of the logging lanner server has fewer lines than it sent prediction responses.
#
#   bench/serve.sh [BUILD_DIR]          (BUILD_DIR contains the lanner binary; default: build)
#
# Needs wrk, nginx, curl and /usr/bin/python3 with flask, xgboost and pandas (Debian packages
# wrk, nginx-light, python3-flask, python3-xgboost). Each server gets its own free port and is
# stopped by its PID on exit. DURATION (seconds per run, default 10), CONNECTIONS (default 32)
# and WRK_THREADS (default 2) can be set in the environment.
set -euo pipefail

build_dir=${1:-build}
lanner=$(readlink -f "$build_dir/lanner")
source_dir=$(cd "$(dirname "$0")/.." && pwd)
data=$source_dir/tests/data/mlc_churn.csv
[[ -f "$data" ]] || data=$source_dir/../shared/data/mlc_churn.csv
python=/usr/bin/python3
duration=${DURATION:-10}
connections=${CONNECTIONS:-32}
wrk_threads=${WRK_THREADS:-2}

for tool in wrk nginx curl; do
    command -v "$tool" >/dev/null || { echo "bench/serve.sh: $tool is not installed" >&2; exit 2; }
done
[[ -x "$lanner" ]] || { echo "bench/serve.sh: no lanner binary in $build_dir" >&2; exit 2; }
"$python" -c 'import flask, xgboost, pandas' 2>/dev/null ||
    { echo "bench/serve.sh: $python lacks flask, xgboost or pandas" >&2; exit 2; }

work=$(mktemp -d /tmp/lanner-bench-serve.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

wait_for() {
    for _ in $(seq 300); do
        curl -s -o /dev/null "$1" && return 0
        sleep 0.1
    done
    echo "bench/serve.sh: $1 did not come up" >&2
    exit 1
}

# ---- the model: 300 trees, no early stopping ----
sed 's/early_stopping_rounds: [0-9]*//; s/^model:$/model:\n  early_stopping_rounds: 0/; s/max_leaves: 15/max_leaves: 31/' \
    "$source_dir/examples/churn/pipeline.yaml" >"$work/pipeline.yaml"
"$lanner" run "$work/pipeline.yaml" --data "$data" --registry "$work/lanner.db" --runs-dir "$work/runs" --quiet >/dev/null
"$lanner" models promote churn@1 --registry "$work/lanner.db" --reason benchmark >/dev/null

# One row as the request body, and the response lanner gives to it as nginx's static file.
"$python" - "$data" "$work" <<'PY'
import csv, json, sys
data, work = sys.argv[1:]
row = next(csv.DictReader(open(data)))
categories = {"state", "area_code", "international_plan", "voice_mail_plan"}
instance = {k: (v if k in categories else float(v)) for k, v in row.items() if k != "churn"}
json.dump({"instance": instance}, open(f"{work}/request.json", "w"))
with open(f"{work}/post.lua", "w") as f:
    f.write('wrk.method = "POST"\n')
    f.write('wrk.headers["Content-Type"] = "application/json"\n')
    f.write("wrk.body = [[" + json.dumps({"instance": instance}) + "]]\n")
PY

# ---- nginx ----
mkdir -p "$work/nginx/html" "$work/nginx/temp"
nginx_port=$(free_port)
cat >"$work/nginx/nginx.conf" <<EOF
user root;
worker_processes $(nproc);
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $work/nginx/temp;
    proxy_temp_path $work/nginx/temp;
    fastcgi_temp_path $work/nginx/temp;
    uwsgi_temp_path $work/nginx/temp;
    scgi_temp_path $work/nginx/temp;
    server {
        listen 127.0.0.1:$nginx_port;
        root $work/nginx/html;
        location / { default_type application/json; }
    }
}
EOF

# ---- lanner ----
lanner_port=$(free_port)
"$lanner" serve --registry "$work/lanner.db" --port "$lanner_port" --quiet --log-dir "$work/predictions" &
lanner_pid=$!
pids+=($lanner_pid)
wait_for "http://127.0.0.1:$lanner_port/readyz"
curl -s -H 'Content-Type: application/json' --data-binary @"$work/request.json" \
    "http://127.0.0.1:$lanner_port/v1/models/churn:predict" >"$work/nginx/html/response.json"
trees=$(curl -s "http://127.0.0.1:$lanner_port/v1/models/churn" | "$python" -c 'import json,sys; print(json.load(sys.stdin)["trees"])')

lanner_nolog_port=$(free_port)
"$lanner" serve --registry "$work/lanner.db" --port "$lanner_nolog_port" --quiet --no-log &
pids+=($!)
wait_for "http://127.0.0.1:$lanner_nolog_port/readyz"

nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!)
wait_for "http://127.0.0.1:$nginx_port/response.json"

# ---- Flask + XGBoost ----
flask_port=$(free_port)
cat >"$work/flask_app.py" <<'PY'
import sys
import logging

import pandas as pd
import xgboost as xgb
from flask import Flask, jsonify, request

data_path, port = sys.argv[1], int(sys.argv[2])
frame = pd.read_csv(data_path)
label = (frame.pop("churn") == "yes").astype(int)
categorical = ["state", "area_code", "international_plan", "voice_mail_plan"]
dtypes = {c: pd.CategoricalDtype(sorted(frame[c].unique())) for c in categorical}
for c in categorical:
    frame[c] = frame[c].astype(dtypes[c])
columns = list(frame.columns)
model = xgb.XGBClassifier(n_estimators=300, max_leaves=31, max_depth=0, grow_policy="lossguide",
                          learning_rate=0.05, tree_method="hist",
                          enable_categorical=True, n_jobs=1)
model.fit(frame, label)
threshold = 0.5

app = Flask(__name__)
logging.getLogger("werkzeug").setLevel(logging.ERROR)


@app.post("/predict")
def predict():
    instance = request.get_json()["instance"]
    row = pd.DataFrame([instance], columns=columns)
    for c in categorical:
        row[c] = row[c].astype(dtypes[c])
    score = float(model.predict_proba(row)[0, 1])
    return jsonify(predictions=[{"score": score, "decision": "flag" if score >= threshold else "pass"}])


app.run(host="127.0.0.1", port=port, threaded=True)
PY
"$python" "$work/flask_app.py" "$data" "$flask_port" >"$work/flask.out" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$flask_port/"

# run_wrk NAME URL [SCRIPT]: prints "NAME requests/s p50_ms p99_ms"
run_wrk() {
    local name=$1 url=$2 script=${3:-}
    local args=(-t"$wrk_threads" -c"$connections" --latency)
    [[ -n "$script" ]] && args+=(-s "$script")
    wrk "${args[@]}" -d2s "$url" >/dev/null # warm-up
    wrk "${args[@]}" -d"${duration}s" "$url" >"$work/wrk.$name"
    "$python" - "$name" "$work/wrk.$name" <<'PY'
import re, sys
name, path = sys.argv[1:]
text = open(path).read()
def ms(label):
    m = re.search(r"^\s*" + label + r"\s+([\d.]+)(us|ms|s)\s*$", text, re.M)
    value, unit = float(m.group(1)), m.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
print(name, rps, ms("50%"), ms("99%"), errors.group(1) if errors else 0)
PY
}

{
    run_wrk nginx "http://127.0.0.1:$nginx_port/response.json"
    run_wrk lanner "http://127.0.0.1:$lanner_port/v1/models/churn:predict" "$work/post.lua"
    run_wrk lanner_no_log "http://127.0.0.1:$lanner_nolog_port/v1/models/churn:predict" "$work/post.lua"
    run_wrk flask_xgboost "http://127.0.0.1:$flask_port/predict" "$work/post.lua"
} >"$work/results"

# Every prediction must be logged: after a graceful stop the log has one line per 200 response.
curl -s "http://127.0.0.1:$lanner_port/metrics" >"$work/metrics.txt"
kill -TERM "$lanner_pid"
wait "$lanner_pid" || true
responses=$(awk '/^lanner_http_requests_total\{route="predict",code="200"\}/ { print $2 }' "$work/metrics.txt")
dropped=$(awk '/^lanner_prediction_log_dropped_total/ { print $2 }' "$work/metrics.txt")
log_lines=$(cat "$work"/predictions/*.jsonl | wc -l)

"$python" - "$work/results" "$trees" "$connections" "$duration" <<'PY'
import os, platform, sys
path, trees, connections, duration = sys.argv[1:]
rows = {}
for line in open(path):
    name, rps, p50, p99, errors = line.split()
    rows[name] = (float(rps), float(p50), float(p99), int(errors))
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
print(f"{os.cpu_count()} cores ({cpu}), {connections} connections, {duration} s per run; lanner model: {trees} trees")
print()
print("| server | requests/s | p50 ms | p99 ms | non-2xx |")
print("| --- | ---: | ---: | ---: | ---: |")
for name, (rps, p50, p99, errors) in rows.items():
    print(f"| {name} | {rps:,.0f} | {p50:.3f} | {p99:.3f} | {errors} |")
print()
lanner = rows["lanner"][0]
print(f"lanner / nginx requests/s: {lanner / rows['nginx'][0]:.2f}")
print(f"lanner / flask_xgboost requests/s: {lanner / rows['flask_xgboost'][0]:.1f}")
PY
echo "lanner prediction log: $log_lines lines for $responses responses, $dropped dropped"
if [[ "$log_lines" != "$responses" ]]; then
    echo "bench/serve.sh: the prediction log has $log_lines lines for $responses prediction responses" >&2
    exit 1
fi

# ---- promotions under load ----
# A second version, then 10 promotions (2, 1, 2, ...) during RELOAD_SECONDS of load on a fresh
# server: every response must be a 2xx and the log must hold one line per response.
reload_seconds=${RELOAD_SECONDS:-30}
"$lanner" run "$work/pipeline.yaml" --data "$data" --registry "$work/lanner.db" --runs-dir "$work/runs" \
    --no-cache --quiet >/dev/null
reload_port=$(free_port)
"$lanner" serve --registry "$work/lanner.db" --port "$reload_port" --quiet --log-dir "$work/reload-log" &
reload_pid=$!
pids+=($reload_pid)
wait_for "http://127.0.0.1:$reload_port/readyz"

wrk -t"$wrk_threads" -c"$connections" -d"${reload_seconds}s" -s "$work/post.lua" \
    "http://127.0.0.1:$reload_port/v1/models/churn:predict" >"$work/wrk.reload" &
wrk_pid=$!
pids+=($wrk_pid)
gap=$("$python" -c "print($reload_seconds / 11)")
for promotion in $(seq 10); do
    sleep "$gap"
    version=$((promotion % 2 == 1 ? 2 : 1))
    "$lanner" models promote "churn@$version" --registry "$work/lanner.db" --reason "reload benchmark" \
        --force >/dev/null
done
wait "$wrk_pid" || true
curl -s "http://127.0.0.1:$reload_port/metrics" >"$work/reload-metrics.txt"
kill -TERM "$reload_pid"
wait "$reload_pid" || true

reload_requests=$(grep -Po '^\s*\K\d+(?= requests in)' "$work/wrk.reload")
reload_errors=$(grep -Po 'Non-2xx or 3xx responses: \K\d+' "$work/wrk.reload" || echo 0)
reload_socket_errors=$(grep -Po 'Socket errors: .*' "$work/wrk.reload" || echo "Socket errors: none")
reload_count=$(awk '/^lanner_model_reloads_total/ { sum += $2 } END { print sum + 0 }' "$work/reload-metrics.txt")
reload_responses=$(awk '/^lanner_http_requests_total\{route="predict",code="200"\}/ { print $2 }' "$work/reload-metrics.txt")
reload_lines=$(cat "$work"/reload-log/*.jsonl | wc -l)
echo "promotions under load: 10 promotions in ${reload_seconds} s, $reload_count reloads, $reload_requests requests," \
    "$reload_errors non-2xx, $reload_socket_errors; log $reload_lines lines for $reload_responses responses"
if [[ "$reload_errors" != 0 || "$reload_lines" != "$reload_responses" ]]; then
    echo "bench/serve.sh: promotions under load lost or failed requests" >&2
    exit 1
fi
