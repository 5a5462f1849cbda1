#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# berth VPS beside LXC (issue 17), the VPS part of tests/bench/run.sh:
#   vps_lxc.sh BERTH WORKDIR N
# N busybox containers of each, from the same busybox tree (berth's
# template), each with its own user namespace (65536 ids), network
# namespace and veth on a bridge: berth's VPS on its bridge, LXC's
# containers (lxc-start -d, a dir rootfs copied from the template) on a
# bridge of their own. Starts and stops are interleaved (berth, LXC, berth,
# ...) so that the load of a shared machine falls on both alike.
# Everything runs in a private mount and network namespace (unshare -m -n):
# the bridges, veths and LXC's view of /sys/class/net live there, never on
# the host. LXC places its cgroups below the caller's (lxc.cgroup.relative),
# reads no host-wide config (its own lxcpath, config written here) and
# finds no newuidmap (root writes the id maps itself, needing no
# /etc/subuid entry). Prints markdown on stdout; says why when LXC cannot run.
set -eu
berth=$1 work=$2 n=$3

if ! command -v lxc-start >/dev/null; then
        echo "LXC: not measured: lxc-start not found (Debian: create /etc/default/lxc-net with"
        echo "USE_LXC_BRIDGE=\"false\", then apt-get install --no-install-recommends"
        echo "-o Dpkg::Options::=--force-confold lxc: the option keeps that file without asking)."
        exit 0
fi
w=$work/vps-lxc
rm -rf "$w"
mkdir -p "$w"
chmod 711 "$work" "$w"
own_mem=$(awk -F: '$2=="memory" {print $3}' /proc/self/cgroup)
export BENCH_MEM_ROOT="/sys/fs/cgroup/memory$own_mem"
export BERTH_DATA="$w/data" BERTH_ID_REGISTRY="$w/id-ranges" BERTH_CONFIG_DIR="$w/etc"
mkdir -p "$BERTH_CONFIG_DIR"
"$berth" template --data-dir "$w/data" create bb --busybox >/dev/null

