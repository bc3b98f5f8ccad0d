#!/usr/bin/env bash
# lanner serve on a churn model: every endpoint, each kind of bad request and the bearer token.
# Hot reload while requests keep coming fails no request, SIGHUP keeps the server up, and after a
# graceful stop the prediction log contains one line per prediction made.
# A model trained under a data contract: a clean instance gets no warnings, an out-of-range value and
# an unseen state get warnings, and --enforce-contract turns the out-of-range value into a 422.
source "$(dirname "$0")/lib.sh"

data=$SOURCE_DIR/tests/data/mlc_churn.csv
[ -f "$data" ] || data=$SOURCE_DIR/../shared/data/mlc_churn.csv
[ -f "$data" ] || skip "mlc_churn.csv is in neither tests/data nor ../shared/data"
command -v curl >/dev/null || skip "curl is not installed"

pipeline=$SOURCE_DIR/examples/churn/pipeline.yaml
registry=$SCRATCH/lanner.db
token=e2e-token-123
auth=(-H "Authorization: Bearer $token")
json=(-H "Content-Type: application/json")
server_pid=
contract_pid=
trap '[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null; [ -n "$contract_pid" ] && kill "$contract_pid" 2>/dev/null; rm -rf "$SCRATCH"' EXIT

"$LANNER" run "$pipeline" --data "$data" --runs-dir "$SCRATCH/runs" --registry "$registry" --json --quiet \
    >"$SCRATCH/run1.json"
model_path=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["model_path"])' "$SCRATCH/run1.json")

# ---- start with no production version: alive but not ready ----
LANNER_SERVE_TOKEN=$token "$LANNER" serve --registry "$registry" --port 0 --port-file "$SCRATCH/port" \
    --threads 2 --log-dir "$SCRATCH/log" 2>"$SCRATCH/server.err" &
server_pid=$!
for _ in $(seq 100); do [ -s "$SCRATCH/port" ] && break; sleep 0.1; done
[ -s "$SCRATCH/port" ] || { cat "$SCRATCH/server.err" >&2; fail "the server wrote no port file"; finish; }
base=http://127.0.0.1:$(cat "$SCRATCH/port")

# request METHOD PATH [curl options...]: body in $SCRATCH/body, status code in $SCRATCH/code.
request() {
    local method=$1 path=$2
    shift 2
    curl -s -X "$method" -o "$SCRATCH/body" -w '%{http_code}' "$@" "$base$path" >"$SCRATCH/code" || true
}

# expect_status CODE PATTERN METHOD PATH [curl options...]
expect_status() {
    local want=$1 pattern=$2
    shift 2
    request "$@"
    checks=$((checks + 1))
    if [ "$(cat "$SCRATCH/code")" != "$want" ] || ! grep -Eq -- "$pattern" "$SCRATCH/body"; then
        fail "$*: expected $want matching '$pattern', got $(cat "$SCRATCH/code"): $(head -c 500 "$SCRATCH/body")"
    fi
}

expect_status 200 '"ok"' GET /healthz
expect_status 503 'no production model' GET /readyz
expect_status 200 '"models":\[\]' GET /v1/models "${auth[@]}"

"$LANNER" models promote churn@1 --registry "$registry" --reason "e2e" >/dev/null
for _ in $(seq 50); do
    request GET /readyz
    [ "$(cat "$SCRATCH/code")" = 200 ] && break
    sleep 0.1
done
expect_status 200 '"ready"' GET /readyz

# ---- read endpoints ----
expect_status 200 '"name":"churn","version":1' GET /v1/models "${auth[@]}"
expect_status 200 '"features":\[\{"name":"state","type":"category"\}' GET /v1/models/churn "${auth[@]}"
cp "$SCRATCH/body" "$SCRATCH/info.json"
check_json "$SCRATCH/info.json" 'j["threshold"] is not None and 0 < j["threshold"] < 1' "the model's threshold is served"
check_json "$SCRATCH/info.json" 'len(j["features"]) == 19' "19 churn features"

# ---- predictions agree with lanner predict ----
head -n 101 "$data" >"$SCRATCH/head.csv"
"$LANNER" predict --model "$model_path" --data "$SCRATCH/head.csv" -o "$SCRATCH/expected.csv" --quiet
python3 - "$SCRATCH" <<'PY'
import csv, json, sys
scratch = sys.argv[1]
info = json.load(open(f"{scratch}/info.json"))
types = {f["name"]: f["type"] for f in info["features"]}
rows = list(csv.DictReader(open(f"{scratch}/head.csv")))
def value(name, text):
    return text if types[name] == "category" else float(text)
records = [{k: value(k, v) for k, v in r.items() if k in types} for r in rows]
for r, record in zip(rows, records):
    record["churn"] = r["churn"]  # an extra field: ignored and counted
