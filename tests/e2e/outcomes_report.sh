#!/usr/bin/env bash
# The Lending Club report renders in headless Chromium without script errors. Skips (exit 77) when
# chromium is not installed.
source "$(dirname "$0")/lib.sh"

command -v chromium >/dev/null || skip "chromium is not installed"

"$LANNER" run "$SOURCE_DIR/examples/lending-club/pipeline.yaml" --data "$SOURCE_DIR/tests/data/lending_club.csv" \
    --runs-dir "$SCRATCH/runs" --no-register --json --quiet >"$SCRATCH/run.json"
report=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["report_path"])' "$SCRATCH/run.json")

mkdir -p "$SCRATCH/profile"
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
    --disable-component-update --disable-sync --no-first-run --user-data-dir="$SCRATCH/profile" \
    --screenshot="$SCRATCH/report.png" --window-size=1200,4000 --enable-logging=stderr --v=0 \
    "file://$report" >"$SCRATCH/chromium.out" 2>"$SCRATCH/chromium.err" || true

check "[ -s '$SCRATCH/report.png' ]" "chromium wrote a screenshot"
check "[ \$(stat -c %s '$SCRATCH/report.png') -gt 100000 ]" "screenshot is more than a blank page (over 100 kB)"
check "head -c 8 '$SCRATCH/report.png' | od -An -tx1 | grep -q '89 50 4e 47'" "screenshot is a PNG"
check "! grep -Eq 'Uncaught|CONSOLE\\(|console\\.error' '$SCRATCH/chromium.err'" \
    "no script or console error while rendering: $(grep -E 'Uncaught|CONSOLE' "$SCRATCH/chromium.err" | head -3)"

finish
