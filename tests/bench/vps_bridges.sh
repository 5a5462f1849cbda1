#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Overflow bridges at the kernel's real limit (docs/performance.md): N
# busybox VPS on one bridge name, started one after another (1023 fit on
# berth0, the rest go onto berth0-1, ...), then pings across bridges from
# inside, then all destroyed and what is left listed. Not part of CI
# (integration/vps_bridges is, with BERTH_BRIDGE_PORTS_MAX=2). Runs in a
# private mount and network namespace with its own data, state and
# id-range registry under /tmp; stops creating after 660 s.
#
#   tests/bench/vps_bridges.sh BERTH N [PORTS_MAX]
# PORTS_MAX: BERTH_BRIDGE_PORTS_MAX for the run (default: unset, 1023).
set -u
bin=$(readlink -f "$1") n=$2 max=${3:-}
if [ "${BENCH_BRIDGES_NS:-}" != 1 ]; then
        BENCH_BRIDGES_NS=1 exec unshare -m -n --propagation private /bin/sh "$0" "$bin" "$n" "$max"
fi
unset BERTH_BRIDGE_PORTS_MAX
[ -n "$max" ] && export BERTH_BRIDGE_PORTS_MAX="$max"
ip link set lo up
tmp=$(mktemp -d /tmp/berth-bridges.XXXXXX)
chmod 711 "$tmp"
export BERTH_DATA="$tmp/data" BERTH_ID_REGISTRY="$tmp/id-ranges" BERTH_CONFIG_DIR="$tmp/etc"
mkdir -p "$BERTH_CONFIG_DIR"
V="$bin --root $tmp/run vps --data-dir $tmp/data"
"$bin" template --data-dir "$tmp/data" create bb --busybox >/dev/null
ip_of() { echo "10.77.$(($1 / 250 + 1)).$(($1 % 250 + 2))"; }
drops() { # the second column of softnet_stat, hexadecimal
        while read -r _ d _; do printf '%d ' "0x$d"; done </proc/net/softnet_stat
}
ping_from() { # ping_from I J: VPS I pings VPS J (or the gateway: J = gw)
        to=$(ip_of "$2")
        [ "$2" = gw ] && to=10.77.0.1
        if $V exec "v$1" -- ping -c1 -W2 "$to" >/dev/null 2>&1; then r=ok; else r=FAILED; fi
        echo "v$1 -> $2 ($to): $r"
}
echo "softnet backlog drops per CPU before: $(drops)"
t0=$(date +%s)
i=0
while [ $i -lt "$n" ] && [ $(($(date +%s) - t0)) -lt 660 ]; do
        $V create "v$i" --template bb --ip "$(ip_of $i)" --memory 64M --pids 100 >/dev/null 2>&1 ||
                { echo "create v$i failed" && break; }
        out=$($V start "v$i" 2>&1 >/dev/null) || { echo "start v$i failed: $out" && i=$((i + 1)) && break; }
        i=$((i + 1))
        [ $((i % 100)) = 0 ] && echo "$i started, $(($(date +%s) - t0)) s"
done
echo "started $i in $(($(date +%s) - t0)) s"
for br in $(ip -o link show type bridge | awk -F': ' '{print $2}'); do
        echo "bridge $br: $(ip -o link show master "$br" | wc -l) ports"
done
echo "host routes (proto 98): $(ip route show proto 98 | wc -l)"
last=$((i - 1))
ping_from "$last" gw
ping_from "$last" 0
ping_from 0 "$last"
ping_from 1022 1023
ping_from 5 1000
echo "softnet backlog drops per CPU after: $(drops)"
t1=$(date +%s)
for d in "$tmp"/data/vps/*/; do $V destroy --force "$(basename "$d")" >/dev/null 2>&1; done
echo "destroyed in $(($(date +%s) - t1)) s"
echo "left: bridges '$(ip -o link show type bridge | grep -o 'berth0[^:@ ]*' | tr '\n' ' ')'," \
        "routes $(ip route show proto 98 | wc -l), VPS $(ls "$tmp/data/vps" 2>/dev/null | wc -l)"
rm -rf "$tmp"