columns = list(types)
json.dump({"instances": records}, open(f"{scratch}/native.json", "w"))
json.dump({"dataframe_records": records}, open(f"{scratch}/records.json", "w"))
json.dump({"instances": records}, open(f"{scratch}/mlflow_instances.json", "w"))
json.dump({"dataframe_split": {"columns": columns, "data": [[rec[c] for c in columns] for rec in records]}},
          open(f"{scratch}/split.json", "w"))
json.dump({"instance": {k: v for k, v in records[0].items() if k != "churn"}}, open(f"{scratch}/one.json", "w"))
PY

expect_status 200 '"predictions"' POST /v1/models/churn:predict "${auth[@]}" "${json[@]}" --data-binary @"$SCRATCH/native.json"
cp "$SCRATCH/body" "$SCRATCH/native_out.json"
python3 - "$SCRATCH" <<'PY' || fail "served scores and decisions differ from lanner predict"
import csv, json, sys
scratch = sys.argv[1]
expected = list(csv.DictReader(open(f"{scratch}/expected.csv")))
got = json.load(open(f"{scratch}/native_out.json"))
assert got["model"] == "churn", got
assert got["version"] == 1, got
assert len(got["predictions"]) == len(expected) == 100
for e, p in zip(expected, got["predictions"]):
    assert abs(float(e["score"]) - p["score"]) <= 1e-15, (e, p)
    assert (p["decision"] == "flag") == (e["flag"] == "1"), (e, p)
PY
checks=$((checks + 1))

for shape in split records mlflow_instances; do
    expect_status 200 '"predictions":\[0' POST /invocations "${auth[@]}" "${json[@]}" --data-binary @"$SCRATCH/$shape.json"
    cp "$SCRATCH/body" "$SCRATCH/$shape.out"
    python3 - "$SCRATCH" "$shape" <<'PY' || fail "MLflow $shape scores differ from the native endpoint"
import json, sys
scratch, shape = sys.argv[1:]
native = [p["score"] for p in json.load(open(f"{scratch}/native_out.json"))["predictions"]]
got = json.load(open(f"{scratch}/{shape}.out"))["predictions"]
assert got == native, (shape, got[:3], native[:3])
PY
    checks=$((checks + 1))
done
expect_status 200 '"predictions":\[\{"score"' POST /v1/models/churn:predict "${auth[@]}" "${json[@]}" --data-binary @"$SCRATCH/one.json"

# ---- explanations: contributions and bias add up to the score's log-odds ----
python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); j["explain"]=True; json.dump(j, open(sys.argv[2],"w"))' \
    "$SCRATCH/one.json" "$SCRATCH/explain.json"
expect_status 200 '"contributions":\{"state":' POST /v1/models/churn:predict "${auth[@]}" "${json[@]}" \
    --data-binary @"$SCRATCH/explain.json"
cp "$SCRATCH/body" "$SCRATCH/explain_out.json"
check_json "$SCRATCH/explain_out.json" \
    'abs(sum(j["predictions"][0]["contributions"].values()) + j["predictions"][0]["bias"] - math.log(j["predictions"][0]["score"] / (1 - j["predictions"][0]["score"]))) < 1e-9' \
    "contributions and bias add up to the logit of the score"
check_json "$SCRATCH/explain_out.json" 'len(j["predictions"][0]["contributions"]) == 19' "one contribution per feature"

# ---- bad requests ----
expect_status 401 'bearer token' POST /v1/models/churn:predict "${json[@]}" --data-binary @"$SCRATCH/one.json"
expect_status 401 'bearer token' GET /v1/models -H "Authorization: Bearer wrong"
expect_status 400 'invalid JSON at byte 16 \(line 1, column 16\)' POST /v1/models/churn:predict "${auth[@]}" "${json[@]}" --data-binary '{"instances": [}'
expect_status 400 'field \\"total_day_minutes\\" must be a number \(feature type float\), found a string' \
    POST /v1/models/churn:predict "${auth[@]}" "${json[@]}" --data-binary '{"instance": {"total_day_minutes": "high"}}'
expect_status 400 'field \\"state\\" must be a string \(feature type category\), found a number' \
    POST /v1/models/churn:predict "${auth[@]}" "${json[@]}" --data-binary '{"instances": [{"state": 12}]}'
expect_status 400 'is empty' POST /v1/models/churn:predict "${auth[@]}" "${json[@]}" --data-binary '{"instances": []}'
expect_status 400 'expected exactly one of' POST /invocations "${auth[@]}" "${json[@]}" --data-binary '{"rows": []}'
expect_status 404 "model 'nope' is not served \(served: churn\)" POST /v1/models/nope:predict "${auth[@]}" "${json[@]}" \
    --data-binary @"$SCRATCH/one.json"
