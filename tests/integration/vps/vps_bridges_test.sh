#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Overflow bridges (berth-vps(8), NETWORK): a Linux bridge takes 1023 ports,
# so the VPS of a bridged network beyond that go onto <bridge>-1, -2, ...
# joined to it by host routes and proxy ARP. The test knob
# BERTH_BRIDGE_PORTS_MAX=2 makes five busybox VPS fill three bridges;
# checked from inside the guests:
#   setup      two ports on berth0, two on berth0-1, one on berth0-2
#   reach      every guest pings every other guest (across bridges), the
#              gateway, and the host reaches each guest
#   out        --nat and --rate-out/--rate-in on a VPS on an overflow
#              bridge: it reaches an "internet" namespace seen as the host's
#              address, and its transfers hold the rates within 10%
#   spoof      a guest on an overflow bridge sending with a neighbour's
#              address (on its own bridge and on another) is still dropped
#   ip_add     an address added live on an overflow VPS is reachable, and
#              its host route goes with --ip-del
#   shrink     a restart of an overflow VPS once room is free puts it back
#              on berth0; the overflow bridge without ports is gone
#   repair     a host route a killed start left behind is replaced by the
#              next start of the VPS
#   gone       after destroying all: no bridge, no host route, no filter
#              element of the group is left
#
# Everything runs inside a network namespace this script makes (it re-execs
# itself under `unshare --net`).
#
# usage: vps_bridges_test.sh BERTH NETPROBE [TEST...]
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
bin=${BERTH_VPS_BIN:-${1:-}}
probe=${2:-}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift

require_vps_host "$bin"
[ -x "$probe" ] || skip "no netprobe binary given"
command -v nft >/dev/null || skip "no nft(8) to look at berth's filter"

failures=0
current=""
inet_pid=""
bg_pids=""
names="v1 v2 v3 v4 v5"

berth() {
        "$bin" --root "$root" vps "$@"
}

cleanup() {
        for p in ${recv_pid:-} $bg_pids $inet_pid; do kill "$p" 2>/dev/null; done
        for d in "$data"/vps/*/; do
                [ -d "$d" ] && berth destroy --force "$(basename "$d")" >/dev/null 2>&1
        done
        rm -rf "$tmp"
        ext4_scratch_rm "$ext4"
}

host_if_of() { json_field host_if <"$data/vps/$1/vps.json"; }
# Addresses no other test uses (another test's VPS in the id registry
# would hold 10.77.0.2): in berth0's 10.77.0.0/16.
addr_of() { echo "10.77.217.$((${1#v} + 1))"; }
# The bridge the host end of VPS $1 is on.
bridge_of() { ip -o link show "$(host_if_of "$1")" | sed -n 's/.* master \([^ ]*\) .*/\1/p'; }
ports_of() { ip -o link show master "$1" 2>/dev/null | wc -l; }

inet() { nsenter -t "$inet_pid" -n "$@"; }

# The "internet" (as in vps_nat_test.sh): 198.51.100.254 on the host's
# uplink, 203.0.113.7 behind it, no route back to the guests' 10.77.0.0/16.
make_internet() {
        unshare --net sleep 600 &
        inet_pid=$!
        for _ in $(seq 100); do # until it has its own namespace
                [ "$(readlink "/proc/$inet_pid/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
                sleep 0.05
        done
        ip link add up0 type veth peer name inet0 || return 1
        ip link set inet0 netns "$inet_pid" || return 1
        ip addr add 198.51.100.1/24 dev up0 && ip link set up0 up &&
                ip route add default via 198.51.100.254 || return 1
        inet ip addr add 198.51.100.254/24 dev inet0 && inet ip link set inet0 up &&
                inet ip link set lo up && inet ip addr add 203.0.113.7/32 dev lo
}

# sink_start WHERE ADDR PORT: a netprobe tcp-sink (WHERE: host, inet, or a
# VPS name); its output in $sink_out.
sink_start() {
        sink_out=$tmp/sink.$3
        : >"$sink_out"
        case $1 in
        host) "$probe" tcp-sink "$2" "$3" 30 >"$sink_out" 2>&1 & ;;
        inet) nsenter -t "$inet_pid" -n "$probe" tcp-sink "$2" "$3" 30 >"$sink_out" 2>&1 & ;;
        *) berth exec "$1" -- netprobe tcp-sink "$2" "$3" 30 >"$sink_out" 2>&1 & ;;
        esac
        sink_pid=$!
        for _ in $(seq 50); do
                grep -q listening "$sink_out" && return 0
                sleep 0.1
        done
        fail "sink on $1 did not start: $(cat "$sink_out")"
}

