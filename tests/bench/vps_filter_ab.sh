#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A/B start time of one VPS: vps_filter_ab.sh BERTH_A BERTH_B [N]
# Starts (and stops) a VPS of build A and one of build B alternately (ABBA
# order), N times each, in one private network namespace, so that the load of the
# moment weighs on both alike; prints each build's median and mean start.
set -eu
if [ "${BENCH_NETNS:-}" != 1 ]; then
        BENCH_NETNS=1 exec unshare -n sh "$0" "$@"
fi
a=$1 b=$2 n=${3:-30}
ip link set lo up
work=$(mktemp -d /tmp/berth-bench-ab.XXXXXX)
chmod 711 "$work" # the VPS root (an unprivileged host uid) walks through
trap '"$a" --root "$work/runA" vps --data-dir "$work/dataA" destroy --force va >/dev/null 2>&1
      "$b" --root "$work/runB" vps --data-dir "$work/dataB" destroy --force vb >/dev/null 2>&1
      rm -rf "$work"' EXIT
for x in A B; do
        [ $x = A ] && bin=$a ip=10.77.0.2 || { bin=$b; ip=10.77.0.3; }
        n_=$(echo $x | tr AB ab)
        "$bin" template --data-dir "$work/data$x" create bb --busybox >/dev/null
        # shellcheck disable=SC2046 # BENCH_B_OPTS: words for create
        "$bin" --root "$work/run$x" vps --data-dir "$work/data$x" create "v$n_" --template bb --ip $ip $([ $x = B ] && echo "${BENCH_B_OPTS:-}") >/dev/null
        "$bin" --root "$work/run$x" vps --data-dir "$work/data$x" start "v$n_" >/dev/null
        "$bin" --root "$work/run$x" vps --data-dir "$work/data$x" stop "v$n_" --timeout 5 >/dev/null
done
i=0
while [ $i -lt "$n" ]; do
        # ABBA: whichever runs second after the other's stop is slower here.
        order="A B"
        [ $((i % 2)) = 1 ] && order="B A"
        for x in $order; do
                [ $x = A ] && bin=$a || bin=$b
                n_=$(echo $x | tr AB ab)
                t0=$(date +%s%N)
                "$bin" --root "$work/run$x" vps --data-dir "$work/data$x" start "v$n_" >/dev/null
                t1=$(date +%s%N)
                echo "$x $(((t1 - t0) / 1000))"
                "$bin" --root "$work/run$x" vps --data-dir "$work/data$x" stop "v$n_" --timeout 5 >/dev/null
        done
        i=$((i + 1))
done | sort -k1,1 -k2n | awk '{v[$1, ++c[$1]] = $2; s[$1] += $2}
        END {for (x in c) printf "%s: median %.2f ms, mean %.2f ms (n=%d)\n", x, v[x, int((c[x] + 1) / 2)] / 1000, s[x] / c[x] / 1000, c[x]}'
