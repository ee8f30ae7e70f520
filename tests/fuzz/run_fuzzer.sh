#!/usr/bin/env bash
# Runs one libFuzzer target: first every kept crash (each must now pass), then fuzzing for SECONDS from a copy of the
# seed corpus (the checked-in corpus is never written). A crash found is left in the build folder as crash-*; copy it
# into tests/fuzz/crashes/<target>/ with the fix, so that it stays a test.
#   run_fuzzer.sh TARGET CORPUS CRASHES SECONDS
set -euo pipefail
target=$1 corpus=$2 crashes=$3 seconds=$4
if [ -d "$crashes" ] && [ -n "$(ls -A "$crashes")" ]; then
  "$target" -runs=1 "$crashes"/*
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$corpus"/. "$work"/
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
"$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 "$work"
