#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The --all verbs of a provider's host, timed (issue 17): N busybox VPS
# created, then `vps start --all`, `vps stop --all --timeout 20` and
# `vps destroy --all`, each one command. Prints a markdown table row per
# BERTH given, in the order given (interleave two builds by naming them
# twice: A B B A). Not part of CI. Runs in a private mount and network
# namespace with its own data, state and id-range registry under /tmp.
#
#   tests/bench/vps_all.sh N BERTH...
set -u
n=$1
shift
if [ "${BENCH_ALL_NS:-}" != 1 ]; then
        BENCH_ALL_NS=1 exec unshare -m -n --propagation private /bin/sh "$0" "$n" "$@"
fi
ip link set lo up
# A pty per VPS: see vps_density.sh.
pty_max0=$(cat /proc/sys/kernel/pty/max)
pty_need=$(($(cat /proc/sys/kernel/pty/nr) + $(cat /proc/sys/kernel/pty/reserve) + n + 64))
if [ "$pty_max0" -lt "$pty_need" ]; then
        echo "$pty_need" >/proc/sys/kernel/pty/max
        trap 'echo "$pty_max0" >/proc/sys/kernel/pty/max' EXIT
        trap 'exit 1' INT TERM
fi
ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

echo "| berth | VPS | start --all s | stop --all s | destroy --all s | running after the start |"
echo "|---|---:|---:|---:|---:|---:|"
for bin in "$@"; do
        bin=$(readlink -f "$bin")
        tmp=$(mktemp -d /tmp/berth-all.XXXXXX)
        chmod 711 "$tmp"
        export BERTH_DATA="$tmp/data" BERTH_ID_REGISTRY="$tmp/id-ranges" BERTH_CONFIG_DIR="$tmp/etc"
        mkdir -p "$BERTH_CONFIG_DIR"
        V="$bin --root $tmp/run vps --data-dir $tmp/data"
        "$bin" template --data-dir "$tmp/data" create bb --busybox >/dev/null || exit 1
        i=0
        while [ $i -lt "$n" ]; do
                $V create "a$i" --template bb --ip "10.77.$((i / 250 + 1)).$((i % 250 + 2))" --memory 64M \
                        --pids 100 >/dev/null || exit 1
                i=$((i + 1))
        done
        t=$(date +%s%N)
        $V start --all >/dev/null || echo "start --all failed" >&2
        start=$(ms_since "$t")
        running=$($V list | grep -c running)
        t=$(date +%s%N)
        $V stop --all --timeout 20 >/dev/null || echo "stop --all failed" >&2
        stop=$(ms_since "$t")
        t=$(date +%s%N)
        $V destroy --all >/dev/null || echo "destroy --all failed" >&2
        destroy=$(ms_since "$t")
        printf '| %s | %d | %d.%01d | %d.%01d | %d.%01d | %d |\n' "$bin" "$n" $((start / 1000)) \
                $((start % 1000 / 100)) $((stop / 1000)) $((stop % 1000 / 100)) $((destroy / 1000)) \
                $((destroy % 1000 / 100)) "$running"
        rm -rf "$tmp"
done
