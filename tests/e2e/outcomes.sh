#!/usr/bin/env bash
# Outcome evaluation on the Lending Club loans: bootstrap intervals, a two-action policy with a review
# capacity, slices, the production model from the registry, and lanner evaluate on a saved model.
source "$(dirname "$0")/lib.sh"

data=$SOURCE_DIR/tests/data/lending_club.csv
cat >"$SCRATCH/multi.yaml" <<YAML
name: lending-multi
data:
  csv: $data
target: Class
positive: bad
split: {valid: 0.3, test: 0.3, seed: 7}
baseline:
  rule: "sub_grade >= 'E1'"
model: {type: gbdt, trees: 60, max_leaves: 15, learning_rate: 0.1, min_data_in_leaf: 40}
outcome:
  actions:
    - name: decline
      payoff_if_positive: "0"
      payoff_if_negative: "0"
    - name: review
      payoff_if_positive: "-0.2 * funded_amnt - 50"
      payoff_if_negative: "0.08 * funded_amnt - 50"
      max_rate: 0.05
  default:
    payoff_if_positive: "-funded_amnt"
    payoff_if_negative: "0.08 * funded_amnt"
slices: [term, addr_state, annual_inc]
slice_min_rows: 150
evaluation: {bootstrap: 400, seed: 3}
YAML

"$LANNER" run "$SCRATCH/multi.yaml" --runs-dir "$SCRATCH/runs" --registry "$SCRATCH/lanner.db" --json --quiet \
    >"$SCRATCH/run1.json"
check_json "$SCRATCH/run1.json" '[a["name"] for a in j["policy"]["actions"]] == ["decline", "review"]' \
    "policy lists the two actions in order"
check_json "$SCRATCH/run1.json" 'j["policy"]["actions"][0]["threshold"] >= j["policy"]["actions"][1]["threshold"]' \
    "thresholds do not increase down the actions"
check_json "$SCRATCH/run1.json" 'j["policy"]["actions"][1]["valid_rate"] <= 0.05 + 1e-12' \
    "review stays within its 5% capacity on the valid split"
check_json "$SCRATCH/run1.json" 'sum(a["test_rows"] for a in j["policy"]["actions"]) == j["test"]["model"]["flagged"]' \
    "rows given an action are the rows the model flags"
check_json "$SCRATCH/run1.json" 'j["test"]["gain_over_baseline_interval"][0] <= j["test"]["gain_over_baseline"] <= j["test"]["gain_over_baseline_interval"][1]' \
    "interval of the gain over the rule holds the gain"
check_json "$SCRATCH/run1.json" 'j["test"]["gain_over_nothing_interval"][0] < j["test"]["gain_over_nothing_interval"][1]' \
    "interval of the gain over the default has width"
check_json "$SCRATCH/run1.json" 'j["evaluation"] == {"bootstrap": 400, "seed": 3, "confidence": 0.95}' \
    "evaluation settings recorded"
check_json "$SCRATCH/run1.json" 'j["test"]["production"] is None and j["test"]["gain_over_production_interval"] is None' \
    "no production model on the first run"
check_json "$SCRATCH/run1.json" 'sum(s["rows"] for s in j["test"]["slices"] if s["column"] == "term") == j["rows"]["test"]' \
    "term slices cover every test row"
check_json "$SCRATCH/run1.json" 'sum(s["rows"] for s in j["test"]["slices"] if s["column"] == "addr_state") == j["rows"]["test"]' \
    "addr_state slices, with other, cover every test row"
check_json "$SCRATCH/run1.json" 'any(s["value"] == "other" for s in j["test"]["slices"] if s["column"] == "addr_state")' \
    "small states are pooled into other"
check_json "$SCRATCH/run1.json" 'all(s["rows"] >= 150 for s in j["test"]["slices"] if s["value"] != "other")' \
    "every named slice has at least slice_min_rows rows"
check_json "$SCRATCH/run1.json" 'len([s for s in j["test"]["slices"] if s["column"] == "annual_inc"]) == 5' \
    "a continuous column is cut into 5 quantile buckets"
check_json "$SCRATCH/run1.json" 'j["test"]["slice_regressions"] == sum(s["regression"] for s in j["test"]["slices"])' \
    "regression count matches the marked slices"
check_json "$SCRATCH/run1.json" 'all(s["regression"] == (s["model_payoff_per_1000"] < s["baseline_payoff_per_1000"]) for s in j["test"]["slices"])' \
    "a slice is marked exactly when the model earns less than the rule there"
check_json "$SCRATCH/run1.json" 'sum(b["count"] for b in j["test"]["model"]["calibration"]) == j["rows"]["test"]' \
    "calibration bins hold every test row"
check_json "$SCRATCH/run1.json" 'sum(j["test"]["model"]["confusion"].values()) == j["rows"]["test"]' \
    "confusion counts add up to the test rows"
check_json "$SCRATCH/run1.json" '0 < j["test"]["model"]["brier"] < 0.1' "Brier score plausible"
check "! grep -qi nan '$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_dir"])' "$SCRATCH/run1.json")/metrics.json'" \
    "metrics.json holds no NaN"

