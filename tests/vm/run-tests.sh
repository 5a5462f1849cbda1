#!/bin/bash
# tests/vm/run-tests.sh [BUILD_DIR] -- the suites that need a pure cgroup-v2
# host, run in the qemu guest: the cgroup root tests (eBPF device filter,
# io/cpu/memory files of v2 for real) and the integration suite.
# Part of scripts/test.sh (CI). One boot, so the guest's cost stays modest.
# integration/vps is left out for now: its routed-mode ping between two VPS
# fails on the guest's 6.1 kernel (it passes on the 6.18 host); see the
# closing note of the session that added this.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-$repo/build}
[ -d "$build" ] || { echo "run-tests: no build directory $build"; exit 1; }
"$here/setup.sh"
# ctest inside the guest; the label selects what is worth a v2 run.
"$here/run.sh" --timeout 900 -- \
    ctest --test-dir "$build" --output-on-failure --no-tests=error -R "${BERTH_VM_TESTS:-cgroup|integration}" \
    -E "${BERTH_VM_EXCLUDE:-integration/vps}"
