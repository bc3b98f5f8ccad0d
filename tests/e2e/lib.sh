# Helpers for the end-to-end tests. Source it after setting nothing; it reads $1 (the lanner
# binary) and $2 (the source folder) and makes a scratch folder that is removed on exit.
set -euo pipefail

LANNER=$1
SOURCE_DIR=$2
SCRATCH=$(mktemp -d)
trap 'rm -rf "$SCRATCH"' EXIT
TEST_NAME=$(basename "$0" .sh)
failures=0
checks=0

fail() {
    echo "FAIL [$TEST_NAME]: $*" >&2
    failures=$((failures + 1))
}

# check_json FILE PYTHON_EXPRESSION MESSAGE: the expression sees the parsed JSON as `j`.
check_json() {
    checks=$((checks + 1))
    if ! python3 -c 'import json,sys,math; j=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' \
        "$1" "$2"; then
        fail "$3 (expression: $2; file: $(head -c 2000 "$1"))"
    fi
}

# expect_exit CODE PATTERN COMMAND...: runs the command, checks its exit code and that stderr
# is one line matching PATTERN (an extended regular expression).
expect_exit() {
    local want=$1 pattern=$2
    shift 2
    checks=$((checks + 1))
    local got=0
    "$@" >"$SCRATCH/out" 2>"$SCRATCH/err" || got=$?
    if [ "$got" -ne "$want" ]; then
        fail "expected exit $want, got $got from: $* (stderr: $(cat "$SCRATCH/err"))"
        return
    fi
    if [ -n "$pattern" ] && ! grep -Eq -- "$pattern" "$SCRATCH/err"; then
        fail "stderr of '$*' does not match '$pattern': $(cat "$SCRATCH/err")"
        return
    fi
    # A failure prints exactly one error line; logs, warnings and a "Try ... --help" hint may go with it.
    local error_lines
    error_lines=$(grep -Ec '^lanner( [a-z]+)?: error: ' "$SCRATCH/err" || true)
    if [ "$want" -ne 0 ] && [ "$error_lines" -ne 1 ]; then
        fail "stderr of '$*' should be one error line, found $error_lines: $(cat "$SCRATCH/err")"
    fi
}

check() {
    checks=$((checks + 1))
    if ! eval "$1"; then
        fail "$2 (check: $1)"
    fi
}

finish() {
    if [ "$failures" -ne 0 ]; then
        echo "$TEST_NAME: $failures of $checks checks failed" >&2
        exit 1
    fi
    echo "$TEST_NAME: $checks checks passed"
}

skip() {
    echo "SKIP [$TEST_NAME]: $*"
    exit 77
}
