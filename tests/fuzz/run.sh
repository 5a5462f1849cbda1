#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the fuzzers (config.json, state.json, cgroup and kernel files, IP addresses) with clang + libFuzzer + ASan/UBSan and runs
# each one for SECONDS (default 60) on a copy of the committed seed corpus.
# Prints the executions per harness; exits non-zero on any crash, leak,
# sanitizer report or build failure.
#
#   tests/fuzz/run.sh [SECONDS]
#   BERTH_FUZZ_BUILD=/path/to/build-dir tests/fuzz/run.sh 300
set -eu

secs=${1:-60}
case $secs in '' | *[!0-9]*) echo "usage: $0 [SECONDS]" >&2; exit 2 ;; esac

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${BERTH_FUZZ_BUILD:-$root/build-fuzz}
jobs=$(nproc 2>/dev/null || echo 2)

# Warnings are CI's business elsewhere; a clang-only warning in some other
# file must not stop the fuzzing.
CC=clang cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
        -DBERTH_FUZZ=ON -DBERTH_SANITIZE=ON -DBERTH_WERROR=OFF >/dev/null
make -C "$build" -j"$jobs" $(for n in spec process resources state cgroup_dump mountinfo proc_cgroup cgstats ipaddr proc_stat; do printf "fuzz_%s " "$n"; done) >/dev/null

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"

# One harness: fuzz a copy of its corpus (new inputs must not land in the
# committed one) and print one line. Harnesses run side by side, one per
# core, so the campaign costs SECONDS x harnesses / cores of wall time.
fuzz_one() {
        name=$1
        work="$build/fuzz-work/$name"
        arts="$build/fuzz-artifacts"
        rm -rf "$work"
        mkdir -p "$work" "$arts"
        cp "$here/corpus/$name"/* "$work"/
        log="$build/fuzz-$name.log"
        rc=0
        "$build/tests/fuzz/fuzz_$name" -max_total_time="$secs" -timeout=10 \
                -dict="$here/spec.dict" -print_final_stats=1 \
                -artifact_prefix="$arts/$name-" "$work" >"$log" 2>&1 || rc=$?
        execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
        if [ "$rc" -ne 0 ]; then
                echo "fuzz_$name: FAILED (exit $rc) after ${execs:-?} executions; log: $log" >&2
                grep -E 'ERROR|SUMMARY|runtime error|Test unit written' "$log" | head -n 20 >&2 || true
                return 1
        fi
        echo "fuzz_$name: ${execs:-?} executions in ${secs}s, no findings"
}

failed=0
running=0
for name in spec process resources state cgroup_dump mountinfo proc_cgroup cgstats ipaddr proc_stat; do
        if [ "$running" -ge "$jobs" ]; then
                wait -n || failed=1
                running=$((running - 1))
        fi
        fuzz_one "$name" &
        running=$((running + 1))
done
while [ "$running" -gt 0 ]; do
        wait -n || failed=1
        running=$((running - 1))
done
exit "$failed"
