#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The VPS verbs under load (issue 12): VPS_LOAD_WORKERS (8) concurrent
# provider scripts create, start, change (`vps set`), stop, exec in and
# destroy VPS drawn at random from VPS_LOAD_COUNT names (default 40) for
# VPS_LOAD_SECONDS (default 60). Two names share each address, so names
# and addresses are contended on purpose. It must end with:
#   - no command hanging (each is bounded by a timeout) and no error other
#     than the documented refusals of a contended name: exists (4), wrong
#     state (5), and not found (3) for a name another script destroyed --
#     each with its usual message (`documented` below lists them). There
#     is no "busy": a verb waits for the VPS's lock;
#   - every surviving VPS bootable (start, exec true, stop);
#   - once all are destroyed, nothing left: container state, cgroups,
#     links, nft elements, processes, mounts, temporary files, template
#     markers.
# The issue's full size is VPS_LOAD_COUNT=200 VPS_LOAD_SECONDS=300.
#
# usage: vps_load_test.sh BERTH
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
bin=${BERTH_VPS_BIN:-${1:-}}
[ $# -gt 0 ] && shift
require_vps_host "$bin"
command -v timeout >/dev/null || skip "no timeout(1)"

seconds=${VPS_LOAD_SECONDS:-60}
count=${VPS_LOAD_COUNT:-40}
workers=${VPS_LOAD_WORKERS:-8}
limit=${VPS_LOAD_TIMEOUT:-120}
failures=0
current=load

berth() {
        timeout -k 5 "$limit" "$bin" --root "$root" vps "$@"
}

rnd() { # rnd N: 0..N-1
        echo $(($(od -An -N2 -tu2 /dev/urandom) % $1))
}

# The refusals a contended name may get, by exit code: the message must be
# the documented one (cli/vps, man/berth-vps.8.scd EXIT STATUS).
documented() { # documented CODE OUTPUT
        case $1 in
        3) echo "$2" | grep -q "VPS l[0-9]* does not exist$" ;;
        4) echo "$2" | grep -Eq "VPS l[0-9]* already exists$|address already used by VPS l[0-9]*$|already an address of the VPS$" ;;
        5) echo "$2" | grep -Eq "VPS l[0-9]* is (not running|running \(stop it or use --force\)|already running)" ;;
        # exec's own failures are docker's 125 (man berth-vps, exec).
        125) echo "$2" | grep -Eq "VPS l[0-9]* (is not running|does not exist)$" ;;
        # exec's command ended by the guest's shutdown (a stop beside it):
        # 128 + SIGTERM, nothing printed.
        143) [ -z "$2" ] ;;
        *) return 1 ;;
        esac
}

# A hang's context while it is still there: the VPS's console keeper
# (the static berth's `_vps-keeper NAME DATA ...`), where it waits in the
# kernel, and what it logged.
hang_context() { # hang_context NAME
        for f in /proc/[0-9]*/cmdline; do
                tr '\0' ' ' 2>/dev/null <"$f" | grep -q -- "_vps-keeper $1 $data " || continue
                p=${f%/cmdline}
                echo "    keeper ${p#/proc/}: $(sed -n 's/^State:[[:space:]]*//p' "$p/status" 2>/dev/null), wchan $(cat "$p/wchan" 2>/dev/null)"
                sed 's/^/    keeper stack: /' "$p/stack" 2>/dev/null | head -12
        done
        tail -n 8 "$data/vps/$1/console.log" 2>/dev/null | sed 's/^/    console.log: /'
}

# worker K: one provider script. Logs "verb code" per command to
# $tmp/w.K.log and every unexpected result to $tmp/w.K.bad.
worker() {
        k=$1
        end=$(($(date +%s) + seconds))
        while [ "$(date +%s)" -lt "$end" ]; do
                i=$(rnd "$count")
                n=l$i
                ip=10.77.$((100 + i / 2 / 250)).$((i / 2 % 250 + 2))
                case $(rnd 12) in
                0 | 1 | 2) verb="create" && set -- create "$n" --template bb --ip "$ip" --memory 64M --pids 100 ;;
                3 | 4 | 5) verb="start" && set -- start "$n" ;;
                6) verb="set" && set -- set "$n" --memory "$((64 + $(rnd 64)))M" --cpus 0.5 ;;
                7) verb="set-ip" && set -- set "$n" --ip-add "10.77.$((200 + i / 250)).$((i % 250 + 2))" ;;
                8) verb="exec" && set -- exec "$n" -- true ;;
                9) verb="stop" && set -- stop "$n" --timeout 10 ;;
                10) verb="destroy" && set -- destroy "$n" ;;
                11) verb="destroy-force" && set -- destroy --force "$n" ;;
                esac
                t=$(date +%s)
                out=$(berth "$@" 2>&1)
                code=$?
                echo "$verb $code" >>"$tmp/w.$k.log"
                # timeout(1) ends a hang with 124, or 137 when it had to
                # kill; exec's command killed (destroy --force, a stop's
                # last resort) is 137 too, at once and silent.
                if [ $code = 137 ] && [ "$verb" = exec ] && [ -z "$out" ] && [ $(($(date +%s) - t)) -lt "$limit" ]; then
                        code=killed
                fi
                case $code in
                0) ;;
                killed) echo "137 (exec's command killed)" >>"$tmp/w.$k.msg" ;;
                124 | 137) { echo "HANG ($limit s): vps $*" && hang_context "$n"; } >>"$tmp/w.$k.bad" ;;
                *)
                        if documented "$code" "$out"; then
                                echo "$code $out" | sed 's/ l[0-9]*/ NAME/g; s/10\.77\.[0-9.]*/ADDR/g' >>"$tmp/w.$k.msg"
                        else
                                echo "exit $code: vps $*: $out" >>"$tmp/w.$k.bad"
                                # What the keeper logged, while the VPS is there to ask.
                                tail -n 8 "$data/vps/$n/console.log" 2>/dev/null | sed 's/^/    console.log: /' >>"$tmp/w.$k.bad"
                        fi
                        ;;
                esac
        done
}

