#!/usr/bin/env bash
# lanner schema and lanner head on a CSV file and an SQLite query: the types match the data
# set's documentation, JSON output parses, and bad sources fail with exit code 2.
source "$(dirname "$0")/lib.sh"

loans=$SOURCE_DIR/tests/data/lending_club.csv

"$LANNER" schema "$loans" --json --quiet >"$SCRATCH/schema.json"
check_json "$SCRATCH/schema.json" 'j["rows"] == 9857 and len(j["columns"]) == 23' "9,857 rows x 23 columns"
check_json "$SCRATCH/schema.json" \
    'sum(c["type"] in ("integer", "float") for c in j["columns"]) == 17' "17 numeric columns"
check_json "$SCRATCH/schema.json" \
    '[c["name"] for c in j["columns"] if c["type"] == "category"] == ["term", "sub_grade", "addr_state", "verification_status", "emp_length", "Class"]' \
    "6 category columns"
check_json "$SCRATCH/schema.json" '[c["distinct"] for c in j["columns"] if c["name"] == "sub_grade"] == [35]' \
    "sub_grade has 35 levels"
check_json "$SCRATCH/schema.json" 'all(c["missing"] == 0 for c in j["columns"])' "no missing values"

"$LANNER" schema "$loans" --quiet >"$SCRATCH/schema.txt"
check "grep -Eq '^int_rate +float +0 +- +13.99\$' '$SCRATCH/schema.txt'" "text schema line for int_rate"

"$LANNER" head "$loans" -n 3 --quiet >"$SCRATCH/head.txt"
check "[ \$(wc -l <'$SCRATCH/head.txt') -eq 4 ]" "head -n 3 prints a header and 3 rows"
check "head -2 '$SCRATCH/head.txt' | tail -1 | grep -q '^16100	term_36	13.99	C4	'" "first row as parsed"

"$LANNER" head "$loans" -n 2 --json --quiet >"$SCRATCH/head.json"
check_json "$SCRATCH/head.json" 'j[1]["funded_amnt"] == 32000 and j[1]["Class"] == "good"' "head --json values"

sqlite3 "$SCRATCH/w.db" "CREATE TABLE t(id INTEGER, amount REAL, country TEXT, created TEXT);
    INSERT INTO t VALUES (1, 10.5, 'US', '2026-01-02'), (2, NULL, 'CA', '2026-01-03 10:00:00'), (3, 7, NULL, NULL);"
"$LANNER" schema "sqlite:$SCRATCH/w.db" --query "SELECT * FROM t" --json --quiet >"$SCRATCH/sql.json"
check_json "$SCRATCH/sql.json" '[c["type"] for c in j["columns"]] == ["integer", "float", "category", "timestamp"]' \
    "SQLite column types"
check_json "$SCRATCH/sql.json" '[c["missing"] for c in j["columns"]] == [0, 1, 1, 1]' "SQL NULL is missing"

expect_exit 2 'give --query' "$LANNER" schema "sqlite:$SCRATCH/w.db"
expect_exit 1 'no such table' "$LANNER" head "sqlite:$SCRATCH/w.db" --query "SELECT * FROM nope"
expect_exit 1 'more than one statement .*DELETE FROM t' "$LANNER" head "sqlite:$SCRATCH/w.db" --query "SELECT * FROM t; DELETE FROM t"
check "[ \$(sqlite3 '$SCRATCH/w.db' 'select count(*) from t') -eq 3 ]" "a second statement never runs"
"$LANNER" head "sqlite:$SCRATCH/w.db" --query "SELECT * FROM t;  " -n 1 --quiet >/dev/null
check "[ \$? -eq 0 ]" "a trailing semicolon is accepted"
expect_exit 2 'missing\.csv' "$LANNER" head "$SCRATCH/missing.csv"
expect_exit 2 '\-n must be' "$LANNER" head "$loans" -n x

finish