sink_wait() {
        wait "$sink_pid" 2>/dev/null
        cat "$sink_out"
}

bps_of() { sed -n 's/.* bps \([0-9]*\).*/\1/p'; }

# within WHAT BPS WANT: BPS is within 10% of WANT.
within() {
        awk -v got="$2" -v want="$3" 'BEGIN { exit !(got >= want * 0.9 && got <= want * 1.1) }' ||
                fail "$1: $2 bit/s, not within 10% of $3"
        echo "   $1: $2 bit/s (limit $3)"
}

# recv_start NAME PORT SECONDS: a UDP receiver in VPS NAME, output in $recv_out.
recv_start() {
        recv_out=$tmp/recv.$1.$2
        : >"$recv_out"
        berth exec "$1" -- netprobe udp-recv "$2" "$3" >"$recv_out" 2>&1 &
        recv_pid=$!
        for _ in 1 2 3 4 5 6 7 8 9 10; do
                grep -q listening "$recv_out" && return 0
                sleep 0.2
        done
        fail "UDP receiver in $1 did not start: $(cat "$recv_out")"
}

test_setup() {
        for n in $names; do
                expect 0 berth create "$n" --template bb --ip "$(addr_of "$n")"
        done
        expect 0 berth set v5 --ip-add fd77::d9:6
        # Never started: no neighbour knows it, its first start announces
        # it nowhere (an empty bridge.last).
        [ -e "$data/vps/v5/bridge.last" ] && [ ! -s "$data/vps/v5/bridge.last" ] ||
                fail "a new VPS's bridge.last is missing or not empty"
        for n in $names; do expect 0 berth start "$n"; done
        [ "$(cat "$data/vps/v5/bridge.last")" = berth0-2 ] || fail "v5's bridge.last: $(cat "$data/vps/v5/bridge.last")"
        [ "$(ports_of berth0)" = 2 ] || fail "berth0 has $(ports_of berth0) ports, expected 2"
        [ "$(ports_of berth0-1)" = 2 ] || fail "berth0-1 has $(ports_of berth0-1) ports, expected 2"
        [ "$(ports_of berth0-2)" = 1 ] || fail "berth0-2 has $(ports_of berth0-2) ports, expected 1"
        [ "$(bridge_of v5)" = berth0-2 ] || fail "v5 is on '$(bridge_of v5)', expected berth0-2"
        # The guests keep their prefix and gateway, wherever their bridge.
        for n in v3 v5; do
                berth exec "$n" -- ip -o -4 addr show dev eth0 | grep -q "$(addr_of "$n")/16" ||
                        fail "$n: $(berth exec "$n" -- ip -o -4 addr show dev eth0)"
                berth exec "$n" -- ip route | grep -q '^default via 10.77.0.1' ||
                        fail "$n: no default route via the gateway: $(berth exec "$n" -- ip route)"
        done
        ip route show proto 98 | grep -q "^$(addr_of v5) dev berth0-2" ||
                fail "no host route to v5 on berth0-2: $(ip route show proto 98)"
        nft list set inet berth ifs | grep -q '"berth0-2"' || fail "berth0-2 not among the filter's ifs"
        # Proxy ARP on every bridge of the group, answering at once.
        for br in berth0 berth0-1 berth0-2; do
                [ "$(cat /proc/sys/net/ipv4/conf/$br/proxy_arp)" = 1 ] || fail "no proxy ARP on $br"
                [ "$(cat /proc/sys/net/ipv4/neigh/$br/proxy_delay)" = 0 ] || fail "proxy ARP on $br answers late"
        done
}

