#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Crash safety of the VPS verbs (issue 12): `vps create`, `start`, `stop`,
# `set` and `destroy --force` run under the ptrace stepper (vps-stepper,
# the same stepper as itest_crash.c) and are SIGKILLed at their Nth syscall
# -- the CLI alone, or every process it started (the container init before
# its exec, the console keeper, the guest) -- for N spread over the whole
# run. After each kill:
#   - the next natural command (the same verb again; destroy --force in the
#     end) finishes within a timeout, with success or a documented refusal;
#   - the VPS is either absent (nothing of it left) or complete and
#     bootable: it starts, runs `true`, still holds the file written into
#     its upper layer before the verb, stops, and then nothing of its
#     running side is left (container state, cgroups in every hierarchy,
#     veth, nft elements, processes, mounts, temporary files).
# The suite prints how many injection points it covered.
#
# Runs in a network namespace of its own (bridge, veths and nft tables
# never reach the host's). CRASH_POINTS=n: points per verb and kill mode
# (default 10: a point costs a few VPS boots, 5-20 s on a busy 2-core
# host; 0: every syscall stop); VPS_CRASH_POINTS overrides it for this
# suite alone (1 in the TCG guest, by hand: tests/vm/run-tests.sh). VPS_CRASH_TIMEOUT=s bounds each
# command after a kill (default 60).
#
# usage: vps_crash_test.sh BERTH STEPPER [VERB...]   (VERB: create start stop set destroy)
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
bin=${BERTH_VPS_BIN:-${1:-}}
stepper=${2:-}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift

require_vps_host "$bin"
# The stepper execs by absolute path.
bin=$(cd "$(dirname "$bin")" && pwd)/$(basename "$bin")
if [ -z "$stepper" ] || [ ! -x "$stepper" ]; then skip "no vps-stepper binary given"; fi
command -v timeout >/dev/null || skip "no timeout(1)"

points=${VPS_CRASH_POINTS:-${CRASH_POINTS:-10}}
limit=${VPS_CRASH_TIMEOUT:-60}
failures=0
current=""
total_points=0

berth() {
        "$bin" --root "$root" vps "$@"
}

# bounded CMD...: berth vps CMD, killed after $limit s (exit 124: a hang).
bounded() {
        timeout -k 5 "$limit" "$bin" --root "$root" vps "$@"
}

# ---- what is left ------------------------------------------------------------

