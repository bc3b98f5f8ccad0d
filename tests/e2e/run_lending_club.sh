#!/usr/bin/env bash
# lanner run on the Lending Club loans: the model beats the rule in use and flagging nothing,
# writes a complete run folder, registers versions 1 and 2, and its model scores new rows.
source "$(dirname "$0")/lib.sh"

pipeline=$SOURCE_DIR/examples/lending-club/pipeline.yaml
data=$SOURCE_DIR/tests/data/lending_club.csv

"$LANNER" run "$pipeline" --data "$data" --runs-dir "$SCRATCH/runs" --registry "$SCRATCH/lanner.db" \
    --json --save-splits --quiet >"$SCRATCH/run.json"

check_json "$SCRATCH/run.json" 'j["rows"]["train"] + j["rows"]["valid"] + j["rows"]["test"] == 9857' \
    "every one of the 9,857 rows lands in one split"
check_json "$SCRATCH/run.json" 'abs(j["rows"]["test"] - 0.3 * 9857) < 2' "test split holds 30% of rows"
check_json "$SCRATCH/run.json" 'j["test"]["model"]["auc"] > 0.65' "model test AUC above 0.65"
check_json "$SCRATCH/run.json" 'j["test"]["model"]["payoff"] > j["test"]["baseline"]["payoff"]' \
    "model payoff above the rule in use"
check_json "$SCRATCH/run.json" 'j["test"]["model"]["payoff"] > j["test"]["flag_nothing"]["payoff"]' \
    "model payoff above flagging nothing"
check_json "$SCRATCH/run.json" '0 < j["test"]["model"]["logloss"] < 0.25' "model log loss plausible"
check_json "$SCRATCH/run.json" '0.45 < j["test"]["baseline"]["auc"] < 0.75' "rule AUC computed from its flags"
check_json "$SCRATCH/run.json" 'j["registry"]["name"] == "lending-club" and j["registry"]["version"] == 1' \
    "first run registers version 1"
check_json "$SCRATCH/run.json" 'len(j["lineage"]["data_hash"]) == 32 and len(j["lineage"]["pipeline_hash"]) == 32' \
    "lineage hashes recorded"

run_dir=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_dir"])' "$SCRATCH/run.json")
for file in model.lnr metrics.json report.html pipeline.yaml train.csv valid.csv test.csv; do
    check "[ -s '$run_dir/$file' ]" "run folder holds $file"
done
check "! ls '$run_dir' | grep -q tmp" "no temporary file left in the run folder"
check "cmp -s '$run_dir/metrics.json' <(python3 -m json.tool '$SCRATCH/run.json' >/dev/null && cat '$run_dir/metrics.json')" \
    "metrics.json is valid JSON"
check "! grep -qi 'nan' '$run_dir/metrics.json'" "metrics.json holds no NaN"

# The test split's sum of labels in test.csv matches the positives the run counted.
test_rows=$(($(wc -l <"$run_dir/test.csv") - 1))
check_json "$SCRATCH/run.json" "j['rows']['test'] == $test_rows" "test.csv holds the test rows"

# Scoring the saved test split with the model reproduces the run's flag count.
"$LANNER" predict --model "$run_dir/model.lnr" --data "$run_dir/test.csv" -o "$SCRATCH/scores.csv" --json \
    >"$SCRATCH/predict.json"
check_json "$SCRATCH/predict.json" "j['rows'] == $test_rows" "predict scores every test row"
flagged=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["test"]["model"]["flagged"])' "$SCRATCH/run.json")
check_json "$SCRATCH/predict.json" "j['flagged'] == $flagged" "predict flags the rows the run flagged"
check "head -1 '$SCRATCH/scores.csv' | grep -qx 'score,flag'" "scores.csv header without an id column"
check "awk -F, 'NR > 1 && (NF != 2 || (\$2 != 0 && \$2 != 1)) { bad++ } END { exit bad > 0 }' '$SCRATCH/scores.csv'" \
    "every scores.csv row is a score and a 0/1 flag"

# A second run registers version 2 with the same data hash.
"$LANNER" run "$pipeline" --data "$data" --runs-dir "$SCRATCH/runs" --registry "$SCRATCH/lanner.db" \
    --json --quiet >"$SCRATCH/run2.json"
check_json "$SCRATCH/run2.json" 'j["registry"]["version"] == 2' "second run registers version 2"
hash1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["lineage"]["data_hash"])' "$SCRATCH/run.json")
check_json "$SCRATCH/run2.json" "j['lineage']['data_hash'] == '$hash1'" "same data, same data hash"
check_json "$SCRATCH/run2.json" "j['test']['model']['auc'] == $(python3 -c 'import json,sys; print(repr(json.load(open(sys.argv[1]))["test"]["model"]["auc"]))' "$SCRATCH/run.json")" \
    "same seed, same model: identical test AUC"

# Human output names the three policies.
"$LANNER" run "$pipeline" --data "$data" --runs-dir "$SCRATCH/runs" --no-register --quiet >"$SCRATCH/human.txt"
check "grep -q '^model ' '$SCRATCH/human.txt' && grep -q '^rule in use ' '$SCRATCH/human.txt' && grep -q '^flag nothing ' '$SCRATCH/human.txt'" \
    "summary table lists model, rule and flag nothing"

finish
