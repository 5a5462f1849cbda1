#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Density (issue 17), the CI-sized version of the big run in the README's
# performance section: VPS_DENSITY_COUNT (200) busybox VPS, each with its
# own user and network namespace, veth on the bridge, filter and overlay
# root, created and started one after another and all running at once.
# It must end with:
#   - every VPS running, its guest reachable from the first and the last
#     one (ping through the bridge) and answering exec with its own name;
#   - after `stop --all` (the cleanups run in several processes from 16
#     VPS on): every VPS reported stopped, none running, and nothing of
#     a running VPS left: container state, cgroups, links, processes,
#     mounts;
#   - after destroy, nothing left at all.
# It prints the numbers (create and start medians of the first and the
# last 20, memory per VPS) but does not judge them: timing belongs to
# tests/bench (vps.sh, vps_density.sh), run side by side, not here.
# Runs in a private mount and network namespace, with its own data, state
# and id-range registry.
#
# usage: vps_density_test.sh BERTH
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
bin=${BERTH_VPS_BIN:-${1:-}}
[ $# -gt 0 ] && shift
require_vps_host "$bin"
command -v timeout >/dev/null || skip "no timeout(1)"

count=${VPS_DENSITY_COUNT:-200}
failures=0
current=density

berth() {
        timeout -k 5 60 "$bin" --root "$root" vps "$@"
}

ip_of() { echo "10.77.$(($1 / 250 + 1)).$(($1 % 250 + 2))"; }
median() { sort -n | awk '{a[NR] = $1} END {if (NR) printf "%.1f", a[int((NR + 1) / 2)] / 1000}'; }
now_us() { echo $(($(date +%s%N) / 1000)); }

our_processes() {
        # The last character in brackets: the grep's own command line
        # does not match.
        last=${tmp#"${tmp%?}"}
        for f in $(grep -l -- "${tmp%?}[$last]" /proc/[0-9]*/cmdline 2>/dev/null); do
                pid=${f#/proc/}
                echo "${pid%/cmdline}"
        done
}

leftovers() {
        left=$(ls -A "$root" 2>/dev/null | grep -v '^\.seccomp-cache$' | grep -v '^\.lock')
        [ -z "$left" ] || echo "container state: $(echo "$left" | head -5)"
        left=$(find /sys/fs/cgroup -maxdepth 8 -type d -name "berth-vps-dn*-$tag" 2>/dev/null | head -5)
        [ -z "$left" ] || echo "cgroups: $left"
        left=$(grep -F "$tmp" /proc/self/mountinfo | cut -d' ' -f5 | head -5)
        [ -z "$left" ] || echo "mounts: $left"
        left=$(ip -o link show | grep -Eo ' bth[0-9a-f]+' | head -5)
        [ -z "$left" ] || echo "links: $left"
        left=$(our_processes | head -5)
        [ -z "$left" ] || echo "processes: $left"
        left=$(ls -A "$data/vps" 2>/dev/null)
        # shellcheck disable=SC2086 # one line: a caller filters it out
        [ -z "$left" ] || echo "VPS directories: $(echo $left | cut -c1-60)"
}

cleanup() {
        for d in "$data"/vps/*/; do
                [ -d "$d" ] && berth destroy --force "$(basename "$d")" >/dev/null 2>&1
        done
        for p in $(our_processes); do kill -9 "$p" 2>/dev/null; done
        grep -F "$tmp" /proc/self/mountinfo | cut -d' ' -f5 | sort -r | while read -r m; do umount -l "$m"; done
        find /sys/fs/cgroup -maxdepth 8 -depth -type d -name "berth-vps-dn*-$tag" -exec rmdir {} + 2>/dev/null
        rm -rf "$tmp"
        ext4_scratch_rm "$ext4"
}

# ---- main ------------------------------------------------------------------

if [ "${BERTH_VPS_TEST_NETNS:-}" != 1 ]; then
        BERTH_VPS_TEST_NETNS=1 exec unshare --mount --propagation private --net /bin/sh "$0" "$bin" "$@"
fi
ip link set lo up 2>/dev/null

scratch_base 1G
scratch_dir berth-density
data=$tmp/data
export BERTH_DATA="$data"
export BERTH_ID_REGISTRY="$tmp/id-ranges"
export BERTH_CONFIG_DIR="$tmp/etc"
mkdir -p "$BERTH_CONFIG_DIR" "$data"
tag=$(data_tag "$data")
trap cleanup EXIT
bb_template

own_mem=$(awk -F: '$2=="memory" {print $3}' /proc/self/cgroup)
mem=/sys/fs/cgroup/memory$own_mem/memory.usage_in_bytes
[ -r "$mem" ] || mem=/sys/fs/cgroup$(awk -F: '$1=="0" {print $3}' /proc/self/cgroup)/memory.current
m0=$(cat "$mem" 2>/dev/null || echo 0)

echo "density: $count VPS"
t0=$(date +%s)
i=0
while [ $i -lt "$count" ]; do
        a=$(now_us)
        out=$(berth create "dn$i" --template bb --ip "$(ip_of $i)" --memory 32M --pids 64 2>&1) ||
                fail "create dn$i: $out"
        b=$(now_us)
        out=$(berth start "dn$i" 2>&1) || fail "start dn$i: $out"
        c=$(now_us)
        echo $((b - a)) >>"$tmp/create.us"
        echo $((c - b)) >>"$tmp/start.us"
        i=$((i + 1))
        [ "$failures" -gt 5 ] && break
done
t1=$(date +%s)
m1=$(cat "$mem" 2>/dev/null || echo 0)
echo "density: created and started in $((t1 - t0)) s; medians (ms) create first/last 20:" \
        "$(head -n 20 "$tmp/create.us" | median)/$(tail -n 20 "$tmp/create.us" | median)," \
        "start first/last 20: $(head -n 20 "$tmp/start.us" | median)/$(tail -n 20 "$tmp/start.us" | median);" \
        "memory cgroup growth $(((m1 - m0) / count / 1024)) KiB per VPS"

current=running
running=$(berth list 2>/dev/null | grep -c ' running')
[ "$running" = "$count" ] || fail "$running of $count VPS running: $(berth list 2>&1 | grep -v ' running' | head -5)"

# From inside: the first and the last reach each other and the gateway
# over the bridge; a sample answers with its own name.
current=inside
last=$((count - 1))
expect 0 berth exec dn0 -- ping -c1 -W3 "$(ip_of $last)"
expect 0 berth exec "dn$last" -- ping -c1 -W3 "$(ip_of 0)"
expect 0 berth exec "dn$last" -- ping -c1 -W3 10.77.0.1
for i in 0 $((count / 2)) $last; do
        got=$(berth exec "dn$i" -- hostname 2>&1)
        [ "$got" = "dn$i" ] || fail "hostname in dn$i: $got"
done

current=stop
t2=$(date +%s)
out=$(berth stop --all --timeout 5 2>&1) || fail "stop --all: $out"
stopped=$(echo "$out" | grep -c '^dn[0-9]* stopped')
[ "$stopped" = "$count" ] || fail "stop --all reported $stopped of $count stopped: $(echo "$out" | grep -v ' stopped' | head -5)"
running=$(berth list 2>/dev/null | grep -c ' running')
[ "$running" = 0 ] || fail "$running VPS still running after stop --all"
echo "density: stopped in $(($(date +%s) - t2)) s (stop --all)"
left=$(leftovers | grep -v '^VPS directories: ')
[ -z "$left" ] || fail "left behind by stop --all: $left"

current=destroy
t2=$(date +%s)
i=0
while [ $i -lt "$count" ]; do
        [ -d "$data/vps/dn$i" ] && { out=$(berth destroy --force "dn$i" 2>&1) || fail "destroy dn$i: $out"; }
        i=$((i + 1))
done
echo "density: destroyed in $(($(date +%s) - t2)) s"
left=$(leftovers)
[ -z "$left" ] || fail "left behind: $left"
finish
