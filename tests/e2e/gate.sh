#!/usr/bin/env bash
# The gate of lanner run --promote. A passing gate promotes with the audit reason "gate passed: ...".
# Each rule (beat_baseline, beat_production, by_interval, contract, max_slice_regression and
# downstream) fails on its own case with exit code 3, and the model stays a registered candidate.
# lanner models promote replays the downstream consumers, blocks a broken one, and records
# --force --reason in the audit log.
source "$(dirname "$0")/lib.sh"

# escalated copies the target. It is ignored as a feature, so only a rule that reads it is perfect.
awk -F, -v OFS=, 'NR == 1 { print $0, "escalated"; next } { print $0, ($NF == "yes") }' \
    "$SOURCE_DIR/tests/data/mlc_churn.csv" >"$SCRATCH/churn.csv"
"$LANNER" profile "$SCRATCH/churn.csv" --contract-out "$SCRATCH/contract.yaml" --quiet >/dev/null
db=$SCRATCH/lanner.db

write_pipeline() { # rule gate-body downstream-body [data]
    cat >"$SCRATCH/p.yaml" <<YAML
name: churn
data:
  csv: ${4:-churn.csv}
contract: contract.yaml
target: churn
positive: "yes"
ignore: [escalated]
split: {valid: 0.2, test: 0.25, seed: 7}
baseline:
  rule: "$1"
model: {trees: 60, max_leaves: 15}
outcome:
  true_positive: "0.4 * 12 * 0.8 * (total_day_charge + total_eve_charge) - 10"
  false_positive: "-0.2 * (total_day_charge + total_eve_charge) - 10"
  false_negative: "0"
  true_negative: "0"
  max_flag_rate: 0.2
slices: [international_plan]
gate:
$2
downstream:
$3
YAML
}

rule="number_customer_service_calls >= 4"
gate="  beat_baseline: true
  beat_production: true
  contract: true"
consumers="  - {name: review-queue, uses: flag, rate: {max: 0.3}}
  - {name: checkout-hold, uses: score, threshold: 0.9, max_changed: 0.05}"

production() {
    sqlite3 "$db" "select coalesce((select version from versions where stage = 'production'), 0)"
}

# rule_passed JSON NAME: prints True or False for the named gate rule.
rule_passed() {
    python3 -c 'import json,sys; print([r["passed"] for r in json.load(open(sys.argv[1]))["gate"]["rules"] if r["name"] == sys.argv[2]])' "$1" "$2"
}

# ---- pass: the first version is promoted ----
write_pipeline "$rule" "$gate" "$consumers"
expect_exit 0 '' "$LANNER" run "$SCRATCH/p.yaml" --promote --json --quiet
cp "$SCRATCH/out" "$SCRATCH/pass.json"
check_json "$SCRATCH/pass.json" 'j["gate"]["passed"] and j["promoted"]' "the gate passes and the model is promoted"
check_json "$SCRATCH/pass.json" '[r["name"] for r in j["gate"]["rules"]] == ["beat_baseline", "beat_production", "contract", "downstream:review-queue", "downstream:checkout-hold"]' \
    "the gate lists every rule in order"
check_json "$SCRATCH/pass.json" '[c["name"] for c in j["downstream"]] == ["review-queue", "checkout-hold"] and j["downstream"][0]["test"]["rate_before"] is None' \
    "metrics.json holds the consumers, with no production to compare against"
check "[ \"\$(production)\" = 1 ]" "version 1 is in production"
check "sqlite3 '$db' \"select reason from audit where action = 'promote'\" | grep -q '^gate passed: beat_baseline (model payoff'" \
    "the audit reason says why the gate passed"

# ---- beat_production: the same model again does not beat production ----
expect_exit 3 '' "$LANNER" run "$SCRATCH/p.yaml" --promote --json --quiet
cp "$SCRATCH/out" "$SCRATCH/same.json"
check "[ \"\$(rule_passed '$SCRATCH/same.json' beat_production)\" = '[False]' ]" "an equal model fails beat_production"
check "[ \"\$(rule_passed '$SCRATCH/same.json' beat_baseline)\" = '[True]' ]" "and still passes beat_baseline"
check_json "$SCRATCH/same.json" 'j["registry"]["version"] == 2 and not j["promoted"]' "version 2 is registered, not promoted"
check_json "$SCRATCH/same.json" 'j["downstream"][1]["test"]["changed"] == 0 and j["downstream"][1]["test"]["psi"] == 0' \
    "the same model changes no decision and has a PSI of 0"
check "[ \"\$(production)\" = 1 ]" "production stays version 1"

# The text output names the failed rule.
expect_exit 3 '' "$LANNER" run "$SCRATCH/p.yaml" --promote --quiet
check "grep -q '^Gate failed: churn version 3 stays a candidate' '$SCRATCH/out'" "the text says the gate failed"
check "grep -Eq '^  FAIL +beat_production: model payoff .* not above 0' '$SCRATCH/out'" "the text names the failed rule"

# Without --promote a failing gate is reported, and the exit code stays 0.
expect_exit 0 '' "$LANNER" run "$SCRATCH/p.yaml" --quiet
check "grep -q '^Gate failed' '$SCRATCH/out'" "a run without --promote still reports the gate"

# ---- by_interval: the interval of a zero gain does not lie above 0 ----
write_pipeline "$rule" "  beat_baseline: false
  beat_production: true
  by_interval: true" "$consumers"
expect_exit 3 '' "$LANNER" run "$SCRATCH/p.yaml" --promote --json --quiet
check_json "$SCRATCH/out" '[r for r in j["gate"]["rules"] if r["name"] == "beat_production"][0]["detail"].startswith("gain over production +0.00, 95% interval [+0.00, +0.00]")' \
    "by_interval compares the interval's lower bound"

