#!/usr/bin/env bash
# Benchmarks of the numerical core (release build): kernel GFLOP/s against the
# machine's sgemm, then wall time and peak memory of one full meta-gradient
# for T = 8 and T = 32, without and with recompute (one process per case,
# since peak memory is per process). Figures go into docs/benchmarks.md.
#
#   scripts/bench-core.sh            all cases
#   scripts/bench-core.sh kernels    kernels only
set -euo pipefail
cd "$(dirname "$0")/.."
export OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-2}"
swift build -c release --product gtn-bench >/dev/null
bench=.build/release/gtn-bench
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$bench" kernels
[ "${1:-all}" = kernels ] && exit 0
for steps in 8 32; do
    for block in 0 4; do
        "$bench" metagrad --steps "$steps" --block "$block" | tail -n +2
    done
done
