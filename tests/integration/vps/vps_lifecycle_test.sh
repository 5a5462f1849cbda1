#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A running VPS's life when the guest itself ends it, with real busybox
# guests (docs/vps.md, "When the guest powers off or reboots"):
#
#   poweroff     `poweroff` and `halt` inside: within a bounded time the
#                VPS is stopped and nothing of it is left on the host (no
#                container state, cgroup in any hierarchy, veth, nftables
#                element, mount, keeper); the guest's shutdown action ran;
#                it starts again afterwards
#   reboot       `reboot` inside (twice): the VPS runs again with a new
#                init below a new keeper, in its cgroups, its files kept,
#                booted anew (seen from inside), reachable; then a stop
#                is graceful and leaves nothing
#   race         a guest power-off or reboot and an admin's stop at the
#                same instant: the stop succeeds, the VPS ends stopped,
#                clean, and is not started again
#   stop_early   a stop right after the start, of an init that takes its
#                stop signal only a while after its exec (as systemd):
#                graceful, far below the timeout
#   destroy_many `destroy NAME...` and `destroy --all`
#   pty_limit    the host's pty limit reached: the start fails naming
#                kernel.pty.max and leaves nothing (the test guest only)
#
# Runs inside a network namespace it makes (re-exec under `unshare --net`).
# usage: vps_lifecycle_test.sh BERTH [TEST...]
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
bin=${BERTH_VPS_BIN:-${1:-}}
[ $# -gt 0 ] && shift

require_vps_host "$bin"
command -v timeout >/dev/null || skip "no timeout(1)"

failures=0
current=""
# How long the keeper may take to clean up or restart after the guest's
# init ended (busybox's shutdown alone takes about 2 s).
bound=${BERTH_LIFECYCLE_BOUND:-30}

berth() {
        "$bin" --root "$root" vps --data-dir "$data" "$@"
}

cleanup() {
        for d in "$data"/vps/*/; do
                [ -d "$d" ] && berth destroy --force "$(basename "$d")" >/dev/null 2>&1
        done
        rm -rf "$tmp"
        ext4_scratch_rm "$ext4"
}

vps_pid() {
        berth status "$1" --json | json_field pid | grep -v '^0$\|^null$'
}

vps_state() {
        berth status "$1" --json | json_field state
}

host_if() {
        json_field host_if <"$data/vps/$1/vps.json"
}

# Gone, or a zombie waiting for whichever reaper inherited it.
dead() { # dead PID
        st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
        [ -z "$st" ] || [ "$st" = Z ]
}

# The keeper ends once it has cleaned up: the last of that (the host
# link's removal, which waits for the kernel) can come a little after
# the VPS's state and cgroups are gone. keeper_ends PID: within 5 s.
keeper_ends() {
        for _ in $(seq 50); do
                dead "$1" && return 0
                sleep 0.1
        done
        return 1
}

state_dirs() { # state_dirs NAME: the container state directories of NAME
        ls -d "$root/vps-$1" "$root/vps-$1"-[0-9a-f]??????? 2>/dev/null
}

cgroups_of() { # cgroups_of NAME: its cgroup directories, in every hierarchy
        find /sys/fs/cgroup -maxdepth 8 -type d -name "berth-vps-$1-$(data_tag "$data")" 2>/dev/null
}

# waits (up to $bound s) until NAME is stopped with no state and no cgroup
wait_stopped() { # wait_stopped NAME
        i=0
        while [ "$i" -lt $((bound * 5)) ]; do
                if [ "$(vps_state "$1")" = stopped ] && [ -z "$(state_dirs "$1")" ] && [ -z "$(cgroups_of "$1")" ]; then
                        return 0
                fi
                sleep 0.2
                i=$((i + 1))
        done
        return 1
}

# waits (up to $bound s) until NAME runs with an init other than OLD
wait_new_init() { # wait_new_init NAME OLD
        i=0
        while [ "$i" -lt $((bound * 5)) ]; do
                p=$(vps_pid "$1")
                if [ -n "$p" ] && [ "$p" != "$2" ] && [ "$(vps_state "$1")" = running ]; then
                        echo "$p"
                        return 0
                fi
                sleep 0.2
                i=$((i + 1))
        done
        return 1
}

# Processes holding NAME's console.log open: its keepers, whichever.
log_holders() { # log_holders NAME
        find /proc/[0-9]*/fd -lname "$data/vps/$1/console.log*" 2>/dev/null | cut -d/ -f3 | sort -u
}

# Nothing of NAME's running side is left: state, cgroups, link, nftables
# elements, mounts, the keeper KEEPER or any other.
assert_clean() { # assert_clean NAME HOST_IF KEEPER
        [ "$(vps_state "$1")" = stopped ] || fail "$1: status says $(vps_state "$1")"
        [ -z "$(state_dirs "$1")" ] || fail "$1: container state left: $(state_dirs "$1")"
        [ -z "$(cgroups_of "$1")" ] || fail "$1: cgroups left: $(cgroups_of "$1")"
        ! ip link show "$2" >/dev/null 2>&1 || fail "$1: host link $2 left"
        # Set elements; the ingress chain's hook keeps the names of the
        # devices it had (netns/nft.c: nftables cannot take one out).
        if command -v nft >/dev/null; then
                left=$(nft list ruleset 2>/dev/null | grep -v 'hook ingress device' | grep "$2")
                [ -z "$left" ] || fail "$1: nftables elements of $2 left: $left"
        fi
        ! grep -q "$data/vps/$1/" /proc/self/mountinfo || fail "$1: mounts left: $(grep "$data/vps/$1/" /proc/self/mountinfo)"
        [ -z "$3" ] || keeper_ends "$3" || fail "$1: its console keeper $3 outlived it"
        [ -z "$(log_holders "$1")" ] || fail "$1: processes still hold its console.log: $(log_holders "$1")"
}

# The init PID's parent K is a console keeper, in the VPS's cgroups.
check_keeper() { # check_keeper NAME PID K
        if [ -z "$3" ] || [ "$(cat "/proc/$3/comm" 2>/dev/null)" != berth-console ]; then
                fail "$1: the init $2's parent ${3:-?} is not a console keeper"
                return
        fi
        keeper_settled "$3" "$2" || fail "$1: the keeper $3 has children besides the init: $(cat "/proc/$3/task/$3/children")"
        for c in memory pids; do
                a=$(grep ":$c:" "/proc/$2/cgroup" | cut -d: -f3)
                [ -z "$a" ] || [ "$(grep ":$c:" "/proc/$3/cgroup" | cut -d: -f3)" = "$a" ] ||
                        fail "$1: keeper $3 not in the VPS's $c cgroup $a"
        done
}

# ---- the tests -------------------------------------------------------------

test_poweroff() {
        for how in poweroff halt; do
                n=lc-$how
                expect 0 berth create $n --template bb --ip 10.77.0.21 --memory 128M --pids 64
                expect 0 berth start $n
                p=$(vps_pid $n)
                k=$(keeper_of "$p")
                check_keeper $n "$p" "$k"
                hif=$(host_if $n)
                ip link show "$hif" >/dev/null 2>&1 || fail "$n: no host link $hif while running"
                [ -n "$(cgroups_of $n)" ] || fail "$n: no cgroups while running"
                t0=$(date +%s)
                berth exec $n -- $how >/dev/null 2>&1
                if wait_stopped $n; then
                        echo "$how: the VPS was stopped and cleaned $(($(date +%s) - t0)) s after the guest's $how"
                else
                        fail "$n: not stopped and cleaned ${bound} s after the guest's $how"
                fi
                assert_clean $n "$hif" "$k"
                dead "$p" || fail "$n: the init $p still runs"
                # The guest's own shutdown ran (its action, seen in its files).
                [ "$(cat "$data/vps/$n/upper/var/log/berth-shutdown" 2>/dev/null)" = graceful ] ||
                        fail "$n: the guest's shutdown action did not run"
                grep -q "the guest powered off or halted" "$data/vps/$n/console.log" ||
                        fail "$n: console.log does not say why it stopped: $(tail -n 3 "$data/vps/$n/console.log")"
                # Not restarted later either, and it boots again by hand.
                sleep 1
                [ -z "$(vps_pid $n)" ] || fail "$n: started again after a $how"
                expect 0 berth start $n
                expect 0 berth exec $n -- true
                expect 0 berth destroy --force $n
        done
}

test_reboot() {
        n=lc-reboot
        expect 0 berth create $n --template bb --ip 10.77.0.22 --memory 128M --pids 64
        expect 0 berth start $n
        expect 0 berth exec $n -- sh -c 'echo before >/root/marker'
        p=$(vps_pid $n)
        k=$(keeper_of "$p")
        check_keeper $n "$p" "$k"
        for round in 1 2; do
                t0=$(date +%s)
                berth exec $n -- reboot >/dev/null 2>&1
                if ! q=$(wait_new_init $n "$p"); then
                        fail "$n: not running again ${bound} s after the guest's reboot ($round)"
                        return
                fi
                echo "reboot $round: running again with init $q (was $p) after $(($(date +%s) - t0)) s"
                dead "$p" || fail "$n: the old init $p still runs"
                k2=$(keeper_of "$q")
                check_keeper $n "$q" "$k2"
                [ "$k2" != "$k" ] || fail "$n: the same keeper $k after the reboot"
                [ "$(state_dirs $n | wc -l)" = 1 ] || fail "$n: container states: $(state_dirs $n)"
                # Reachable, its files kept, booted anew: the boot action
                # removed what the shutdown action wrote.
                [ "$(berth exec $n -- cat /root/marker)" = before ] || fail "$n: upper layer lost over the reboot"
                expect 0 berth exec $n -- test ! -e /var/log/berth-shutdown
                [ "$(berth exec $n -- hostname)" = $n ] || fail "$n: hostname after the reboot"
                expect 0 berth exec $n -- ping -c1 -W2 10.77.0.1
                [ "$(grep -c 'rcS: booted' "$data/vps/$n/console.log")" = $((round + 1)) ] ||
                        fail "$n: console.log does not hold $((round + 1)) boots: $(grep berth: "$data/vps/$n/console.log")"
                grep -q "the guest rebooted" "$data/vps/$n/console.log" || fail "$n: console.log does not say it rebooted"
                p=$q k=$k2
        done
        hif=$(host_if $n)
        out=$(berth stop $n --timeout 20 --json)
        echo "$out" | grep -q '"forced": false' || fail "$n: the stop after the reboots: $out"
        sleep 1
        assert_clean $n "$hif" "$k"
        [ -z "$(vps_pid $n)" ] || fail "$n: started again after the stop"
        expect 0 berth destroy $n
}

# The guest ends itself while the admin stops it: both may clean up, one
# does, the other sees it done; nothing is left and nothing restarts.
test_race() {
        for how in poweroff reboot; do
                n=lc-race-$how
                expect 0 berth create $n --template bb --ip 10.77.0.23
                for round in 1 2 3; do
                        expect 0 berth start $n
                        p=$(vps_pid $n)
                        k=$(keeper_of "$p")
                        hif=$(host_if $n)
                        berth exec $n -- $how >/dev/null 2>&1 &
                        [ "$round" = 1 ] || sleep 0.$((round * 3))
                        out=$(timeout 60 "$bin" --root "$root" vps --data-dir "$data" stop $n --timeout 20 2>&1)
                        code=$?
                        wait
                        # Stopped by the stop, or already by the keeper.
                        [ "$code" = 0 ] || echo "$out" | grep -q "not running" ||
                                fail "$n: stop racing the guest's $how ($round): exit $code: $out"
                        wait_stopped $n || fail "$n: not stopped and clean after the race ($round)"
                        sleep 1
                        [ -z "$(vps_pid $n)" ] || fail "$n: running again after a stop during the guest's $how ($round)"
                        assert_clean $n "$hif" "$k"
                done
                expect 0 berth destroy $n
        done
}

test_stop_early() {
        n=lc-early
        expect 0 berth create $n --template bb --ip 10.77.0.24 --init /sbin/late-init
        for round in 1 2 3; do
                ns0=$(date +%s%N)
                expect 0 berth start $n
                out=$(berth stop $n --timeout 20 --json)
                ms=$((($(date +%s%N) - ns0) / 1000000))
                echo "stop_early: start + stop took $ms ms (timeout 20 s)"
                echo "$out" | grep -q '"forced": false' || fail "$n: the stop right after the start: $out"
                [ "$ms" -lt 10000 ] || fail "$n: start + stop took $ms ms"
                # The keeper may still be copying the guest's last words.
                for _ in $(seq 50); do
                        grep -q "late-init: stopping" "$data/vps/$n/console.log" && break
                        sleep 0.1
                done
                grep -q "late-init: stopping" "$data/vps/$n/console.log" ||
                        fail "$n: the init did not act on its signal: $(tail -n 3 "$data/vps/$n/console.log")"
        done
        expect 0 berth destroy $n
}

# destroy of several names and --all: one process, each VPS reported; a
# running one needs --force and does not stop the others.
test_destroy_many() {
        for n in lc-d1 lc-d2 lc-d3; do
                expect 0 berth create $n --template bb --ip 10.77.0.$((30 + ${n#lc-d}))
        done
        expect 0 berth start lc-d3
        k=$(keeper_of "$(vps_pid lc-d3)")
        hif=$(host_if lc-d3)
        out=$(berth destroy lc-d1 lc-d3 --json)
        code=$?
        [ $code = 5 ] || fail "destroy of a running VPS without --force: exit $code: $out"
        echo "$out" | grep -q '"name": "lc-d1",[^}]*"destroyed"' || echo "$out" | tr -d '\n' |
                grep -q '"name": "lc-d1",[[:space:]]*"state": "destroyed"' || fail "lc-d1 not destroyed: $out"
        [ ! -e "$data/vps/lc-d1" ] || fail "lc-d1 left"
        [ "$(vps_state lc-d3)" = running ] || fail "the refused lc-d3 is $(vps_state lc-d3)"
        expect 0 berth destroy --all --force
        for n in lc-d2 lc-d3; do
                [ ! -e "$data/vps/$n" ] || fail "destroy --all left $n"
        done
        [ -z "$(state_dirs lc-d3)$(cgroups_of lc-d3)" ] || fail "lc-d3: left $(state_dirs lc-d3) $(cgroups_of lc-d3)"
        ! ip link show "$hif" >/dev/null 2>&1 || fail "lc-d3: host link $hif left"
        keeper_ends "$k" || fail "lc-d3: its console keeper $k outlived it"
        [ -z "$(ls "$data/vps")" ] || fail "destroy --all left: $(ls "$data/vps")"
        out=$(berth destroy --all lc-d2 2>&1)
        [ $? = 2 ] || fail "destroy --all with a name: $out"
}

# The host's pty limit (issue 17: the first limit a density run hit, at
# ~3070 VPS): every VPS's console takes a pty, and ptys outside the
# host's own /dev/pts count against kernel.pty.max - kernel.pty.reserve.
# With room for one more pty, the first start works and the second fails
# naming the sysctl (not "no space left on" the data directory) and
# leaves nothing behind; with the limit back, it starts. It lowers a
# machine-wide sysctl, so only in the test guest (BERTH_VM_GUEST=1),
# whose kernel is the test's own.
test_pty_limit() {
        if [ "${BERTH_VM_GUEST:-}" != 1 ]; then
                echo "pty_limit: skipped: it lowers the machine-wide kernel.pty.max (runs in tests/vm)"
                return 0
        fi
        expect 0 berth create lc-p1 --template bb --ip 10.77.0.41
        expect 0 berth create lc-p2 --template bb --ip 10.77.0.42
        max0=$(cat /proc/sys/kernel/pty/max)
        room=$(($(cat /proc/sys/kernel/pty/nr) + $(cat /proc/sys/kernel/pty/reserve) + 2))
        echo "$room" >/proc/sys/kernel/pty/max
        expect 0 berth start lc-p1
        out=$(berth start lc-p2 2>&1)
        code=$?
        echo "$max0" >/proc/sys/kernel/pty/max
        [ $code != 0 ] || fail "lc-p2 started with no pty left (kernel.pty.max $room)"
        echo "$out" | grep -q "no pty left.*kernel.pty.max=$room" || fail "the error does not name the pty limit: $out"
        ! echo "$out" | grep -q "no space left on" || fail "a pty limit blamed on a file system: $out"
        assert_clean lc-p2 "$(host_if lc-p2)" ""
        expect 0 berth start lc-p2
        expect 0 berth destroy --force lc-p1 lc-p2
}

# ---- main ------------------------------------------------------------------

in_own_netns "$bin" "$@"

scratch_base
scratch_dir berth-lifecycle
data=$tmp/data
export BERTH_ID_REGISTRY="$tmp/id-ranges"
trap cleanup EXIT
bb_template
# An init that takes its stop signal (SIGTERM) only two seconds after its
# exec, as systemd takes SIGRTMIN+3 only once its manager is up.
cat >"$data/templates/bb/rootfs/sbin/late-init" <<'INIT'
#!/bin/sh
sleep 2
trap 'echo "late-init: stopping"; exit 0' TERM
echo "late-init: up"
while :; do sleep 1; done
INIT
chmod 755 "$data/templates/bb/rootfs/sbin/late-init"

run_named "poweroff reboot race stop_early destroy_many pty_limit" "$@"
links=$(ip -o link show | grep -E ' (bth[0-9a-f]+|berth0)[@:]')
[ -z "$links" ] || fail "links left: $links"
finish
