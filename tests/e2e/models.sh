#!/usr/bin/env bash
# lanner models and lanner lineage on a registry holding three churn runs: listing, showing,
# promoting, rolling back, the audit log, diffs, lineage, JSON output, damaged model files,
# and a registry that stays consistent when promote and rollback are killed mid-change.
source "$(dirname "$0")/lib.sh"

pipeline=$SOURCE_DIR/examples/churn/pipeline.yaml
data=$SOURCE_DIR/tests/data/mlc_churn.csv
db=$SCRATCH/lanner.db
export USER=e2e-tester

for run in 1 2; do
    "$LANNER" run "$pipeline" --data "$data" --registry "$db" --runs-dir "$SCRATCH/runs" --quiet >/dev/null
done

# json_field FILE PYTHON_EXPRESSION: prints the expression's value, the parsed JSON being `j`.
json_field() {
    python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"
}

models() {
    "$LANNER" models "$@" --registry "$db"
}

# ---- usage ----

expect_exit 2 'missing command' "$LANNER" models
expect_exit 2 "unknown command 'frob'" "$LANNER" models frob
expect_exit 0 '' "$LANNER" models --help
check "grep -q 'promote NAME@VERSION' '$SCRATCH/out'" "models --help lists promote"
for sub in list show promote rollback history diff; do
    expect_exit 0 '' "$LANNER" models "$sub" --help
    check "grep -q '^Usage: lanner models $sub' '$SCRATCH/out'" "models $sub --help prints its usage"
done
expect_exit 0 '' "$LANNER" lineage --help
expect_exit 2 'has no version' models promote churn
expect_exit 2 "invalid version 'x'" models show churn@x
expect_exit 2 "invalid version '0'" models show churn@0
expect_exit 2 'goes with promote and rollback only' models history churn --reason why
expect_exit 2 'expected NAME@A NAME@B' models diff churn@1
expect_exit 2 'registry .*nowhere.db not found' "$LANNER" models list --registry "$SCRATCH/nowhere.db"
check "[ ! -e '$SCRATCH/nowhere.db' ]" "a missing registry is not created by a read"
expect_exit 2 "model 'nosuch' is not in registry" models show nosuch

# ---- list and show ----

expect_exit 0 '' models list
check "grep -Eq '^churn +- +2 +2\$' '$SCRATCH/out'" "list shows churn: no production, newest 2, 2 versions"
models list --json >"$SCRATCH/list.json"
check_json "$SCRATCH/list.json" 'j["models"] == [{"name": "churn", "production_version": None, "newest_version": 2, "versions": 2}]' \
    "list --json summarises churn"

expect_exit 0 '' models list churn
check "[ \$(grep -Ec '^[12] +candidate ' '$SCRATCH/out') -eq 2 ]" "list churn shows 2 candidate versions"
models list churn --json >"$SCRATCH/versions.json"
check_json "$SCRATCH/versions.json" '[v["version"] for v in j["versions"]] == [2, 1]' "versions listed newest first"
check_json "$SCRATCH/versions.json" 'all(v["test_auc"] > 0.85 and v["test_payoff"] > 0 for v in j["versions"])' \
    "each version carries its test AUC and payoff"
check_json "$SCRATCH/versions.json" 'len(j["versions"][0]["data_hash"]) == 32' "list --json holds the full data hash"

expect_exit 0 '' models show churn@1
check "grep -q '^churn version 1 (candidate)' '$SCRATCH/out'" "show names version and stage"
check "grep -Eq '^  number_customer_service_calls +integer\$' '$SCRATCH/out'" "show lists features with types"
check "grep -Eq '^  payoff of rule in use +[0-9]' '$SCRATCH/out'" "show prints the rule's payoff"
models show churn@1 --json >"$SCRATCH/show1.json"
check_json "$SCRATCH/show1.json" 'j["version"] == 1 and j["stage"] == "candidate" and j["parent_version"] is None' \
    "show --json: version, stage, parent"
check_json "$SCRATCH/show1.json" 'len(j["features"]) == 19 and {"name": "state", "type": "category"} in j["features"]' \
    "show --json: 19 features with types"
check_json "$SCRATCH/show1.json" '0 < j["test"]["threshold"] < 1 and j["test"]["auc"] > 0.85' \
    "show --json: threshold and AUC"
check_json "$SCRATCH/show1.json" 'j["model_error"] is None and j["model_path"].startswith("/")' \
    "show --json: model loaded from an absolute path"
models show churn --json >"$SCRATCH/show_default.json"
check_json "$SCRATCH/show_default.json" 'j["version"] == 2' "show without production picks the newest version"

# ---- promote, rollback, history ----

