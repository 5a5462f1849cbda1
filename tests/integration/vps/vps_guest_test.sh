#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# What a guest (or a second data directory) must not be able to do to the
# host: the attacks of the VPS isolation issue, parts 3 and 4, each run
# against real VPS booted from a busybox template.
#
#   guest_files    a FIFO, a symlink, a directory planted at every path berth
#                  writes in the guest (/etc/hostname, /etc/hosts,
#                  /etc/resolv.conf and their temporary names): start never
#                  hangs, never follows, replaces or refuses with a clear error
#   setuid         no host user but root reaches a template's or a stopped
#                  VPS's files (runs a set-uid copy of the probe in them)
#   two_datadirs   two data directories with a VPS of the same name: stop and
#                  destroy in one leave the other running and intact; their
#                  host links and id ranges differ
#   userns_overlap --userns N overlapping host users, subordinate ids or
#                  another data directory's VPS is refused; auto avoids them
#   defaults       host defaults (vps-defaults.json) applied and overridden,
#                  bad values named, a warning without memory/pids limit
#   io_uring       refused inside the guest by default, allowed by the switch
#   keeper         the console keeper runs in the VPS's cgroups; console.log
#                  stays capped. Pure cgroup v2: the guest in <vps>/guest
#                  (its cgroup root, delegation works), the keeper in
#                  <vps>/console, the limits on both levels (set live too),
#                  and a guest at --cpus 0.1 writing to /dev/console keeps
#                  guest + keeper within the quota
#
# Runs inside a network namespace it makes (re-exec under `unshare --net`).
# usage: vps_guest_test.sh BERTH PROBE [TEST...]   (PROBE: the static
#        tests/integration probe, copied into the template)
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
bin=${BERTH_VPS_BIN:-${1:-}}
[ $# -gt 0 ] && shift
probe=${1:-}
[ $# -gt 0 ] && shift

require_vps_host "$bin"
[ -n "$probe" ] && [ -x "$probe" ] || skip "no static probe given"
for c in setpriv timeout mkfifo; do
        command -v "$c" >/dev/null || skip "no $c(1)"
done

failures=0
current=""

berth_in() { # berth_in DATA_DIR VPS-ARGS...
        d=$1
        shift
        "$bin" --root "$root" vps --data-dir "$d" "$@"
}

berth() {
        berth_in "$data" "$@"
}

vps_pid() { # vps_pid [DATA] NAME
        if [ $# = 2 ]; then berth_in "$1" status "$2" --json; else berth status "$1" --json; fi | json_field pid | grep -v '^0$\|^null$'
}

# A host user's shell runs CMD (setpriv itself would still hold root's
# capabilities while it execs CMD, which reaches anything).
as_nobody() {
        setpriv --reuid=65534 --regid=65534 --clear-groups -- /bin/sh -c '"$0" "$@"' "$@"
}

# The three temporary names berth writes through, then the files.
tmp_names=".berth-hostname.tmp .berth-hosts.tmp .berth-resolv.conf.tmp"
guest_names="hostname hosts resolv.conf $tmp_names"


cleanup() {
        for dd in "$tmp"/d*; do
                [ -d "$dd/vps" ] || continue
                for v in "$dd"/vps/*/; do
                        [ -d "$v" ] || continue
                        berth_in "$dd" destroy --force "$(basename "$v")" >/dev/null 2>&1
                done
        done
        rm -rf "$tmp"
        ext4_scratch_rm "$ext4"
}

# Fresh data directory $1 holding a copy of the test template.
new_datadir() {
        mkdir -p "$1/templates"
        chmod 700 "$1/templates"
        cp -a "$data/templates/bb" "$1/templates/bb"
        rm -f "$1/templates/bb/users/"*
}

# start_bounded [DATA] NAME: a start must finish (30 s); sets $out, $code.
start_bounded() {
        dd=$data
        [ $# = 2 ] && dd=$1 && shift
        # Into a file, not $(...): a start worker stuck in open() keeps the
        # output pipe open after the timeout ends the start itself.
        timeout 30 "$bin" --root "$root" vps --data-dir "$dd" start "$1" >"$tmp/start.out" 2>&1 </dev/null
        code=$?
        out=$(cat "$tmp/start.out")
        if [ "$code" = 124 ]; then
                fail "vps start $1 hangs on what the guest planted in /etc"
                # Its worker and keeper outlive it, blocked in open() on the
                # overlay's FIFO (holding the VPS lock): end them, by pid.
                for p in $(pgrep -f -- "--data-dir $dd start $1\$"); do kill "$p"; done
                sleep 2
        fi
}

plant() { # plant ETC_DIR KIND(fifo|symlink|dir) TARGET
        for f in $guest_names; do
                rm -rf "${1:?}/$f"
                case $2 in
                fifo) mkfifo "$1/$f" ;;
                symlink) ln -s "$3" "$1/$f" ;;
                esac
        done
}

guest_files_ok() { # guest_files_ok NAME WHAT
        [ "$(berth exec "$1" -- cat /etc/hostname)" = "$1" ] || fail "$2: /etc/hostname not written"
        berth exec "$1" -- grep -q "$1" /etc/hosts || fail "$2: /etc/hosts has no entry for $1"
        berth exec "$1" -- grep -q 'nameserver 192.0.2.53' /etc/resolv.conf || fail "$2: /etc/resolv.conf"
        for f in hostname hosts resolv.conf; do
                berth exec "$1" -- sh -c "[ -f /etc/$f ] && [ ! -L /etc/$f ]" || fail "$2: /etc/$f not a regular file"
        done
        left=$(berth exec "$1" -- ls -a /etc | grep '^\.berth-')
        [ -z "$left" ] || fail "$2: temporary files left in the guest: $left"
}

# ---- the tests -------------------------------------------------------------

test_guest_files() {
        n=gf
        expect 0 berth create $n --template bb --nameserver 192.0.2.53
        expect 0 berth start $n
        expect 0 berth stop $n --timeout 10
        etc=$data/vps/$n/upper/etc
        [ -d "$etc" ] || fail "no /etc in the upper layer after a start"

        # FIFOs: an open for writing (or reading) would wait for ever.
        plant "$etc" fifo
        start_bounded $n
        if [ "$code" = 0 ]; then guest_files_ok $n "FIFOs"; else fail "start with FIFOs planted failed: $out"; fi
        berth stop $n --timeout 10 >/dev/null 2>&1

        # Symlinks out of the root, to a host file: never followed.
        secret=$tmp/host-secret
        echo host-secret >"$secret"
        plant "$etc" symlink "$secret"
        start_bounded $n
        if [ "$code" = 0 ]; then guest_files_ok $n "symlinks"; else fail "start with symlinks planted failed: $out"; fi
        [ "$(cat "$secret")" = host-secret ] || fail "a host file was written through a guest symlink"
        [ ! -L "$secret" ] || fail "host file replaced"
        berth exec $n -- grep -q host-secret /etc/hosts && fail "a host file was read into the guest's /etc/hosts"
        berth stop $n --timeout 10 >/dev/null 2>&1

        # A directory where berth must write: refused, saying what to remove.
        for f in .berth-hostname.tmp hosts; do
                plant "$etc" none
                mkdir "$etc/$f"
                start_bounded $n
                [ "$code" != 0 ] && [ "$code" != 124 ] || fail "start with a directory at /etc/$f: exit $code"
                echo "$out" | grep -q "/etc/$f.*directory" || fail "no clear error for a directory at /etc/$f: $out"
                rmdir "$etc/$f"
                [ -z "$(vps_pid $n)" ] || fail "a refused start left the VPS running"
        done
        expect 0 berth destroy --force $n
}

test_setuid() {
        tpl=$data/templates/bb
        cp "$probe" "$tpl/rootfs/bin/gst-suid"
        chmod 4755 "$tpl/rootfs/bin/gst-suid"
        o=$(as_nobody "$tpl/rootfs/bin/gst-suid" ids 2>&1)
        c=$?
        [ "$c" != 0 ] || fail "a host user ran the template's set-uid binary: $(echo "$o" | grep euid)"
        as_nobody ls "$tpl/rootfs" >/dev/null 2>&1 && fail "a host user lists the template's root"
        rm -f "$tpl/rootfs/bin/gst-suid"

        # A stopped VPS (own user namespace, and a privileged one).
        for u in auto none; do
                n=su-$u
                expect 0 berth create $n --template bb --userns $u
                expect 0 berth start $n
                expect 0 berth exec $n -- sh -c 'cp /bin/probe /gst-suid && chmod 4755 /gst-suid'
                expect 0 berth stop $n --timeout 10
                f=$data/vps/$n/upper/gst-suid
                [ -u "$f" ] || fail "$n: no set-uid file in the upper layer"
                o=$(as_nobody "$f" ids 2>&1)
                [ "$?" != 0 ] || fail "$n: a host user ran the stopped VPS's set-uid binary: $(echo "$o" | grep euid)"
                as_nobody ls "$data/vps/$n" >/dev/null 2>&1 && fail "$n: a host user lists the VPS's directory"
                expect 0 berth destroy $n
        done
}

json_num() { # json_num FILE KEY
        json_field "$2" <"$1"
}

test_two_datadirs() {
        d1=$tmp/d1 d2=$tmp/d2
        new_datadir "$d1"
        new_datadir "$d2"
        expect 0 berth_in "$d1" create web1 --template bb --ip 10.77.0.51
        # An address is one VPS's on the whole host, whatever its data directory.
        expect 4 berth_in "$d2" create web1 --template bb --ip 10.77.0.51
        [ ! -e "$d2/vps/web1" ] || fail "a refused create left $d2/vps/web1"
        expect 0 berth_in "$d2" create web1 --template bb
        expect 4 berth_in "$d2" set web1 --ip-add 10.77.0.51
        expect 0 berth_in "$d1" start web1
        expect 0 berth_in "$d2" start web1
        if1=$(json_num "$d1/vps/web1/vps.json" host_if)
        if2=$(json_num "$d2/vps/web1/vps.json" host_if)
        [ "$if1" != "$if2" ] || fail "both data directories' web1 use host link $if1"
        h1=$(json_num "$d1/vps/web1/vps.json" host_id)
        h2=$(json_num "$d2/vps/web1/vps.json" host_id)
        [ -n "$h1" ] && [ "$h1" != "$h2" ] || fail "both data directories' web1 have host ids $h1"
        p1=$(vps_pid "$d1" web1)
        p2=$(vps_pid "$d2" web1)
        [ -n "$p1" ] && [ -n "$p2" ] && [ "$p1" != "$p2" ] || fail "not two running web1: pids '$p1' '$p2'"
        [ "$(stat -c %u "/proc/$p1")" != "$(stat -c %u "/proc/$p2")" ] || fail "both guests' roots are one host uid"
        n=$("$bin" --root "$root" list -q 2>/dev/null | grep -c '^vps-web1')
        [ "$n" = 2 ] || fail "expected two containers named after web1 in 'berth list', got $n"

        expect 0 berth_in "$d2" stop web1 --timeout 10
        [ "$(vps_pid "$d1" web1)" = "$p1" ] || fail "stopping D2's web1 stopped D1's"
        expect 0 berth_in "$d1" exec web1 -- true
        expect 0 berth_in "$d2" destroy web1
        [ "$(vps_pid "$d1" web1)" = "$p1" ] || fail "destroying D2's web1 stopped D1's"
        ip link show "$if1" >/dev/null 2>&1 || fail "destroying D2's web1 deleted D1's host link $if1"
        [ -f "$d1/vps/web1/vps.json" ] || fail "destroying D2's web1 touched D1's files"
        expect 0 berth_in "$d1" exec web1 -- true
        grep -q " $d1 web1\$" "$BERTH_ID_REGISTRY" || fail "D1's web1 not in the id registry"
        grep -q " $d2 web1\$" "$BERTH_ID_REGISTRY" && fail "D2's destroyed web1 still in the id registry"
        # A VPS made before the registry existed is recorded at its next start.
        expect 0 berth_in "$d1" stop web1 --timeout 10
        sed -i "\| $d1 web1\$|d" "$BERTH_ID_REGISTRY"
        expect 0 berth_in "$d1" start web1
        grep -q "^$h1 65536 $d1 web1\$" "$BERTH_ID_REGISTRY" || fail "start did not record web1's range: $(cat "$BERTH_ID_REGISTRY")"
        expect 0 berth_in "$d1" destroy --force web1
}

test_userns_overlap() {
        d3=$tmp/d3 d4=$tmp/d4
        new_datadir "$d3"
        new_datadir "$d4"
        BERTH_ETC_DIR=$tmp/etc
        export BERTH_ETC_DIR
        mkdir -p "$BERTH_ETC_DIR"
        cp /etc/passwd /etc/group "$BERTH_ETC_DIR/"
        echo "gst:1073741824:131072" >"$BERTH_ETC_DIR/subuid"
        echo "gst:1073741824:131072" >"$BERTH_ETC_DIR/subgid"
        out=$(berth_in "$d3" create ov1 --template bb --userns 1073807360 2>&1)
        [ $? != 0 ] || fail "--userns inside /etc/subuid's range accepted"
        echo "$out" | grep -q "subuid" || fail "no mention of /etc/subuid: $out"
        out=$(berth_in "$d3" create ov2 --template bb --userns 65534 2>&1)
        [ $? != 0 ] || fail "--userns 65534 (nobody) accepted"
        echo "$out" | grep -q "passwd\|group" || fail "no mention of the host user: $out"
        expect 0 berth_in "$d3" create ov3 --template bb
        h=$(json_num "$d3/vps/ov3/vps.json" host_id)
        [ -n "$h" ] && [ "$h" -ge $((1073741824 + 131072)) ] || fail "auto range $h overlaps /etc/subuid"
        out=$(berth_in "$d4" create ov4 --template bb --userns "$h" 2>&1)
        [ $? != 0 ] || fail "--userns $h (another data directory's VPS) accepted"
        echo "$out" | grep -q "ov3" || fail "no mention of the VPS using it: $out"
        unset BERTH_ETC_DIR
        expect 0 berth_in "$d3" destroy ov3
        grep -q " ov3\$" "$BERTH_ID_REGISTRY" && fail "destroyed ov3 still in the id registry"
        for v in ov1 ov2; do berth_in "$d3" destroy $v >/dev/null 2>&1; done
        berth_in "$d4" destroy ov4 >/dev/null 2>&1
        # Several at once: the registry is rewritten once, at the end, and
        # loses the lines of those destroyed only.
        for v in ba1 ba2 bkeep; do expect 0 berth_in "$d3" create $v --template bb; done
        expect 0 berth_in "$d4" create bother --template bb
        expect 0 berth_in "$d3" destroy ba1 ba2
        grep -q " $d3 ba[12]\$" "$BERTH_ID_REGISTRY" &&
                fail "VPS destroyed together still in the id registry: $(cat "$BERTH_ID_REGISTRY")"
        grep -q " $d3 bkeep\$" "$BERTH_ID_REGISTRY" || fail "a destroy of others dropped bkeep's line"
        grep -q " $d4 bother\$" "$BERTH_ID_REGISTRY" || fail "a destroy in $d3 dropped $d4's line"
        expect 0 berth_in "$d3" destroy --all
        expect 0 berth_in "$d4" destroy bother
        grep -q " $d3 \| $d4 " "$BERTH_ID_REGISTRY" && fail "destroy --all left lines: $(cat "$BERTH_ID_REGISTRY")"
        return 0
}

cg_of() { # cg_of PID CONTROLLER: its cgroup path in that v1 hierarchy
        awk -F: -v c="$2" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' "/proc/$1/cgroup"
}

test_defaults() {
        BERTH_CONFIG_DIR=$tmp/cfg
        export BERTH_CONFIG_DIR
        mkdir -p "$BERTH_CONFIG_DIR"
        out=$(berth create nd --template bb 2>&1)
        echo "$out" | grep -q "no memory" || fail "no warning for a VPS without limits: $out"
        expect 0 berth destroy nd
        echo '{"memory": "256M", "pids": 200, "cpus": "0.5"}' >"$BERTH_CONFIG_DIR/vps-defaults.json"
        out=$(berth create df1 --template bb 2>&1)
        echo "$out" | grep -q "no memory\|no pids" && fail "warning despite defaults: $out"
        f=$data/vps/df1/vps.json
        [ "$(json_num "$f" memory)" = 268435456 ] || fail "default memory not applied: $(cat "$f")"
        [ "$(json_num "$f" pids)" = 200 ] || fail "default pids not applied"
        [ "$(json_num "$f" cpu_quota)" = 50000 ] || fail "default cpus not applied"
        expect 0 berth create df2 --template bb --memory 128M --pids 50
        f=$data/vps/df2/vps.json
        [ "$(json_num "$f" memory)" = 134217728 ] || fail "--memory did not override the default"
        [ "$(json_num "$f" pids)" = 50 ] || fail "--pids did not override the default"
        [ "$(json_num "$f" cpu_quota)" = 50000 ] || fail "default cpus lost with other flags"
        # In force: the guest's init is in cgroups with these limits.
        expect 0 berth start df1
        p=$(vps_pid df1)
        if [ -n "$p" ] && [ -d /sys/fs/cgroup/memory ]; then
                m=$(cat "/sys/fs/cgroup/memory$(cg_of "$p" memory)/memory.limit_in_bytes")
                [ "$m" = 268435456 ] || fail "the VPS's memory limit is $m"
                k=$(cat "/sys/fs/cgroup/pids$(cg_of "$p" pids)/pids.max")
                [ "$k" = 200 ] || fail "the VPS's pids limit is $k"
        fi
        echo '{"memory": "lots"}' >"$BERTH_CONFIG_DIR/vps-defaults.json"
        out=$(berth create df3 --template bb 2>&1)
        [ $? != 0 ] || fail "a bad default was accepted"
        echo "$out" | grep -q "vps-defaults.json: memory" || fail "bad value not named: $out"
        echo '{"memroy": "1G"}' >"$BERTH_CONFIG_DIR/vps-defaults.json"
        out=$(berth create df3 --template bb 2>&1)
        [ $? != 0 ] || fail "an unknown key was accepted"
        echo "$out" | grep -q "memroy" || fail "unknown key not named: $out"
        unset BERTH_CONFIG_DIR
        expect 0 berth destroy --force df1
        expect 0 berth destroy df2
        berth destroy df3 >/dev/null 2>&1
        return 0
}

test_io_uring() {
        expect 0 berth create iu --template bb
        expect 0 berth start iu
        out=$(berth exec iu -- /bin/probe io_uring)
        [ "$out" = io_uring=EPERM ] || fail "io_uring in a default VPS: $out"
        expect 0 berth stop iu --timeout 10
        expect 0 berth set iu --allow-io-uring
        expect 0 berth start iu
        out=$(berth exec iu -- /bin/probe io_uring)
        if [ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" = 0 ]; then
                [ "$out" = io_uring=ok ] || fail "io_uring with --allow-io-uring: $out"
        else
                echo "note: the host disables io_uring (kernel.io_uring_disabled): allowed case not checked"
        fi
        expect 0 berth stop iu --timeout 10
        expect 0 berth set iu --no-allow-io-uring
        expect 0 berth start iu
        out=$(berth exec iu -- /bin/probe io_uring)
        [ "$out" = io_uring=EPERM ] || fail "io_uring after --no-allow-io-uring: $out"
        expect 0 berth destroy --force iu
}

cpu_usec() { # cpu_usec CGROUP-DIR: usage_usec of its cpu.stat
        awk '$1 == "usage_usec" { print $2 }' "$1/cpu.stat"
}

now_usec() {
        echo $(($(date +%s%N) / 1000))
}

# Pure cgroup v2: where the guest and the keeper are, the limits of both
# levels, what the guest sees, and the CPU of guest + keeper under the quota.
keeper_v2() { # keeper_v2 NAME INIT KEEPER
        g=$(sed -n 's/^0:://p' "/proc/$2/cgroup")
        case $g in
        */guest) ;;
        *) fail "the VPS's init is in cgroup $g, not <vps>/guest" && return ;;
        esac
        top=${g%/guest} dir=/sys/fs/cgroup${g%/guest}
        kg=$(sed -n 's/^0:://p' "/proc/$3/cgroup")
        [ "$kg" = "$top/console" ] || fail "the keeper is in cgroup $kg, not $top/console"
        for lv in "$dir" "$dir/guest"; do
                [ "$(cat "$lv/memory.max")" = 268435456 ] || fail "memory.max of $lv: $(cat "$lv/memory.max")"
                [ "$(cat "$lv/pids.max")" = 100 ] || fail "pids.max of $lv: $(cat "$lv/pids.max")"
        done
        out=$(berth exec "$1" -- cat /proc/self/cgroup)
        [ "$out" = "0::/" ] || fail "the guest does not see its cgroup as its root: $out"
        # What a guest systemd does: its processes into a leaf, controllers
        # for its subtree (refused if a process of ours were at its root).
        out=$(berth exec "$1" -- sh -c 'cd /sys/fs/cgroup && mkdir init &&
                for p in $(cat cgroup.procs); do echo "$p" >init/cgroup.procs 2>/dev/null; done
                echo "+memory +pids" >cgroup.subtree_control && cat cgroup.subtree_control' 2>&1)
        case $out in
        *memory*pids*) ;;
        *) fail "the guest cannot enable controllers for its own subtree: $out" ;;
        esac
        expect 0 berth set "$1" --cpus 0.1
        for lv in "$dir" "$dir/guest"; do
                q=$(cut -d' ' -f1 "$lv/cpu.max")
                [ "$q" = 10000 ] || fail "cpu.max of $lv after set --cpus 0.1: $(cat "$lv/cpu.max")"
        done
        u0=$(cpu_usec "$dir") c0=$(cpu_usec "$dir/console") w0=$(now_usec)
        berth exec "$1" -- sh -c 'timeout 6 yes 0123456789abcdef0123456789abcdef >/dev/console'
        u1=$(cpu_usec "$dir") c1=$(cpu_usec "$dir/console") w1=$(now_usec)
        wall=$((w1 - w0)) used=$((u1 - u0)) kept=$((c1 - c0))
        echo "keeper: VPS $used us of CPU in $wall us at --cpus 0.1, of which the keeper $kept us"
        [ "$kept" -gt 0 ] || fail "the keeper's cgroup used no CPU while the guest wrote to its console"
        # 10% with slack: 12% plus one period and a bit.
        [ "$used" -le $((wall / 10 + wall / 50 + 200000)) ] ||
                fail "guest + keeper used $used us of CPU in $wall us at --cpus 0.1"
        # `vps status` reports the whole VPS (read after u1: at least that;
        # the guest's level alone is about the keeper's share less).
        ns=$(berth status "$1" --json | json_field cpu_ns)
        [ -n "$ns" ] && [ $((ns / 1000)) -ge "$u1" ] ||
                fail "vps status: cpu_ns $ns, the VPS's cgroup had $u1 us before"
}

