#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/vm/run-tests.sh [BUILD_DIR] -- the suites that need a pure cgroup-v2
# host, run in the qemu guest: the cgroup tests (component/test_cgroup_root:
# eBPF device filter, io/cpu/memory files of v2 for real), the netns tests
# (component/test_netns and the unit one; the guest's 6.1
# kernel lacks IPv6 force_forwarding: routed mode's fallback) and the
# integration suites that cgroup v2 changes (the list below).
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
# What is worth a v2 run under TCG's 4-7x: what cgroup v2 or the guest's
# kernel changes: cgroups, the netns code's fallbacks, the OCI lifecycle
# (Check's per-test timeouts stretched), a VPS's two-level cgroups and its
# keeper, systemd in a Debian guest, project quotas (integration/vps_disk,
# vps_backup and vps_snapshot; the host runs the ext4 image backend), the
# v2 freezer (vps_snapshot of a running VPS), live migration with criu
# (vps_migrate_live, about 65 s: criu check fails on this host's kernel),
# and the network filter (integration/vps_net: the 6.1 kernel takes one
# device per netdev chain and deletes a chain with its device, which the
# filter must survive; docs/security/network.md).
# The rest (mounts, namespaces, terminals, seccomp, the VPS's view and
# repair, the VPS crash and load suites) does not depend on the cgroup
# version or the kernel's age and runs on the host, plain and under ASan.
# A VPS crash point boots VPS several times (about 50 s each under TCG);
# run that suite in the guest by hand:
#   tests/vm/run.sh --timeout 1800 -e VPS_CRASH_POINTS=1 -- \
#       sh tests/integration/vps/vps_crash_test.sh build/berth build/tests/integration/vps/vps-stepper
# itest_crash is left out: in one run its ptrace stepper left the guest's
# 6.1 kernel in a soft lockup (a CPU stuck 690 s in the test's process),
# after passing in 85 s the run before; it runs on the host, plain and
# under ASan, until that is understood.
tests='cgroup|netns|itest_cgroup|itest_lifecycle|integration/vps$|vps_guest|debian_vps|vps_disk|vps_backup|vps_lifecycle|vps_net|vps_snapshot|vps_migrate_live'
exclude=()
[ -z "${BERTH_VM_EXCLUDE:-}" ] || exclude=(-E "$BERTH_VM_EXCLUDE")
# One suite at a time: with two at once, integration/vps and vps_guest
# once both stopped making progress after the first four suites (the
# stage timed out with no output; each passes alone and beside the other
# in a fresh guest), which is not understood yet. A suite that hangs fails
# on its own at ctest's --timeout, with its output. vps_snapshot's crash
# test (30 kill points, each a VPS boot) runs on the host only.
# fuse: vps_migrate_live runs an lxcfs per host, whose files a live
# migration must carry over (external FUSE mounts).
BERTH_VM_MODULES="${BERTH_VM_MODULES:+$BERTH_VM_MODULES }fuse" \
    "$here/run.sh" --timeout 2400 -e CRASH_POINTS="${CRASH_POINTS:-10}" -e CK_TIMEOUT_MULTIPLIER=5 \
    -e BERTH_DISK_PRJQUOTA=1 -e BERTH_VM_GUEST=1 -e BERTH_VPS_SKIP=crash -- \
    ctest --test-dir "$build" --output-on-failure --no-tests=error --timeout 900 -R "${BERTH_VM_TESTS:-$tests}" \
    "${exclude[@]}"
