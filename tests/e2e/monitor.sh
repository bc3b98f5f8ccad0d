# lanner monitor on tests/data/lending_club.csv split in two by row order. A model trained on the
# first half watches the second half (no alert) and a shifted copy (funded_amnt x 1.5 and a new
# addr_state). Labels are joined on a synthetic id; a prediction log and the HTML report are checked too.
source "$(dirname "$0")/lib.sh"

# Both halves get a synthetic id and a day column that spans a week of rows in order.
python3 - "$SOURCE_DIR/tests/data/lending_club.csv" "$SCRATCH" <<'EOF'
import csv, datetime, sys
rows = list(csv.reader(open(sys.argv[1])))
header, body = rows[0], rows[1:]
half = len(body) // 2
out = sys.argv[2]
def write(name, part, first_id, shift=False, drop_class=False):
    cls = header.index("Class")
    amount = header.index("funded_amnt")
    state = header.index("addr_state")
    with open(f"{out}/{name}", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["loan_id", "day"] + [h for i, h in enumerate(header) if not (drop_class and i == cls)])
        for i, r in enumerate(part):
            r = list(r)
            if shift:
                r[amount] = str(int(float(r[amount]) * 1.5))
                if i % 10 == 0:
                    r[state] = "ZZ"
            day = (datetime.date(2026, 3, 1) + datetime.timedelta(days=i * 7 // len(part))).isoformat()
            w.writerow([first_id + i, day] + [x for j, x in enumerate(r) if not (drop_class and j == cls)])
write("first.csv", body[:half], 0)
write("second.csv", body[half:], half, drop_class=True)
write("shifted.csv", body[half:], half, shift=True, drop_class=True)
cls = header.index("Class")
with open(f"{out}/labels.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["loan_id", "Class"])
    for i, r in enumerate(body[half:]):
        if i % 5 != 4:      # a fifth of the outcomes have not arrived yet
            w.writerow([half + i, r[cls]])
EOF

cat >"$SCRATCH/pipeline.yaml" <<'EOF'
name: lending-monitor
data:
  csv: first.csv
target: Class
positive: bad
id: loan_id
time: day
split: {valid: 0.3, test: 0.3, seed: 7}
baseline:
  rule: "sub_grade >= 'E1'"
model:
  type: gbdt
  trees: 100
  max_leaves: 15
  min_data_in_leaf: 40
outcome:
  true_positive: "0"
  false_positive: "0"
  false_negative: "-funded_amnt"
  true_negative: "0.08 * funded_amnt"
monitor: {psi_max: 0.2, score_psi_max: 0.2}
EOF

"$LANNER" run "$SCRATCH/pipeline.yaml" --quiet --json >"$SCRATCH/run.json"
check_json "$SCRATCH/run.json" 'j["registry"]["version"] == 1' "the model is registered as version 1"

cd "$SCRATCH"

# The second half of the same data: no alert.
expect_exit 0 "" "$LANNER" monitor lending-monitor --current second.csv --json --quiet
cp "$SCRATCH/out" "$SCRATCH/clean.json"
check_json "$SCRATCH/clean.json" 'j["alerts"] == [] and j["rows"] == 4929' "second half: no alert on 4929 rows"
check_json "$SCRATCH/clean.json" 'len(j["features"]) == 22 and all(f["psi"] < 0.2 for f in j["features"])' \
    "second half: every feature's PSI is below 0.2"
check_json "$SCRATCH/clean.json" 'j["score"]["psi"] < 0.1 and j["score"]["ks"]["p_value"] > 0.01' \
    "second half: the score distribution is stable"
check_json "$SCRATCH/clean.json" 'len(j["windows"]) == 7 and sum(w["rows"] for w in j["windows"]) == 4929' \
    "second half: seven daily windows from the day column"
check_json "$SCRATCH/clean.json" 'j["outcomes"] is None and j["version"] == 1 and j["stage"] == "candidate"' \
    "no labels: no outcomes; the newest version is monitored"

# funded_amnt x 1.5 and a new state on a tenth of the rows: both named first, exit 3.
expect_exit 3 "" "$LANNER" monitor lending-monitor --current shifted.csv --json --quiet
cp "$SCRATCH/out" "$SCRATCH/shifted.json"
check_json "$SCRATCH/shifted.json" \
    'sorted(f["name"] for f in j["features"][:2]) == ["addr_state", "funded_amnt"]' \
    "shifted: funded_amnt and addr_state have the largest drift"
check_json "$SCRATCH/shifted.json" \
    'sorted(a["subject"] for a in j["alerts"] if a["kind"] == "feature_psi") == ["addr_state", "funded_amnt"]' \
    "shifted: an alert for each shifted feature, none for the others"
check_json "$SCRATCH/shifted.json" \
    'all(a["figure"] > a["threshold"] == 0.2 for a in j["alerts"] if a["kind"] == "feature_psi")' \
    "shifted: each alert carries its figure and threshold"
check_json "$SCRATCH/shifted.json" \
    '[f for f in j["features"] if f["name"] == "addr_state"][0]["new_categories"][0]["value"] == "ZZ"' \
    "shifted: the new state ZZ is listed"
check_json "$SCRATCH/shifted.json" \
    'abs([f for f in j["features"] if f["name"] == "addr_state"][0]["new_share"] - 0.1) < 0.001' \
    "shifted: ZZ holds a tenth of the rows"

# Text output sorts by drift too.
expect_exit 3 "" "$LANNER" monitor lending-monitor --current shifted.csv --quiet
check "sed -n 4p '$SCRATCH/out' | grep -Eq '^  (funded_amnt|addr_state) '" "text: the first feature row is a shifted one"
check "grep -q 'ALERT feature_psi' '$SCRATCH/out'" "text: alerts are printed"

# A flag overrides the pipeline's threshold.
expect_exit 0 "" "$LANNER" monitor lending-monitor --current shifted.csv --psi-max 5 --quiet

# Labels joined on loan_id: realised AUC and payoff per window, against validation.
expect_exit 0 "" "$LANNER" monitor lending-monitor --current second.csv --labels labels.csv --json --quiet \
    --html "$SCRATCH/report.html"
cp "$SCRATCH/out" "$SCRATCH/labels.json"
check_json "$SCRATCH/labels.json" 'j["outcomes"]["labeled"] == 3944 and j["outcomes"]["unlabeled"] == 985' \
    "labels: 3944 rows labeled, 985 still waiting"
check_json "$SCRATCH/labels.json" '0.6 < j["outcomes"]["auc"] < 0.8 and j["outcomes"]["promised"]["auc"] > 0.6' \
    "labels: realised AUC next to the validation AUC"
check_json "$SCRATCH/labels.json" \
    'all(w["labeled"] > 0 and w["auc"] is not None and w["payoff_per_1000"] is not None for w in j["windows"])' \
    "labels: every window has its realised AUC and payoff"
check_json "$SCRATCH/labels.json" \
    'abs(sum(w["payoff"] for w in j["windows"]) - j["outcomes"]["payoff"]) < 1e-6 * abs(j["outcomes"]["payoff"])' \
    "labels: the windows' payoffs add up to the total"

# The realised payoff against what validation promised, with a strict allowance: exit 3.
expect_exit 3 "" "$LANNER" monitor lending-monitor --current second.csv --labels labels.csv --json --quiet \
    --payoff-drop-max 0 --auc-min 0.99
check_json "$SCRATCH/out" 'sorted(a["kind"] for a in j["alerts"]) == ["auc", "payoff_drop"]' \
    "strict thresholds: AUC and payoff alerts"

# The server's prediction log: scores from lanner predict, written as the server logs them.
model_path=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["model_path"])' "$SCRATCH/run.json")
"$LANNER" predict --model "$model_path" --data shifted.csv -o scores.csv --quiet
mkdir -p predictions
python3 - <<'EOF'
import csv, json
rows = list(csv.DictReader(open("shifted.csv")))
scores = list(csv.DictReader(open("scores.csv")))
with open("predictions/predictions-20260301T000000.000Z.jsonl", "w") as out:
    for i, (row, score) in enumerate(zip(rows, scores)):
        features = {}
        for k, v in row.items():
            if k == "day":
                continue
            try:
                features[k] = int(v)
            except ValueError:
                try:
                    features[k] = float(v)
                except ValueError:
                    features[k] = v
        line = {"request_id": f"r{i}", "index": 0, "time": row["day"] + "T12:00:00.000Z", "model": "lending-monitor",
                "version": 1, "features": features, "score": float(score["score"]),
                "decision": "flag" if score["flag"] == "1" else "pass"}
        out.write(json.dumps(line) + "\n")
    out.write('{"truncated": \n')
EOF
expect_exit 3 "" "$LANNER" monitor lending-monitor --current predictions --labels labels.csv --json --quiet
cp "$SCRATCH/out" "$SCRATCH/log.json"
check_json "$SCRATCH/log.json" 'j["rows"] == 4929 and len(j["windows"]) == 7' "log: every prediction read, in 7 windows"
check_json "$SCRATCH/log.json" \
    'sorted(f["name"] for f in j["features"][:2]) == ["addr_state", "funded_amnt"]' \
    "log: the shifted features come first"
check_json "$SCRATCH/log.json" 'j["outcomes"]["labeled"] == 3944' "log: labels join on the id in the features"
check "grep -q 'skipped 1 prediction log lines' '$SCRATCH/err'" "log: the truncated line is skipped with a warning"

# Errors: an unknown model, a bad window, a missing source.
expect_exit 2 "not in registry" "$LANNER" monitor nope --current second.csv
expect_exit 2 "invalid window" "$LANNER" monitor lending-monitor --current second.csv --window 3y
expect_exit 2 "" "$LANNER" monitor lending-monitor --current missing.csv
expect_exit 2 "--current" "$LANNER" monitor lending-monitor

# The HTML report is self-contained and renders.
check "grep -q '<svg' '$SCRATCH/report.html'" "HTML: inline SVG charts"
check "! grep -qi '<script' '$SCRATCH/report.html'" "HTML: no script"
check "grep -q 'Realised ROC AUC' '$SCRATCH/report.html'" "HTML: the AUC trend is drawn"
if command -v chromium >/dev/null; then
    mkdir -p "$SCRATCH/profile"
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --user-data-dir="$SCRATCH/profile" \
        --screenshot="$SCRATCH/report.png" --window-size=1200,3000 \
        "file://$SCRATCH/report.html" >"$SCRATCH/chromium.out" 2>"$SCRATCH/chromium.err" || true
    check "[ -s '$SCRATCH/report.png' ]" "chromium wrote a screenshot"
    check "[ \$(stat -c %s '$SCRATCH/report.png') -gt 50000 ]" "screenshot is more than a blank page (over 50 kB)"
else
    echo "chromium is not installed: the screenshot is not checked"
fi

finish
