#!/usr/bin/env bash
# lanner run on the churn data with both learners: trees and logistic regression beat the
# rule in use in payoff, and the capacity limit on flagged customers holds.
source "$(dirname "$0")/lib.sh"

pipeline=$SOURCE_DIR/examples/churn/pipeline.yaml
data=$SOURCE_DIR/tests/data/mlc_churn.csv

"$LANNER" run "$pipeline" --data "$data" --runs-dir "$SCRATCH/runs" --registry "$SCRATCH/lanner.db" \
    --json --quiet >"$SCRATCH/gbdt.json"
check_json "$SCRATCH/gbdt.json" 'j["test"]["model"]["auc"] > 0.85' "trees reach a test AUC above 0.85 on churn"
check_json "$SCRATCH/gbdt.json" 'j["test"]["model"]["payoff"] > j["test"]["baseline"]["payoff"]' \
    "trees beat the rule in use"
check_json "$SCRATCH/gbdt.json" 'j["valid"]["threshold"] is not None' "a threshold is chosen"
check_json "$SCRATCH/gbdt.json" 'j["test"]["flag_nothing"]["payoff"] == 0' "flagging nothing pays 0 here"

# lanner model show lists the trees, with the categories of category splits, as text and as JSON.
model=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_dir"])' "$SCRATCH/gbdt.json")/model.lnr
expect_exit 0 '' "$LANNER" model show "$model" --trees
check "grep -q 'categories' '$SCRATCH/out'" "model show --trees prints category splits"
"$LANNER" model show "$model" --json --trees >"$SCRATCH/show.json"
check_json "$SCRATCH/show.json" \
    "any('categories_left' in n for t in j['tree_nodes'] for n in t)" \
    "model show --json --trees lists the categories of category splits"

# The base score and the trees that model show lists give predict's raw scores.
head -201 "$data" >"$SCRATCH/two_hundred.csv"
expect_exit 0 '' "$LANNER" predict --model "$model" --data "$SCRATCH/two_hundred.csv" -o "$SCRATCH/tree_explained.csv" \
    --explain --quiet
python3 - "$SCRATCH/show.json" "$SCRATCH/two_hundred.csv" "$SCRATCH/tree_explained.csv" >"$SCRATCH/walk_error" <<'PY'
import csv, json, sys
show = json.load(open(sys.argv[1]))
types = {f["name"]: f["type"] for f in show["features"]}
known = {f["name"]: set(f.get("categories", [])) for f in show["features"]}

def goes_left(node, text):
    if text in ("", "NA"):
        return node["missing"] == "left"
    if types[node["feature"]] == "category":
        if text in node["categories_left"]:
            return True
        return text not in known[node["feature"]] and node["other_left"]
    return float(text) <= node["threshold"]

worst = 0.0
for row, explained in zip(csv.DictReader(open(sys.argv[2])), csv.DictReader(open(sys.argv[3]))):
    raw = show["base_scores"][0]
    for nodes in show["tree_nodes"]:
        node = nodes[0]
        while "leaf" not in node:
            node = nodes[node["left"] if goes_left(node, row[node["feature"]]) else node["right"]]
        raw += node["leaf"]
    worst = max(worst, abs(raw - float(explained["raw_score"])))
print(worst)
PY
check "python3 -c 'import sys; sys.exit(0 if float(open(sys.argv[1]).read()) < 1e-9 else 1)' '$SCRATCH/walk_error'" \
    "walking model show's trees from its base score gives predict's raw score (worst: $(cat "$SCRATCH/walk_error"))"

sed 's/type: gbdt/type: linear/' "$pipeline" >"$SCRATCH/linear.yaml"
"$LANNER" run "$SCRATCH/linear.yaml" --data "$data" --runs-dir "$SCRATCH/runs" --no-register \
    --json --quiet >"$SCRATCH/linear.json"
check_json "$SCRATCH/linear.json" 'j["model"]["type"] == "linear"' "linear learner used"
check_json "$SCRATCH/linear.json" 'j["test"]["model"]["auc"] > 0.75' "logistic regression AUC above 0.75"
check_json "$SCRATCH/linear.json" 'j["test"]["model"]["auc"] < 0.97' "logistic regression below trees' reach"

