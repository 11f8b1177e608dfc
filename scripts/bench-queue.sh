#!/usr/bin/env bash
# Job-queue throughput: N trivial jobs drained by P queue-worker processes
# (each job = one claim transaction + one complete transaction), for the WAL
# and the rollback journal. Prints claims+completions per second.
#
#   scripts/bench-queue.sh [JOBS [PROCESSES]]     defaults: 20000 jobs, 4 processes
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${1:-20000}"
processes="${2:-4}"
case "$jobs$processes" in *[!0-9]*) echo "bench-queue.sh: JOBS and PROCESSES must be whole numbers" >&2; exit 2 ;; esac

swift build -c release --product campaign >/dev/null
swift build -c release --product queue-worker >/dev/null
bin="$(swift build -c release --show-bin-path)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

for journal in wal delete; do
    db="$work/bench-$journal.sqlite"
    sed "s/\"journal\": \"wal\"/\"journal\": \"$journal\"/" pipelines/default.json > "$work/pipeline-$journal.json"
    "$bin/campaign" init --pipeline "$work/pipeline-$journal.json" --db "$db" >/dev/null
    "$bin/queue-worker" --db "$db" --seed "$jobs" --max-jobs 0 >/dev/null || [ $? -eq 75 ]
    start=$(date +%s.%N)
    pids=()
    for i in $(seq 1 "$processes"); do
        "$bin/queue-worker" --db "$db" --worker-id "bench$i" >"$work/w$i.log" 2>&1 &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do wait "$pid"; done
    end=$(date +%s.%N)
    done_count=$("$bin/campaign" status --db "$db" | sed -n 's/^  queue-worker: .*done \([0-9]*\),.*/\1/p')
    [ "$done_count" -eq "$jobs" ] || { echo "bench-queue.sh: only $done_count of $jobs jobs done" >&2; exit 1; }
    awk -v n="$jobs" -v p="$processes" -v j="$journal" -v s="$start" -v e="$end" \
        'BEGIN { printf "%-6s %d jobs, %d processes: %.2f s, %.0f claims+completions/s\n", j, n, p, e - s, n / (e - s) }'
done
