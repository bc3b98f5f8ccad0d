#!/usr/bin/env bash
# lanner profile infers a contract that the profiled file passes, and lanner validate catches
# copies of that file with one injected problem each (exit 3, the column named on stderr).
source "$(dirname "$0")/lib.sh"

data=$SOURCE_DIR/tests/data/lending_club.csv
[ -f "$data" ] || skip "$data is missing"
contract=$SCRATCH/contract.yaml

expect_exit 0 '' "$LANNER" profile "$data" --target Class --positive bad --contract-out "$contract" --quiet
check "[ -s '$contract' ]" "profile --contract-out writes the contract"
check "grep -q '^min_rows: 4928$' '$contract'" "min_rows is half of the 9857 rows"
expect_exit 0 '' "$LANNER" validate --contract "$contract" "$data"
check "grep -q 'all rules pass' '$SCRATCH/out'" "the profiled file passes its own contract"

# mutate NAME PYTHON: writes $SCRATCH/NAME.csv, a copy of the data changed by PYTHON, which
# sees the header as `header` and the rows as `rows` (lists of strings).
mutate() {
    python3 - "$data" "$SCRATCH/$1.csv" "$2" <<'PY'
import csv, sys
with open(sys.argv[1], newline="") as f:
    reader = csv.reader(f)
    header = next(reader)
    rows = list(reader)
col = {name: i for i, name in enumerate(header)}
exec(sys.argv[3])
with open(sys.argv[2], "w", newline="") as f:
    writer = csv.writer(f, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
PY
}

mutate shifted 'for r in rows: r[col["funded_amnt"]] = str(int(r[col["funded_amnt"]]) * 3)'
expect_exit 3 'funded_amnt max' "$LANNER" validate --quiet --contract "$contract" "$SCRATCH/shifted.csv"
check "grep -q '^error: funded_amnt: max: ' '$SCRATCH/out'" "tripled amounts break max"

mutate new_state 'for i in range(0, len(rows), 20): rows[i][col["addr_state"]] = "ZZ"'
expect_exit 3 'addr_state values' "$LANNER" validate --quiet --contract "$contract" "$SCRATCH/new_state.csv"
check "grep -q 'new values ZZ (493 rows' '$SCRATCH/out'" "the new state ZZ is named with its 493 rows"
check "grep -q 'rows 1 (ZZ), 21 (ZZ), 41 (ZZ)' '$SCRATCH/out'" "the first rows with ZZ are listed"

mutate dropped 'drop = col["int_rate"]; header.pop(drop); [r.pop(drop) for r in rows]'
expect_exit 3 'int_rate present' "$LANNER" validate --quiet --contract "$contract" "$SCRATCH/dropped.csv"

mutate missing_income 'for i in range(3, len(rows), 20): rows[i][col["annual_inc"]] = ""'
expect_exit 3 'annual_inc max_missing' "$LANNER" validate --quiet --contract "$contract" "$SCRATCH/missing_income.csv"
check "grep -q '^error: annual_inc: max_missing: 493 of 9857 rows' '$SCRATCH/out'" "493 missing incomes are counted"

"$LANNER" validate --contract "$contract" "$SCRATCH/shifted.csv" --json >"$SCRATCH/report.json" 2>/dev/null || true
check_json "$SCRATCH/report.json" \
    'j["errors"] == 1 and j["violations"][0]["column"] == "funded_amnt" and j["violations"][0]["rule"] == "max"' \
    "the JSON report names the broken rule"
check_json "$SCRATCH/report.json" 'j["violations"][0]["examples"][0]["row"] == 1' "the JSON report gives 1-based rows"

# A rule marked as a warning is reported but does not fail validation.
sed 's/^  funded_amnt: {\(.*\)}$/  funded_amnt: {\1, severity: {max: warning}}/' "$contract" >"$SCRATCH/warn.yaml"
expect_exit 0 '' "$LANNER" validate --contract "$SCRATCH/warn.yaml" "$SCRATCH/shifted.csv"
check "grep -q '^warning: funded_amnt: max: ' '$SCRATCH/out'" "a warning-level rule is printed"

# Bad contracts: exit 2 with the file, line and key.
sed 's/^min_rows:/min_rowz:/' "$contract" >"$SCRATCH/unknown_key.yaml"
expect_exit 2 'unknown_key\.yaml:4: .*min_rowz' "$LANNER" validate --contract "$SCRATCH/unknown_key.yaml" "$data"
sed 's/^  int_rate: {type: float, min: 2,/  int_rate: {type: float, min: low,/' "$contract" >"$SCRATCH/bad_min.yaml"
expect_exit 2 "bad_min\\.yaml:8: column 'int_rate'.*number, found low" \
    "$LANNER" validate --contract "$SCRATCH/bad_min.yaml" "$data"
expect_exit 2 'none\.yaml' "$LANNER" validate --contract "$SCRATCH/none.yaml" "$data"
expect_exit 2 'none\.csv' "$LANNER" validate --contract "$contract" "$SCRATCH/none.csv"

# Profile outputs: JSON with every column, and an HTML page with one chart per column.
expect_exit 0 '' "$LANNER" profile "$data" --target Class --positive bad --json --html "$SCRATCH/profile.html" --quiet
cp "$SCRATCH/out" "$SCRATCH/profile.json"
check_json "$SCRATCH/profile.json" 'len(j["columns"]) == 23 and j["rows"] == 9857' "the JSON profile lists 23 columns"
check_json "$SCRATCH/profile.json" \
    'abs(j["target"]["positive_rate"] - 517 / 9857) < 1e-12' "the positive rate is 517 of 9857"
check_json "$SCRATCH/profile.json" \
    '[c for c in j["columns"] if c["name"] == "funded_amnt"][0]["quantiles"]["p50"] == 15000' \
    "the median funded amount is 15000"
check "[ \"\$(grep -o '<svg' '$SCRATCH/profile.html' | wc -l)\" -eq 23 ]" "the HTML page has one chart per column"
check "! grep -qi '<script' '$SCRATCH/profile.html'" "the HTML page has no script"

finish
