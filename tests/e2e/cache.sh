#!/usr/bin/env bash
# The step cache of lanner run: an unchanged pipeline reuses every step but evaluate; a change
# re-runs only the steps that read it (data, outcome, model, contract); --no-cache runs all;
# the model file is byte-identical across cached, uncached and 1- or 2-thread runs; a damaged
# cache entry is recomputed; lanner runs and lanner lineage show the steps and their keys.
source "$(dirname "$0")/lib.sh"

cp "$SOURCE_DIR/tests/data/mlc_churn.csv" "$SCRATCH/churn.csv"
"$LANNER" profile "$SCRATCH/churn.csv" --contract-out "$SCRATCH/contract.yaml" --quiet >/dev/null

write_pipeline() { # max_flag_rate trees contract-line
    cat >"$SCRATCH/p.yaml" <<YAML
name: churn
data:
  csv: churn.csv
$3
target: churn
positive: "yes"
split: {valid: 0.2, test: 0.25, seed: 7}
baseline:
  rule: "number_customer_service_calls >= 4"
model: {trees: $2, max_leaves: 15}
outcome:
  true_positive: "0.4 * 12 * 0.8 * (total_day_charge + total_eve_charge) - 10"
  false_positive: "-0.2 * (total_day_charge + total_eve_charge) - 10"
  false_negative: "0"
  true_negative: "0"
  max_flag_rate: $1
YAML
}

n=0
# run_pipeline [OPTIONS]: runs the pipeline, leaves its JSON in $SCRATCH/r$n.json and its run.json path in $record.
run_pipeline() {
    n=$((n + 1))
    "$LANNER" run "$SCRATCH/p.yaml" --json --quiet "$@" >"$SCRATCH/r$n.json"
    record=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_dir"])' "$SCRATCH/r$n.json")/run.json
}

# steps_are EXPECTED_REUSED EXPECTED_RAN MESSAGE: comma-separated step names from the last run.json.
steps_are() {
    check_json "$record" "','.join(s['name'] for s in j['steps'] if s['reused']) == '$1' and ','.join(s['name'] for s in j['steps'] if not s['reused']) == '$2'" "$3"
}

model_of() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["model_path"])' "$SCRATCH/r$1.json"
}

write_pipeline 0.2 60 ""
run_pipeline
steps_are "" "load,split,baseline,train,evaluate" "the first run runs every step"
check "[ -f '$(dirname "$record")/test.csv' ]" "the run folder keeps the test split"
check "[ -d '$SCRATCH/.lanner-cache' ]" "the cache lives beside the pipeline"

started=$(date +%s%N)
"$LANNER" run "$SCRATCH/p.yaml" --quiet >"$SCRATCH/text.out"
elapsed_ms=$(( ($(date +%s%N) - started) / 1000000 ))
echo "cached re-run of the churn pipeline: ${elapsed_ms} ms"
check "grep -qx 'Steps reused: load, split, baseline, train; ran: evaluate' '$SCRATCH/text.out'" \
    "an unchanged pipeline says which steps it reused"
check "[ $elapsed_ms -lt 1000 ]" "a cached re-run takes under a second (took ${elapsed_ms} ms)"
run_pipeline
steps_are "load,split,baseline,train" "evaluate" "an unchanged pipeline reuses every step but evaluate"
check "cmp -s '$(model_of 1)' '$(model_of 2)'" "the cached run writes a byte-identical model file"
check_json "$SCRATCH/r2.json" "j['test']['model']['payoff'] == json.load(open('$SCRATCH/r1.json'))['test']['model']['payoff']" \
    "the cached run reports the same test payoff"

# Only the outcome changes: threshold and report are recomputed, training is not.
write_pipeline 0.1 60 ""
run_pipeline
steps_are "load,split,baseline,train" "evaluate" "an outcome change re-runs only evaluate"
check_json "$SCRATCH/r$n.json" "j['test']['model']['flag_rate'] <= 0.12" "the new max_flag_rate is applied"

