#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The big density run (issue 17; README, Performance): N busybox VPS
# created and started one after another, all running at once, then
# destroyed. Prints, every STEP VPS, the create and start medians of the
# last STEP and the memory so far; stops creating at the first failure and
# prints it (the first limit hit). Not part of CI (see
# tests/integration/vps/vps_density_test.sh for the 200-VPS version).
# Runs in a private mount and network namespace with its own data, state
# and id-range registry under /tmp.
#
#   tests/bench/vps_density.sh BERTH N [STEP]
# BENCH_DENSITY_SECONDS: stop creating after that long (a shared machine's
# time budget), then destroy as usual.
set -u
bin=$(readlink -f "$1") n=$2 step=${3:-100}
if [ "${BENCH_DENSITY_NS:-}" != 1 ]; then
        BENCH_DENSITY_NS=1 exec unshare -m -n --propagation private /bin/sh "$0" "$bin" "$n" "$step"
fi
ip link set lo up
tmp=$(mktemp -d /tmp/berth-density.XXXXXX)
chmod 711 "$tmp"
export BERTH_DATA="$tmp/data" BERTH_ID_REGISTRY="$tmp/id-ranges" BERTH_CONFIG_DIR="$tmp/etc"
mkdir -p "$BERTH_CONFIG_DIR"
V="$bin --root $tmp/run vps --data-dir $tmp/data"
"$bin" template --data-dir "$tmp/data" create bb --busybox >/dev/null
own_mem=$(awk -F: '$2=="memory" {print $3}' /proc/self/cgroup)
mem=/sys/fs/cgroup/memory$own_mem/memory.usage_in_bytes
ip_of() { echo "10.77.$(($1 / 250 + 1)).$(($1 % 250 + 2))"; }
now_us() { echo $(($(date +%s%N) / 1000)); }
med() { sort -n | awk '{a[NR] = $1} END {if (NR) printf "%.1f", a[int((NR + 1) / 2)] / 1000}'; }
slab() { awk '/^Slab:/ {print $2}' /proc/meminfo; }
avail() { awk '/MemAvailable/ {print $2}' /proc/meminfo; }
m0=$(cat "$mem") a0=$(avail) s0=$(slab) t0=$(date +%s)
echo "| VPS running | create median ms | start median ms | memory cgroup KiB/VPS | slab KiB/VPS | MemAvailable drop KiB/VPS | elapsed s |"
echo "|---:|---:|---:|---:|---:|---:|---:|"
i=0 first=""
: >"$tmp/c.us"
: >"$tmp/s.us"
budget=${BENCH_DENSITY_SECONDS:-0}
while [ $i -lt "$n" ]; do
        if [ "$budget" -gt 0 ] && [ $(($(date +%s) - t0)) -ge "$budget" ]; then
                first="none: the time budget ($budget s) ended the run"
                break
        fi
        a=$(now_us)
        if ! out=$($V create "v$i" --template bb --ip "$(ip_of $i)" --memory 64M --pids 100 2>&1); then
                first="create of VPS $((i + 1)): $out"
                break
        fi
        b=$(now_us)
        if ! out=$($V start "v$i" 2>&1 >/dev/null); then
                first="start of VPS $((i + 1)): $out"
                i=$((i + 1))
                break
        fi
        c=$(now_us)
        echo $((b - a)) >>"$tmp/c.us"
        echo $((c - b)) >>"$tmp/s.us"
        i=$((i + 1))
        if [ $((i % step)) = 0 ] || [ $i = "$n" ]; then
                echo "| $i | $(tail -n "$step" "$tmp/c.us" | med) | $(tail -n "$step" "$tmp/s.us" | med) |" \
                        "$((($(cat "$mem") - m0) / i / 1024)) | $((($(slab) - s0) / i)) |" \
                        "$(((a0 - $(avail)) / i)) | $(($(date +%s) - t0)) |"
        fi
done
echo
[ -n "$first" ] && echo "First limit hit: $first" && echo
t1=$(date +%s)
k=0
while [ $k -lt $i ]; do
        $V destroy "v$k" --force >/dev/null 2>&1 || echo "destroy v$k failed"
        k=$((k + 1))
done
echo "Destroyed $i VPS in $(($(date +%s) - t1)) s."
rm -rf "$tmp"