# Tree settings in a linear model's section are warned about, and changing them does not retrain it.
sed 's/type: linear/type: linear\n  cat_smooth: 30/' "$SCRATCH/linear.yaml" >"$SCRATCH/linear_tree_key.yaml"
"$LANNER" run "$SCRATCH/linear_tree_key.yaml" --data "$data" --runs-dir "$SCRATCH/runs" --no-register \
    --json >"$SCRATCH/linear_tree_key.json" 2>"$SCRATCH/linear_tree_key.err"
check "grep -q \"model 'cat_smooth' applies to type gbdt only\" '$SCRATCH/linear_tree_key.err'" \
    "a tree setting of a linear model is warned about"
linear_record=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_dir"])' "$SCRATCH/linear_tree_key.json")/run.json
check_json "$linear_record" "any(s['name'] == 'train' and s['reused'] for s in j['steps'])" \
    "a tree setting does not retrain a linear model"

# model show gives the coefficients that predict uses: a numeric feature's contribution is its weight
# times the clamped, standardised value.
linear_model=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["model_path"])' "$SCRATCH/linear.json")
"$LANNER" model show "$linear_model" --json >"$SCRATCH/linear_show.json"
expect_exit 0 '' "$LANNER" model show "$linear_model"
check "grep -q '^Coefficients (log-odds)' '$SCRATCH/out'" "model show prints the coefficients of a linear model"
head -51 "$data" >"$SCRATCH/fifty.csv"
expect_exit 0 '' "$LANNER" predict --model "$linear_model" --data "$SCRATCH/fifty.csv" -o "$SCRATCH/linear_explained.csv" \
    --explain --quiet
python3 - "$SCRATCH/linear_show.json" "$SCRATCH/fifty.csv" "$SCRATCH/linear_explained.csv" >"$SCRATCH/coef_error" <<'PY'
import csv, json, sys
show = json.load(open(sys.argv[1]))
feature = next(f for f in show["linear"]["features"] if "weight" in f and f["name"] == "total_day_minutes")
worst = 0.0
for data, explained in zip(csv.DictReader(open(sys.argv[2])), csv.DictReader(open(sys.argv[3]))):
    x = min(max(float(data["total_day_minutes"]), feature["min"]), feature["max"])
    expected = feature["weight"] * (x - feature["mean"]) / feature["scale"]
    worst = max(worst, abs(expected - float(explained["contribution_total_day_minutes"])))
print(worst)
PY
check "python3 -c 'import sys; sys.exit(0 if float(open(sys.argv[1]).read()) < 1e-9 else 1)' '$SCRATCH/coef_error'" \
    "the shown coefficients give predict's contributions (worst: $(cat "$SCRATCH/coef_error"))"

# model show gives a sigmoid calibration's fitted values.
sed 's/type: gbdt/type: gbdt\n  calibration: sigmoid/' "$pipeline" >"$SCRATCH/sigmoid.yaml"
"$LANNER" run "$SCRATCH/sigmoid.yaml" --data "$data" --runs-dir "$SCRATCH/runs" --no-register --json --quiet \
    >"$SCRATCH/sigmoid.json"
sigmoid_model=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["model_path"])' "$SCRATCH/sigmoid.json")
"$LANNER" model show "$sigmoid_model" --json >"$SCRATCH/sigmoid_show.json"
check_json "$SCRATCH/sigmoid_show.json" \
    "j['calibration_fit']['method'] == 'sigmoid' and j['calibration_fit']['a'] > 0 and 'b' in j['calibration_fit']" \
    "model show --json gives the sigmoid calibration's a and b"

# A tight capacity: the valid split never flags more than 1% of rows.
sed 's/max_flag_rate: 0.2/max_flag_rate: 0.01/' "$pipeline" >"$SCRATCH/tight.yaml"
"$LANNER" run "$SCRATCH/tight.yaml" --data "$data" --runs-dir "$SCRATCH/runs" --no-register \
    --json --quiet >"$SCRATCH/tight.json"
check_json "$SCRATCH/tight.json" 'j["test"]["model"]["flag_rate"] <= 0.03' "capacity limit keeps flags low on test"

finish
