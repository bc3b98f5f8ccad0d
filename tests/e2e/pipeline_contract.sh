#!/usr/bin/env bash
# A pipeline with a data contract: clean data runs and records the contract's hash; an
# error-level violation stops the run before training with exit code 3; a warning-level one
# shows up in the run's warnings; a feature that copies the target is flagged as leakage.
source "$(dirname "$0")/lib.sh"

data=$SOURCE_DIR/tests/data/lending_club.csv
cp "$data" "$SCRATCH/loans.csv"
"$LANNER" profile "$SCRATCH/loans.csv" --contract-out "$SCRATCH/contract.yaml" --quiet >/dev/null

write_pipeline() {
    cat >"$SCRATCH/p.yaml" <<YAML
name: loans
data:
  csv: $1
contract: $2
target: Class
positive: bad
baseline:
  rule: "sub_grade >= 'E1'"
model: {trees: 40}
outcome:
  true_positive: "0"
  false_positive: "0"
  false_negative: "-funded_amnt"
  true_negative: "0.08 * funded_amnt"
YAML
}

write_pipeline loans.csv contract.yaml
"$LANNER" run "$SCRATCH/p.yaml" --json --quiet >"$SCRATCH/clean.json"
check_json "$SCRATCH/clean.json" 'len(j["lineage"]["contract_hash"]) == 32' "contract hash recorded in the lineage"
check_json "$SCRATCH/clean.json" 'not any("contract" in w for w in j["warnings"])' "clean data gives no contract warning"
check "[ \"\$(sqlite3 '$SCRATCH/lanner.db' 'select contract_hash from versions where version = 1')\" = \"\$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[\"lineage\"][\"contract_hash\"])' '$SCRATCH/clean.json')\" ]" \
    "the registry stores the contract hash"

# funded_amnt three times larger breaks the inferred maximum.
awk -F, -v OFS=, 'NR > 1 { $1 = $1 * 3 } { print }' "$data" >"$SCRATCH/shifted.csv"
write_pipeline shifted.csv contract.yaml
rm -rf "$SCRATCH/runs"
expect_exit 3 'contract\.yaml.*funded_amnt' "$LANNER" run "$SCRATCH/p.yaml" --quiet
check "[ ! -e '$SCRATCH/runs' ]" "the run stops before writing a run folder"
check "[ \$(sqlite3 '$SCRATCH/lanner.db' 'select count(*) from versions') -eq 1 ]" "nothing registered after the stop"

# The same break at warning level lets the run go on and reports it.
sed 's/^  funded_amnt: {\(.*\)}$/  funded_amnt: {\1, severity: warning}/' "$SCRATCH/contract.yaml" >"$SCRATCH/warn.yaml"
write_pipeline shifted.csv warn.yaml
"$LANNER" run "$SCRATCH/p.yaml" --json --quiet --no-register >"$SCRATCH/warn.json"
check_json "$SCRATCH/warn.json" 'any("contract" in w and "funded_amnt" in w for w in j["warnings"])' \
    "a warning-level violation is listed in the run's warnings"

write_pipeline loans.csv missing.yaml
expect_exit 2 'missing\.yaml' "$LANNER" run "$SCRATCH/p.yaml" --quiet

# A column equal to the target is flagged as likely leakage.
awk -F, -v OFS=, 'NR == 1 { print $0, "charged_off"; next } { print $0, ($NF == "bad") }' "$data" >"$SCRATCH/leaky.csv"
write_pipeline leaky.csv ""
sed -i '/^contract: $/d' "$SCRATCH/p.yaml"
"$LANNER" run "$SCRATCH/p.yaml" --json --quiet --no-register >"$SCRATCH/leaky.json"
check_json "$SCRATCH/leaky.json" 'any("charged_off" in w and "leakage" in w for w in j["warnings"])' \
    "a copy of the target is flagged as leakage"
check_json "$SCRATCH/clean.json" 'not any("leakage" in w for w in j["warnings"])' "no leakage warning on the clean data"

finish
