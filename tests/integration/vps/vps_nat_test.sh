#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A VPS's way out and its bandwidth (berth-vps(8): --nat, --rate-in,
# --rate-out, --nameserver, --hostname), checked from inside busybox VPS:
#   nat        a guest reaches an "internet" namespace only through the
#              bridge's NAT (set live), seen there from the host's address;
#              the NAT chain goes with the bridge and comes back with it
#   routed     a routed VPS's address published on the uplink by proxy ARP
#   rate       timed TCP transfers between the guest and the host (a peer
#              namespace of the guest) hold --rate-out and --rate-in within
#              10%, a live change too; status shows bytes and drops; a
#              forged source is still dropped behind the shaper
#   guest      --nameserver and --hostname set live appear inside (files and
#              UTS name), a guest symlink at /etc/resolv.conf is replaced,
#              never followed; bad values are refused naming the problem
#
# Everything runs inside a network namespace this script makes (it re-execs
# itself under `unshare --net`); the "internet" is one more namespace held
# by a sleeping process of ours.
#
# usage: vps_nat_test.sh BERTH NETPROBE [TEST...]
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
command -v nft >/dev/null || skip "no nft(8) to look at berth's NAT table"

failures=0
current=""
bg_pids=""
inet_pid=""

berth() {
        "$bin" --root "$root" vps "$@"
}