# Processes of the suite's VPS: a berth whose command line names our
# directory (CLI, keeper, an init before its exec) or anything whose root
# is in it (the guest).
our_processes() {
        # The last character in brackets: the grep's own command line
        # does not match.
        last=${tmp#"${tmp%?}"}
        for f in $(grep -l -- "${tmp%?}[$last]" /proc/[0-9]*/cmdline 2>/dev/null); do
                pid=${f#/proc/}
                pid=${pid%/cmdline}
                cmd=$(tr '\0' ' ' <"$f" 2>/dev/null | cut -c1-80)
                [ "$pid" = $$ ] || [ -z "$cmd" ] || echo "$pid($cmd)"
        done
        # shellcheck disable=SC2012 # ls -l shows where each root points
        ls -l /proc/[0-9]*/root 2>/dev/null | awk -v t="$tmp/" 'index($NF, t) == 1 {print $(NF-2) "(root " $NF ")"}' |
                sed 's|^/proc/\([0-9]*\)/root|\1|'
}

# nft elements naming one of our host interfaces (bth...).
nft_left() {
        command -v nft >/dev/null || return 0
        for set in macs addr4 addr6 ndtarget; do
                nft list set netdev berth "$set" 2>/dev/null | sed -n '/elements/,/}/p' | grep -o 'bth[0-9a-f]*'
        done
        nft list set inet berth ifs 2>/dev/null | grep -o 'bth[0-9a-f]*'
}

# runtime_left NAME: what must not exist while NAME is not running.
runtime_left() {
        n=$1
        for d in "$root/vps-$n" "$root/vps-$n"-[0-9a-f]???????; do
                [ -e "$d" ] && echo "container state $d"
        done
        for d in "$root"/.*"vps-$n"*; do
                [ -e "$d" ] && echo "temporary container state $d"
        done
        left=$(find /sys/fs/cgroup -maxdepth 8 -type d -name "berth-vps-$n-*" 2>/dev/null)
        [ -z "$left" ] || echo "cgroups: $left"
        left=$(grep -F "$tmp" /proc/self/mountinfo | cut -d' ' -f5)
        [ -z "$left" ] || echo "mounts: $left"
        left=$(ip -o link show 2>/dev/null | grep -Eo ' bth[0-9a-f]+[@:]')
        [ -z "$left" ] || echo "links: $left"
        left=$(nft_left)
        [ -z "$left" ] || echo "nft elements: $left"
        left=$(our_processes)
        [ -z "$left" ] || echo "processes: $left"
        left=$(find "$data" "$root" -name '*.tmp' 2>/dev/null)
        [ -z "$left" ] || echo "temporary files: $left"
}

# all_left NAME: what must not exist once NAME is destroyed.
all_left() {
        runtime_left "$1"
        [ ! -e "$data/vps/$1" ] || echo "directory $data/vps/$1: $(ls -A "$data/vps/$1" | tr '\n' ' ')"
        [ ! -e "$data/templates/bb/users/$1" ] || echo "template marker"
        left=$(ls -A "$data/vps")
        [ -z "$left" ] || echo "in $data/vps: $left"
}

# scrub NAME: after a failure, remove by hand what berth left, so that the
# next point starts clean (and its failures are its own).
scrub() {
        n=$1
        bounded destroy --force "$n" >/dev/null 2>&1
        for p in $(our_processes | sed 's/(.*//'); do kill -9 "$p" 2>/dev/null; done
        sleep 0.2
        grep -F "$tmp" /proc/self/mountinfo | cut -d' ' -f5 | sort -r | while read -r m; do
                umount -l "$m" 2>/dev/null
        done
        find /sys/fs/cgroup -maxdepth 8 -depth -type d -name "berth-vps-$n-*" 2>/dev/null | while read -r d; do
                find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
        done
        for l in $(ip -o link show | grep -Eo ' bth[0-9a-f]+' | tr -d ' '); do ip link del "$l" 2>/dev/null; done
        command -v nft >/dev/null && nft delete table netdev berth 2>/dev/null && nft delete table inet berth 2>/dev/null
        rm -rf "$data/vps/$n" "$data/vps/".*"$n"* "$data/templates/bb/users/$n" "$root/vps-$n"* "$root"/.*"vps-$n"*
        find "$data" "$root" -name '*.tmp' -exec rm -rf {} + 2>/dev/null
}

# ---- the checks after a kill -------------------------------------------------

# After the next natural command, `berth vps repair NAME` finds nothing
# it cannot fix, and does not hang.
repair() { # repair NAME WHEN
        out=$(bounded repair "$1" 2>&1)
        code=$?
        [ "$code" != 124 ] || fail "$2: vps repair $1 hung"
        # A VPS that is gone with nothing left is "not found" (3) to repair.
        [ "$code" = 3 ] && [ ! -e "$data/vps/$1" ] && return 0
        [ "$code" = 0 ] || fail "$2: vps repair $1 exited $code: $out"
}

marker=/berth-fault-marker

# write_marker NAME: a file in the VPS's upper layer, owned by its root.
write_marker() {
        up=$data/vps/$1/upper
        echo "marker of $1" >"$up$marker" && chown --reference="$up" "$up$marker"
}

state_of() { # state_of NAME: running, stopped, ... (empty: no such VPS)
        berth status "$1" --json 2>/dev/null | json_field state
}

# check_boots NAME WHEN [marker [HOSTNAME]]: NAME is complete and bootable
# (with that host name when given), its upper
# layer intact; it is left stopped, and nothing of its running side is
# left. A running NAME is stopped first (and must then leave nothing).
check_boots() {
        n=$1 when=$2
        if [ "$(state_of "$n")" = running ]; then
                out=$(bounded stop "$n" --timeout 10 2>&1) || { fail "$when: stop running $n: $out" && return 1; }
                left=$(runtime_left "$n")
                [ -z "$left" ] || { fail "$when: $n stopped after the kill left: $left" && return 1; }
        fi
        out=$(bounded start "$n" 2>&1)
        code=$?
        case $code in
        0) ;;
        124) fail "$when: start $n hung" && return 1 ;;
        3)
                if [ "$current" = create ] && [ ! -e "$data/vps/$n/vps.json" ]; then
                        fail "$when: a directory without vps.json: 'create' says exists, start: $out"
                else
                        fail "$when: the VPS is there but does not start (exit 3): $out"
                fi
                return 1
                ;;
        *) fail "$when: the VPS is there but does not start (exit $code): $out" && return 1 ;;
        esac
        out=$(bounded exec "$n" -- true 2>&1) || fail "$when: exec true in $n: $out"
        if [ "${3:-}" = marker ]; then
                got=$(bounded exec "$n" -- cat "$marker" 2>&1)
                [ "$got" = "marker of $n" ] || fail "$when: the upper layer lost its file: '$got'"
        fi
        if [ -n "${4:-}" ]; then
                got=$(bounded exec "$n" -- hostname 2>&1)
                [ "$got" = "$4" ] || fail "$when: the guest's host name is '$got', not '$4'"
        fi
        [ -e "$data/templates/bb/users/$n" ] ||
                fail "$when: a complete VPS without its template marker"
        out=$(bounded stop "$n" --timeout 10 2>&1)
        code=$?
        [ "$code" = 0 ] || { fail "$when: stop $n (exit $code): $out" && return 1; }
        left=$(runtime_left "$n")
        [ -z "$left" ] || { fail "$when: stopped $n left: $left" && return 1; }
        return 0
}