# The model section changes: train runs again, load and split do not.
write_pipeline 0.1 40 ""
run_pipeline
steps_are "load,split,baseline" "train,evaluate" "a model change re-runs train"
check_json "$SCRATCH/r$n.json" "j['model']['trees'] <= 40" "the new tree count is applied"

# calibration, scale_pos_weight and the category settings change the model too, so each re-runs train.
for setting in "calibration: sigmoid" "scale_pos_weight: 3" "cat_smooth: 20"; do
    sed -i "s/^model: {trees: 40, max_leaves: 15.*}$/model: {trees: 40, max_leaves: 15, $setting}/" "$SCRATCH/p.yaml"
    run_pipeline
    steps_are "load,split,baseline" "train,evaluate" "a change to $setting re-runs train"
done
write_pipeline 0.1 40 ""
run_pipeline

# A data change of the same size and time: the key follows the bytes, not the file's metadata.
python3 - "$SCRATCH/churn.csv" <<'PY'
import sys
path = sys.argv[1]
lines = open(path).read().split("\n")
header = lines[0].split(",")
column = header.index("total_day_charge")
cells = lines[1].split(",")
cells[column] = cells[column][:-1] + ("1" if cells[column][-1] != "1" else "2")
lines[1] = ",".join(cells)
open(path + ".new", "w").write("\n".join(lines))
PY
touch -r "$SCRATCH/churn.csv" "$SCRATCH/churn.csv.new"
check "[ \$(stat -c %s '$SCRATCH/churn.csv') -eq \$(stat -c %s '$SCRATCH/churn.csv.new') ]" "the edited data file keeps its size"
mv "$SCRATCH/churn.csv.new" "$SCRATCH/churn.csv"
run_pipeline
steps_are "" "load,split,baseline,train,evaluate" "a one-byte data change re-runs every step"
check_json "$SCRATCH/r$n.json" "j['lineage']['data_hash'] != json.load(open('$SCRATCH/r1.json'))['lineage']['data_hash']" \
    "the data hash changes with the data"

# A contract: its step runs once, is reused, and runs again when the contract file changes.
write_pipeline 0.1 40 "contract: contract.yaml"
run_pipeline
steps_are "load,split,baseline,train" "contract,evaluate" "a new contract runs the contract step only"
run_pipeline
steps_are "load,contract,split,baseline,train" "evaluate" "an unchanged contract is reused"
echo "# edited" >>"$SCRATCH/contract.yaml"
run_pipeline
steps_are "load,split,baseline,train" "contract,evaluate" "an edited contract re-runs the contract step only"

# --no-cache runs everything and gives the same model as the cached run; so do 1 and 2 threads.
run_pipeline --no-cache --threads 1
steps_are "" "load,contract,split,baseline,train,evaluate" "--no-cache runs every step"
one_thread=$n
check "cmp -s '$(model_of $((n - 1)))' '$(model_of $n)'" "an uncached run writes the same model file as a cached one"
run_pipeline --no-cache --threads 2
check "cmp -s '$(model_of $one_thread)' '$(model_of $n)'" "1 and 2 threads write byte-identical model files"

# A damaged entry is not served: the step runs again and rewrites it.
for entry in "$SCRATCH"/.lanner-cache/load-*.lce; do
    head -c 100 "$entry" >"$entry.tmp" && mv "$entry.tmp" "$entry"
done
"$LANNER" run "$SCRATCH/p.yaml" --json >"$SCRATCH/damaged.json" 2>"$SCRATCH/damaged.err"
record=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_dir"])' "$SCRATCH/damaged.json")/run.json
steps_are "contract,split,baseline,train" "load,evaluate" "a damaged load entry is recomputed"
check "grep -q 'ignoring the cached load result' '$SCRATCH/damaged.err'" "the damaged entry is reported"
run_pipeline
steps_are "load,contract,split,baseline,train" "evaluate" "the recomputed entry is reused next time"