# Promote version 1; the next run compares with it on its own test split.
"$LANNER" models promote lending-multi@1 --registry "$SCRATCH/lanner.db" >/dev/null 2>&1
sed -i 's/trees: 60/trees: 80/' "$SCRATCH/multi.yaml"
"$LANNER" run "$SCRATCH/multi.yaml" --runs-dir "$SCRATCH/runs" --registry "$SCRATCH/lanner.db" --json --quiet \
    >"$SCRATCH/run2.json"
check_json "$SCRATCH/run2.json" 'j["test"]["production_version"] == 1' "second run compares with production version 1"
check_json "$SCRATCH/run2.json" "j['test']['production']['payoff'] == $(python3 -c 'import json,sys; print(repr(json.load(open(sys.argv[1]))["test"]["model"]["payoff"]))' "$SCRATCH/run1.json")" \
    "production scores the same test rows as version 1 did"
check_json "$SCRATCH/run2.json" 'j["test"]["gain_over_production_interval"][0] <= j["test"]["gain_over_production"] <= j["test"]["gain_over_production_interval"][1]' \
    "interval of the gain over production holds the gain"
check_json "$SCRATCH/run2.json" 'all(s["production_payoff_per_1000"] is not None for s in j["test"]["slices"])' \
    "slices show production's payoff"
run_dir=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_dir"])' "$SCRATCH/run2.json")
check "grep -q 'gain over production' '$run_dir/report.html'" "report states the interval over production"
check "grep -q 'id=\"slices\"' '$run_dir/report.html' && grep -q 'Payoff against the share given review' '$run_dir/report.html'" \
    "report has the slice table and a payoff chart per action"

# lanner evaluate on too few rows reports how many it needs, without speaking of a run.
head -51 "$data" >"$SCRATCH/fifty.csv"
expect_exit 2 'the data has 50 rows; at least 100 are needed' "$LANNER" evaluate --model "$run_dir/model.lnr" \
    --data "$SCRATCH/fifty.csv" --quiet

# lanner evaluate: the saved model on the whole file reproduces its stored thresholds.
"$LANNER" evaluate --model "$run_dir/model.lnr" --data "$data" --json --quiet >"$SCRATCH/eval.json"
check_json "$SCRATCH/eval.json" 'j["rows"] == 9857' "evaluate scores every row"
check_json "$SCRATCH/eval.json" "j['test']['model']['threshold'] == $(python3 -c 'import json,sys; print(repr(json.load(open(sys.argv[1]))["policy"]["actions"][0]["threshold"]))' "$SCRATCH/run2.json")" \
    "evaluate uses the model's stored first threshold"
check_json "$SCRATCH/eval.json" 'j["test"]["gain_over_baseline_interval"][0] <= j["test"]["gain_over_baseline"] <= j["test"]["gain_over_baseline_interval"][1]' \
    "evaluate reports the gain with its interval"
"$LANNER" evaluate --model lending-multi@1 --registry "$SCRATCH/lanner.db" --pipeline "$SCRATCH/multi.yaml" \
    --data "$data" --quiet >"$SCRATCH/eval.txt"
check "grep -q '^model ' '$SCRATCH/eval.txt' && grep -q '^rule in use ' '$SCRATCH/eval.txt' && grep -q '^default for all ' '$SCRATCH/eval.txt'" \
    "evaluate by NAME@VERSION prints model, rule and default"
# lanner predict names each row's action; on the saved test split the shares match the run's.
"$LANNER" predict --model "$run_dir/model.lnr" --data "$run_dir/test.csv" -o "$SCRATCH/actions.csv" --quiet
check "head -1 '$SCRATCH/actions.csv' | grep -qx 'score,flag,action'" "predict adds an action column"
for action in decline review; do
    share=$(awk -F, -v a=$action 'NR > 1 { n++; if ($3 == a) k++ } END { printf "%.10f", k / n }' "$SCRATCH/actions.csv")
    check_json "$SCRATCH/run2.json" \
        "abs([a['test_rate'] for a in j['policy']['actions'] if a['name'] == '$action'][0] - $share) < 1e-9" \
        "predict gives '$action' to the share of test rows the run reported"
done
check "awk -F, 'NR > 1 && (\$3 == \"default\") != (\$2 == 0) { bad++ } END { exit bad > 0 }' '$SCRATCH/actions.csv'" \
    "rows without an action are the unflagged ones"

# Without --pipeline, NAME@VERSION evaluates with the pipeline of the run that made the version.
"$LANNER" evaluate --model lending-multi@1 --registry "$SCRATCH/lanner.db" --data "$data" --quiet \
    >"$SCRATCH/eval_default.txt"
check "cmp -s '$SCRATCH/eval.txt' '$SCRATCH/eval_default.txt'" "evaluate finds the version's own pipeline"
cut -d, -f2- "$data" >"$SCRATCH/no_amount.csv"
expect_exit 2 "uses column 'funded_amnt', which is not in the data" \
    "$LANNER" evaluate --model "$run_dir/model.lnr" --data "$SCRATCH/no_amount.csv" --quiet
expect_exit 2 "neither a file nor NAME@VERSION|not found" \
    "$LANNER" evaluate --model "$SCRATCH/missing.lnr" --data "$data" --quiet

finish
