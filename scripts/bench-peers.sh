#!/usr/bin/env bash
# Times one GTN meta-iteration of this project beside the Python peer
# implementations of the same computation (JAX and PyTorch, e.g.
# ../shared/peers/ with its venv), alternating the three within each round,
# and prints each one's median seconds per meta-iteration, peak memory and
# the ratio this project / peer. Release build; both cores (2 BLAS threads).
#
#   scripts/bench-peers.sh PEERS_DIR PYTHON [small|paper|all] [ROUNDS]
#
# PEERS_DIR  folder holding gtn_jax.py and gtn_torch.py (no default: the
#            peers are not part of this project)
# PYTHON     the interpreter with jax and torch installed
# small      T 16, generator batch 64, width 0.25, meta batch 128, no recompute
#            (like PyTorch's; it needs less memory than either peer) (default: all)
# paper      T 32, generator batch 128, width 1, meta batch 128, recompute blocks of 4
# sgd        one first-order SGD-with-momentum step of the paper's learner on
#            real batches of 64 (what real-evaluate does), against PyTorch only
# ROUNDS     alternating rounds (default 3); the figure is the median over rounds
#            of each run's own per-iteration median (warm-up excluded)
set -euo pipefail
if [ $# -lt 2 ] || [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then
    sed -n '2,19p' "$0"
    [ $# -ge 2 ] && exit 0 || exit 2
fi
peers=$(cd "$1" && pwd) python=$2 which=${3:-all} rounds=${4:-3}
for file in gtn_jax.py gtn_torch.py; do
    [ -f "$peers/$file" ] || { echo "bench-peers: $peers/$file does not exist" >&2; exit 2; }
done
"$python" -c 'import jax, torch' 2>/dev/null || { echo "bench-peers: $python cannot import jax and torch" >&2; exit 2; }
cd "$(dirname "$0")/.."
swift build -c release --product gtn-bench >/dev/null
bench=$(pwd)/.build/release/gtn-bench
export OPENBLAS_NUM_THREADS=2
echo "date: $(date -u +%Y-%m-%dT%H:%MZ)  commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $("$bench" blas)"

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# One timed run: prints "SECONDS_PER_ITERATION PEAK_MIB".
run_project() {  # T B WIDTH ITERATIONS RECOMPUTE_BLOCK
    local out seconds
    out=$("$bench" metatrain --steps "$1" --batch "$2" --width "$3" --iterations "$4" --block "$5" --clip 1 --seed 0)
    # The first iterations page in fresh memory; like the peers, take the median of the rest.
    seconds=$(grep -E '^iteration ' <<<"$out" | awk '{ print $(NF - 1) }' | tail -n +3 | median)
    echo "$seconds $(grep -oE 'peak memory [0-9]+' <<<"$out" | awk '{ print $3 }')"
}
run_peer() {  # jax|torch T B WIDTH ITERATIONS
    local out
    out=$("$python" "$peers/gtn_$1.py" -T "$2" -B "$3" --width-mult "$4" --meta-iters "$5" --time-only --log-every 1000 2>&1)
    echo "$(grep -oE 'median [0-9.]+' <<<"$out" | head -1 | awk '{ print $2 }') $(grep -oE 'peak RSS [0-9]+' <<<"$out" | awk '{ print $3 }')"
}

# One SGD step of the paper's learner, batch 64, on real batches: this
# project's real-data training path (median over 35 steps after 5 warm-up
# steps), and the peer's own first-order unroll (train_on_batches; the time
# of 41 steps less that of 1, over 40, so the learner's initialisation is
# left out). Each prints seconds per step.
run_project_sgd() {
    "$bench" sgdstep --batch 64 --width 1 --steps 40 | grep -oE 'median [0-9.]+' | awk '{ print $2 }'
}
run_torch_sgd() {
    PEERS="$peers" "$python" - <<'PY'
import os, sys, time
sys.path.insert(0, os.environ["PEERS"])
import gtn_common as C
C.set_thread_env(2)
import gtn_torch
import torch
args = C.make_parser("torch").parse_args(["-T", "40", "-B", "64", "--width-mult", "1.0"])
F_ = gtn_torch.build(args)
data = C.load_fashion_mnist()
x = torch.as_tensor(data["train_x"][:41 * 64]).reshape(41, 64, 1, 28, 28).float()
y = torch.nn.functional.one_hot(torch.as_tensor(data["train_y"][:41 * 64]).long(), 10).float().reshape(41, 64, 10)
log_lr, log_mom = torch.full((41,), -4.6), torch.full((41,), -0.1)
def unroll(steps):   # the peer's first-order unroll: learner initialisation, then `steps` SGD steps
    start = time.perf_counter()
    F_["train_on_batches"](0, x[:steps], y[:steps], log_lr[:steps], log_mom[:steps])
    return time.perf_counter() - start
unroll(5)   # warm-up
# Per step without the initialisation: the difference of 41 steps and 1, over 40.
print((unroll(41) - unroll(1)) / 40)
PY
}

compare_sgd() {
    local round ours theirs project_times="" torch_times=""
    for ((round = 1; round <= rounds; round++)); do
        ours=$(run_project_sgd) theirs=$(run_torch_sgd)
        echo "  sgd round $round: project ${ours} s/step, torch ${theirs} s/step"
        project_times+="$ours"$'\n' torch_times+="$theirs"$'\n'
    done
    ours=$(median <<<"${project_times%$'\n'}") theirs=$(median <<<"${torch_times%$'\n'}")
    echo "sgd (paper learner, width 1, batch 64), median of $rounds rounds:"
    printf '  project  %8.4f s/step\n  torch    %8.4f s/step   project/torch = %.2f\n' "$ours" "$theirs" \
        "$(awk -v a="$ours" -v b="$theirs" 'BEGIN { print a / b }')"
}

compare() {  # NAME T B WIDTH ITERATIONS RECOMPUTE_BLOCK (this project's)
    local name=$1 round impl result
    declare -A seconds memory
    for ((round = 1; round <= rounds; round++)); do
        for impl in project jax torch; do
            if [ "$impl" = project ]; then result=$(run_project "$2" "$3" "$4" "$5" "$6"); else result=$(run_peer "$impl" "$2" "$3" "$4" "$5"); fi
            echo "  $name round $round $impl: ${result% *} s/iteration, peak ${result#* } MiB"
            seconds[$impl]+="${result% *}"$'\n' memory[$impl]=${result#* }
        done
    done
    local ours
    ours=$(median <<<"${seconds[project]%$'\n'}")
    echo "$name (T $2, batch $3, width $4), median of $rounds rounds:"
    printf '  %-8s %8.3f s/iteration  peak %6s MiB\n' project "$ours" "${memory[project]}"
    for impl in jax torch; do
        local theirs
        theirs=$(median <<<"${seconds[$impl]%$'\n'}")
        printf '  %-8s %8.3f s/iteration  peak %6s MiB   project/%s = %.2f\n' "$impl" "$theirs" "${memory[$impl]}" "$impl" \
            "$(awk -v a="$ours" -v b="$theirs" 'BEGIN { print a / b }')"
    done
}

case $which in
    small|all) compare small 16 64 0.25 14 0 ;;&
    paper|all) compare paper 32 128 1 5 4 ;;&
    sgd|all) compare_sgd ;;
    small|paper) ;;
    *) echo "bench-peers: expected small, paper, sgd or all, found $which" >&2; exit 2 ;;
esac