# settle NAME WHEN: after the next natural command, the VPS is either
# absent or complete and bootable; then destroy leaves nothing.
settle() {
        n=$1 when=$2 keep=${3:-}
        if [ -e "$data/vps/$n" ] || berth status "$n" >/dev/null 2>&1; then
                check_boots "$n" "$when" "$keep" "${4:-}" || return 1
        elif [ "$keep" = marker ]; then
                fail "$when: the VPS is gone" && return 1
        fi
        out=$(bounded destroy --force "$n" 2>&1)
        code=$?
        case $code in 0 | 3) ;; *) fail "$when: destroy --force $n (exit $code): $out" && return 1 ;; esac
        left=$(all_left "$n")
        [ -z "$left" ] || { fail "$when: destroy left: $left" && return 1; }
        return 0
}

# again WHEN OKCODES CMD...: the next natural command, bounded; its exit
# code must be one of OKCODES ("0 4": success or "exists").
again() {
        when=$1 ok=$2
        shift 2
        out=$(bounded "$@" 2>&1)
        code=$?
        [ "$code" != 124 ] || { fail "$when: '$*' hung (> $limit s)" && return 1; }
        case " $ok " in *" $code "*) return 0 ;; esac
        fail "$when: '$*' exited $code (expected one of $ok): $out"
        return 1
}

# ---- the verbs ---------------------------------------------------------------