# A FIFO in place of an entry is not read (it would block): the step runs again.
load_key=$(python3 -c 'import json,sys; print(next(s["key"] for s in json.load(open(sys.argv[1]))["steps"] if s["name"] == "load"))' "$record")
load_entry=$SCRATCH/.lanner-cache/load-$load_key.lce
train_key=$(python3 -c 'import json,sys; print(next(s["key"] for s in json.load(open(sys.argv[1]))["steps"] if s["name"] == "train"))' "$record")
train_entry=$SCRATCH/.lanner-cache/train-$train_key.lnr
rm -f "$load_entry" "$train_entry" && mkfifo "$load_entry" "$train_entry"
fifo_status=0
timeout 120 "$LANNER" run "$SCRATCH/p.yaml" --json >"$SCRATCH/fifo.json" 2>"$SCRATCH/fifo.err" || fifo_status=$?
n=$((n + 1))
check "[ $fifo_status -eq 0 ]" "a FIFO at an entry's path does not hang the run"
check "grep -q 'cached load result.*is not a regular file' '$SCRATCH/fifo.err'" "the FIFO load entry is reported"
check "grep -q 'cached model .* is not a regular file' '$SCRATCH/fifo.err'" "the FIFO model entry is reported"
check "[ -f '$load_entry' ] && [ -f '$train_entry' ]" "the FIFOs are replaced by entries"
run_pipeline

# Seeds beyond 2^53 still give keys of their own.
for seed in 9007199254740992 9007199254740993; do
    sed -i "s/^model: {trees: 40, max_leaves: 15.*}$/model: {trees: 40, max_leaves: 15, seed: $seed}/" "$SCRATCH/p.yaml"
    run_pipeline
    steps_are "load,contract,split,baseline" "train,evaluate" "seed $seed re-runs train"
done

# --cache-limit removes the entries of earlier runs that this run did not use, and keeps the ones it used.
count_entries() { find "$SCRATCH/.lanner-cache" -name '*.lce' -o -name '*.lnr' | wc -l; }
entries_before=$(count_entries)
run_pipeline --cache-limit 1
entries_after=$(count_entries)
check "[ $entries_after -lt $entries_before ]" "--cache-limit 1 removes unused entries ($entries_before before, $entries_after after)"
run_pipeline
steps_are "load,contract,split,baseline,train" "evaluate" "entries the pruned run used are still reused"
expect_exit 2 'cache-limit' "$LANNER" run "$SCRATCH/p.yaml" --cache-limit 12MB
expect_exit 2 'cache-limit' "$LANNER" run "$SCRATCH/p.yaml" --cache-limit ' 5'

# lanner runs and lanner lineage.
expect_exit 0 '' "$LANNER" runs list "$SCRATCH/p.yaml"
check "[ \$(grep -c ' churn ' '$SCRATCH/out') -eq $((n + 2)) ]" "runs list shows every run (found: $(cat "$SCRATCH/out"))"
check "grep -Eq 'evaluate +load,contract,split,baseline,train ' '$SCRATCH/out'" "runs list names ran and reused steps"
"$LANNER" runs list "$SCRATCH/runs" --json >"$SCRATCH/runs.json"
check_json "$SCRATCH/runs.json" "len(j['runs']) == $((n + 2)) and all(r['complete'] for r in j['runs'])" "runs list --json"
expect_exit 0 '' "$LANNER" runs show "$(dirname "$record")"
check "grep -Eq '^  train +reused ' '$SCRATCH/out'" "runs show lists each step"
expect_exit 2 'run.json not found' "$LANNER" runs show "$SCRATCH"
version=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["registry"]["version"])' "$SCRATCH/r$n.json")
"$LANNER" lineage "churn@$version" --registry "$SCRATCH/lanner.db" --json >"$SCRATCH/lineage.json"
check_json "$SCRATCH/lineage.json" "[(s['name'], s['key']) for s in j['run']['steps']] == [(s['name'], s['key']) for s in json.load(open('$record'))['steps']]" \
    "lineage shows the step keys of the run"
expect_exit 0 '' "$LANNER" lineage "churn@$version" --registry "$SCRATCH/lanner.db"
check "grep -Eq 'step train +key [0-9a-f]{32} \\(reused' '$SCRATCH/out'" "lineage prints the step keys"

finish
