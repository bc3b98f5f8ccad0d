#!/usr/bin/env bash
# lanner against a real PostgreSQL server: the SQL type mapping with exact values, schema and head,
# a pipeline run on the churn data giving the same data hash as the CSV, connection and query
# errors with the password hidden, and a 1M-row result loaded with bounded memory.
#
# The script starts its own server on 127.0.0.1 (a free port, a temporary data folder, the socket in
# that folder) and stops it on exit. PostgreSQL does not run as root, so as root the server runs as
# the postgres system user. Local socket connections are trusted (for setup with psql); TCP
# connections need a password (scram-sha-256), which is how lanner connects.
source "$(dirname "$0")/lib.sh"

pg_bin=""
for dir in /usr/lib/postgresql/*/bin; do
    [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && pg_bin=$dir
done
[ -n "$pg_bin" ] || skip "PostgreSQL server binaries not found under /usr/lib/postgresql (apt-get install postgresql)"
command -v psql >/dev/null || skip "psql not found (apt-get install postgresql-client)"

if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || skip "running as root but there is no postgres system user to run the server"
    as_server_user() { runuser -u postgres -- "$@"; }
else
    as_server_user() { "$@"; }
fi

PGTMP=$(mktemp -d /tmp/lanner-pg.XXXXXX)
server_started=0
stop_server() {
    if [ "$server_started" -eq 1 ]; then
        as_server_user "$pg_bin/pg_ctl" -D "$PGTMP/data" -m fast -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$PGTMP" "$SCRATCH"
}
trap stop_server EXIT

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
password='Sup3r-Secret-pw'
mkdir -p "$PGTMP/sock"
[ "$(id -u)" -eq 0 ] && chown -R postgres: "$PGTMP"

as_server_user "$pg_bin/initdb" -D "$PGTMP/data" -U lanner_admin --auth-local=trust --auth-host=scram-sha-256 \
    --encoding=UTF8 --locale=C >"$PGTMP/initdb.log" 2>&1 || { cat "$PGTMP/initdb.log" >&2; exit 1; }
as_server_user "$pg_bin/pg_ctl" -D "$PGTMP/data" -l "$PGTMP/server.log" -w \
    -o "-p $port -k $PGTMP/sock -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null \
    || { cat "$PGTMP/server.log" >&2; exit 1; }
server_started=1

admin_sql() { psql -X -q -h "$PGTMP/sock" -p "$port" -U lanner_admin -d "${2:-postgres}" -v ON_ERROR_STOP=1 -c "$1"; }
admin_sql "CREATE ROLE tester LOGIN PASSWORD '$password'"
admin_sql "CREATE DATABASE lannerdb OWNER tester"
url="postgres://tester:$password@127.0.0.1:$port/lannerdb"
url_no_password="postgres://tester@127.0.0.1:$port/lannerdb"

# ---- every type mapping, with NULLs, an int8 above 2^53, numeric text and date text ----
admin_sql "CREATE TABLE types (
    i2 int2, i4 int4, i8 int8, big int8, f4 float4, f8 float8, num numeric(12,4), flag bool,
    d date, ts timestamp, tstz timestamptz, t text, vc varchar(10), bp char(3), nm name,
    digits text, day text, words text);
  INSERT INTO types VALUES
    (1, 100000, 9007199254740992, 9007199254740993, 1.5, 0.1, 12.3456, true, '2024-02-29',
     '2024-02-29 13:45:30', '2024-02-29 13:45:30+02', 'alpha', 'x', 'ab', 'n1', '42', '2024-01-01', 'NA'),
    (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL),
    (-32768, -2147483648, -9007199254740992, 1, 'NaN', 'Infinity', -0.0001, false, '1970-01-01',
     '1969-12-31 23:59:59', '1970-01-01 00:00:00+00', 'beta', 'y', 'c', 'n2', '-7', '2024-01-02', 'hello');
  ALTER TABLE types OWNER TO tester;" lannerdb

"$LANNER" schema "$url" --query "SELECT * FROM types" --json --quiet >"$SCRATCH/types_schema.json"
check_json "$SCRATCH/types_schema.json" 'j["rows"] == 3' "3 rows"
check_json "$SCRATCH/types_schema.json" \
    '[c["type"] for c in j["columns"]] == ["integer", "integer", "integer", "category", "float", "float", "float",
      "boolean", "timestamp", "timestamp", "timestamp", "category", "category", "category", "category",
      "integer", "timestamp", "category"]' \
    "SQL types map to lanner types"
check_json "$SCRATCH/types_schema.json" \
    '[c["missing"] for c in j["columns"]] == [1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2]' \
    "NULL, float NaN and the NA marker in text are missing"

"$LANNER" head "$url" --query "SELECT * FROM types" --json --quiet >"$SCRATCH/types_head.json"
check_json "$SCRATCH/types_head.json" \
    '[r["i2"] for r in j] == [1, None, -32768] and [r["i4"] for r in j] == [100000, None, -2147483648]' \
    "int2 and int4 values"
check_json "$SCRATCH/types_head.json" '[r["i8"] for r in j] == [2**53, None, -2**53]' "int8 values up to 2^53"
check_json "$SCRATCH/types_head.json" '[r["big"] for r in j] == ["9007199254740993", None, "1"]' \
    "int8 column above 2^53 keeps exact decimal text"
check_json "$SCRATCH/types_head.json" \
    '[r["f4"] for r in j] == [1.5, None, None] and [r["f8"] for r in j] == [0.1, None, "inf"]' \
    "float4 and float8 values, NaN missing, Infinity inf"
check_json "$SCRATCH/types_head.json" '[r["num"] for r in j] == [12.3456, None, -0.0001]' "numeric values"
check_json "$SCRATCH/types_head.json" '[r["flag"] for r in j] == [True, None, False]' "bool values"
check_json "$SCRATCH/types_head.json" \
    '([r["d"] for r in j] == ["2024-02-29", None, "1970-01-01"] and
      [r["ts"] for r in j] == ["2024-02-29T13:45:30Z", None, "1969-12-31T23:59:59Z"] and
      [r["tstz"] for r in j] == ["2024-02-29T11:45:30Z", None, "1970-01-01"])' \
    "date, timestamp and timestamptz in UTC"
check_json "$SCRATCH/types_head.json" \
    '([r["t"] for r in j] == ["alpha", None, "beta"] and [r["bp"] for r in j] == ["ab ", None, "c  "] and
      [r["nm"] for r in j] == ["n1", None, "n2"])' \
    "text, blank-padded char and name values"
check_json "$SCRATCH/types_head.json" \
    '[r["digits"] for r in j] == [42, None, -7] and [r["day"] for r in j] == ["2024-01-01", None, "2024-01-02"]' \
    "text holding numbers and dates is typed by inference"

expect_exit 2 "column 'payload' has SQL type jsonb" \
    "$LANNER" head "$url" --query "SELECT 1 AS id, '{}'::jsonb AS payload"
expect_exit 2 "value 'infinity'" "$LANNER" head "$url" --query "SELECT 'infinity'::timestamp AS t"
expect_exit 2 "two columns named 'x'" "$LANNER" head "$url" --query "SELECT 1 AS x, 2 AS x"
expect_exit 0 "" "$LANNER" head "$url" --query "SELECT * FROM types WHERE false;"
"$LANNER" schema "$url" --query "SELECT * FROM types WHERE false" --json --quiet >"$SCRATCH/empty.json"
check_json "$SCRATCH/empty.json" 'j["rows"] == 0 and j["columns"][0]["type"] == "integer"' "empty result keeps SQL types"

# ---- the password can come from PGPASSWORD ----
PGPASSWORD=$password "$LANNER" schema "$url_no_password" --query "SELECT i4 FROM types" --json --quiet \
    >"$SCRATCH/pgpassword.json"
check_json "$SCRATCH/pgpassword.json" 'j["rows"] == 3' "PGPASSWORD supplies the password"

# ---- errors: exit code, the server's message, and never the password ----
expect_exit 1 'relation "nope" does not exist' "$LANNER" head "$url" --query "SELECT * FROM nope"
check "! grep -q '$password' '$SCRATCH/err'" "missing-table error hides the password"
check "grep -q 'tester:\*\*\*@127.0.0.1' '$SCRATCH/err'" "missing-table error shows the redacted URL"
expect_exit 1 'syntax error' "$LANNER" head "$url" --query "SELEC 1"
check "! grep -q '$password' '$SCRATCH/err'" "syntax error hides the password"
expect_exit 1 'must be one SELECT' "$LANNER" head "$url" --query "DELETE FROM types"
expect_exit 1 'password authentication failed' \
    "$LANNER" head "postgres://tester:wrong-$password@127.0.0.1:$port/lannerdb" --query "SELECT 1 AS x"
check "! grep -q 'wrong-$password' '$SCRATCH/err' && ! grep -q '$password' '$SCRATCH/err'" \
    "bad-password error hides the password"
expect_exit 1 'cannot connect' \
    "$LANNER" head "postgres://tester:$password@127.0.0.1:1/lannerdb?password=$password" --query "SELECT 1 AS x"
check "! grep -q '$password' '$SCRATCH/err'" "connection-refused error hides both passwords"
expect_exit 2 'needs --query' "$LANNER" head "$url"

# ---- a pipeline reading the churn data from PostgreSQL gives the CSV's data hash ----
admin_sql "CREATE TABLE churn (state text, account_length int4, area_code text, international_plan text,
    voice_mail_plan text, number_vmail_messages int4, total_day_minutes float8, total_day_calls int4,
    total_day_charge float8, total_eve_minutes float8, total_eve_calls int4, total_eve_charge float8,
    total_night_minutes float8, total_night_calls int4, total_night_charge float8, total_intl_minutes float8,
    total_intl_calls int4, total_intl_charge float8, number_customer_service_calls int4, churn text,
    line bigserial);
  ALTER TABLE churn OWNER TO tester;" lannerdb
# Heap order (ctid) need not follow COPY order, so line numbers the rows in file order.
churn_columns=$(head -n 1 "$SOURCE_DIR/tests/data/mlc_churn.csv")
psql -X -q -h "$PGTMP/sock" -p "$port" -U lanner_admin -d lannerdb -v ON_ERROR_STOP=1 \
    -c "\\copy churn ($churn_columns) FROM '$SOURCE_DIR/tests/data/mlc_churn.csv' WITH (FORMAT csv, HEADER true)"

# Both variants differ only in their data source line, and use fewer trees to run fast.
mkdir -p "$SCRATCH/csv_run" "$SCRATCH/pg_run"
sed -e "s|^  csv: .*|  csv: $SOURCE_DIR/tests/data/mlc_churn.csv|" -e 's/trees: 300/trees: 20/' \
    "$SOURCE_DIR/examples/churn/pipeline.yaml" >"$SCRATCH/csv_run/pipeline.yaml"
sed -e "s|^  csv: .*|  postgres: \"$url\"\n  query: SELECT $churn_columns FROM churn ORDER BY line|" -e 's/trees: 300/trees: 20/' \
    "$SOURCE_DIR/examples/churn/pipeline.yaml" >"$SCRATCH/pg_run/pipeline.yaml"
check "grep -q '^  postgres: ' '$SCRATCH/pg_run/pipeline.yaml'" "pipeline variant reads PostgreSQL"
for variant in csv_run pg_run; do
    "$LANNER" run "$SCRATCH/$variant/pipeline.yaml" --runs-dir "$SCRATCH/$variant/runs" --no-register --json \
        --quiet >"$SCRATCH/$variant/metrics.json" 2>"$SCRATCH/$variant/stderr" \
        || fail "$variant pipeline run failed: $(cat "$SCRATCH/$variant/stderr")"
done
csv_hash=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["lineage"]["data_hash"])' \
    "$SCRATCH/csv_run/metrics.json" 2>/dev/null || echo none)
check_json "$SCRATCH/pg_run/metrics.json" "j['lineage']['data_hash'] == '$csv_hash'" \
    "churn from PostgreSQL has the CSV's data hash ($csv_hash)"
check_json "$SCRATCH/pg_run/metrics.json" \
    'j["lineage"]["data_source"].startswith("postgres postgres://tester:***@127.0.0.1")' \
    "lineage names the redacted URL"
check "! grep -q '$password' '$SCRATCH/pg_run/metrics.json' '$SCRATCH/pg_run/stderr'" \
    "metrics and messages never contain the password"
check "! grep -rq '$password' '$SCRATCH/pg_run/runs'" "the run folder's copy of the pipeline has no password"
check "grep -rq 'tester:\*\*\*@' '$SCRATCH/pg_run/runs'" "the run folder's copy keeps the redacted URL"

# ---- a large result streams through the cursor ----
admin_sql "CREATE TABLE large AS SELECT g AS id, g * 0.5 AS amount, (g % 7)::text AS bucket,
    'row-' || g AS label FROM generate_series(1, 1000000) AS g; ALTER TABLE large OWNER TO tester;" lannerdb
peak_kb() { awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$1"; }
/usr/bin/time -v "$LANNER" schema "$url" --query "SELECT * FROM large" --json --quiet \
    >"$SCRATCH/large.json" 2>"$SCRATCH/large.time"
check_json "$SCRATCH/large.json" \
    'j["rows"] == 1000000 and [c["type"] for c in j["columns"]] == ["integer", "float", "integer", "text"]' \
    "1M rows with their types"
/usr/bin/time -v "$LANNER" schema "$url" --query "SELECT id, amount, bucket FROM large" --json --quiet \
    >"$SCRATCH/numeric.json" 2>"$SCRATCH/numeric.time"
/usr/bin/time -v "$LANNER" schema "$url" --query "SELECT 1 AS x" --json --quiet >/dev/null 2>"$SCRATCH/tiny.time"
text_mb=$(psql -X -At -h "$PGTMP/sock" -p "$port" -U lanner_admin -d lannerdb \
    -c "SELECT round(sum(length(id::text) + length(amount::text) + length(bucket)) / 1048576.0) FROM large")
all_kb=$(peak_kb "$SCRATCH/large.time")
numeric_kb=$(peak_kb "$SCRATCH/numeric.time")
tiny_kb=$(peak_kb "$SCRATCH/tiny.time")
echo "postgres: 1M rows; peak RSS: 1-row query $((tiny_kb / 1024)) MB, 3 numeric columns" \
    "$((numeric_kb / 1024)) MB (table 24 MB, result text $text_mb MB), with a 1M-distinct text column" \
    "$((all_kb / 1024)) MB"
# Three numeric columns of 1M rows are 24 MB of doubles. Holding the whole result as one PGresult
# would add the text plus about 16 bytes per value (psql needs about 100 MB for it), so a peak within
# 16 MB of the table shows the rows were streamed. Sanitizer builds keep freed memory, so skip there.
if ldd "$LANNER" 2>/dev/null | grep -q 'libasan'; then
    echo "postgres: sanitizer build, peak memory check skipped"
else
    check "[ $((numeric_kb - tiny_kb)) -lt $(( (24 + 16) * 1024 )) ]" \
        "1M-row numeric load stays within 16 MB of its 24 MB table ($(( (numeric_kb - tiny_kb) / 1024 )) MB)"
fi

finish
