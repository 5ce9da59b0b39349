#!/usr/bin/env bash
# How fast the runner answers on an already-built workspace.
#
# Usage: bench/runner.sh [RUNS] [LESSON]      (defaults: 20 runs, lesson 1)
#
# Measures, after a warm-up run of each:
#   cargo lab            the overview (target: under 0.3 s)
#   cargo lab check N    an exercise whose sources did not change (under 0.5 s)
# With hyperfine installed it does the measuring; otherwise a loop times each
# run with `date +%s%N` and prints the mean, the fastest and the slowest.
# Both include cargo's own start-up (`cargo lab` is `cargo run -q -p pipelab`).
# Other builds running on the machine at the same time make the figures
# worse: measure on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
lesson=${2:-1}

# Build once, and let the first check build the exercise's tests.
cargo build -q -p pipelab
cargo lab >/dev/null
cargo lab check "$lesson" >/dev/null || true

commands=("cargo lab" "cargo lab check $lesson")

if command -v hyperfine >/dev/null; then
    # check exits 1 while the exercise fails: that is not an error here.
    hyperfine --warmup 2 --runs "$runs" --ignore-failure --style basic \
        "${commands[@]}"
    exit
fi

for command in "${commands[@]}"; do
    $command >/dev/null 2>&1 || true # warm-up
    total=0 fastest= slowest=0
    for _ in $(seq "$runs"); do
        start=$(date +%s%N)
        $command >/dev/null 2>&1 || true
        took=$(( $(date +%s%N) - start ))
        total=$(( total + took ))
        if [ -z "$fastest" ] || [ "$took" -lt "$fastest" ]; then fastest=$took; fi
        if [ "$took" -gt "$slowest" ]; then slowest=$took; fi
    done
    awk -v c="$command" -v n="$runs" -v t="$total" -v f="$fastest" -v s="$slowest" 'BEGIN {
        printf "%-22s mean %.3f s   fastest %.3f s   slowest %.3f s   (%d runs)\n",
               c, t / n / 1e9, f / 1e9, s / 1e9, n }'
done