test_reach() {
        for n in $names; do
                expect 0 berth exec "$n" -- ping -c1 -W2 10.77.0.1
                expect 0 busybox ping -c1 -W2 "$(addr_of "$n")"
                for m in $names; do
                        [ "$n" = "$m" ] && continue
                        expect 0 berth exec "$n" -- ping -c1 -W2 "$(addr_of "$m")"
                done
        done
        # IPv6: an overflow guest reaches its gateway and the host it.
        expect 0 berth exec v5 -- ping -c1 -W2 fd77::1
        expect 0 busybox ping -c1 -W2 fd77::d9:6
}

test_out() {
        make_internet || fail "cannot make the internet namespace"
        # Not through inet(): a function in the background is a subshell,
        # whose pid is not the probe's.
        nsenter -t "$inet_pid" -n "$probe" tcp-listen 203.0.113.7 8080 &
        bg_pids="$bg_pids $!"
        sleep 0.2
        out=$(berth exec v5 -- netprobe tcp-connect 203.0.113.7 8080 2)
        [ "$out" = timeout ] || fail "without NAT v5 got an answer from the internet: $out"
        expect 0 berth set v5 --nat
        expect 0 berth exec v5 -- netprobe tcp-connect 203.0.113.7 8080 3
        sink_start inet 203.0.113.7 8081
        expect 0 berth exec v5 -- netprobe tcp-send 203.0.113.7 8081 1000
        seen=$(sink_wait)
        echo "$seen" | grep -q "from 198.51.100.1 " || fail "the internet saw not the host's address: $seen"
        expect 0 berth set v5 --rate-out 20mbit --rate-in 30mbit
        sink_start host 10.77.0.1 7100
        expect 0 berth exec v5 -- netprobe tcp-send 10.77.0.1 7100 10000000
        within "out 20mbit" "$(sink_wait | bps_of)" 20000000
        sink_start v5 "$(addr_of v5)" 7101
        expect 0 "$probe" tcp-send "$(addr_of v5)" 7101 15000000
        within "in 30mbit" "$(sink_wait | bps_of)" 30000000
        expect 0 berth set v5 --rate-out none --rate-in none
}

# spoof_case SENDER RECEIVER: SENDER (on an overflow bridge) sends to
# RECEIVER with its own address (arrives) and with neighbours' (dropped).
spoof_case() {
        s=$1 r=$2
        shift 2
        recv_start "$r" 9000 4
        expect 0 berth exec "$s" -- netprobe udp-send "$(addr_of "$s")" "$(addr_of "$r")" 9000
        for src in "$@"; do
                expect 0 berth exec "$s" -- netprobe udp-send "$src" "$(addr_of "$r")" 9000
        done
        wait "$recv_pid" 2>/dev/null
        recv_pid=""
        got=$(cat "$recv_out")
        echo "$got" | grep -q "from ::ffff:$(addr_of "$s")\$" || fail "$s -> $r: honest datagram lost: $got"
        for src in "$@"; do
                echo "$got" | grep -Eq "from (::ffff:)?$src\$" && fail "$s -> $r: spoofed source $src arrived"
        done
}

test_spoof() {
        # v4 (berth0-1) as v3 (its own bridge), v1 (berth0), v5 (berth0-2).
        spoof_case v4 v1 "$(addr_of v3)" "$(addr_of v1)" "$(addr_of v5)" 10.77.217.99
        spoof_case v5 v3 "$(addr_of v3)" "$(addr_of v2)" 10.77.217.99
}

test_ip_add() {
        expect 0 berth set v4 --ip-add 10.77.217.40
        ip route show proto 98 | grep -q "^10.77.217.40 dev berth0-1" ||
                fail "no host route for the added address: $(ip route show proto 98)"
        expect 0 berth exec v1 -- ping -c1 -W2 10.77.217.40
        expect 0 berth exec v5 -- ping -c1 -W2 10.77.217.40
        expect 0 berth set v4 --ip-del 10.77.217.40
        ip route show proto 98 | grep -q "^10.77.217.40 " && fail "host route of a deleted address left"
}