our_processes() {
        # The last character in brackets: the grep's own command line
        # does not match.
        last=${tmp#"${tmp%?}"}
        for f in $(grep -l -- "${tmp%?}[$last]" /proc/[0-9]*/cmdline 2>/dev/null); do
                pid=${f#/proc/}
                echo "${pid%/cmdline}"
        done
        # shellcheck disable=SC2012 # ls -l shows where each root points
        ls -l /proc/[0-9]*/root 2>/dev/null | awk -v t="$tmp/" 'index($NF, t) == 1 {print $(NF-2)}' |
                sed 's|^/proc/\([0-9]*\)/root|\1|'
}

leftovers() {
        left=$(ls -A "$root" 2>/dev/null | grep -v '^\.seccomp-cache$' | grep -v '^\.lock')
        [ -z "$left" ] || echo "container state: $left"
        left=$(find /sys/fs/cgroup -maxdepth 8 -type d -name "berth-vps-l*" 2>/dev/null | head -5)
        [ -z "$left" ] || echo "cgroups: $left"
        left=$(grep -F "$tmp" /proc/self/mountinfo | cut -d' ' -f5 | head -5)
        [ -z "$left" ] || echo "mounts: $left"
        left=$(ip -o link show | grep -Eo ' bth[0-9a-f]+' | head -5)
        [ -z "$left" ] || echo "links: $left"
        if command -v nft >/dev/null; then
                left=$(nft list table netdev berth 2>/dev/null | sed -n '/elements/,/}/p' | grep -o 'bth[0-9a-f]*' | head -5)
                [ -z "$left" ] || echo "nft elements: $left"
        fi
        left=$(our_processes | head -5)
        [ -z "$left" ] || echo "processes: $left"
        left=$(find "$data" "$root" -name '*.tmp' 2>/dev/null | head -5)
        [ -z "$left" ] || echo "temporary files: $left"
        left=$(ls -A "$data/templates/bb/users" 2>/dev/null)
        [ -z "$left" ] || echo "template markers: $left"
        left=$(ls -A "$data/vps")
        [ -z "$left" ] || echo "VPS directories: $left"
}

cleanup() {
        [ -n "${wpids:-}" ] && kill $wpids 2>/dev/null
        for d in "$data"/vps/*/; do
                [ -d "$d" ] && berth destroy --force "$(basename "$d")" >/dev/null 2>&1
        done
        for p in $(our_processes); do kill -9 "$p" 2>/dev/null; done
        grep -F "$tmp" /proc/self/mountinfo | cut -d' ' -f5 | sort -r | while read -r m; do umount -l "$m"; done
        find /sys/fs/cgroup -maxdepth 8 -depth -type d -name "berth-vps-l*" -exec rmdir {} + 2>/dev/null
        rm -rf "$tmp"
        ext4_scratch_rm "$ext4"
}

# ---- main ------------------------------------------------------------------

in_own_netns "$bin" "$@"

scratch_base 1G
scratch_dir berth-vpsload
data=$tmp/data
export BERTH_DATA="$data"
export BERTH_ID_REGISTRY="$tmp/id-ranges"
export BERTH_CONFIG_DIR="$tmp/etc"
mkdir -p "$BERTH_CONFIG_DIR"
trap cleanup EXIT
bb_template

echo "load: $workers scripts, $count names, $seconds s"
t0=$(date +%s)
wpids=""
for k in $(seq "$workers"); do
        worker "$k" &
        wpids="$wpids $!"
done
# shellcheck disable=SC2086
wait $wpids
wpids=""
t1=$(date +%s)
cat "$tmp"/w.*.log | sort | uniq -c | awk '{printf "   %-14s exit %-3s %5d\n", $2, $3, $1}'
echo "load: the refusals seen (exit code, message):"
cat "$tmp"/w.*.msg 2>/dev/null | sort | uniq -c | sed 's/^/   /'
ops=$(cat "$tmp"/w.*.log | wc -l)
echo "load: $ops commands in $((t1 - t0)) s"
bad=$(cat "$tmp"/w.*.bad 2>/dev/null)
if [ -n "$bad" ]; then
        fail "$(echo "$bad" | grep -vc "^    \(console.log\|keeper\)") undocumented errors or hangs; the first ones:"
        echo "$bad" | head -40
fi

# Every survivor is complete and bootable.
current=survivors
alive=0 running=0
for d in "$data"/vps/*/; do
        [ -d "$d" ] || continue
        n=$(basename "$d")
        alive=$((alive + 1))
        if berth status "$n" 2>/dev/null | grep -q running; then
                running=$((running + 1))
                out=$(berth stop "$n" --timeout 10 2>&1) || fail "stop $n: $out"
        fi
        out=$(berth start "$n" 2>&1) || { fail "survivor $n does not start: $out" && continue; }
        out=$(berth exec "$n" -- true 2>&1) || fail "exec true in $n: $out"
        out=$(berth stop "$n" --timeout 10 2>&1) || fail "stop $n: $out"
done
echo "load: $alive VPS survived ($running running), each booted once more"
current=destroy
for d in "$data"/vps/*/; do
        [ -d "$d" ] || continue
        out=$(berth destroy --force "$(basename "$d")" 2>&1) || fail "destroy $(basename "$d"): $out"
done
left=$(leftovers)
[ -z "$left" ] || fail "left behind: $left"
echo "load: done in $(($(date +%s) - t0)) s"
finish
