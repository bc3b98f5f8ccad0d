#!/usr/bin/env bash
# lanner run killed with SIGKILL at random moments, 40 times. The registry must stay consistent:
# the integrity check passes, versions have no gaps, at most one version is in production, and
# production changes only when a killed run promoted. The step cache must never serve a
# half-written entry, so a run after the kills writes the same model file as an uncached run.
source "$(dirname "$0")/lib.sh"

cp "$SOURCE_DIR/tests/data/mlc_churn.csv" "$SCRATCH/churn.csv"
db=$SCRATCH/lanner.db
write_pipeline() { # gate-body
    cat >"$SCRATCH/p.yaml" <<YAML
name: churn
data:
  csv: churn.csv
target: churn
positive: "yes"
split: {valid: 0.2, test: 0.25, seed: 7}
baseline:
  rule: "number_customer_service_calls >= 4"
model: {trees: 200, max_leaves: 15}
outcome:
  true_positive: "0.4 * 12 * 0.8 * (total_day_charge + total_eve_charge) - 10"
  false_positive: "-0.2 * (total_day_charge + total_eve_charge) - 10"
  false_negative: "0"
  true_negative: "0"
gate: {$1}
YAML
}

write_pipeline "beat_production: true"
"$LANNER" run "$SCRATCH/p.yaml" --promote --no-cache --json --quiet >"$SCRATCH/reference.json"
reference_model=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["model_path"])' "$SCRATCH/reference.json")
production_sha=$(sqlite3 "$db" "select model_sha from versions where stage = 'production'")

consistent() { # MESSAGE
    check "[ \"\$(sqlite3 '$db' 'pragma integrity_check')\" = ok ]" "integrity check after $1"
    check "[ \"\$(sqlite3 '$db' 'select count(*) = max(version) from versions')\" = 1 ]" "contiguous versions after $1"
    check "[ \"\$(sqlite3 '$db' \"select count(*) from versions where stage = 'production'\")\" = 1 ]" \
        "one production version after $1"
    check "'$LANNER' models show churn --registry '$db' --quiet >/dev/null 2>&1" "production loads after $1"
}

# kill_runs COUNT OPTIONS...: starts lanner run and kills it with SIGKILL after a random delay.
kill_runs() {
    local count=$1
    shift
    for ((i = 0; i < count; i++)); do
        local options=("$@")
        if ((i % 3 == 0)); then options+=(--no-cache); fi
        "$LANNER" run "$SCRATCH/p.yaml" --quiet "${options[@]}" >/dev/null 2>&1 &
        local pid=$!
        sleep "$(python3 -c 'import random; print(random.uniform(0.0, 0.35))')"
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

# Plain runs (this gate never promotes an equal model): production must not change.
"$LANNER" run "$SCRATCH/p.yaml" --quiet >/dev/null
kill_runs 20
consistent "20 killed runs"
check "[ \"\$(sqlite3 '$db' \"select model_sha from versions where stage = 'production'\")\" = '$production_sha' ]" \
    "killed runs leave the production model unchanged"

# Runs that promote whenever they get that far.
write_pipeline "beat_baseline: false, beat_production: false, contract: false"
kill_runs 20 --promote
consistent "20 killed promoting runs"
last_promoted=$(sqlite3 "$db" "select version from audit where action = 'promote' order by id desc limit 1")
check "[ \"\$(sqlite3 '$db' \"select version from versions where stage = 'production'\")\" = '$last_promoted' ]" \
    "production is the version of the last promote in the audit log"

# No half-written entry is served: a cached run after the kills writes the bytes of an uncached one.
"$LANNER" run "$SCRATCH/p.yaml" --json --quiet >"$SCRATCH/after.json"
"$LANNER" run "$SCRATCH/p.yaml" --json --quiet --no-cache >"$SCRATCH/uncached.json"
model_of() {
    python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["model_path"])' "$1"
}
check "cmp -s '$(model_of "$SCRATCH/after.json")' '$(model_of "$SCRATCH/uncached.json")'" \
    "the cached run after the kills writes the same model file as an uncached run"
check_json "$SCRATCH/after.json" 'j["test"]["model"]["payoff"] == json.load(open("'"$SCRATCH/uncached.json"'"))["test"]["model"]["payoff"]' \
    "and the same test payoff"
consistent "a finished run"

finish
