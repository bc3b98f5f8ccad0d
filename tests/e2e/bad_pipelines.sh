#!/usr/bin/env bash
# Bad pipelines end with a one-line error naming the place, exit code 2, and no run folder.
source "$(dirname "$0")/lib.sh"

data=$SOURCE_DIR/tests/data/lending_club.csv
cp "$data" "$SCRATCH/loans.csv"

write_pipeline() {
    cat >"$SCRATCH/p.yaml" <<YAML
name: loans
data:
  csv: ${1:-loans.csv}
target: ${2:-Class}
positive: ${3:-bad}
baseline:
  rule: "${4:-int_rate > 20}"
outcome:
  true_positive: "0"
  false_positive: "0"
  false_negative: "-funded_amnt"
  true_negative: "0.1 * funded_amnt"
YAML
}

write_pipeline
expect_exit 0 '' "$LANNER" run "$SCRATCH/p.yaml" --quiet --no-register
check "[ -d '$SCRATCH/runs' ]" "the good pipeline writes a run folder"
rm -rf "$SCRATCH/runs"

write_pipeline missing.csv
expect_exit 2 'missing\.csv' "$LANNER" run "$SCRATCH/p.yaml" --quiet
check "[ ! -e '$SCRATCH/runs' ]" "no run folder after a missing data file"

write_pipeline loans.csv Class bad "int_rat > 20"
expect_exit 2 "unknown column 'int_rat'.*int_rate" "$LANNER" run "$SCRATCH/p.yaml" --quiet

write_pipeline loans.csv Class bad "int_rate >"
expect_exit 2 'character [0-9]+' "$LANNER" run "$SCRATCH/p.yaml" --quiet

write_pipeline loans.csv Class nonexistent
expect_exit 2 "never occurs" "$LANNER" run "$SCRATCH/p.yaml" --quiet

# A single-class target: keep only the good loans.
awk -F, 'NR == 1 || $NF == "good"' "$data" >"$SCRATCH/good_only.csv"
write_pipeline good_only.csv
expect_exit 2 "single value" "$LANNER" run "$SCRATCH/p.yaml" --quiet

write_pipeline loans.csv NoSuchTarget
expect_exit 2 "'NoSuchTarget'" "$LANNER" run "$SCRATCH/p.yaml" --quiet

write_pipeline
printf 'lerning_rate: 0.1\n' >>"$SCRATCH/p.yaml"
expect_exit 2 "p\.yaml:[0-9]+: unknown key 'lerning_rate'" "$LANNER" run "$SCRATCH/p.yaml" --quiet

write_pipeline
sed -i 's/^target: Class$/target: [Class/' "$SCRATCH/p.yaml"
expect_exit 2 'p\.yaml:[0-9]+:[0-9]+: invalid YAML' "$LANNER" run "$SCRATCH/p.yaml" --quiet

expect_exit 2 'pipeline file not found' "$LANNER" run "$SCRATCH/nope.yaml" --quiet
expect_exit 2 'expected one pipeline file' "$LANNER" run
expect_exit 2 'unknown command' "$LANNER" frobnicate
expect_exit 2 'threads must be a whole number from 1 to 1024, found .2x.' "$LANNER" run "$SCRATCH/p.yaml" --threads 2x
expect_exit 2 'delimiter must be one of' "$LANNER" schema "$data" --delimiter x

# Fewer than 100 rows.
head -50 "$data" >"$SCRATCH/tiny.csv"
write_pipeline tiny.csv
expect_exit 2 'at least 100' "$LANNER" run "$SCRATCH/p.yaml" --quiet

# The rule in use cannot read the label, and the id cannot be the target.
write_pipeline loans.csv Class bad "Class == 'bad'"
expect_exit 2 "baseline.rule reads the target column 'Class'" "$LANNER" run "$SCRATCH/p.yaml" --quiet
write_pipeline
printf 'id: Class\n' >>"$SCRATCH/p.yaml"
expect_exit 2 "'id' names the target column 'Class'" "$LANNER" run "$SCRATCH/p.yaml" --quiet

# An expression over the length limit exits 2, and the message keeps the reason after the shortened text.
long_rule=$(python3 -c 'print(" + ".join(["funded_amnt"] * 7000) + " > 1")')
write_pipeline loans.csv Class bad "$long_rule"
expect_exit 2 '\.\.\." \([0-9]+ bytes\): .*(limit|long)' "$LANNER" run "$SCRATCH/p.yaml" --quiet

# Repeated ids and an all-missing column run, with a warning for each.
awk -F, -v OFS=, 'NR == 1 { print $0, "loan_id", "empty"; next } { print $0, int(NR / 2), "" }' "$data" >"$SCRATCH/ids.csv"
write_pipeline ids.csv
printf 'id: loan_id\n' >>"$SCRATCH/p.yaml"
"$LANNER" run "$SCRATCH/p.yaml" --quiet --no-register --json >"$SCRATCH/ids.json"
check_json "$SCRATCH/ids.json" 'any("loan_id" in w and "repeats on 4928 rows" in w for w in j["warnings"])' \
    "repeated ids are counted in a warning"
check_json "$SCRATCH/ids.json" 'any("\x27empty\x27 is missing on every row" in w for w in j["warnings"])' \
    "an all-missing column is left out with a warning"
check_json "$SCRATCH/ids.json" 'j["model"]["features"] == 22' "neither the id nor the empty column is a feature"
rm -rf "$SCRATCH/runs"

# A capacity below one valid row, and a model that cannot split, are warned about.
write_pipeline
printf 'model: {min_data_in_leaf: 100000}\n' >>"$SCRATCH/p.yaml"
sed -i 's/^outcome:$/outcome:\n  max_flag_rate: 0.0001/' "$SCRATCH/p.yaml"
"$LANNER" run "$SCRATCH/p.yaml" --quiet --no-register --json >"$SCRATCH/cap.json" 2>"$SCRATCH/cap.err"
check_json "$SCRATCH/cap.json" 'any("allows less than one" in w for w in j["warnings"])' \
    "a capacity below one row is warned about"
check "grep -q 'warning: boosting stopped after 0 rounds' '$SCRATCH/cap.err'" \
    "a model without trees is warned about, even with --quiet"
check "grep -Eq 'min_data_in_leaf \(100000\) rows on each side, out of [0-9]+ rows per tree' '$SCRATCH/cap.err'" \
    "the warning gives the settings that can forbid a split"
"$LANNER" run "$SCRATCH/p.yaml" --no-register --json >/dev/null 2>"$SCRATCH/cap.log"
check "grep -q 'no threshold beats flagging no row on valid' '$SCRATCH/cap.log'" \
    "a run that flags nothing says so instead of printing an infinite threshold"
rm -rf "$SCRATCH/runs"

check "[ ! -e '$SCRATCH/lanner.db' ] || [ \$(sqlite3 '$SCRATCH/lanner.db' 'select count(*) from versions') -eq 0 ]" \
    "failed runs register nothing"

finish
