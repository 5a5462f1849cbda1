#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# How long a Debian (systemd) VPS takes from `vps start` until
# `systemctl is-system-running` inside says "running" (issue 17), the
# last part of tests/bench/run.sh --only vps:
#
#   vps_debian_boot.sh BERTH WORKDIR N
#
# Boots one VPS N+1 times: the first boot (systemd's first-boot work:
# machine-id, presets) is reported apart, the median, min and max of the
# N later boots from the kept upper layer are the measure. The clock runs
# from just before `vps start` to the first "running" answer of a
# `vps exec` asked every 20 ms; "degraded" stops the clock too and is
# reported with the failed units, since a failing unit is not a fast boot.
# The template comes from the cache the integration tests use
# ($BERTH_TEST_CACHE/bookworm, default /var/cache/berth-test), made once
# with `berth template create --debootstrap bookworm` (the mirror from the
# host's apt sources) when it is not there. Runs in a private mount and
# network namespace with its own data directory and id-range registry.
set -u
bin=$(readlink -f "$1") work=$2 n=$3
if [ "${BENCH_DEBIAN_NS:-}" != 1 ]; then
        cache=${BERTH_TEST_CACHE:-/var/cache/berth-test}/bookworm
        if [ ! -x "$cache/templates/debian/rootfs/lib/systemd/systemd" ]; then
                if ! command -v debootstrap >/dev/null; then
                        echo "Debian boot: not measured: no Debian template in $cache and no debootstrap."
                        exit 0
                fi
                mkdir -p "$cache"
                [ -e "$cache/templates/debian" ] && "$bin" template --data-dir "$cache" rm debian >/dev/null 2>&1
                if ! "$bin" template --data-dir "$cache" create debian --debootstrap bookworm >"$work/debootstrap.log" 2>&1; then
                        echo "Debian boot: not measured: debootstrap failed (log: $work/debootstrap.log)."
                        exit 0
                fi
        fi
        BENCH_DEBIAN_NS=1 BENCH_DEBIAN_CACHE=$cache exec unshare -m -n --propagation private /bin/sh "$0" "$bin" "$work" "$n"
fi
ip link set lo up
tmp=$(mktemp -d /tmp/berth-debboot.XXXXXX)
chmod 711 "$tmp" # the VPS's root (an unprivileged host uid) walks through to its root
export BERTH_ID_REGISTRY="$tmp/id-ranges" BERTH_CONFIG_DIR="$tmp/etc"
mkdir -p "$tmp/data/templates/debian" "$BERTH_CONFIG_DIR"
ln -s "$BENCH_DEBIAN_CACHE/templates/debian/rootfs" "$tmp/data/templates/debian/rootfs"
cp "$BENCH_DEBIAN_CACHE/templates/debian/template.json" "$tmp/data/templates/debian/"
V="$bin --root $tmp/run vps --data-dir $tmp/data"
trap '$V destroy deb --force >/dev/null 2>&1; rm -rf "$tmp"' EXIT
now_ms() { echo $(($(date +%s%N) / 1000000)); }

# boot: starts the VPS, prints "MS STATE" once systemd says it is done.
boot() {
        t0=$(now_ms)
        $V start deb >/dev/null || return 1
        state=""
        while [ $(($(now_ms) - t0)) -lt 120000 ]; do
                state=$($V exec deb -- systemctl is-system-running 2>/dev/null)
                case $state in running | degraded | maintenance) break ;; esac
                sleep 0.02
        done
        echo "$(($(now_ms) - t0)) $state"
}

$V create deb --template debian --ip 10.77.0.2/16 --memory 512M --pids 500 >/dev/null || exit 1
first=$(boot) || exit 1
$V stop deb --timeout 20 >/dev/null
: >"$tmp/ms"
states=""
i=0
while [ $i -lt "$n" ]; do
        r=$(boot) || exit 1
        echo "${r% *}" >>"$tmp/ms"
        states="$states ${r#* }"
        [ "${r#* }" = degraded ] && $V exec deb -- systemctl --failed --no-legend --no-pager >&2
        $V stop deb --timeout 20 >/dev/null
        i=$((i + 1))
done
sort -n "$tmp/ms" | awk -v first="$first" -v states="$states" -v n="$n" '
        {a[NR] = $1}
        END {
                print "| Debian 12 VPS (systemd): `vps start` to `systemctl is-system-running` | median ms | min ms | max ms |"
                print "|---|---:|---:|---:|"
                split(first, f, " ")
                printf "| first boot (%s) | %d | | |\n", f[2], f[1]
                printf "| later boots, %d (states:%s) | %d | %d | %d |\n", n, states, a[int((NR + 1) / 2)], a[1], a[NR]
        }'
