#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/vm/run-tests.sh [BUILD_DIR] -- the suites that need a pure cgroup-v2
# host, run in the qemu guest: the cgroup tests (component/test_cgroup_root:
# eBPF device filter, io/cpu/memory files of v2 for real), the netns tests
# (component/test_netns and the unit one; the guest's 6.1
# kernel lacks IPv6 force_forwarding: routed mode's fallback) and the
# integration suite.
# Part of scripts/test.sh (CI). One boot, so the guest's cost stays modest.
# BERTH_VM_TESTS / BERTH_VM_EXCLUDE: ctest -R / -E regexes.
# integration/debian_vps boots the Debian template the host's run cached
# (the guest has no network: without the cache it skips).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
build=${1:-$repo/build}
[ -d "$build" ] || { echo "run-tests: no build directory $build"; exit 1; }
"$here/setup.sh"
# The network filter test (integration/vps_net) runs here too: the 6.1
# kernel takes one device per netdev chain and deletes a chain with its
# device, which the filter must survive (docs/security/network.md). The
# crash suite runs with fewer injection points (TCG is 4-7x slower), and
# Check's per-test timeouts are stretched to match; vps_net adds ~4 min.
exclude=()
[ -z "${BERTH_VM_EXCLUDE:-}" ] || exclude=(-E "$BERTH_VM_EXCLUDE")
# ctest inside the guest; the label selects what is worth a v2 run.
"$here/run.sh" --timeout 1800 -e CRASH_POINTS="${CRASH_POINTS:-10}" -e CK_TIMEOUT_MULTIPLIER=5 -- \
    ctest --test-dir "$build" --output-on-failure --no-tests=error -R "${BERTH_VM_TESTS:-cgroup|netns|integration}" \
    "${exclude[@]}"