expect_exit 0 '' models promote churn@1 --reason "beats the rule on test"
check "grep -qx 'churn: production none -> 1' '$SCRATCH/out'" "promote prints the change"
models history churn --json >"$SCRATCH/history.json"
check_json "$SCRATCH/history.json" 'j["entries"][0]["action"] == "promote" and j["entries"][0]["version"] == 1' \
    "history: newest row is the promotion"
check_json "$SCRATCH/history.json" 'j["entries"][0]["reason"] == "beats the rule on test" and j["entries"][0]["user"] == "e2e-tester"' \
    "history: the promotion keeps reason and user"
check_json "$SCRATCH/history.json" '[e["action"] for e in j["entries"]] == ["promote", "register", "register"]' \
    "history: one row per change"
expect_exit 0 '' models history churn
check "grep -Eq ' promote +1  beats the rule on test\$' '$SCRATCH/out'" "history text shows the reason"

models promote churn@2 --json >"$SCRATCH/promote2.json"
check_json "$SCRATCH/promote2.json" 'j["previous_production"] == 1 and j["production"] == 2' "promote --json names both versions"
expect_exit 2 'already in production' models promote churn@2
expect_exit 0 '' models rollback churn --reason "check version 1 again"
check "grep -qx 'churn: production 2 -> 1' '$SCRATCH/out'" "rollback returns production to 1"
models show churn --json >"$SCRATCH/show_production.json"
check_json "$SCRATCH/show_production.json" 'j["version"] == 1 and j["stage"] == "production"' "show picks the production version"
expect_exit 2 'no earlier production version' models rollback churn
expect_exit 2 "version 9 of model 'churn' not found" models promote churn@9
expect_exit 2 '' models rollback churn@1

# ---- diff and lineage ----

expect_exit 0 '' models diff churn@1 churn@2
check "grep -Eq '^data hash +same: [0-9a-f]{32}\$' '$SCRATCH/out'" "diff: same data, same data hash"
check "grep -Eq '^pipeline hash +same: ' '$SCRATCH/out'" "diff: same pipeline hash"
check "grep -Eq '^  added in B +none\$' '$SCRATCH/out'" "diff: no features added"
models diff churn@1 churn@2 --json >"$SCRATCH/diff.json"
check_json "$SCRATCH/diff.json" 'j["data_hash_equal"] and j["pipeline_hash_equal"] and j["lanner_version_equal"]' \
    "diff --json: hashes and versions equal"
check_json "$SCRATCH/diff.json" 'j["metrics"]["auc"]["a"] == j["metrics"]["auc"]["b"] and j["metrics"]["auc"]["change"] == 0' \
    "diff --json: same seed, same test AUC"
check_json "$SCRATCH/diff.json" 'j["features_added"] == [] and j["features_removed"] == [] and j["a"]["features"] == 19' \
    "diff --json: same features"

data_hash=$(json_field "$SCRATCH/show1.json" 'j["data_hash"]')
run_dir=$(json_field "$SCRATCH/show1.json" 'j["run_dir"]')
expect_exit 0 '' "$LANNER" lineage churn@1 --registry "$db"
check "grep -q '$data_hash' '$SCRATCH/out'" "lineage prints the data hash"
check "grep -q '^run  *$run_dir\$' '$SCRATCH/out'" "lineage prints the run folder"
check "grep -qx 'consumers  none declared' '$SCRATCH/out'" "lineage states no consumers"
"$LANNER" lineage churn --registry "$db" --json >"$SCRATCH/lineage.json"
check_json "$SCRATCH/lineage.json" "j['data']['hash'] == '$data_hash' and j['run']['dir'] == '$run_dir'" \
    "lineage --json: data hash and run folder"
check_json "$SCRATCH/lineage.json" 'j["registry"]["version"] == 1 and j["registry"]["stage"] == "production" and j["consumers"] == []' \
    "lineage --json: production version 1, no consumers"

# ---- damaged model files ----

# production_is VERSION MESSAGE: checks the production version through list, which reads no model file.
# Two runs within the same second write byte-identical models, which the registry stores once, so
# damaging version 2's file may damage version 1 as well.
production_is() {
    models list --json >"$SCRATCH/production.json"
    check_json "$SCRATCH/production.json" "j['models'][0]['production_version'] == $1" "$2"
}

stored=$(json_field "$SCRATCH/show_default.json" 'j["model_path"]')
cp "$stored" "$SCRATCH/intact.lnr"
truncate -s 100 "$stored"
expect_exit 1 'cannot promote churn version 2; the registry is unchanged: .* is damaged' models promote churn@2
production_is 1 "production unchanged after a rejected promotion"
expect_exit 1 'is damaged' models show churn@2
check "grep -q '^churn version 2 ' '$SCRATCH/out'" "show prints the registry record of a damaged version"
models show churn@2 --json >"$SCRATCH/show_damaged.json" 2>/dev/null || true
check_json "$SCRATCH/show_damaged.json" 'j["features"] is None and "damaged" in j["model_error"]' \
    "show --json reports the damaged model file"
