#!/usr/bin/env bash
# Benchmark of the artifact format on the Fashion-MNIST training split:
# writing + reading the 50,000 x 784-pixel split as an artifact, against
# gunzipping the original files. Builds artifact-tool in release mode first.
#
#   scripts/bench-artifacts.sh [--dataset DIR] [--scratch DIR]
#
# Figures go to standard output (see docs/benchmarks.md); nothing here fails
# on slow timings.
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
esac
swift build -c release --product artifact-tool >/dev/null
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "command: scripts/bench-artifacts.sh $*"
.build/release/artifact-tool bench "$@"
