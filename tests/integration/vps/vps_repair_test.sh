#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Crash safety of `berth vps create|destroy|set` and `berth vps repair`,
# with real busybox VPS:
#   create_killed, destroy_killed  the CLI killed (SIGKILL, through strace's
#                  syscall injection) before each of its writes, renames,
#                  fsyncs and locks: the VPS is then absent or complete
#                  with its template marker, repair leaves it consistent
#   damaged        truncated, empty and garbage vps.json and state.json
#                  through every verb: clear errors or repairs, no hang,
#                  no crash, nothing left behind
#   repair_leaks   leftovers, lost container state, stray host ends and
#                  markers; --dry-run changes nothing; a running VPS and a
#                  busy one are not touched; start --all --autostart repairs
#   full_disk      create, start and set on a full (loop-mounted ext4) data
#                  file system: "no space left on", nothing changed
#
# Runs in a network namespace of its own (re-execs under unshare --net).
# usage: vps_repair_test.sh BERTH_BINARY [TEST...]
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
bin=${BERTH_VPS_BIN:-${1:-}}
[ $# -gt 0 ] && shift

require_vps_host "$bin"

failures=0
# shellcheck disable=SC2034 # read by lib.sh's fail
current=""
points=0 # injection points covered

berth() {
        timeout 120 "$bin" --root "$root" vps "$@"
}

# Nothing of VPS $1 is left on the host.
assert_gone() {
        name=$1
        left=$(ls -d "$root/vps-$name" "$root/vps-$name"-[0-9a-f]??????? 2>/dev/null)
        [ -z "$left" ] || fail "$name: container state left: $left"
        [ ! -e "$data/vps/$name" ] || fail "$name: directory left"
        for l in "$data/vps/.new.$name."* "$data/vps/.rm.$name."*; do
                [ -e "$l" ] && fail "$name: leftover: $l"
        done
        for m in "$data"/templates/*/users/"$name"; do
                [ -e "$m" ] && fail "$name: template marker left: $m"
        done
        left=$(find /sys/fs/cgroup -maxdepth 8 -type d -name "berth-vps-$name-$(data_tag "$data")" 2>/dev/null)
        [ -z "$left" ] || fail "$name: cgroups left: $left"
        ! grep -q "$tmp" /proc/self/mountinfo || fail "$name: mounts left"
}

# A VPS that exists is complete: vps.json readable, template marked.
assert_complete() {
        name=$1
        berth status "$name" >/dev/null 2>&1 || fail "$name: exists but status fails: $(berth status "$name" 2>&1)"
        [ -e "$data/templates/bb/users/$name" ] || fail "$name: exists without its template marker"
}

# repair leaves everything consistent: a second run finds nothing.
assert_consistent() {
        out=$(berth repair 2>&1) || fail "repair exited non-zero: $out"
        out=$(berth repair 2>&1)
        [ "$out" = consistent ] || fail "second repair found more: $out"
}

vps_pid() {
        berth status "$1" --json 2>/dev/null | json_field pid
}

cleanup() {
        grep -q repair-tmpfs /proc/self/mountinfo && umount "$data/vps/repair-r1/rootfs"
        for d in "$data"/vps/*/; do
                [ -d "$d" ] && berth destroy --force "$(basename "$d")" >/dev/null 2>&1
        done
        [ -n "${full_mnt:-}" ] && umount "$full_mnt" 2>/dev/null
        [ -n "${full_loop:-}" ] && losetup -d "$full_loop" 2>/dev/null
        rm -rf "$tmp"
        ext4_scratch_rm "$ext4"
}

# ---- kill -9 before each write step ------------------------------------------

# The mutating syscalls a verb makes: "name count" lines (one traced run).
WRITES=mkdir,mkdirat,rename,renameat,renameat2,fsync,unlink,unlinkat,chown,fchown,chmod,fchmod,flock,write,openat
count_calls() { # count_calls TRACE
        sed -n 's/^[0-9]* *\([a-z0-9_]*\)(.*/\1/p' "$1" | sort | uniq -c | awk '{print $2, $1}'
}

# kill_points CMD...: runs CMD under strace once, then once more per
# (syscall, n) with SIGKILL injected at the entry of that call; after each
# kill runs "$after" (a function).
kill_points() {
        strace -f -qq -o "$tmp/trace" -e trace=$WRITES "$@" >/dev/null 2>&1
        count_calls "$tmp/trace" >"$tmp/calls"
        [ -s "$tmp/calls" ] || { fail "no syscalls traced for: $*"; return; }
        while read -r sc n; do
                # openat and write mostly read the template or print: their
                # first calls cover the ones that matter.
                case $sc in openat | write) [ "$n" -gt 12 ] && n=12 ;; esac
                k=1
                while [ "$k" -le "$n" ]; do
                        "$before"
                        timeout 60 strace -f -qq -o /dev/null -e trace=none \
                                -e inject="$sc":signal=KILL:when="$k" "$@" >/dev/null 2>&1
                        points=$((points + 1))
                        "$after" "$sc#$k"
                        k=$((k + 1))
                done
        done <"$tmp/calls"
}

