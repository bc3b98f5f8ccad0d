#!/usr/bin/env bash
# lanner predict rejects corrupt and truncated model files and data without the model's
# features with a clear error and exit code, and leaves no output file behind.
source "$(dirname "$0")/lib.sh"

data=$SOURCE_DIR/tests/data/lending_club.csv
"$LANNER" run "$SOURCE_DIR/examples/lending-club/pipeline.yaml" --data "$data" --runs-dir "$SCRATCH/runs" \
    --no-register --json --quiet >"$SCRATCH/run.json"
model=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["model_path"])' "$SCRATCH/run.json")

size=$(stat -c %s "$model")
head -c $((size / 2)) "$model" >"$SCRATCH/truncated.lnr"
expect_exit 1 'truncated\.lnr' "$LANNER" predict --model "$SCRATCH/truncated.lnr" --data "$data" -o "$SCRATCH/out.csv"
check "[ ! -e '$SCRATCH/out.csv' ]" "no output after a truncated model"

cp "$model" "$SCRATCH/flipped.lnr"
printf '\xff' | dd of="$SCRATCH/flipped.lnr" bs=1 seek=$((size - 9)) conv=notrunc status=none
expect_exit 1 'flipped\.lnr' "$LANNER" predict --model "$SCRATCH/flipped.lnr" --data "$data" -o "$SCRATCH/out.csv"

printf 'not a model' >"$SCRATCH/text.lnr"
expect_exit 1 'text\.lnr' "$LANNER" predict --model "$SCRATCH/text.lnr" --data "$data"

cut -d, -f2- "$data" >"$SCRATCH/no_amount.csv"
expect_exit 2 'funded_amnt' "$LANNER" predict --model "$model" --data "$SCRATCH/no_amount.csv" -o "$SCRATCH/out.csv"
check "[ ! -e '$SCRATCH/out.csv' ]" "no output when a feature is missing"

expect_exit 2 'not found|cannot open' "$LANNER" predict --model "$SCRATCH/none.lnr" --data "$data"
expect_exit 2 'required' "$LANNER" predict --data "$data"

# A batch whose values of a category feature all look like numbers still loads them as categories,
# and the model scores them as categories it never saw.
python3 - "$data" "$SCRATCH/numeric_states.csv" <<'PY'
import csv, sys
with open(sys.argv[1]) as source, open(sys.argv[2], "w", newline="") as out:
    rows = csv.DictReader(source)
    writer = csv.DictWriter(out, fieldnames=rows.fieldnames)
    writer.writeheader()
    for i, row in enumerate(rows):
        if i == 200:
            break
        row["addr_state"] = str(10 + i % 7)
        writer.writerow(row)
PY
expect_exit 0 "no value of category feature 'addr_state' in .* is a category the model knows" \
    "$LANNER" predict --model "$model" --data "$SCRATCH/numeric_states.csv" -o "$SCRATCH/states.csv" --quiet
check "[ \$(wc -l <'$SCRATCH/states.csv') -eq 201 ]" "digit-like values of a category feature are scored"
head -3 "$data" >"$SCRATCH/two_rows.csv"
expect_exit 0 '' "$LANNER" predict --model "$model" --data "$SCRATCH/two_rows.csv" -o "$SCRATCH/two.csv"
check "! grep -q 'no value of category feature' '$SCRATCH/err'" "known categories give no unseen-category warning"

# An id column named like an output column is written under another name, so no two columns share one.
python3 - "$data" "$SCRATCH/with_id.csv" <<'PY'
import csv, sys
with open(sys.argv[1]) as source, open(sys.argv[2], "w", newline="") as out:
    rows = csv.DictReader(source)
    writer = csv.DictWriter(out, fieldnames=["score"] + rows.fieldnames)
    writer.writeheader()
    for i, row in enumerate(rows):
        writer.writerow({"score": f"loan{i}", **row})
PY
sed 's/^target: Class$/target: Class\nid: score/' "$SOURCE_DIR/examples/lending-club/pipeline.yaml" >"$SCRATCH/id.yaml"
"$LANNER" run "$SCRATCH/id.yaml" --data "$SCRATCH/with_id.csv" --runs-dir "$SCRATCH/runs" --no-register \
    --json --quiet >"$SCRATCH/id_run.json"
id_model=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["model_path"])' "$SCRATCH/id_run.json")
expect_exit 0 '' "$LANNER" predict --model "$id_model" --data "$SCRATCH/with_id.csv" -o "$SCRATCH/id_scores.csv"
check "[ \"\$(head -1 '$SCRATCH/id_scores.csv')\" = 'score_id,score,flag' ]" "a clashing id column is renamed"
check "grep -q \"written as 'score_id'\" '$SCRATCH/err'" "the renamed id column is warned about"

# --explain: each row's contributions and bias add up to its raw score, the log-odds of its score.
expect_exit 0 '' "$LANNER" predict --model "$model" --data "$data" -o "$SCRATCH/explained.csv" --explain --quiet
python3 - "$SCRATCH/explained.csv" >"$SCRATCH/additivity" <<'PY'
import csv, math, sys
worst = 0.0
for row in csv.DictReader(open(sys.argv[1])):
    parts = sum(float(v) for k, v in row.items() if k.startswith("contribution_")) + float(row["bias"])
    raw = float(row["raw_score"])
    p = float(row["score"])
    worst = max(worst, abs(parts - raw), abs(raw - math.log(p / (1 - p))))
print(worst)
PY
check "python3 -c 'import sys; sys.exit(0 if float(open(sys.argv[1]).read()) < 1e-9 else 1)' '$SCRATCH/additivity'" \
    "contributions and bias add up to raw_score, the log-odds of score (worst: $(cat "$SCRATCH/additivity"))"

# -o - writes the scores to stdout, as no -o does.
head -3 "$data" >"$SCRATCH/two_rows.csv"
expect_exit 0 '' "$LANNER" predict --model "$model" --data "$SCRATCH/two_rows.csv" -o - --quiet
check "[ \"\$(head -1 '$SCRATCH/out')\" = 'score,flag' ] && [ \$(wc -l <'$SCRATCH/out') -eq 3 ] && [ ! -e ./- ]" \
    "-o - writes the scores to stdout"

# A header without rows scores nothing and writes the header alone.
head -1 "$data" >"$SCRATCH/header_only.csv"
expect_exit 0 '' "$LANNER" predict --model "$model" --data "$SCRATCH/header_only.csv" -o "$SCRATCH/empty.csv" --quiet
check "[ \"\$(cat '$SCRATCH/empty.csv')\" = 'score,flag' ]" "a header-only file gives a header-only output"

finish