test_shrink() {
        expect 0 berth stop v1
        expect 0 berth stop v5
        ip link show berth0-2 >/dev/null 2>&1 && fail "berth0-2 left without ports"
        nft list set inet berth ifs | grep -q '"berth0-2"' && fail "berth0-2 left among the filter's ifs"
        ip route show proto 98 | grep -q "^$(addr_of v5) " && fail "v5's host route left after its stop"
        expect 0 berth start v5
        [ "$(bridge_of v5)" = berth0 ] || fail "v5 restarted on '$(bridge_of v5)', expected berth0 (room free)"
        # The hint of where each start left the host end (a start on the
        # same overflow bridge skips announcing the guest on the others).
        [ "$(cat "$data/vps/v5/bridge.last")" = berth0 ] || fail "v5's bridge.last: $(cat "$data/vps/v5/bridge.last")"
        expect 0 berth exec v5 -- ping -c1 -W2 "$(addr_of v3)"
        expect 0 berth exec v3 -- ping -c1 -W2 "$(addr_of v5)"
        expect 0 berth start v1
        [ "$(bridge_of v1)" = berth0-2 ] || fail "v1 restarted on '$(bridge_of v1)', expected berth0-2"
        [ "$(cat "$data/vps/v1/bridge.last")" = berth0-2 ] || fail "v1's bridge.last: $(cat "$data/vps/v1/bridge.last")"
        # v2 (berth0) held v1's own MAC: it learnt the proxy's at v1's move.
        expect 0 berth exec v1 -- ping -c1 -W2 "$(addr_of v2)"
}

# What a start killed after the route and before its end would leave: a
# stale host route of v2's address to an overflow bridge. v2's next start
# (on berth0) must not stay behind it.
test_repair() {
        expect 0 berth stop v2
        ip route add "$(addr_of v2)/32" dev berth0-1 proto 98 || fail "cannot plant a stale route"
        expect 0 berth start v2
        [ "$(bridge_of v2)" = berth0 ] || fail "v2 on '$(bridge_of v2)', expected berth0"
        ip route show proto 98 | grep -q "^$(addr_of v2) " && fail "stale host route survived v2's start"
        expect 0 berth exec v2 -- ping -c1 -W2 10.77.0.1
        expect 0 berth exec v3 -- ping -c1 -W2 "$(addr_of v2)"
}

test_gone() {
        for n in $names; do expect 0 berth destroy --force "$n"; done
        left=$(ip -o link show type bridge | grep -o 'berth0[^:@ ]*')
        [ -z "$left" ] || fail "bridges left: $left"
        left=$(ip route show proto 98; ip -6 route show proto 98)
        [ -z "$left" ] || fail "host routes left: $left"
        nft list chain ip berth_nat post_berth0 >/dev/null 2>&1 && fail "NAT chain left after the bridges went"
        left=$(nft list set inet berth ifs 2>/dev/null | grep -o 'berth0-[0-9]*')
        [ -z "$left" ] || fail "overflow bridges left in the filter's ifs: $left"
        for set in macs addr4 addr6 ndtarget; do
                left=$(nft list set netdev berth $set 2>/dev/null | sed -n '/elements/,/}/p' | grep -o 'bth[0-9a-f]*')
                [ -z "$left" ] || fail "elements left in $set after destroy: $left"
        done
}

# ---- main ------------------------------------------------------------------

in_own_netns "$bin" "$probe" "$@"

scratch_base
scratch_dir berth-bridgestest
data=$tmp/data
export BERTH_DATA="$data"
export BERTH_CONFIG_DIR="$tmp/etc"
export BERTH_ID_REGISTRY="$tmp/id-ranges"
export BERTH_BRIDGE_PORTS_MAX=2
mkdir -p "$BERTH_CONFIG_DIR"
echo '{"host_ports": ["tcp/7100"]}' >"$BERTH_CONFIG_DIR/network.json"
trap cleanup EXIT
bb_template
cp "$probe" "$data/templates/bb/rootfs/bin/netprobe"

run_named "setup reach out spoof ip_add shrink repair gone" "$@"
finish