noop() { :; }

after_create() {
        if [ -e "$data/vps/repair-k1" ]; then
                assert_complete repair-k1
        else
                ls "$data"/vps/.new.repair-k1.* >/dev/null 2>&1 || [ ! -e "$data/templates/bb/users/repair-k1" ] ||
                        fail "$1: a marker without a VPS and without a leftover"
        fi
        assert_consistent
        if [ -e "$data/vps/repair-k1" ]; then
                expect 4 berth create repair-k1 --template bb
        else
                expect 0 berth create repair-k1 --template bb --memory 64M --pids 64
        fi
        assert_complete repair-k1
        expect 0 berth destroy repair-k1
        assert_gone repair-k1
}

test_create_killed() {
        before=noop after=after_create
        kill_points "$bin" --root "$root" vps create repair-k1 --template bb --memory 64M --pids 64
        [ -e "$data/vps/repair-k1" ] && berth destroy --force repair-k1 >/dev/null 2>&1
        assert_gone repair-k1
}

before_destroy() {
        [ -e "$data/vps/repair-k2" ] || berth create repair-k2 --template bb --memory 64M --pids 64 >/dev/null 2>&1
}

after_destroy() {
        if [ -e "$data/vps/repair-k2" ]; then
                assert_complete repair-k2
        fi
        assert_consistent
        if [ -e "$data/vps/repair-k2" ]; then
                expect 0 berth destroy repair-k2
        fi
        assert_gone repair-k2
        expect 0 berth create repair-k2 --template bb --memory 64M --pids 64
        assert_complete repair-k2
}

test_destroy_killed() {
        before=before_destroy after=after_destroy
        kill_points "$bin" --root "$root" vps destroy repair-k2
        expect 0 berth destroy --force repair-k2
        assert_gone repair-k2
}

# A destroy of several VPS killed before its prune leaves their lines in
# the host's id-range registry, their ids taken from every new VPS:
# repair drops them, and only them.
test_id_ranges() {
        expect 0 berth create repair-id1 --template bb --pids 50
        dir=$(realpath "$data")
        grep -q " $dir repair-id1\$" "$BERTH_ID_REGISTRY" || fail "no registry line for repair-id1"
        echo "1879048192 65536 $dir repair-ghost" >>"$BERTH_ID_REGISTRY"
        echo "1879113728 65536 $tmp/no-such-data-dir other" >>"$BERTH_ID_REGISTRY"
        cp "$BERTH_ID_REGISTRY" "$tmp/reg.before"
        out=$(berth repair --dry-run --json 2>&1)
        case $out in *'"repair-ghost"'*'"id-range"'* | *'"id-range"'*'"repair-ghost"'*) ;;
        *) fail "repair --dry-run does not report repair-ghost's line: $out" ;; esac
        cmp -s "$BERTH_ID_REGISTRY" "$tmp/reg.before" || fail "repair --dry-run changed the registry"
        expect 0 berth repair
        ! grep -q " repair-ghost\$" "$BERTH_ID_REGISTRY" || fail "repair left repair-ghost's line"
        grep -q " $dir repair-id1\$" "$BERTH_ID_REGISTRY" || fail "repair dropped the line of a VPS that exists"
        grep -q " other\$" "$BERTH_ID_REGISTRY" || fail "repair dropped the line of a data directory it cannot see"
        out=$(berth repair --dry-run 2>&1)
        case $out in *id-range* | *"id range"*) fail "repair found the registry stale again: $out" ;; esac
        expect 0 berth destroy repair-id1
}

# ---- damaged files --------------------------------------------------------------

damage() { # damage FILE KIND
        case $2 in
        truncated) head -c 17 "$1" >"$1.x" && mv "$1.x" "$1" ;;
        empty) : >"$1" ;;
        garbage) printf '\001\377garbage{[' >"$1" ;;
        esac
}

