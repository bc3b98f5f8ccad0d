#!/usr/bin/env bash
# lanner demo on a smaller warehouse: generates the orders, runs the pipeline by SQL query
# with a time split, and the model earns more than the rule in use.
source "$(dirname "$0")/lib.sh"

"$LANNER" demo --dir "$SCRATCH/demo" --orders 40000 --json --quiet >"$SCRATCH/demo.json"
check "[ -s '$SCRATCH/demo/warehouse.db' ] && [ -s '$SCRATCH/demo/pipeline.yaml' ]" "warehouse and pipeline written"
check "[ \$(sqlite3 '$SCRATCH/demo/warehouse.db' 'select count(*) from orders') -eq 40000 ]" "40,000 orders generated"
check_json "$SCRATCH/demo.json" 'j["split"].startswith("by created_at")' "split by time"
check_json "$SCRATCH/demo.json" 'j["test"]["model"]["auc"] > j["test"]["baseline"]["auc"]' "model ranks better than the rule"
check_json "$SCRATCH/demo.json" 'j["test"]["model"]["payoff"] > j["test"]["baseline"]["payoff"]' "model earns more than the rule"
check_json "$SCRATCH/demo.json" 'j["test"]["model"]["flag_rate"] <= 0.06' "capacity of 5% roughly holds on test"
check_json "$SCRATCH/demo.json" 'j["registry"]["version"] == 1' "demo registers its model"

"$LANNER" demo --dir "$SCRATCH/demo2" --orders 40000 --quiet >"$SCRATCH/story.txt"
check "grep -q 'What the model adds' '$SCRATCH/story.txt'" "human summary tells what the model adds"
check "grep -q 'report.html' '$SCRATCH/story.txt'" "human summary points at the report"

finish
