#!/usr/bin/env bash
# Flakes: the whole test suite, N times in a row, under a CPU load.
#
# Usage: bench/stress.sh [N] [LOAD]   (defaults: 20 runs; LOAD busy loops,
#                                      one per CPU)
#
# A test that passes on a quiet machine and fails on a busy one is a race
# waiting for a student's laptop. This builds the suite once, starts LOAD
# busy loops beside it, runs `cargo nextest run` (the same tests as
# `cargo test`) N times, and prints how many runs each failing test failed,
# then the total. Exit status 0 only with no flake at all.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
load=${2:-$(nproc)}
log_dir=target/stress
mkdir -p "$log_dir"

cargo nextest run --no-run --cargo-quiet

# The load: busy shells, ended with the script however it ends.
busy=()
cleanup() { [ ${#busy[@]} -eq 0 ] || kill "${busy[@]}" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq "$load"); do
  bash -c 'while :; do :; done' &
  busy+=($!)
done

failed_runs=0
start=$(date +%s)
for run in $(seq "$runs"); do
  log="$log_dir/run-$run.log"
  if cargo nextest run --no-fail-fast --cargo-quiet --color never \
      >"$log" 2>&1; then
    verdict=ok
  else
    verdict=FAILED
    failed_runs=$((failed_runs + 1))
  fi
  summary=$(grep -E '^ *Summary' "$log" | tail -1 | sed 's/^ *//')
  printf 'run %2d/%d: %s  %s\n' "$run" "$runs" "$verdict" "$summary"
done
elapsed=$(( $(date +%s) - start ))

# After its Summary line, nextest names each failed test once, on a line
# like "  FAIL [ 0.1s] (1/2) crate test".
flakes=$(for log in "$log_dir"/run-*.log; do
           awk '/^ *Summary/ { after = 1 } after' "$log"; done \
  | grep -E '^ *(FAIL|TIMEOUT|SIGSEGV|SIGABRT|LEAK-FAIL) ' \
  | sed -E 's/^ *[A-Z-]+ +\[[^]]*\] +(\([^)]*\) +)?//' | sort | uniq -c \
  | sort -rn || true)
echo
echo "$runs runs in ${elapsed} s with $load busy loops beside them"
if [ -z "$flakes" ]; then
  echo "flakes: 0"
else
  echo "failures per test (count of runs):"
  echo "$flakes"
  echo "flakes: $(echo "$flakes" | awk '{n += $1} END {print n}')" \
    "in $failed_runs of $runs runs (logs in $log_dir/)"
fi
[ "$failed_runs" -eq 0 ]