# verb_ok CODE... -- CMD: runs CMD; fails on a hang (124), a crash (>128),
# an exit code not in the list or an error without a message.
verb_ok() {
        codes=""
        while [ "$1" != -- ]; do
                codes="$codes $1"
                shift
        done
        shift
        out=$("$@" 2>&1)
        got=$?
        [ "$got" = 124 ] && { fail "'$*' hung"; return; }
        [ "$got" -gt 128 ] && { fail "'$*' crashed ($got): $out"; return; }
        case " $codes " in *" $got "*) ;; *) fail "'$*' exited $got, expected one of$codes: $out" ;; esac
        [ "$got" = 0 ] || [ -n "$out" ] || fail "'$*' failed without a message"
}

test_damaged() {
        for kind in truncated empty garbage; do
                # vps.json, VPS stopped: every verb says so; destroy --force removes it.
                expect 0 berth create repair-d1 --template bb --memory 64M --pids 64
                damage "$data/vps/repair-d1/vps.json" "$kind"
                berth list | grep -q '^repair-d1 .*broken' || berth list --json | grep -q '"broken"' ||
                        fail "$kind vps.json: list does not say broken: $(berth list 2>&1)"
                verb_ok 0 -- berth list
                for v in status start stop "set --pids 10"; do
                        # shellcheck disable=SC2086 # verb and options
                        verb_ok 1 2 3 5 6 -- berth $v repair-d1
                done
                verb_ok 1 2 5 -- berth destroy repair-d1
                [ -d "$data/vps/repair-d1" ] || fail "$kind vps.json: destroy without --force removed it"
                verb_ok 1 -- berth repair repair-d1
                berth repair repair-d1 2>&1 | grep -q "destroy --force repair-d1" || fail "$kind vps.json: repair does not name the fix"
                verb_ok 0 -- berth destroy --force repair-d1
                assert_gone repair-d1

                # state.json, VPS running: damaged, start refuses, stop clears it.
                expect 0 berth create repair-d2 --template bb --memory 64M --pids 64
                expect 0 berth start repair-d2
                st=$(ls -d "$root"/vps-repair-d2*)/state.json
                damage "$st" "$kind"
                berth list | grep -q '^repair-d2 .*damaged' || fail "$kind state.json: list: $(berth list 2>&1)"
                verb_ok 0 -- berth status repair-d2
                verb_ok 5 -- berth start repair-d2
                verb_ok 0 -- berth set repair-d2 --pids 80
                verb_ok 1 -- berth repair repair-d2
                verb_ok 5 -- berth destroy repair-d2
                verb_ok 0 -- berth stop repair-d2 --timeout 5
                berth list | grep -q '^repair-d2 .*stopped' || fail "$kind state.json: not stopped after stop: $(berth list 2>&1)"
                assert_consistent
                expect 0 berth start repair-d2
                # Damaged again, then destroy --force.
                damage "$(ls -d "$root"/vps-repair-d2*)/state.json" "$kind"
                verb_ok 0 -- berth destroy --force repair-d2
                assert_gone repair-d2

                # state.json of a dead init: repair removes it.
                expect 0 berth create repair-d3 --template bb --memory 64M --pids 64
                expect 0 berth start repair-d3
                st=$(ls -d "$root"/vps-repair-d3*)/state.json
                damage "$st" "$kind"
                pid=$(find /sys/fs/cgroup -type d -name "berth-vps-repair-d3-*" -exec cat {}/cgroup.procs \; 2>/dev/null | sort -u)
                # shellcheck disable=SC2086 # a list of pids
                [ -n "$pid" ] && kill -9 $pid 2>/dev/null
                sleep 1
                verb_ok 0 -- berth repair
                assert_consistent
                expect 0 berth start repair-d3
                expect 0 berth destroy --force repair-d3
                assert_gone repair-d3

                # vps.json garbage while running: destroy --force still kills and removes it.
                expect 0 berth create repair-d4 --template bb --memory 64M --pids 64
                expect 0 berth start repair-d4
                damage "$data/vps/repair-d4/vps.json" "$kind"
                verb_ok 0 -- berth destroy --force repair-d4
                assert_gone repair-d4
                echo "   $kind: done"
        done
}

# ---- repair ----------------------------------------------------------------------

# Names, sizes and modification times of everything in the data directory.
snapshot() {
        find "$data" -printf '%p %s %T@\n' | sort | md5sum
}

