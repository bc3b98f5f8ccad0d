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

sed 's/type: gbdt/type: linear/' "$pipeline" >"$SCRATCH/linear.yaml"
"$LANNER" run "$SCRATCH/linear.yaml" --data "$data" --runs-dir "$SCRATCH/runs" --no-register \
    --json --quiet >"$SCRATCH/linear.json"
check_json "$SCRATCH/linear.json" 'j["model"]["type"] == "linear"' "linear learner used"
check_json "$SCRATCH/linear.json" 'j["test"]["model"]["auc"] > 0.75' "logistic regression AUC above 0.75"
check_json "$SCRATCH/linear.json" 'j["test"]["model"]["auc"] < 0.97' "logistic regression below trees' reach"

# A tight capacity: the valid split never flags more than 1% of rows.
sed 's/max_flag_rate: 0.2/max_flag_rate: 0.01/' "$pipeline" >"$SCRATCH/tight.yaml"
"$LANNER" run "$SCRATCH/tight.yaml" --data "$data" --runs-dir "$SCRATCH/runs" --no-register \
    --json --quiet >"$SCRATCH/tight.json"
check_json "$SCRATCH/tight.json" 'j["test"]["model"]["flag_rate"] <= 0.03' "capacity limit keeps flags low on test"

finish
