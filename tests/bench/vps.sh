#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The VPS part of tests/bench/run.sh: vps.sh BERTH WORKDIR DRIVER QUICK
# Runs everything inside a private network namespace (unshare -n): the
# bridge and the host ends of the veths live there, never on the host.
# Prints markdown on stdout.
set -eu
berth=$1 work=$2 drv=$3 quick=$4
n=1000
[ "$quick" = 1 ] && n=20
[ -n "${BENCH_VPS_COUNT:-}" ] && n=$BENCH_VPS_COUNT
data=$work/vps-data
root=$work/st-vps
mkdir -p "$data"
own_mem=$(awk -F: '$2=="memory" {print $3}' /proc/self/cgroup)
mem_root=/sys/fs/cgroup/memory$own_mem
V="$berth --root $root vps --data-dir $data"
T="$berth template --data-dir $data"

# Templates: busybox (~2 MB) and a 200 MB one (busybox + 200 MB of data).
$T create bb --busybox >/dev/null
mkdir -p "$work/big/bin"
cp /bin/busybox "$work/big/bin/busybox"
for a in sh init sleep true; do ln -sf busybox "$work/big/bin/$a"; done
mkdir -p "$work/big/sbin" && ln -sf ../bin/busybox "$work/big/sbin/init"
head -c 200M /dev/urandom >"$work/big/data.bin"
$T import big "$work/big" >/dev/null
rm -rf "$work/big"

unshare -n sh -s "$V" "$n" "$mem_root" "$work" "$drv" <<'EOF'
set -eu
V=$1 n=$2 mem_root=$3 work=$4 drv=$5
ip link set lo up
ms() { echo "$1 $2" | awk '{printf "%.1f", ($2 - $1) / 1e6}'; }
now() { date +%s%N; }
memavail() { awk '/MemAvailable/ {print $2}' /proc/meminfo; }
ip_of() { echo "10.77.$(($1 / 250 + 1)).$(($1 % 250 + 2))"; }

echo "| VPS latency | median ms | min ms | max ms | peak RSS KiB |"
echo "|---|---:|---:|---:|---:|"
for t in bb big; do
        # create+start of one VPS, 10 times; the driver times one command,
        # so both run from a small script (sh adds ~1 ms).
        printf '%s\n' "$V create lat --template $t --ip 10.77.250.2 && $V start lat" >"$work/vps-cs.sh"
        $drv time -n 10 -w 1 -l "$work/log" -m "create+start, template $t" \
                -r "berth vps" -p "$V destroy lat --force >/dev/null 2>&1 || true" \
                -t "sh $work/vps-cs.sh" \
                -c "$V destroy lat --force >/dev/null 2>&1 || true" | awk -F'|' '{printf "|%s|%s|%s|%s|%s|\n", $2, $4, $5, $6, $7}'
done

sync
m0=$(cat "$mem_root/memory.usage_in_bytes")
a0=$(memavail)
t0=$(now)
i=0
while [ $i -lt "$n" ]; do
        $V create "v$i" --template bb --ip "$(ip_of $i)" >/dev/null
        i=$((i + 1))
done
t1=$(now)
i=0
fails=0
while [ $i -lt "$n" ]; do
        $V start "v$i" >/dev/null 2>>"$work/log" || fails=$((fails + 1))
        i=$((i + 1))
done
t2=$(now)
sleep 2 # let the guests' inits settle
m1=$(cat "$mem_root/memory.usage_in_bytes")
a1=$(memavail)
guest=0
for c in "$mem_root"/berth-vps-v*; do
        [ -d "$c" ] && guest=$((guest + $(cat "$c/memory.usage_in_bytes")))
done
t3=$(now)
# stop --all stops one VPS after the other, each waiting for its guest:
# only measured for small counts.
[ "$n" -le 20 ] && $V stop --all --timeout 5 >/dev/null 2>>"$work/log" || true
t4=$(now)
i=0
while [ $i -lt "$n" ]; do
        $V destroy "v$i" --force >/dev/null 2>>"$work/log" || true
        i=$((i + 1))
done
t5=$(now)
echo
echo "| VPS density (busybox, bridged veth + overlay root, own netns each) | value |"
echo "|---|---:|"
echo "| VPS | $n (start failures: $fails) |"
echo "| create all | $(ms $t0 $t1) ms ($(echo "$t0 $t1 $n" | awk '{printf "%.1f", ($2-$1)/1e6/$3}') ms each) |"
echo "| start all | $(ms $t1 $t2) ms ($(echo "$t1 $t2 $n" | awk '{printf "%.1f", ($2-$1)/1e6/$3}') ms each) |"
[ "$n" -le 20 ] && echo "| stop --all (timeout 5 s) | $(ms $t3 $t4) ms |"
echo "| destroy all | $(ms $t4 $t5) ms |"
echo "| guests' own memory cgroups, per VPS | $((guest / n / 1024)) KiB |"
echo "| caller's memory cgroup growth, per VPS | $(((m1 - m0) / n / 1024)) KiB |"
echo "| caller's growth beyond the guests' cgroups, per VPS | $(((m1 - m0 - guest) / n / 1024)) KiB |"
echo "| host MemAvailable drop, per VPS (machine-wide, noisy) | $(((a0 - a1) / n)) KiB |"
echo "| host MemAvailable drop beyond the guests' cgroups, per VPS | $(((a0 - a1) / n - guest / n / 1024)) KiB |"
EOF
$T rm big >/dev/null 2>&1 || true
$T rm bb >/dev/null 2>&1 || true

# LXC beside berth (vps_lxc.sh): start, stop, memory per container.
lxc_n=50
[ "$quick" = 1 ] && lxc_n=5
[ -n "${BENCH_LXC_COUNT:-}" ] && lxc_n=$BENCH_LXC_COUNT
echo
sh "$(dirname "$0")/vps_lxc.sh" "$berth" "$work" "$lxc_n" || echo "(the LXC comparison failed, see $work/vps-lxc)"

# A Debian (systemd) VPS: start to "running" (vps_debian_boot.sh).
debian_n=10
[ "$quick" = 1 ] && debian_n=3
echo
sh "$(dirname "$0")/vps_debian_boot.sh" "$berth" "$work" "$debian_n" || echo "(the Debian boot measure failed)"
