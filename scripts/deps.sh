#!/usr/bin/env bash
# Installs the Debian packages lanner needs to build and test, when missing.
# As root it runs apt-get; otherwise it prints the exact command to run.
# Usage: scripts/deps.sh [build|test]   (test adds what the test suite needs)
set -euo pipefail

build_packages=(
    cmake make gcc pkg-config
    libyaml-dev libjansson-dev libsqlite3-dev zlib1g-dev libzstd-dev libxxhash-dev
    libmicrohttpd-dev libpq-dev libcurl4-openssl-dev
)
test_packages=(libcmocka-dev sqlite3 python3 curl time postgresql chromium)

wanted=("${build_packages[@]}")
if [ "${1:-build}" = test ]; then
    wanted+=("${test_packages[@]}")
fi

missing=()
for package in "${wanted[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)
    if [ "$status" != "install ok installed" ]; then
        missing+=("$package")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
    echo "lanner needs these Debian packages; install them with:" >&2
    echo "  sudo apt-get install -y ${missing[*]}" >&2
    exit 1
fi

echo "Installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