cleanup() {
        for p in $bg_pids $inet_pid; do kill "$p" 2>/dev/null; done
        for d in "$data"/vps/*/; do
                [ -d "$d" ] && berth destroy --force "$(basename "$d")" >/dev/null 2>&1
        done
        rm -rf "$tmp"
        ext4_scratch_rm "$ext4"
}

inet() { nsenter -t "$inet_pid" -n "$@"; }

# The "internet": 198.51.100.254 on the host's uplink, 203.0.113.7 behind
# it, no route back to the guests' 10.77.0.0/16.
make_internet() {
        unshare --net sleep 3600 &
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

# within WHAT BPS WANT: BPS is within 10% of WANT.
within() {
        awk -v got="$2" -v want="$3" 'BEGIN { exit !(got >= want * 0.9 && got <= want * 1.1) }' ||
                fail "$1: $2 bit/s, not within 10% of $3"
        echo "   $1: $2 bit/s (limit $3)"
}

bps_of() { sed -n 's/.* bps \([0-9]*\).*/\1/p'; }

# ---- the tests -------------------------------------------------------------

test_nat() {
        expect 0 berth create n1 --template bb --ip 10.77.0.2
        expect 0 berth start n1
        expect 1 berth exec n1 -- netprobe tcp-connect 203.0.113.7 8080 2
        # Not through inet(): a function in the background is a subshell,
        # whose pid is not the probe's.
        nsenter -t "$inet_pid" -n "$probe" tcp-listen 203.0.113.7 8080 &
        bg_pids="$bg_pids $!"
        sleep 0.2
        out=$(berth exec n1 -- netprobe tcp-connect 203.0.113.7 8080 2)
        [ "$out" = timeout ] || fail "without NAT the guest got an answer from the internet: $out"
        expect 0 berth set n1 --nat
        expect 0 berth exec n1 -- netprobe tcp-connect 203.0.113.7 8080 3
        sink_start inet 203.0.113.7 8081
        expect 0 berth exec n1 -- netprobe tcp-send 203.0.113.7 8081 1000
        seen=$(sink_wait)
        echo "$seen" | grep -q "from 198.51.100.1 " || fail "the internet saw not the host's address: $seen"
        [ "$(cat /proc/sys/net/ipv4/ip_forward)" = 0 ] || fail "net.ipv4.ip_forward was turned on"
        [ "$(cat /proc/sys/net/ipv4/conf/berth0/forwarding)" = 1 ] || fail "the bridge does not forward"
        berth --json status n1 | grep -q '"nat": true' || fail "status does not say NAT: $(berth status n1)"
        # Gone with the bridge, back with it.
        expect 0 berth stop n1 --timeout 5
        nft list chain ip berth_nat post_berth0 >/dev/null 2>&1 && fail "NAT chain left after the bridge went"
        ip link show berth0 >/dev/null 2>&1 && fail "bridge left after its last VPS stopped"
        expect 0 berth start n1
        nft list chain ip berth_nat post_berth0 >/dev/null 2>&1 || fail "no NAT chain with the new bridge"
        expect 0 berth exec n1 -- netprobe tcp-connect 203.0.113.7 8080 3
        expect_code 2 "only for a bridged" berth create r1 --template bb --net routed --ip 10.88.0.2 --nat
}

# Routed: an address of the uplink's own subnet, published there by proxy
# ARP as berth-vps(8) OUTBOUND ACCESS tells the provider; the internet
# reaches the guest, and sees its own address (no NAT).
test_routed() {
        expect 0 berth create rt1 --template bb --net routed --ip 198.51.100.50
        expect 0 berth start rt1
        expect 1 nsenter -t "$inet_pid" -n busybox ping -c1 -W2 198.51.100.50
        ip neigh add proxy 198.51.100.50 dev up0
        sysctl -qw net.ipv4.conf.up0.forwarding=1
        # The failed lookup above stays FAILED in the neighbour's cache.
        nsenter -t "$inet_pid" -n ip neigh flush dev inet0
        expect 0 nsenter -t "$inet_pid" -n busybox ping -c1 -W2 198.51.100.50
        sink_start inet 203.0.113.7 8082
        expect 0 berth exec rt1 -- netprobe tcp-send 203.0.113.7 8082 1000
        seen=$(sink_wait)
        echo "$seen" | grep -q "from 198.51.100.50 " || fail "the internet did not see the guest's address: $seen"
        ip neigh del proxy 198.51.100.50 dev up0
        expect 0 berth destroy --force rt1
}

# --rate-out: the guest sends to the host; --rate-in: the host to the guest.
test_rate() {
        expect 0 berth create s1 --template bb --ip 10.77.0.3 --rate-out 20mbit --rate-in 30mbit
        expect 0 berth start s1
        sink_start host 10.77.0.1 7100
        expect 0 berth exec s1 -- netprobe tcp-send 10.77.0.1 7100 12500000
        within "out 20mbit" "$(sink_wait | bps_of)" 20000000
        # What the shaper gives back still meets the filter: a forged source
        # is dropped, the guest's own passes.
        "$probe" udp-recv 7102 3 >"$tmp/udp" 2>&1 &
        rp=$!
        sleep 0.3
        berth exec s1 -- netprobe udp-send 10.77.0.99 10.77.0.1 7102
        berth exec s1 -- netprobe udp-send 10.77.0.3 10.77.0.1 7102
        wait "$rp"
        grep -q "10.77.0.3$" "$tmp/udp" || fail "the guest's own datagram did not pass the shaper: $(cat "$tmp/udp")"
        grep -q "10.77.0.99" "$tmp/udp" && fail "a forged source passed the filter behind the shaper"
        sink_start s1 10.77.0.3 7101
        expect 0 "$probe" tcp-send 10.77.0.3 7101 15000000
        within "in 30mbit" "$(sink_wait | bps_of)" 30000000
        # Live: faster out, no limit in.
        expect 0 berth set s1 --rate-out 40mbit --rate-in none
        sink_start host 10.77.0.1 7100
        expect 0 berth exec s1 -- netprobe tcp-send 10.77.0.1 7100 20000000
        within "out 40mbit (live)" "$(sink_wait | bps_of)" 40000000
        sink_start s1 10.77.0.3 7101
        expect 0 "$probe" tcp-send 10.77.0.3 7101 30000000
        got=$(sink_wait | bps_of)
        awk -v g="$got" 'BEGIN { exit !(g > 60000000) }' || fail "rate-in none still limits: $got bit/s"
        st=$(berth --json status s1)
        echo "$st" | tr -d ' \n' | grep -q '"out":{"rate":40000000,"bytes":[1-9]' ||
                fail "status lacks the out shaper's rate and bytes: $st"
        echo "$st" | tr -d ' \n' | grep -q '"in":null' || fail "status shows an in shaper after none: $st"
        echo "$st" | grep -q '"drops"' || fail "status lacks drops: $st"
        expect 0 berth restart s1 --timeout 5
        berth --json status s1 | tr -d ' \n' | grep -q '"out":{"rate":40000000' ||
                fail "the rate is not re-applied at start"
        expect_code 2 "invalid rate" berth set s1 --rate-out fast
        expect_code 2 "invalid rate" berth create s2 --template bb --rate-in 0mbit
        ifb=$(json_field host_if <"$data/vps/s1/vps.json")r
        expect 0 berth stop s1 --timeout 5
        ip link show "$ifb" >/dev/null 2>&1 && fail "the shaper's IFB $ifb is left after stop"
        # One left by a crash: repair removes it.
        ip link add "$ifb" type ifb
        expect 0 berth repair s1
        ip link show "$ifb" >/dev/null 2>&1 && fail "repair left the shaper's IFB $ifb"
}

test_guest() {
        expect 0 berth create g1 --template bb --ip 10.77.0.4 --nameserver 192.0.2.1
        expect 0 berth start g1
        berth exec g1 -- cat /etc/resolv.conf | grep -q "nameserver 192.0.2.1" || fail "no nameserver at start"
        echo "host file" >"$tmp/canary"
        chmod 644 "$tmp/canary"
        expect 0 berth exec g1 -- ln -sf "$tmp/canary" /etc/resolv.conf
        expect 0 berth set g1 --nameserver 192.0.2.53 --nameserver 2001:db8::53 --hostname web1
        got=$(berth exec g1 -- cat /etc/resolv.conf)
        for ns in 192.0.2.53 2001:db8::53; do
                echo "$got" | grep -q "nameserver $ns" || fail "resolv.conf set live lacks $ns: $got"
        done
        [ "$(cat "$tmp/canary")" = "host file" ] || fail "the guest's symlink was followed to the host"
        berth exec g1 -- test -L /etc/resolv.conf && fail "resolv.conf is still the guest's symlink"
        [ "$(berth exec g1 -- hostname)" = web1 ] || fail "UTS name not set live: $(berth exec g1 -- hostname)"
        [ "$(berth exec g1 -- cat /etc/hostname)" = web1 ] || fail "/etc/hostname not written live"
        berth exec g1 -- cat /etc/hosts | grep -q "10.77.0.4.*web1" || fail "/etc/hosts lacks the new name"
        expect 0 berth set g1 --nameserver none
        berth exec g1 -- cat /etc/resolv.conf | grep -q 192.0.2.53 || fail "--nameserver none rewrote the file"
        json_field hostname <"$data/vps/g1/vps.json" | grep -q web1 || fail "hostname not saved"
        expect_code 2 "not an IP address" berth set g1 --nameserver example.com
        expect_code 2 "only alone" berth set g1 --nameserver none --nameserver 192.0.2.1
        expect_code 2 "invalid host name" berth set g1 --hostname "bad name"
        [ "$(berth exec g1 -- hostname)" = web1 ] || fail "a refused set changed the host name"
}

# expect_code CODE TEXT CMD...: CMD exits CODE and says TEXT.
expect_code() {
        want=$1 text=$2
        shift 2
        out=$("$@" 2>&1)
        got=$?
        if [ "$got" != "$want" ]; then
                fail "'$*' exited $got, expected $want: $out"
        elif ! echo "$out" | grep -qi -- "$text"; then
                fail "'$*': message does not say \"$text\": $out"
        fi
}

# ---- main ------------------------------------------------------------------

in_own_netns "$bin" "$probe" "$@"

scratch_base
scratch_dir berth-nattest
data=$tmp/data
export BERTH_DATA="$data"
export BERTH_CONFIG_DIR="$tmp/etc"
mkdir -p "$BERTH_CONFIG_DIR"
echo '{"host_ports": ["tcp/7100", "udp/7102"]}' >"$BERTH_CONFIG_DIR/network.json"
trap cleanup EXIT
make_internet || { echo "FAIL: cannot make the internet namespace" && exit 1; }
bb_template
cp "$probe" "$data/templates/bb/rootfs/bin/netprobe"

run_named "nat routed rate guest" "$@"
finish
