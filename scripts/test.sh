#!/usr/bin/env bash
# Runs the whole test suite in release mode (numeric code is far too slow in
# debug builds). Extra arguments go to `swift test` (e.g. --filter GradCheck).
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}"
exec swift test -c release -Xswiftc -enable-testing "$@"