expect_status 405 'not allowed' GET /v1/models/churn:predict "${auth[@]}"
expect_status 415 'application/json' POST /invocations "${auth[@]}" -H "Content-Type: text/csv" --data-binary 'a,b'
head -c 1100000 /dev/zero | tr '\0' ' ' >"$SCRATCH/big.json"
expect_status 413 'over the limit of 1048576 bytes' POST /invocations "${auth[@]}" "${json[@]}" --data-binary @"$SCRATCH/big.json"
python3 -c 'import json; print(json.dumps({"instances": [{}] * 10001}))' >"$SCRATCH/many.json"
expect_status 413 'the limit is 10000' POST /invocations "${auth[@]}" "${json[@]}" --data-binary @"$SCRATCH/many.json"
expect_status 200 '"predictions"' POST /v1/models/churn:predict "${auth[@]}" "${json[@]}" \
    --data-binary '{"instance": {"state": "Atlantis", "total_day_minutes": null}}'

# ---- hot reload while two clients keep sending requests ----
sed 's/trees: 300/trees: 120/; s/learning_rate: 0.05/learning_rate: 0.1/' "$pipeline" >"$SCRATCH/pipeline2.yaml"
"$LANNER" run "$SCRATCH/pipeline2.yaml" --data "$data" --runs-dir "$SCRATCH/runs" --registry "$registry" --quiet >/dev/null
load_client() {
    while [ ! -e "$SCRATCH/stop" ]; do
        curl -s -o /dev/null -w '%{http_code}\n' "${auth[@]}" "${json[@]}" --data-binary @"$SCRATCH/one.json" \
            "$base/v1/models/churn:predict" || echo "curl-failed"
    done >"$SCRATCH/codes.$1"
}
load_client 1 &
client1=$!
load_client 2 &
client2=$!
sleep 1
"$LANNER" models promote churn@2 --registry "$registry" --reason "e2e reload" >/dev/null
for _ in $(seq 50); do
    request GET /v1/models/churn "${auth[@]}"
    grep -q '"version":2,' "$SCRATCH/body" && break
    sleep 0.1
done
sleep 1
kill -HUP "$server_pid"
sleep 0.5
touch "$SCRATCH/stop"
wait "$client1" "$client2"
cat "$SCRATCH"/codes.* >"$SCRATCH/codes"
check "[ \$(grep -c . '$SCRATCH/codes') -gt 20 ]" "the clients made requests during the reload ($(grep -c . "$SCRATCH/codes"))"
check "[ \$(grep -vc '^200\$' '$SCRATCH/codes') -eq 0 ]" "no request failed during the reload: $(sort "$SCRATCH/codes" | uniq -c | tr '\n' ' ')"
expect_status 200 '"version":2,' POST /v1/models/churn:predict "${auth[@]}" "${json[@]}" --data-binary @"$SCRATCH/one.json"
expect_status 200 '"ok"' GET /healthz

# ---- metrics ----
expect_status 200 'lanner_model_reloads_total 2' GET /metrics "${auth[@]}"
cp "$SCRATCH/body" "$SCRATCH/metrics.txt"
check "grep -q 'lanner_http_requests_total{route=\"predict\",code=\"400\"} 4' '$SCRATCH/metrics.txt'" "four 400s on predict counted"
unseen=$(awk '/^lanner_unseen_categories_total\{model="churn",version="1"\}/ {print $2}' "$SCRATCH/metrics.txt")
check "[ '${unseen:-0}' -ge 1 ]" "the unseen state Atlantis is counted (found ${unseen:-nothing})"
check "grep -q 'lanner_extra_fields_total{model=\"churn\",version=\"1\"} 300' '$SCRATCH/metrics.txt'" \
    "the extra churn field counted for each of 3 x 100 rows"
check "grep -q 'lanner_prediction_log_dropped_total 0' '$SCRATCH/metrics.txt'" "no log line dropped"
check "grep -q 'lanner_http_request_duration_seconds_bucket{route=\"predict\",le=\"+Inf\"}' '$SCRATCH/metrics.txt'" \
    "latency histogram present"
predictions=$(awk '/^lanner_predictions_total/ {sum += $2} END {print sum}' "$SCRATCH/metrics.txt")

# ---- graceful stop: exit 0, one log line per prediction ----
kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=
check "[ $status -eq 0 ]" "the server exits 0 after SIGTERM (got $status)"
lines=$(cat "$SCRATCH"/log/predictions-*.jsonl | wc -l)
check "[ '$lines' -eq '$predictions' ]" "log lines ($lines) equal predictions made ($predictions)"
head -n 1 "$SCRATCH"/log/predictions-*.jsonl | grep -v '^==>' | grep . | head -n 1 >"$SCRATCH/line.json"
check_json "$SCRATCH/line.json" \
    'set(j) == {"request_id","index","time","model","version","features","score","decision"} and j["time"].endswith("Z")' \
    "a log line has the documented fields"