expect_exit 1 'is damaged' models diff churn@1 churn@2
rm "$stored"
expect_exit 1 'is missing' models promote churn@2
production_is 1 "production unchanged after promoting a missing file"
cp "$SCRATCH/intact.lnr" "$stored"

# A file that matches its registered hash but is no model passes the hash check and fails to load.
# Version 3 is pointed at such a file, leaving the shared stored files alone.
"$LANNER" run "$pipeline" --data "$data" --registry "$db" --runs-dir "$SCRATCH/runs" --quiet >/dev/null
head -c 100 "$stored" >"$SCRATCH/models/not-a-model.lnr"
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("UPDATE versions SET model_path = ? WHERE version = 3", ("models/not-a-model.lnr",)); c.commit()' "$db"
new_sha=$("$LANNER" models promote churn@3 --registry "$db" 2>&1 | sed -n 's/.*hash is \([0-9a-f]*\),.*/\1/p' || true)
python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("UPDATE versions SET model_sha = ? WHERE version = 3", (sys.argv[2],)); c.commit()' \
    "$db" "$new_sha"
expect_exit 1 'stored model of .churn. version 3 cannot be loaded' models promote churn@3
production_is 1 "production unchanged after an unloadable model"

# Rollback checks the version it would restore: with 1 then 2 promoted, damage version 1.
expect_exit 0 '' models promote churn@2
stored1=$(json_field "$SCRATCH/show1.json" 'j["model_path"]')
cp "$stored1" "$SCRATCH/intact1.lnr"
truncate -s 100 "$stored1"
expect_exit 1 'cannot roll back to churn version 1; the registry is unchanged' models rollback churn
production_is 2 "production unchanged after a rejected rollback"
cp "$SCRATCH/intact1.lnr" "$stored1"
cp "$SCRATCH/intact.lnr" "$stored"

# ---- crash safety: promote and rollback killed at random moments ----

# consistent DB: integrity_check is ok, each model has at most one production version, and the
# production version is the top of the promote/rollback stack recorded in the audit log.
cat >"$SCRATCH/consistent.py" <<'EOF'
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
problems = []
integrity = c.execute("PRAGMA integrity_check").fetchall()
if integrity != [("ok",)]:
    problems.append(f"integrity_check: {integrity}")
for name, count in c.execute("SELECT name, count(*) FROM versions WHERE stage = 'production' GROUP BY name"):
    if count > 1:
        problems.append(f"{name} has {count} production versions")
for (name,) in c.execute("SELECT name FROM models").fetchall():
    rows = c.execute("SELECT action, version FROM audit WHERE name = ? AND action IN ('promote', 'rollback')"
                     " ORDER BY id", (name,)).fetchall()
    stack = []
    for action, version in rows:
        if action == "promote":
            stack.append(version)
        else:
            stack.pop()
            if not stack or stack[-1] != version:
                problems.append(f"{name}: rollback row names {version}, stack is {stack}")
    production = [v for (v,) in c.execute("SELECT version FROM versions WHERE name = ? AND stage = 'production'", (name,))]
    if production != stack[-1:]:
        problems.append(f"{name}: production {production}, audit log says {stack[-1:]}")
if problems:
    sys.exit("; ".join(problems))
EOF

killed=0
completed=0
for i in $(seq 1 30); do
    if [ $((RANDOM % 2)) -eq 0 ]; then
        "$LANNER" models promote "churn@$((RANDOM % 3 + 1))" --reason "kill test $i" --registry "$db" \
            >/dev/null 2>&1 &
    else
        "$LANNER" models rollback churn --reason "kill test $i" --registry "$db" >/dev/null 2>&1 &
    fi
    pid=$!
    sleep "$(printf '0.%03d' $((RANDOM % 21)))"
    kill -KILL "$pid" 2>/dev/null || true
    status=0
    wait "$pid" 2>/dev/null || status=$?
    if [ "$status" -eq 137 ]; then killed=$((killed + 1)); else completed=$((completed + 1)); fi

    check "python3 '$SCRATCH/consistent.py' '$db'" "registry consistent after kill $i"
    check "'$LANNER' models show churn --registry '$db' >/dev/null 2>&1" "production model loads after kill $i"
    count=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM versions WHERE stage = '"'production'"'").fetchone()[0])' "$db")
    check "[ '$count' -eq 1 ]" "exactly one production version after kill $i"
done
echo "$TEST_NAME: kill test: $killed runs killed, $completed finished before the kill"

finish
