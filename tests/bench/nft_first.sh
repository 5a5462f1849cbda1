#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The filter's cost in a new process, as each `vps start` pays it: the first
# berth_nft_guest_apply of a process (and the remove after it), for two
# builds of nft-apply-bench alternately (ABBA order), N processes each, in
# one private network namespace whose tables exist already (a host's
# second VPS and later). usage: nft_first.sh BENCH_A BENCH_B [N]
set -eu
if [ "${BENCH_NETNS:-}" != 1 ]; then
        BENCH_NETNS=1 exec unshare -n sh "$0" "$@"
fi
a=$1 b=$2 n=${3:-40}
"$a" 1 >/dev/null # makes the tables
i=0
while [ $i -lt "$n" ]; do
        order="A B"
        [ $((i % 2)) = 1 ] && order="B A"
        for x in $order; do
                [ "$x" = A ] && bin=$a || bin=$b
                # "filter apply (start): 0.310 ms, remove (stop): 0.120 ms, ..."
                "$bin" 1 | awk -v x="$x" '{print x, $4, $8}'
        done
        i=$((i + 1))
done | sort -k1,1 -k2n | awk '{a[$1, ++c[$1]] = $2; r[$1] += $3; s[$1] += $2}
        END {for (x in c) printf "%s: first apply median %.3f ms, min %.3f ms, mean %.3f ms; remove mean %.3f ms (n=%d)\n", x, a[x, int((c[x] + 1) / 2)], a[x, 1], s[x] / c[x], r[x] / c[x], c[x]}'