# vps_pids NAME: the processes of a running NAME that its verb did not
# start: the console keeper (`berth _vps-keeper NAME`, or a forked `vps
# start NAME` without the static berth) and the guest's init. The kill of
# every berth process kills them too.
vps_pids() {
        last=${tmp#"${tmp%?}"}
        for f in $(grep -l -- "${tmp%?}[$last]" /proc/[0-9]*/cmdline 2>/dev/null); do
                case "$(tr '\0' ' ' <"$f" 2>/dev/null) " in *" start $1 "* | *" _vps-keeper $1 "*)
                        pid=${f#/proc/}
                        echo "${pid%/cmdline}"
                        ;;
                esac
        done
        berth status "$1" --json 2>/dev/null | json_field pid | grep -x '[0-9]*'
}

ip_of() { # ip_of VERB_INDEX POINT
        echo "10.77.$1.$(($2 % 250 + 2))"
}

# prepare VERB NAME IP: brings a fresh VPS to where VERB starts.
prepare() {
        v=$1 n=$2 ip=$3
        [ "$v" = create ] && return 0
        berth create "$n" --template bb --ip "$ip" --memory 64M --pids 100 >/dev/null || return 1
        write_marker "$n" || return 1
        case $v in stop | set | destroy) berth start "$n" >/dev/null || return 1 ;; esac
}

# verb_args VERB NAME IP: the command under the stepper.
verb_args() {
        case $1 in
        create) echo "create $2 --template bb --ip $3 --memory 64M --pids 100" ;;
        start) echo "start $2" ;;
        stop) echo "stop $2 --timeout 10" ;;
        set) echo "set $2 --memory 96M --pids 200 --ip-add ${3%.*}.251 --hostname $2-new" ;;
        destroy) echo "destroy --force $2" ;;
        esac
}

# recover VERB NAME IP WHEN: the next natural command after the kill.
recover() {
        v=$1 n=$2 ip=$3 when=$4
        # shellcheck disable=SC2046 # the verb's words
        case $v in
        create) again "$when" "0 4" $(verb_args create "$n" "$ip") ;;
        start) again "$when" "0 5" start "$n" ;;
        stop) again "$when" "0 5" stop "$n" --timeout 10 ;;
        # 4: "already an address of the VPS", when the killed set got
        # through (settle_set checks that all of it did).
        set) again "$when" "0 4" $(verb_args set "$n" "$ip") ;;
        destroy) again "$when" "0 3" destroy --force "$n" ;;
        esac
        repair "$n" "$when"
        verify "$v" "$n" "$when"
}

# verify VERB NAME WHEN: the state the VPS must be in once VERB went
# through (on its own, or run again after a kill).
verify() {
        v=$1 n=$2 when=$3
        case $v in
        start) [ "$(state_of "$n")" = running ] || fail "$when: start again left $n $(state_of "$n")" ;;
        stop)
                [ "$(state_of "$n")" = stopped ] || fail "$when: stop again left $n $(state_of "$n")"
                left=$(runtime_left "$n")
                [ -z "$left" ] || fail "$when: stopped $n left: $left"
                ;;
        esac
        case $v in
        create) settle "$n" "$when" ;;
        set) settle_set "$n" "$when" ;;
        destroy)
                left=$(all_left "$n")
                [ -n "$left" ] || return 0
                fail "$when: destroy --force again left: $left"
                return 1
                ;;
        *) settle "$n" "$when" marker ;;
        esac
}

# After set was run again, the VPS has the new values and boots with them.
settle_set() {
        n=$1 when=$2
        st=$(berth status "$n" --json 2>&1)
        echo "$st" | grep -q '"memory": 100663296' || fail "$when: set again did not leave the new memory limit: $st"
        echo "$st" | grep -q "\.251" || fail "$when: set again did not leave the added address: $st"
        settle "$n" "$when" marker "$n-new"
}

verb_index() {
        case $1 in create) echo 1 ;; start) echo 2 ;; stop) echo 3 ;; set) echo 4 ;; destroy) echo 5 ;; esac
}