test_keeper() {
        expect 0 berth create kc --template bb --memory 256M --pids 100 --cpus 1
        expect 0 berth start kc
        p=$(vps_pid kc)
        k=$(keeper_of "$p")
        [ "$(cat "/proc/$k/comm")" = berth-console ] || fail "the init's parent is not the keeper: $(cat "/proc/$k/comm")"
        keeper_settled "$k" "$p" || fail "the keeper has children besides the init: $(cat "/proc/$k/task/$k/children")"
        # Where berth is the static one, the keeper runs it (not a fork of
        # berth-full): no shared library is mapped into it.
        if ! readelf -l "$bin" | grep -q INTERP; then
                case "$(tr '\0' ' ' <"/proc/$k/cmdline") " in
                *" _vps-keeper kc "*) ;;
                *) fail "the keeper is not berth _vps-keeper: $(tr '\0' ' ' <"/proc/$k/cmdline")" ;;
                esac
                ! grep -q '\.so' "/proc/$k/maps" ||
                        fail "the keeper maps shared libraries: $(grep -o '/[^ ]*\.so[^ ]*' "/proc/$k/maps" | sort -u)"
        fi
        # Its verbs are internal: refused by hand, not in --help.
        out=$("$bin" _vps-keeper kc 2>&1)
        [ $? = 2 ] && case $out in *"internal command"*) true ;; *) false ;; esac ||
                fail "berth _vps-keeper by hand: '$out'"
        ! "$bin" --help | grep -q _vps-keeper || fail "--help lists the keeper's internal verbs"
        for c in memory cpu pids; do
                [ -n "$(cg_of "$p" $c)" ] || continue # no such v1 hierarchy
                [ "$(cg_of "$k" $c)" = "$(cg_of "$p" $c)" ] ||
                        fail "keeper in $c cgroup $(cg_of "$k" $c), the VPS in $(cg_of "$p" $c)"
        done
        # console.log does not grow without bound (rotated at 1 MiB).
        berth exec kc -- sh -c 'head -c 3000000 /dev/zero | tr "\0" x >/dev/console'
        sleep 1
        s=$(stat -c %s "$data/vps/kc/console.log")
        [ "$s" -le $((1048576 + 65536)) ] || fail "console.log grew to $s bytes"
        dir=""
        [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] && keeper_v2 kc "$p" "$k"
        expect 0 berth stop kc --timeout 10
        # Gone (or a zombie waiting for whoever adopted it), not running on.
        for _ in 1 2 3 4 5 6 7 8 9 10; do
                st=$(awk '{print $3}' "/proc/$k/stat" 2>/dev/null)
                [ -z "$st" ] || [ "$st" = Z ] && break
                sleep 0.5
        done
        [ -z "$st" ] || [ "$st" = Z ] || fail "the keeper outlived its VPS (state $st)"
        [ -z "$dir" ] || [ ! -d "$dir" ] || fail "the VPS's cgroup $dir outlived the stop: $(ls "$dir")"
        expect 0 berth destroy kc
}

# ---- main ------------------------------------------------------------------

in_own_netns "$bin" "$probe" "$@"

scratch_base
scratch_dir gst-vpsguest
data=$tmp/d0
BERTH_ID_REGISTRY=$tmp/id-ranges # not the host's /var/lib/berth/id-ranges
export BERTH_ID_REGISTRY
trap cleanup EXIT
bb_template
cp "$probe" "$data/templates/bb/rootfs/bin/probe"

run_named "guest_files setuid two_datadirs userns_overlap defaults io_uring keeper" "$@"
finish