# LXC makes an "lxc.pivot" cgroup beside its containers' (here: beside
# the caller's own) and leaves it: removed after the run unless it was
# there before.
pivots=""
for d in $(awk -F: '{print $3}' /proc/self/cgroup | sort -u); do
        for h in /sys/fs/cgroup/*/; do
                p=$h${d#/}/lxc.pivot
                p=$(echo "$p" | sed 's|//*|/|g')
                [ -d "$p" ] || pivots="$pivots $p"
        done
done
rm_pivots() {
        for p in $pivots; do [ -d "$p" ] && rmdir "$p" 2>/dev/null; done
        return 0
}
trap rm_pivots EXIT

unshare -m -n --propagation private sh -s "$berth" "$w" "$n" <<'EOF'
set -eu
berth=$1 w=$2 n=$3
V="$berth --root $w/run vps --data-dir $w/data"
tree=$w/data/templates/bb/rootfs
mem=$BENCH_MEM_ROOT
ip link set lo up
# LXC checks /sys/class/net/BRIDGE/bridge: a sysfs of this network
# namespace over the two net directories, in this mount namespace only.
mkdir -p "$w/sys"
mount -t sysfs sysfs "$w/sys"
mount --bind "$w/sys/class/net" /sys/class/net
mount --bind "$w/sys/devices/virtual/net" /sys/devices/virtual/net
ip link add lxbr0 type bridge
ip addr add 10.78.0.1/16 dev lxbr0
ip link set lxbr0 up
# No newuidmap on LXC's PATH: with it, LXC insists on /etc/subuid
# entries for root; without it, root writes the maps (as berth does).
mkdir -p "$w/bin"
for t in /usr/bin/lxc-*; do ln -sf "$t" "$w/bin/"; done
lxc() { PATH=$w/bin "$@"; }
P=$w/lxcpath
mkdir -p "$P"
# common.conf without its hooks (they need a full PATH and lxcfs), no
# getty ttys (the busybox tree has none), a /dev of its own.
grep -v '^#' /usr/share/lxc/config/common.conf | grep -v '^$' |
        grep -v 'lxc.include\|hook\|fuse\|lxc.tty' >"$w/common.conf"
printf 'lxc.tty.max = 0\nlxc.autodev = 1\n' >>"$w/common.conf"

ip_b() { echo "10.77.$(($1 / 250 + 1)).$(($1 % 250 + 2))"; }
ip_l() { echo "10.78.$(($1 / 250 + 1)).$(($1 % 250 + 2))"; }
ms() { echo "$1 $2" | awk '{printf "%.1f", ($2 - $1) / 1e6}'; }
now() { date +%s%N; }
lxc_prepare() { # lxc_prepare I: rootfs copy (owned by its id range) and config
        c=$P/c$1 id=$((0x70000000 + $1 * 65536))
        mkdir -p "$c"
        cp -a "$tree" "$c/rootfs"
        chown -R -h "$id:$id" "$c/rootfs"
        cat >"$c/config" <<CFG
lxc.uts.name = c$1
lxc.rootfs.path = dir:$c/rootfs
lxc.idmap = u 0 $id 65536
lxc.idmap = g 0 $id 65536
lxc.include = $w/common.conf
lxc.cgroup.relative = 1
lxc.apparmor.profile = unconfined
lxc.signal.halt = SIGUSR2
lxc.console.path = none
lxc.net.0.type = veth
lxc.net.0.link = lxbr0
lxc.net.0.flags = up
lxc.net.0.ipv4.address = $(ip_l "$1")/16
lxc.net.0.ipv4.gateway = 10.78.0.1
lxc.init.cmd = /sbin/init
CFG
}
cleanup() {
        i=0
        while [ $i -lt "$n" ]; do
                lxc lxc-stop -P "$P" -n "c$i" -k >/dev/null 2>&1 || true
                $V destroy "v$i" --force >/dev/null 2>&1 || true
                i=$((i + 1))
        done
        rm -rf "$P"
}
trap cleanup EXIT

# One LXC container first: if LXC cannot run here, say why and stop.
lxc_prepare 0
if ! lxc lxc-start -P "$P" -n c0 -d -l ERROR -o "$w/lxc.log" 2>>"$w/lxc.log"; then
        echo "LXC: not measured: lxc-start failed here:"
        echo '```'
        grep -E 'ERROR' "$w/lxc.log" | tail -5
        echo '```'
        exit 0
fi
lxc lxc-stop -P "$P" -n c0 -k >/dev/null 2>&1
i=0
while [ $i -lt "$n" ]; do
        [ $i = 0 ] || lxc_prepare $i
        $V create "v$i" --template bb --ip "$(ip_b $i)" --memory 64M --pids 100 >/dev/null
        i=$((i + 1))
done
sync
a0=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
i=0
: >"$w/start.b"
: >"$w/start.l"
fails_b=0 fails_l=0
while [ $i -lt "$n" ]; do
        t0=$(now)
        $V start "v$i" >/dev/null 2>>"$w/berth.log" || fails_b=$((fails_b + 1))
        t1=$(now)
        lxc lxc-start -P "$P" -n "c$i" -d -l ERROR -o "$w/lxc.log" || fails_l=$((fails_l + 1))
        t2=$(now)
        ms "$t0" "$t1" >>"$w/start.b" && echo >>"$w/start.b"
        ms "$t1" "$t2" >>"$w/start.l" && echo >>"$w/start.l"
        i=$((i + 1))
done
sleep 2 # the inits settle
a1=$(awk '/MemAvailable/ {print $2}' /proc/meminfo)
sum_cg() { # sum_cg PATTERN: memory.usage_in_bytes of the matching cgroups, KiB
        s=0
        for c in $mem/$1; do
                [ -f "$c/memory.usage_in_bytes" ] && s=$((s + $(cat "$c/memory.usage_in_bytes")))
        done
        echo $((s / 1024))
}
# The data directory's tag in the VPS cgroups' names (berth_vps_data_tag:
# FNV-1a of its real path), so that no one else's VPS is counted.
h=2166136261
for c in $(printf %s "$(realpath "$w/data")" | od -An -tu1); do h=$((((h ^ c) * 16777619) & 0xffffffff)); done
mem_b=$(sum_cg "berth-vps-v*-$(printf %08x $h)")
mem_l=$(($(sum_cg 'lxc.payload.c*') + $(sum_cg 'lxc.monitor.c*')))
# Reachable, both: the last guest of each answers a ping from its bridge.
reach_b=no reach_l=no
busybox ping -c1 -W3 "$(ip_b $((n - 1)))" >/dev/null 2>&1 && reach_b=yes
busybox ping -c1 -W3 "$(ip_l $((n - 1)))" >/dev/null 2>&1 && reach_l=yes
: >"$w/stop.b"
: >"$w/stop.l"
i=0
while [ $i -lt "$n" ]; do
        t0=$(now)
        $V stop "v$i" --timeout 5 >/dev/null 2>>"$w/berth.log" || true
        t1=$(now)
        lxc lxc-stop -P "$P" -n "c$i" -t 5 >/dev/null 2>&1 || true
        t2=$(now)
        ms "$t0" "$t1" >>"$w/stop.b" && echo >>"$w/stop.b"
        ms "$t1" "$t2" >>"$w/stop.l" && echo >>"$w/stop.l"
        i=$((i + 1))
done
med() { sort -n "$1" | awk '{a[NR] = $1} END {if (NR) printf "%.1f", a[int((NR + 1) / 2)]; else printf "-"}'; }
ratio() { echo "$1 $2" | awk '{if ($2 > 0) printf "%.2f", $1 / $2; else printf "-"}'; }
sb=$(med "$w/start.b") sl=$(med "$w/start.l") pb=$(med "$w/stop.b") pl=$(med "$w/stop.l")
echo "| berth VPS vs LXC ($n each, busybox, own userns + netns + veth on a bridge) | berth | LXC | berth/LXC |"
echo "|---|---:|---:|---:|"
echo "| start, median ms (\`vps start\` / \`lxc-start -d\`) | $sb | $sl | $(ratio "$sb" "$sl") |"
echo "| stop, median ms (\`vps stop --timeout 5\` / \`lxc-stop -t 5\`) | $pb | $pl | $(ratio "$pb" "$pl") |"
echo "| memory per container: its cgroups (berth: guest + console keeper; LXC: payload + monitor), KiB | $((mem_b / n)) | $((mem_l / n)) | $(ratio "$mem_b" "$mem_l") |"
echo "| start failures | $fails_b | $fails_l | |"
echo "| last container answers ping | $reach_b | $reach_l | |"
echo
echo "Host MemAvailable drop with both sets running: $(((a0 - a1) / n / 2)) KiB per container (machine-wide, noisy)."
EOF
