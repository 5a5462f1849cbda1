#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The big density run (issue 17; README, Performance): N busybox VPS
# created and started one after another, all running at once, then
# destroyed. Prints, every STEP VPS, the create and start medians of the
# last STEP (wall time, and CPU time of every process of the verb from a
# sample of one in ten, by perf stat, where perf is installed) and the
# memory so far; stops creating at the first failure and prints it (the
# first limit hit); then times `vps stop --all` and `vps destroy --all`. Not part of CI (see
# tests/integration/vps/vps_density_test.sh for the 200-VPS version).
# Runs in a private mount and network namespace with its own data, state
# and id-range registry under /tmp.
#
#   tests/bench/vps_density.sh BERTH N [STEP]
# BENCH_DENSITY_SECONDS: stop creating after that long (a shared machine's
# time budget), then destroy as usual.
# BENCH_DENSITY_FLOOR_MB: stop creating when MemAvailable falls below it
# (default 1024), so that the host keeps room for the stop and destroy.
set -u
bin=$(readlink -f "$1") n=$2 step=${3:-100}
if [ "${BENCH_DENSITY_NS:-}" != 1 ]; then
        BENCH_DENSITY_NS=1 exec unshare -m -n --propagation private /bin/sh "$0" "$bin" "$n" "$step"
fi
ip link set lo up
# Every VPS's console is a pty, and ptys outside the host's /dev/pts count
# against kernel.pty.max - kernel.pty.reserve (4096 - 1024 by default: the
# first limit, at ~3070 VPS; the start then fails naming it). A host sized
# for thousands of VPS raises it (docs/performance.md, "Limits"); so does
# this run, for its length, and puts the old value back.
pty_max0=$(cat /proc/sys/kernel/pty/max)
pty_need=$(($(cat /proc/sys/kernel/pty/nr) + $(cat /proc/sys/kernel/pty/reserve) + n + 64))
if [ "$pty_max0" -lt "$pty_need" ]; then
        echo "kernel.pty.max: $pty_max0 raised to $pty_need for this run"
        echo "$pty_need" >/proc/sys/kernel/pty/max
        trap 'echo "$pty_max0" >/proc/sys/kernel/pty/max' EXIT
        trap 'exit 1' INT TERM
fi
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
med1() { sort -n | awk '{a[NR] = $1} END {if (NR) printf "%.1f", a[int((NR + 1) / 2)]; else printf "-"}'; }
slab() { awk '/^Slab:/ {print $2}' /proc/meminfo; }
# cpu FILE VERB...: runs the verb, its CPU ms (every process it made, the
# console keeper's share until the verb returns) appended to FILE.
cpu() {
        f=$1
        shift
        perf stat -x, -e task-clock -o "$tmp/perf.out" $V "$@" >/dev/null 2>"$tmp/verb.err" || {
                cat "$tmp/verb.err"
                return 1
        }
        awk -F, '/task-clock/ {print $1}' "$tmp/perf.out" >>"$f"
}
sample() { [ "$has_perf" = 1 ] && [ $(($1 % 10)) = 5 ]; }
guests() { # memory of the guests' own cgroups, bytes
        t=0
        for f in "${mem%/*}"/berth-vps-*/memory.usage_in_bytes; do
                [ -r "$f" ] && t=$((t + $(cat "$f")))
        done
        echo $t
}
has_perf=0
command -v perf >/dev/null && perf stat -e task-clock true >/dev/null 2>&1 && has_perf=1
avail() { awk '/MemAvailable/ {print $2}' /proc/meminfo; }
m0=$(cat "$mem") a0=$(avail) s0=$(slab) t0=$(date +%s)
echo "| VPS running | create median ms | start median ms | create CPU ms | start CPU ms | memory cgroup KiB/VPS | beyond the guests' KiB/VPS | slab KiB/VPS | MemAvailable drop KiB/VPS | elapsed s |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
i=0 first=""
: >"$tmp/c.us"
: >"$tmp/s.us"
: >"$tmp/c.cpu"
: >"$tmp/s.cpu"
budget=${BENCH_DENSITY_SECONDS:-0}
floor_kb=$((${BENCH_DENSITY_FLOOR_MB:-1024} * 1024))
while [ $i -lt "$n" ]; do
        if [ "$budget" -gt 0 ] && [ $(($(date +%s) - t0)) -ge "$budget" ]; then
                first="none: the time budget ($budget s) ended the run"
                break
        fi
        if [ $((i % 10)) = 0 ] && [ "$(avail)" -lt "$floor_kb" ]; then
                first="memory: MemAvailable $(($(avail) / 1024)) MiB, under the floor of $((floor_kb / 1024)) MiB"
                break
        fi
        if sample $i; then
                if ! out=$(cpu "$tmp/c.cpu" create "v$i" --template bb --ip "$(ip_of $i)" --memory 64M --pids 100); then
                        first="create of VPS $((i + 1)): $out"
                        break
                fi
                if ! out=$(cpu "$tmp/s.cpu" start "v$i"); then
                        first="start of VPS $((i + 1)): $out"
                        i=$((i + 1))
                        break
                fi
                i=$((i + 1))
                continue
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
                k=$((step / 10 > 0 ? step / 10 : 1))
                used=$(($(cat "$mem") - m0))
                echo "| $i | $(tail -n "$step" "$tmp/c.us" | med) | $(tail -n "$step" "$tmp/s.us" | med) |" \
                        "$(tail -n $k "$tmp/c.cpu" | med1) | $(tail -n $k "$tmp/s.cpu" | med1) |" \
                        "$((used / i / 1024)) | $(((used - $(guests)) / i / 1024)) | $((($(slab) - s0) / i)) |" \
                        "$(((a0 - $(avail)) / i)) | $(($(date +%s) - t0)) |"
        fi
done
echo
[ -n "$first" ] && echo "First limit hit: $first" && echo
t1=$(now_us)
$V stop --all --timeout 20 >/dev/null || echo "stop --all failed"
t2=$(now_us)
$V destroy --all --force >/dev/null || echo "destroy --all failed"
t3=$(now_us)
echo "Stopped $i VPS in $(((t2 - t1) / 1000)) ms (vps stop --all), destroyed them in $(((t3 - t2) / 1000)) ms (vps destroy --all)."
rm -rf "$tmp"