check "grep -q 'stopped; prediction log lines written: $predictions, dropped: 0' '$SCRATCH/server.err'" \
    "the server reports the lines it wrote"

# ---- data contract: warnings by default, 422 under --enforce-contract ----
"$LANNER" profile "$data" --contract-out "$SCRATCH/contract.yaml" --quiet >/dev/null
sed 's/trees: 300/trees: 60/' "$pipeline" >"$SCRATCH/contract_pipeline.yaml"
echo "contract: $SCRATCH/contract.yaml" >>"$SCRATCH/contract_pipeline.yaml"
contract_registry=$SCRATCH/contract.db
"$LANNER" run "$SCRATCH/contract_pipeline.yaml" --data "$data" --runs-dir "$SCRATCH/contract_runs" \
    --registry "$contract_registry" --quiet >/dev/null
"$LANNER" models promote churn@1 --registry "$contract_registry" --reason "e2e contract" >/dev/null
python3 - "$SCRATCH" <<'PY'
import json, sys
scratch = sys.argv[1]
one = json.load(open(f"{scratch}/one.json"))
json.dump(one, open(f"{scratch}/clean.json", "w"))
one["instance"]["total_day_minutes"] = 1e9
json.dump(one, open(f"{scratch}/huge.json", "w"))
one = json.load(open(f"{scratch}/one.json"))
one["instance"]["state"] = "Atlantis"
json.dump(one, open(f"{scratch}/unseen.json", "w"))
PY

# start_contract_server [options...]: serves $contract_registry; sets contract_pid and base.
start_contract_server() {
    rm -f "$SCRATCH/contract_port"
    "$LANNER" serve --registry "$contract_registry" --port 0 --port-file "$SCRATCH/contract_port" --threads 2 \
        --no-log "$@" 2>"$SCRATCH/contract_server.err" &
    contract_pid=$!
    for _ in $(seq 100); do [ -s "$SCRATCH/contract_port" ] && break; sleep 0.1; done
    [ -s "$SCRATCH/contract_port" ] || { cat "$SCRATCH/contract_server.err" >&2; fail "no port file"; finish; }
    base=http://127.0.0.1:$(cat "$SCRATCH/contract_port")
    for _ in $(seq 50); do
        request GET /readyz
        [ "$(cat "$SCRATCH/code")" = 200 ] && break
        sleep 0.1
    done
}

stop_contract_server() {
    kill -TERM "$contract_pid"
    wait "$contract_pid" || true
    contract_pid=
}

start_contract_server
expect_status 200 '"predictions":\[\{"score"' POST /v1/models/churn:predict "${json[@]}" --data-binary @"$SCRATCH/clean.json"
check "! grep -q warnings '$SCRATCH/body'" "a clean instance gets no warnings: $(head -c 300 "$SCRATCH/body")"
expect_status 200 '"warnings":\[\{"column":"total_day_minutes","rule":"max","severity":"error","value":1000000000,"bound":[0-9.]+\}\]' \
    POST /v1/models/churn:predict "${json[@]}" --data-binary @"$SCRATCH/huge.json"
expect_status 200 '"warnings":\[\{"column":"state","rule":"values","severity":"warning","value":"Atlantis"\}\]' \
    POST /v1/models/churn:predict "${json[@]}" --data-binary @"$SCRATCH/unseen.json"
expect_status 200 'lanner_contract_violations_total\{model="churn",version="1",column="total_day_minutes",rule="max"\} 1' \
    GET /metrics
expect_status 200 'lanner_contract_violations_total\{model="churn",version="1",column="state",rule="values"\} 1' GET /metrics
stop_contract_server

start_contract_server --enforce-contract
expect_status 422 'column \\"total_day_minutes\\" breaks contract rule max: value 1000000000 is above the maximum [0-9.]+"' \
    POST /v1/models/churn:predict "${json[@]}" --data-binary @"$SCRATCH/huge.json"
expect_status 200 '"warnings":\[\{"column":"state","rule":"values","severity":"warning"' \
    POST /v1/models/churn:predict "${json[@]}" --data-binary @"$SCRATCH/unseen.json"
expect_status 200 '"predictions":\[\{"score"' POST /v1/models/churn:predict "${json[@]}" --data-binary @"$SCRATCH/clean.json"
check "! grep -q warnings '$SCRATCH/body'" "a clean instance passes under --enforce-contract without warnings"
stop_contract_server

finish
