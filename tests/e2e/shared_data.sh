#!/usr/bin/env bash
# lanner run on every classification data set in ../shared/data, each with a plain rule:
# the run completes and the model ranks better than chance.
source "$(dirname "$0")/lib.sh"

shared=$SOURCE_DIR/../shared/data
[ -d "$shared" ] || skip "$shared is absent; these runs need the shared data sets"

run_case() {
    local file=$1 target=$2 positive=$3 rule=$4 min_auc=$5
    [ -f "$shared/$file" ] || { echo "note: $shared/$file absent, case skipped"; return; }
    cat >"$SCRATCH/$file.yaml" <<YAML
name: ${file%.csv}
data:
  csv: $shared/$file
target: $target
positive: "$positive"
baseline:
  rule: "$rule"
outcome:
  true_positive: "1"
  false_positive: "-1"
  false_negative: "0"
  true_negative: "0"
YAML
    "$LANNER" run "$SCRATCH/$file.yaml" --runs-dir "$SCRATCH/runs" --no-register --json --quiet \
        >"$SCRATCH/$file.json"
    check_json "$SCRATCH/$file.json" "j['test']['model']['auc'] > $min_auc" "$file: model AUC above $min_auc"
    check_json "$SCRATCH/$file.json" "j['test']['model']['payoff'] >= j['test']['flag_nothing']['payoff']" \
        "$file: model payoff not below flagging nothing"
}

run_case lending_club.csv Class bad "int_rate > 20" 0.65
run_case mlc_churn.csv churn yes "number_customer_service_calls >= 4" 0.85
run_case spam.csv type spam "charExclamation > 0.5" 0.95
run_case PimaIndiansDiabetes2.csv diabetes pos "glucose > 140" 0.75

finish