# ---- beat_baseline: a rule that reads a copy of the target cannot be beaten ----
write_pipeline "escalated == 1" "  beat_production: false" "  []"
expect_exit 3 '' "$LANNER" run "$SCRATCH/p.yaml" --promote --json --quiet
check "[ \"\$(rule_passed '$SCRATCH/out' beat_baseline)\" = '[False]' ]" "a perfect rule fails beat_baseline"

# ---- contract: with a gate, broken data is trained on and registered, and the gate fails ----
awk -F, -v OFS=, 'NR > 1 { $7 = $7 * 50 } { print }' "$SCRATCH/churn.csv" >"$SCRATCH/shifted.csv"
write_pipeline "$rule" "  beat_production: false" "  []" shifted.csv
expect_exit 3 '' "$LANNER" run "$SCRATCH/p.yaml" --promote --json --quiet
cp "$SCRATCH/out" "$SCRATCH/contract.json"
check "[ \"\$(rule_passed '$SCRATCH/contract.json' contract)\" = '[False]' ]" "broken data fails the contract rule"
check_json "$SCRATCH/contract.json" 'j["registry"]["version"] > 0 and [r for r in j["gate"]["rules"] if r["name"] == "contract"][0]["detail"].startswith("the data breaks")' \
    "the model is registered and the detail names the violation"
check "[ \"\$(production)\" = 1 ]" "production stays version 1 after the contract failure"

# ---- max_slice_regression ----
write_pipeline "$rule" "  beat_production: false
  max_slice_regression: 0.0" "  []"
sed -i 's/^slices: .*/slices: [international_plan, area_code]\nslice_min_rows: 10/' "$SCRATCH/p.yaml"
"$LANNER" run "$SCRATCH/p.yaml" --json --quiet >"$SCRATCH/slices.json"
check_json "$SCRATCH/slices.json" '(r := [r for r in j["gate"]["rules"] if r["name"] == "max_slice_regression"][0]) and r["passed"] == all(s["model_payoff_per_1000"] >= s["baseline_payoff_per_1000"] for s in j["test"]["slices"])' \
    "the slice rule fails exactly when a slice earns less than the rule"
sed -i 's/max_slice_regression: 0.0/max_slice_regression: 1000/' "$SCRATCH/p.yaml"
"$LANNER" run "$SCRATCH/p.yaml" --json --quiet >"$SCRATCH/slices_loose.json"
check "[ \"\$(rule_passed '$SCRATCH/slices_loose.json' max_slice_regression)\" = '[True]' ]" "a loose slice limit passes"
write_pipeline "escalated == 1" "  beat_baseline: false
  beat_production: false
  max_slice_regression: 0.05" "  []"
"$LANNER" run "$SCRATCH/p.yaml" --json --quiet >"$SCRATCH/slices_bad.json"
check "[ \"\$(rule_passed '$SCRATCH/slices_bad.json' max_slice_regression)\" = '[False]' ]" \
    "slices worse than a perfect rule fail the slice rule"

# ---- downstream: a consumer that would receive too many rows ----
write_pipeline "$rule" "  beat_production: false" "  - {name: review-queue, uses: flag, rate: {max: 0.01}}"
expect_exit 3 '' "$LANNER" run "$SCRATCH/p.yaml" --promote --json --quiet
cp "$SCRATCH/out" "$SCRATCH/downstream.json"
check "[ \"\$(rule_passed '$SCRATCH/downstream.json' downstream:review-queue)\" = '[False]' ]" "a broken consumer fails the gate"
check_json "$SCRATCH/downstream.json" 'j["downstream"][0]["test"]["detail"].startswith("would receive") and "above its maximum 1.00%" in j["downstream"][0]["test"]["detail"]' \
    "the consumer's detail names the broken limit"
blocked=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["registry"]["version"])' "$SCRATCH/downstream.json")

# lanner models promote replays the consumers on the saved test split and blocks.
expect_exit 3 "promotion of churn version $blocked blocked by 1 downstream consumer contract \\(review-queue: would receive" \
    "$LANNER" models promote "churn@$blocked" --registry "$db"
check "grep -Eq '^  review-queue +flag +share [0-9.]+% -> [0-9.]+%, changed [0-9.]+%, PSI [0-9.]+ +BROKEN' '$SCRATCH/out'" \
    "promote prints the replay per consumer"
check "[ \"\$(production)\" = 1 ]" "a blocked promotion leaves production unchanged"
expect_exit 2 '--force needs --reason' "$LANNER" models promote "churn@$blocked" --force --registry "$db"
expect_exit 0 '' "$LANNER" models promote "churn@$blocked" --force --reason "queue doubled this week" --registry "$db" --json
check_json "$SCRATCH/out" 'j["production"] == '"$blocked"' and j["downstream"][0]["passed"] is False and j["downstream"][0]["rate_before"] is not None' \
    "a forced promotion reports the replay against production"
check "sqlite3 '$db' \"select reason from audit where action = 'promote' order by id desc limit 1\" | grep -q '^forced past 1 broken downstream contract (review-queue: .*): queue doubled this week'" \
    "the audit log records the forced promotion and its reason"
expect_exit 0 '' "$LANNER" lineage "churn@$blocked" --registry "$db"
check "grep -Eq '^consumers  review-queue \\(flag, share of rows 0.00% to 1.00%\\)' '$SCRATCH/out'" "lineage lists the consumers"

# A version whose test split is gone cannot be checked: blocked unless forced.
rm "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["run_dir"])' "$SCRATCH/pass.json")/test.csv"
expect_exit 2 'the downstream check failed.*test.csv' "$LANNER" models promote churn@1 --registry "$db"
expect_exit 0 '' "$LANNER" models promote churn@1 --force --reason "back to 1" --registry "$db"

finish
