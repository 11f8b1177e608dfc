#!/usr/bin/env bash
# Runs the whole test suite: the Swift tests in release mode (numeric code is
# far too slow in debug builds), then the scheduler tests (shellcheck, the
# cron tick, a real single-node Slurm; scripts/test-schedulers.sh, which
# needs root to install Slurm). Extra arguments go to `swift test` only and
# skip the scheduler tests (e.g. scripts/test.sh --filter GradCheck).
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}"
# Storage the kernels take without zero-filling starts as NaN, in the tests
# and in the stages they run, so a kernel that leaves an element unwritten
# fails instead of passing on fresh (zero) pages.
export GTN_POISON_UNINITIALIZED=1
swift build -c release -Xswiftc -enable-testing --build-tests
# The kernel tests run under the OpenBLAS kernel family the stages choose on
# this CPU (old OpenBLAS builds compute wrongly with some families on some
# CPUs); a family set by the user is kept.
if [ -z "${OPENBLAS_CORETYPE:-}" ]; then
    OPENBLAS_CORETYPE=$(.build/release/gtn-bench blas | sed -n 's/^machine: .*OpenBLAS \([A-Za-z0-9]*\) kernels.*/\1/p')
    export OPENBLAS_CORETYPE
fi
echo "test: OpenBLAS kernels $OPENBLAS_CORETYPE, $OPENBLAS_NUM_THREADS threads"
swift test -c release -Xswiftc -enable-testing --skip-build "$@"
if [ "$#" -eq 0 ]; then
    scripts/test-schedulers.sh
fi