test_repair_leaks() {
        expect 0 berth create repair-r1 --template bb --memory 64M --pids 64
        expect 0 berth create repair-r2 --template bb --memory 64M --pids 64
        expect 0 berth start repair-r1 repair-r2
        pid2=$(vps_pid repair-r2)
        # r1's container state lost while its guest runs: cgroups, host end leak.
        rm -rf "$root"/vps-repair-r1*
        # Leftovers of a create and a destroy, a marker of no VPS, one missing.
        mkdir "$data/vps/.new.repair-r3.4000000" "$data/vps/.rm.repair-r4.4000001"
        sed 's/"repair-r2"/"repair-r3"/' "$data/vps/repair-r2/vps.json" >"$data/vps/.new.repair-r3.4000000/vps.json"
        touch "$data/templates/bb/users/repair-r3" "$data/templates/bb/users/repair-ghost"
        echo '{' >"$data/vps/repair-r2/vps.json.tmp"
        # A mount on the host below a VPS that does not run.
        mount -t tmpfs repair-tmpfs "$data/vps/repair-r1/rootfs" || fail "mount tmpfs"
        before=$(snapshot)
        out=$(berth repair --dry-run 2>&1) || fail "dry run exited non-zero: $out"
        [ "$before" = "$(snapshot)" ] || fail "--dry-run changed the data directory"
        for what in ".new.repair-r3" ".rm.repair-r4" "repair-ghost" "repair-r1: would repair: remove its leaked cgroup" "host end" "vps.json.tmp" "unmount $data/vps/repair-r1/rootfs"; do
                echo "$out" | grep -q -- "$what" || fail "dry run does not mention $what: $out"
        done
        json=$(berth repair --json 2>/dev/null)
        echo "$json" | grep -q '"consistent": true' || fail "repair --json: $json"
        echo "$json" | grep -q '"kind": "cgroup"' || fail "repair --json has no cgroup item: $json"
        [ "$(vps_pid repair-r2)" = "$pid2" ] || fail "repair touched the running repair-r2"
        ! grep -q repair-tmpfs /proc/self/mountinfo || fail "repair left the mount below repair-r1"
        [ -e "$data/templates/bb/users/repair-r1" ] || fail "repair-r1 lost its marker"
        assert_consistent
        left=$(find /sys/fs/cgroup -maxdepth 8 -type d -name "berth-vps-repair-r1-*" 2>/dev/null)
        [ -z "$left" ] || fail "repair-r1's cgroups left: $left"
        expect 0 berth start repair-r1
        # Busy: a command holding r1's lock makes repair skip it.
        flock "$data/vps/repair-r1" sleep 3 &
        locker=$!
        sleep 0.5
        out=$(berth repair repair-r1 2>&1) || fail "repair of a busy VPS failed: $out"
        echo "$out" | grep -q "skipped" || fail "repair of a busy VPS: $out"
        wait "$locker"
        # start --all --autostart repairs first.
        expect 0 berth stop repair-r1 repair-r2 --timeout 5
        expect 0 berth set repair-r1 --autostart
        mkdir "$data/vps/.new.repair-r5.4000002"
        touch "$data/templates/bb/users/repair-ghost2"
        out=$(berth start --all --autostart 2>&1) || fail "start --all --autostart: $out"
        echo "$out" | grep -q "repaired.*\.new\.repair-r5" || fail "autostart did not repair the leftover: $out"
        [ ! -e "$data/templates/bb/users/repair-ghost2" ] || fail "autostart left the marker of no VPS"
        [ -n "$(vps_pid repair-r1)" ] || fail "repair-r1 not started by --autostart"
        expect 0 berth destroy --force repair-r1
        expect 0 berth destroy --force repair-r2
        assert_gone repair-r1
        assert_gone repair-r2
        assert_consistent
        # A VPS gone from the data directory and the state root while its
        # guest runs (a destroy that died after its checks): --all finds
        # its cgroups by name and kills what is in them.
        expect 0 berth create repair-r6 --template bb --memory 64M --pids 64
        expect 0 berth start repair-r6
        pid6=$(vps_pid repair-r6)
        rm -rf "$data/vps/repair-r6" "$root"/vps-repair-r6*
        out=$(berth repair 2>&1) || fail "repair of a vanished VPS: $out"
        echo "$out" | grep -q "repair-r6: repaired: remove its leaked cgroup" || fail "vanished VPS's cgroups: $out"
        # (a zombie until whoever inherited it reaps it)
        if [ -n "$pid6" ] && grep -q '^State:.*[RSD]' "/proc/$pid6/status" 2>/dev/null; then
                fail "the vanished VPS's init $pid6 still runs"
        fi
        assert_gone repair-r6
        assert_consistent
}

# nospace CODE OUTPUT: failed, saying "no space left on".
nospace() {
        [ "$1" != 0 ] && echo "$2" | grep -q "no space left on"
}

# ---- full disk --------------------------------------------------------------------