# inject VERB MODE: count the verb's stops on a clean run, then kill it at
# points spread over them.
inject() {
        v=$1 mode=$2 vi=$(verb_index "$1")
        flag=""
        [ "$mode" = all ] && flag=--all
        n="f$vi$mode"
        ip=$(ip_of "$vi" 0)
        prepare "$v" "$n" "$ip" || { fail "$v: cannot prepare a VPS" && scrub "$n" && return; }
        # shellcheck disable=SC2046
        res=$("$stepper" --timeout "$limit" --log "$tmp/stepper.log" -- "$bin" --root "$root" vps $(verb_args "$v" "$n" "$ip"))
        total=$(echo "$res" | sed -n 's/^stops=\([0-9]*\).*/\1/p')
        if [ -z "$total" ] || [ "$total" -lt 10 ]; then
                fail "$v: the clean run under the stepper: '$res' $(tail -5 "$tmp/stepper.log")"
                scrub "$n"
                return
        fi
        verify "$v" "$n" "$v: clean run" || scrub "$n"
        stride=1
        [ "$points" -gt 0 ] && [ "$points" -lt "$total" ] && stride=$((total / points))
        covered=0 at=1 k=0
        t0=$(date +%s)
        while [ "$at" -le "$total" ]; do
                k=$((k + 1))
                n="f$vi$mode$k"
                ip=$(ip_of "$vi" "$k")
                when="$v killed ($mode) at syscall stop $at/$total"
                if ! prepare "$v" "$n" "$ip"; then
                        fail "$when: cannot prepare $n"
                        scrub "$n"
                        at=$((at + stride))
                        continue
                fi
                also=""
                if [ "$mode" = all ]; then
                        for p in $(vps_pids "$n"); do also="$also --also $p"; done
                fi
                # shellcheck disable=SC2046,SC2086
                res=$("$stepper" --at "$at" $flag $also --timeout "$limit" --log "$tmp/stepper.log" -- \
                        "$bin" --root "$root" vps $(verb_args "$v" "$n" "$ip"))
                case $? in
                0) ;;
                3) fail "$when: the verb itself hung" ;;
                *) fail "$when: stepper failed: $res" ;;
                esac
                case $res in *killed=1*) covered=$((covered + 1)) ;; esac
                recover "$v" "$n" "$ip" "$when" || scrub "$n"
                at=$((at + stride))
        done
        total_points=$((total_points + covered))
        printf 'vps crash: %-8s kill %-3s %3d injection points over %d syscall stops (%d s)\n' \
                "$v" "$mode" "$covered" "$total" "$(($(date +%s) - t0))"
        [ "$covered" -gt 0 ] || fail "$v ($mode): no injection point covered"
}

cleanup() {
        for d in "$data"/vps/*/; do
                [ -d "$d" ] && scrub "$(basename "$d")"
        done
        for p in $(our_processes | sed 's/(.*//'); do kill -9 "$p" 2>/dev/null; done
        grep -F "$tmp" /proc/self/mountinfo | cut -d' ' -f5 | sort -r | while read -r m; do umount -l "$m"; done
        rm -rf "$tmp"
        ext4_scratch_rm "$ext4"
}

# ---- main ------------------------------------------------------------------

in_own_netns "$bin" "$stepper" "$@"

scratch_base
scratch_dir berth-vpscrash
data=$tmp/data
export BERTH_DATA="$data"
export BERTH_ID_REGISTRY="$tmp/id-ranges"
export BERTH_CONFIG_DIR="$tmp/etc"
mkdir -p "$BERTH_CONFIG_DIR"
trap cleanup EXIT
bb_template

all="create start stop set destroy"
# shellcheck disable=SC2086 # a list of names
[ $# -gt 0 ] || set -- $all
t_all=$(date +%s)
for v in "$@"; do
        case " ${BERTH_VPS_CRASH_SKIP:-} " in *" $v "*)
                echo "== $v skipped (BERTH_VPS_CRASH_SKIP)"
                continue
                ;;
        esac
        current=$v
        t0=$(date +%s)
        inject "$v" cli
        inject "$v" all
        echo "== $v ($(($(date +%s) - t0)) s)"
done
echo "vps crash: $total_points injection points covered in $(($(date +%s) - t_all)) s"
finish
