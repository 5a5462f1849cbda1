#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Network isolation of `berth vps`: each attack a guest can try on its
# neighbours and on the host, made from inside a real busybox VPS and
# observed on the victim's side (its ARP cache, routes, received datagrams,
# the host's neighbour table and listeners). See docs/security/network.md.
#
# Everything runs inside a network namespace this script makes (it re-execs
# itself under `unshare --net`): the bridge, veths, routes and berth's
# nftables tables never reach the machine's own network.
#
# usage: vps_net_test.sh BERTH NETPROBE [TEST...]    (BERTH_VPS_BIN overrides BERTH)
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

failures=0
current=""
bg_pids=""

berth() {
        "$bin" --root "$root" vps "$@"
}

cleanup() {
        for p in $bg_pids; do kill "$p" 2>/dev/null; done
        for d in "$data"/vps/*/; do
                [ -d "$d" ] && berth destroy --force "$(basename "$d")" >/dev/null 2>&1
        done
        rm -rf "$tmp"
        ext4_scratch_rm "$ext4"
}

mac_of() { berth exec "$1" -- cat /sys/class/net/eth0/address; }
host_if_of() { json_field host_if <"$data/vps/$1/vps.json"; }

# expect_err CODE TEXT CMD...: CMD exits CODE and its message contains TEXT.
expect_err() {
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

recv_wait() {
        wait "$recv_pid" 2>/dev/null
}

# ---- the tests -------------------------------------------------------------

test_setup() {
        expect 0 berth create a --template bb --ip 10.77.0.2 --ip fd77::2
        expect 0 berth create b --template bb --ip 10.77.0.3 --ip fd77::3
        expect 0 berth create c --template bb --ip 10.77.0.4 --ip fd77::4
        expect 0 berth create r1 --template bb --net routed --ip 10.88.0.2 --ip fd88::2
        expect 0 berth create r2 --template bb --net routed --ip 10.88.0.3 --ip fd88::3
        expect 0 berth start a b c r1 r2
}

# A stable MAC: in vps.json, on the guest's eth0, the same after a restart,
# and announced at start (the host learns it without asking).
test_stable_mac() {
        json_mac=$(json_field mac <"$data/vps/a/vps.json")
        [ -n "$json_mac" ] || fail "vps.json has no mac"
        [ "$(mac_of a)" = "$json_mac" ] || fail "a's eth0 is $(mac_of a), vps.json says $json_mac"
        before=$(mac_of a)
        sysctl -qw net.ipv4.conf.berth0.arp_accept=1
        ip neigh flush dev berth0
        expect 0 berth restart a --timeout 10
        after=$(mac_of a)
        [ "$before" = "$after" ] || fail "a's MAC changed over a restart: $before -> $after"
        sleep 0.5
        learned=$(ip neigh show 10.77.0.2 dev berth0)
        echo "$learned" | grep -q "$after" || fail "a did not announce itself at start (host neigh: '$learned')"
        expect_err 2 "MAC" berth create m --template bb --mac 01:00:5e:00:00:01
        expect 0 berth set b --mac 02:00:00:77:00:03
        [ "$(mac_of b)" = 02:00:00:77:00:03 ] || fail "set --mac: b's eth0 is $(mac_of b)"
        expect 0 berth exec b -- ping -c1 -W2 10.77.0.1
}

# a claims b's IPv4 address with a gratuitous ARP: c's cache and the host's
# neighbour table must keep b's MAC.
test_arp_takeover() {
        mac_a=$(mac_of a)
        mac_b=$(mac_of b)
        expect 0 berth exec c -- ping -c1 -W2 10.77.0.3
        expect 0 busybox ping -c1 -W2 10.77.0.3
        sleep 1.2 # past the neighbour entries' locktime
        expect 0 berth exec a -- netprobe garp eth0 10.77.0.3
        sleep 0.3
        in_c=$(berth exec c -- cat /proc/net/arp | awk '$1 == "10.77.0.3" {print $4}')
        [ "$in_c" = "$mac_b" ] || fail "c's ARP cache has 10.77.0.3 at $in_c (a is $mac_a, b is $mac_b)"
        on_host=$(ip neigh show 10.77.0.3 dev berth0)
        echo "$on_host" | grep -q "$mac_b" || fail "host neighbour entry for b: $on_host (a is $mac_a)"
}

# a takes another MAC: its frames go nowhere, and back to its own they pass.
test_mac_change() {
        mac_a=$(mac_of a)
        expect 0 berth exec a -- ip link set eth0 address 02:66:66:66:66:66
        expect 1 berth exec a -- ping -c1 -W2 10.77.0.3
        expect 1 berth exec a -- ping -c1 -W2 10.77.0.1
        expect 0 berth exec a -- ip link set eth0 address "$mac_a"
        expect 0 berth exec a -- ping -c1 -W2 10.77.0.3
}

# a advertises itself as router with a prefix: b must learn neither.
test_rogue_ra() {
        expect 0 berth exec a -- netprobe ra eth0
        sleep 1
        routes=$(berth exec b -- ip -6 route)
        addrs=$(berth exec b -- ip -6 addr)
        echo "$routes" | grep -Eq '2001:db8:bad|proto ra|expires' && fail "b learned a's RA: $routes"
        echo "$addrs" | grep -q '2001:db8:bad' && fail "b configured the rogue prefix: $addrs"
}

# Spoofed sources to a neighbour, with an honest datagram as a control.
# spoof_case SENDER RECEIVER OWN4 OWN6 DST4 DST6 FOREIGN...
spoof_case() {
        s=$1 r=$2 own4=$3 own6=$4 dst4=$5 dst6=$6
        shift 6
        recv_start "$r" 9000 4
        expect 0 berth exec "$s" -- netprobe udp-send "$own4" "$dst4" 9000
        expect 0 berth exec "$s" -- netprobe udp-send "$own6" "$dst6" 9000
        for src in "$@"; do
                case $src in *:*) dst=$dst6 ;; *) dst=$dst4 ;; esac
                expect 0 berth exec "$s" -- netprobe udp-send "$src" "$dst" 9000
        done
        recv_wait
        got=$(cat "$recv_out")
        echo "$got" | grep -q "from ::ffff:$own4\$" || fail "$s -> $r: honest IPv4 datagram lost: $got"
        echo "$got" | grep -q "from $own6\$" || fail "$s -> $r: honest IPv6 datagram lost: $got"
        for src in "$@"; do
                echo "$got" | grep -Eq "from (::ffff:)?$src\$" && fail "$s -> $r: spoofed source $src arrived"
        done
}

test_spoof_bridged() {
        spoof_case a b 10.77.0.2 fd77::2 10.77.0.3 fd77::3 10.77.0.99 10.77.0.4 fd77::99 fd77::4 192.0.2.1
}

test_spoof_routed() {
        spoof_case r1 r2 10.88.0.2 fd88::2 10.88.0.3 fd88::3 10.88.0.99 10.77.0.4 fd88::99 2001:db8::1
}

# Host services on the gateway: closed to guests but for ICMP echo, the
# ports of network.json, and replies to connections the host opened.
test_host_listener() {
        "$probe" tcp-listen :: 7001 &
        bg_pids="$bg_pids $!"
        "$probe" tcp-listen :: 7002 &
        bg_pids="$bg_pids $!"
        sleep 0.3
        expect 0 "$probe" tcp-connect 10.77.0.1 7001 2 # the listeners work
        expect 1 berth exec a -- netprobe tcp-connect 10.77.0.1 7001 2
        expect 1 berth exec a -- netprobe tcp-connect fd77::1 7001 2
        expect 1 berth exec r1 -- netprobe tcp-connect 169.254.0.1 7001 2
        expect 0 berth exec a -- netprobe tcp-connect 10.77.0.1 7002 2
        expect 0 berth exec a -- netprobe tcp-connect fd77::1 7002 2
        expect 0 berth exec r1 -- netprobe tcp-connect 169.254.0.1 7002 2
        expect 0 berth exec a -- ping -c1 -W2 10.77.0.1
        expect 0 berth exec a -- ping -c1 -W2 fd77::1
        expect 0 berth exec r1 -- ping -c1 -W2 169.254.0.1
        # The host opens a connection to a guest: the replies come back.
        berth exec a -- sh -c 'netprobe tcp-listen :: 7005 >/dev/null 2>&1 &'
        sleep 0.3
        expect 0 "$probe" tcp-connect 10.77.0.2 7005 2
}

# What no VPS can own, at create and at set --ip-add, with the reason.
refused_case() { # refused_case CODE TEXT ADDR [VPS-FOR-SET [CREATE-OPTION...]]
        code=$1 text=$2 addr=$3 vps=${4:-c}
        shift 3
        [ $# -gt 0 ] && shift
        expect_err "$code" "$text" berth create bad --template bb --ip "$addr" "$@"
        [ -d "$data/vps/bad" ] && berth destroy bad >/dev/null 2>&1
        expect_err "$code" "$text" berth set "$vps" --ip-add "$addr"
        grep -q "\"$addr" "$data/vps/$vps/vps.json" && berth set "$vps" --ip-del "$addr" >/dev/null 2>&1
}

test_refused() {
        refused_case 2 gateway 10.77.0.1
        refused_case 2 gateway fd77::1
        refused_case 2 "network address" 10.77.0.0
        refused_case 2 "network address" fd77::
        refused_case 2 broadcast 10.77.255.255
        refused_case 2 broadcast 255.255.255.255
        refused_case 2 multicast 224.0.0.5
        refused_case 2 multicast ff02::1
        refused_case 2 loopback 127.0.0.2
        refused_case 2 loopback ::1
        refused_case 2 unspecified 0.0.0.0
        refused_case 2 unspecified ::
        refused_case 2 link-local 169.254.3.4
        refused_case 2 link-local fe80::5
        refused_case 2 "IPv4-mapped" ::ffff:10.77.0.9
        refused_case 2 "/0" 10.77.0.9/0
        refused_case 2 outside 10.99.0.5
        refused_case 2 outside fd99::5
        refused_case 4 "used by VPS b" 10.77.0.3
        refused_case 4 "used by VPS r2" 10.88.0.3 r1 --net routed
        refused_case 2 "link-local" 169.254.0.1 r1 --net routed
}

# Another data directory used from this network namespace shares its
# addresses (the same bridge); one used from another namespace (another
# host on this machine) does not.
test_other_data_dir() {
        d2=$tmp/data2
        mkdir -p "$d2/templates" && cp -a "$data/templates/bb" "$d2/templates/"
        out=$("$bin" --root "$root" vps --data-dir "$d2" create o1 --template bb --ip 10.77.0.3 2>&1)
        code=$?
        [ $code = 4 ] && echo "$out" | grep -q "address already used by VPS b of " ||
                fail "same network, other data directory: exit $code: $out"
        [ ! -e "$d2/vps/o1" ] || fail "the refused create left $d2/vps/o1"
        expect 0 unshare --net "$bin" --root "$root" vps --data-dir "$d2" create o1 --template bb --ip 10.77.0.3
        expect 0 "$bin" --root "$root" vps --data-dir "$d2" destroy o1
        rm -rf "$d2"
}

# Who holds an address is asked of the claims (<data>/claims/addr-IP, a
# symlink naming the VPS), checked against that VPS's vps.json: a stale
# claim gives way, a live one refuses, and a data directory without claims
# is indexed by the first create. Runs after ip_del: 10.77.0.2 was a's.
test_claims() {
        c=$data/claims
        [ "$(readlink "$c/addr-10.77.0.20")" = a ] || fail "no claim of a for 10.77.0.20: $(ls -l "$c")"
        expect 0 berth create c1 --template bb --ip 10.77.0.2
        [ "$(readlink "$c/addr-10.77.0.2")" = c1 ] || fail "the stale claim of 10.77.0.2 was not taken over"
        expect 0 berth destroy c1
        [ -e "$c/addr-10.77.0.2" ] && fail "destroy left the claim of 10.77.0.2"
        ln -sfn b "$c/addr-10.77.0.40" # b does not have it
        expect 0 berth create c1 --template bb --ip 10.77.0.40
        expect 0 berth destroy c1
        expect_err 4 "used by VPS a" berth create c2 --template bb --ip 10.77.0.20
        [ -e "$data/vps/c2" ] && fail "the refused create left $data/vps/c2"
        rm -rf "$c"
        expect_err 4 "used by VPS a" berth create c3 --template bb --ip 10.77.0.21
        [ -e "$c/.indexed" ] || fail "the create did not index the data directory"
        [ "$(readlink "$c/addr-10.77.0.20")" = a ] || fail "indexing wrote no claim of a: $(ls -l "$c")"
        [ "$(readlink "$c/if-$(host_if_of b)")" = b ] || fail "indexing wrote no interface claim of b"
}

# Deleting the first IPv4 address keeps the others and the default route;
# the filter follows: the deleted address is no longer a's to send from.
test_ip_del() {
        expect 0 berth set a --ip-add 10.77.0.20 --ip-add 10.77.0.21
        expect 0 berth set a --ip-del 10.77.0.2
        addrs=$(berth exec a -- ip -o -4 addr show dev eth0)
        echo "$addrs" | grep -q '10.77.0.20/' || fail "10.77.0.20 gone with the first address: $addrs"
        echo "$addrs" | grep -q '10.77.0.21/' || fail "10.77.0.21 gone with the first address: $addrs"
        echo "$addrs" | grep -q '10.77.0.2/' && fail "10.77.0.2 still on a: $addrs"
        berth exec a -- ip route | grep -q '^default via 10.77.0.1' || fail "default route gone: $(berth exec a -- ip route)"
        expect 0 berth exec b -- ping -c1 -W2 10.77.0.20
        expect 0 berth exec b -- ping -c1 -W2 10.77.0.21
        grep -q '"10.77.0.2/' "$data/vps/a/vps.json" && fail "vps.json still has 10.77.0.2"
        recv_start b 9001 3
        expect 0 berth exec a -- netprobe udp-send 10.77.0.21 10.77.0.3 9001
        expect 0 berth exec a -- netprobe udp-send 10.77.0.2 10.77.0.3 9001
        recv_wait
        got=$(cat "$recv_out")
        echo "$got" | grep -q 'from ::ffff:10.77.0.21$' || fail "datagram from the added address lost: $got"
        echo "$got" | grep -q 'from ::ffff:10.77.0.2$' && fail "deleted address still passes the filter"
}

# Before Linux 6.16 the kernel deletes a netdev base chain, rules and all,
# with its last device (every VPS stopped; on 6.1 also the VPS the shared
# chain was made for), and a later update of it makes it anew, empty. The
# starts after that must filter again: deleting the chain by hand with every
# VPS stopped stands in for such a kernel on any kernel.
test_chain_lost() {
        command -v nft >/dev/null || { echo "   (no nft(8): not checked)"; return; }
        expect 0 berth stop a b c r1 r2 --timeout 10
        nft delete chain netdev berth guest 2>/dev/null # gone already before 6.16
        expect 0 berth start a b c r1 r2
        mac_a=$(mac_of a)
        expect 0 berth exec a -- ip link set eth0 address 02:66:66:66:66:67
        expect 1 berth exec a -- ping -c1 -W2 10.77.0.3
        expect 0 berth exec a -- ip link set eth0 address "$mac_a"
        expect 0 berth exec a -- ping -c1 -W2 10.77.0.3
        spoof_case r1 r2 10.88.0.2 fd88::2 10.88.0.3 fd88::3 10.88.0.99 fd88::99
}

# Stop and destroy take the filters away; a VPS made --no-filter has none
# (and passes the shared chain); nothing of a VPS is left after destroy.
elements() { # elements SET: the set's elements of berth's netdev table
        nft list set netdev berth "$1" 2>/dev/null | sed -n '/elements/,/}/p'
}

test_filter_lifecycle() {
        command -v nft >/dev/null || { echo "   (no nft(8): filter listing not checked)"; return; }
        "$probe" tcp-listen :: 7006 &
        bg_pids="$bg_pids $!"
        hif=$(host_if_of c)
        elements macs | grep -q "$hif" || fail "running c has no MAC element ($hif)"
        elements addr4 | grep -q "10.77.0.4" || fail "running c has no address element"
        expect 0 berth stop c --timeout 10
        elements macs | grep -q "$hif" && fail "stopped c still has its MAC element"
        elements addr4 | grep -q "$hif" && fail "stopped c still has address elements"
        expect 0 berth create nf --template bb --ip 10.77.0.50 --no-filter
        expect 0 berth start nf
        elements macs | grep -q "$(host_if_of nf)" && fail "--no-filter VPS has filter elements"
        expect 0 berth exec nf -- ping -c1 -W2 10.77.0.3
        # The filter goes with set --no-filter and comes back with --filter.
        expect 0 berth set b --no-filter
        elements macs | grep -q "$(host_if_of b)" && fail "set --no-filter left b's elements"
        expect 0 berth exec b -- ping -c1 -W2 10.77.0.1
        sysctl -qw net.ipv4.conf.berth0.arp_accept=1
        expect 0 berth exec b -- netprobe garp eth0 10.77.0.9
        sleep 0.3
        busybox arp -n | grep -q '10.77.0.9' || fail "unfiltered b's ARP did not reach the host"
        expect 0 berth set b --filter
        elements macs | grep -q "$(host_if_of b)" || fail "set --filter did not restore b's elements"
        expect 0 berth exec b -- ping -c1 -W2 10.77.0.1
        expect 0 berth destroy --force nf
        for n in a b r1 r2; do expect 0 berth destroy --force "$n"; done
        for set in macs addr4 addr6 ndtarget; do
                left=$(elements $set | grep -o 'bth[0-9a-f]*')
                [ -z "$left" ] || fail "elements left in $set after destroy: $left"
        done
        left=$(nft list set inet berth ifs 2>/dev/null | grep -o 'bth[0-9a-f]*')
        [ -z "$left" ] || fail "routed host ends left in the host set: $left"
}

# ---- main ------------------------------------------------------------------

in_own_netns "$bin" "$probe" "$@"

scratch_base
scratch_dir berth-nettest
data=$tmp/data
export BERTH_DATA="$data"
export BERTH_CONFIG_DIR="$tmp/etc"
mkdir -p "$BERTH_CONFIG_DIR"
echo '{"host_ports": ["tcp/7002"]}' >"$BERTH_CONFIG_DIR/network.json"
trap cleanup EXIT
bb_template
cp "$probe" "$data/templates/bb/rootfs/bin/netprobe"

run_named "setup stable_mac arp_takeover mac_change rogue_ra spoof_bridged spoof_routed host_listener refused other_data_dir ip_del claims chain_lost filter_lifecycle" "$@"
finish