test_full_disk() {
        img=$tmp/full.img
        full_mnt=$tmp/full
        if ! truncate -s 48M "$img" || ! mkfs.ext4 -q -m 0 "$img"; then
                fail "mkfs"
                return
        fi
        full_loop=$(losetup -f --show "$img") || { fail "losetup"; return; }
        if ! mkdir -p "$full_mnt" || ! mount "$full_loop" "$full_mnt"; then
                fail "mount"
                return
        fi
        chmod 711 "$full_mnt"
        fdata=$full_mnt/data
        sh "$here/mktemplate.sh" "$bin" "$fdata" bb || { fail "template on the loop fs"; return; }
        fb() { timeout 120 "$bin" --root "$root" vps --data-dir "$fdata" "$@"; }
        fb create repair-f1 --template bb --memory 64M --pids 64 >/dev/null || fail "create repair-f1"
        fb create repair-f2 --template bb --memory 64M --pids 64 >/dev/null || fail "create repair-f2"
        fb start repair-f2 >/dev/null || fail "start repair-f2"
        cp "$fdata/vps/repair-f1/vps.json" "$tmp/repair-f1.json"
        cp "$fdata/vps/repair-f2/vps.json" "$tmp/repair-f2.json"
        # Filled again before each verb: a failed one frees what it made.
        fills=0
        fill() {
                fills=$((fills + 1))
                dd if=/dev/zero of="$full_mnt/fill.$fills" bs=1M >/dev/null 2>&1
                dd if=/dev/zero of="$full_mnt/fill.$fills.k" bs=1k >/dev/null 2>&1
                sync
        }
        fill
        out=$(fb create repair-f3 --template bb 2>&1)
        code=$?
        nospace "$code" "$out" || fail "create on a full disk ($code): $out"
        for l in "$fdata/vps/repair-f3" "$fdata/vps/.new.repair-f3."*; do
                [ -e "$l" ] && fail "create on a full disk left $l"
        done
        fill
        out=$(fb set repair-f1 --memory 100M --hostname changed 2>&1)
        code=$?
        nospace "$code" "$out" || fail "set on a full disk ($code): $out"
        cmp -s "$tmp/repair-f1.json" "$fdata/vps/repair-f1/vps.json" || fail "set on a full disk changed vps.json"
        fill
        out=$(fb set repair-f2 --pids 99 2>&1)
        code=$?
        nospace "$code" "$out" || fail "set of a running VPS on a full disk ($code): $out"
        cmp -s "$tmp/repair-f2.json" "$fdata/vps/repair-f2/vps.json" || fail "live set on a full disk changed vps.json"
        cgp=$(find /sys/fs/cgroup -type f -name pids.max -path "*berth-vps-repair-f2-*" 2>/dev/null | head -n1)
        [ -z "$cgp" ] || [ "$(cat "$cgp")" = 64 ] || fail "live set on a full disk left pids.max $(cat "$cgp")"
        fill
        out=$(fb start repair-f1 2>&1)
        code=$?
        if [ $code != 0 ]; then
                echo "$out" | grep -q "no space left on" || fail "start on a full disk ($code): $out"
                fb status repair-f1 2>/dev/null | grep -q "stopped" || fail "failed start left repair-f1 $(fb status repair-f1 2>&1)"
        fi
        cmp -s "$tmp/repair-f1.json" "$fdata/vps/repair-f1/vps.json" || fail "start on a full disk changed vps.json"
        echo "   full disk: create/set refused; start exited $code"
        rm -f "$full_mnt"/fill.*
        out=$(timeout 120 "$bin" --root "$root" vps --data-dir "$fdata" repair 2>&1) || fail "repair after the full disk: $out"
        fb create repair-f3 --template bb --memory 64M --pids 64 >/dev/null || fail "create once space is back"
        for n in repair-f1 repair-f2 repair-f3; do fb destroy --force "$n" >/dev/null || fail "destroy $n"; done
        left=$(find /sys/fs/cgroup -maxdepth 8 -type d -name "berth-vps-repair-f[123]-*" 2>/dev/null)
        [ -z "$left" ] || fail "cgroups left: $left"
        umount "$full_mnt" || fail "umount $full_mnt"
        losetup -d "$full_loop" || fail "losetup -d"
        full_mnt="" full_loop=""
}

# ---- main ------------------------------------------------------------------

in_own_netns "$bin" "$@"
command -v strace >/dev/null || skip "no strace (the kill stepper)"
command -v losetup >/dev/null || skip "no losetup"

scratch_base
scratch_dir berth-repairtest
data=$tmp/data
full_mnt="" full_loop=""
export BERTH_DATA="$data"
export BERTH_ID_REGISTRY="$tmp/id-ranges"
trap cleanup EXIT
bb_template

run_named "create_killed destroy_killed id_ranges damaged repair_leaks full_disk" "$@"
echo "kill points covered: $points"
finish
