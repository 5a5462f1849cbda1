#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs every test berth has, the way CI does: formatting, a -Werror build,
# unit + integration tests, the same again under ASan+UBSan, a bounded fuzz
# campaign, and the pure cgroup-v2 guest. Run as root (integration tests
# start real containers; without root they are skipped, never passed).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
jobs=$(nproc)
step() { printf '\n=== %s ===\n' "$*"; }
# Every stage has a hard time bound, so that a hung client or guest fails
# the run with a message instead of eating CI's whole budget.
bounded() {
    local limit=$1 rc=0
    shift
    timeout -k 30 "$limit" "$@" || rc=$?
    [ $rc -ne 124 ] || echo "stage timed out after ${limit}s: $*"
    return $rc
}

step "dependencies and build"
bounded 1800 scripts/setup.sh

step "formatting (.clang-format)"
mapfile -t sources < <(git ls-files '*.c' '*.h')
if ! bounded 300 clang-format --dry-run --Werror "${sources[@]}"; then
    echo "formatting differs: run clang-format -i on the files above"; exit 1
fi
# Every source file states its license (LICENSE) in one of its first lines.
mapfile -t licensed < <(git ls-files '*.c' '*.h' '*.sh' '*.py' '*.bash' '*.cmake' 'CMakeLists.txt' '*/CMakeLists.txt' .ci/run)
unlicensed=$(for f in "${licensed[@]}"; do head -n 3 "$f" | grep -q 'SPDX-License-Identifier: GPL-2.0-or-later' || echo "$f"; done)
if [ -n "$unlicensed" ]; then
    echo "no SPDX-License-Identifier line in:"; echo "$unlicensed"; exit 1
fi

# Under build/tests/berth-test-reaper: processes the tests orphan (container
# inits, VPS console keepers) are reaped, and one left running fails.
# The VPS crash suite kills five verbs two ways at VPS_CRASH_POINTS points
# each, booting VPS at every point: 4 points keep it to a few minutes.
step "unit and integration tests"
VPS_CRASH_POINTS=4 \
    bounded 3600 build/tests/berth-test-reaper ctest --test-dir build --output-on-failure --timeout 900 -j"$jobs"

step "unit and integration tests under AddressSanitizer + UndefinedBehaviorSanitizer"
bounded 300 cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DBERTH_SANITIZE=ON >/dev/null
bounded 1800 cmake --build build-asan -j"$jobs" >/dev/null
# Sanitized code runs a few times slower: Check's per-test timeouts
# stretch, and the crash suites inject at fewer points than the plain
# build's (50 per OCI verb and kill mode). The VPS crash, load and density
# suites run only in the plain build above: they boot VPS by the dozen through
# the same code the other VPS suites run here, at minutes of sanitized
# time each; so do the crash cases of the other VPS suites (BERTH_VPS_SKIP).
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:fast_unwind_on_malloc=0 \
    LSAN_OPTIONS=suppressions=$root/tests/lsan.supp UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    CK_TIMEOUT_MULTIPLIER=4 CRASH_POINTS=12 BERTH_VPS_SKIP="crash crash_btrfs" \
    bounded 5400 build/tests/berth-test-reaper ctest --test-dir build-asan --output-on-failure --timeout 900 -j"$jobs" \
    -E 'integration/(vps_crash|vps_load|vps_density)$'

if [ -x tests/fuzz/run.sh ]; then
    step "fuzzing (bounded campaign)"
    bounded $((${BERTH_FUZZ_SECONDS:-20} * 10 + 1200)) tests/fuzz/run.sh "${BERTH_FUZZ_SECONDS:-20}"
fi

if [ -x tests/vm/run-tests.sh ]; then
    step "pure cgroup-v2 guest"
    bounded 2700 tests/vm/run-tests.sh "$root/build"
fi

step "checkpoint/restore: refused clearly on this host, round trip in the guest"
bounded 300 tests/vm/criu-test.sh "$root/build/berth"
bounded 900 tests/vm/run.sh --timeout 600 -- tests/vm/criu-test.sh "$root/build/berth"

step "systemd cgroup driver: refused clearly on this host; scopes, restore into one, containerd in the systemd guest"
bounded 120 tests/vm/systemd-cgroup-test.sh "$root/build/berth"
bounded 600 tests/vm/run.sh --systemd --timeout 500 -- tests/vm/systemd-cgroup-test.sh "$root/build/berth"

if [ -x tests/clients/run.sh ]; then
    step "real clients: podman and containerd"
    bounded 1500 tests/clients/run.sh "$root/build/berth"
fi
echo
echo "all test stages passed"
