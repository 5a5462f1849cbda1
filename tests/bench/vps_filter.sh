#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Start time of one VPS with and without its network filter (berth/nft.h),
# or against another build: vps_filter.sh BERTH [N] [--no-filter]
# Prints the median, min and max of N `vps start` (stop not timed), in a
# private network namespace and data dir. Needs root and a static busybox.
set -eu
if [ "${BENCH_NETNS:-}" != 1 ]; then
        BENCH_NETNS=1 exec unshare -n sh "$0" "$@"
fi
berth=$1 n=${2:-20} extra=${3:-}
ip link set lo up
work=$(mktemp -d /tmp/berth-bench-filter.XXXXXX)
chmod 711 "$work" # the VPS root (an unprivileged host uid) walks through
trap '$V destroy --force fb >/dev/null 2>&1; rm -rf "$work"' EXIT
V="$berth --root $work/run vps --data-dir $work/data"
"$berth" template --data-dir "$work/data" create bb --busybox >/dev/null
# shellcheck disable=SC2086 # extra is one optional word
$V create fb --template bb --ip 10.77.0.2 --ip fd77::2 $extra >/dev/null
$V start fb >/dev/null && $V stop fb --timeout 5 >/dev/null # warm: bridge, tables
i=0
while [ $i -lt "$n" ]; do
        t0=$(date +%s%N)
        $V start fb >/dev/null
        t1=$(date +%s%N)
        echo $(((t1 - t0) / 1000))
        $V stop fb --timeout 5 >/dev/null
        i=$((i + 1))
done | sort -n | awk '{v[NR] = $1} END {printf "start: median %.2f ms, min %.2f ms, max %.2f ms (n=%d)\n", v[int((NR + 1) / 2)] / 1000, v[1] / 1000, v[NR] / 1000, NR}'
