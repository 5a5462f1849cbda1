#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# What the guest sees of itself (docs/vps.md, "What the guest sees"), from
# inside real busybox VPS:
#
#   lxcfs     with lxcfs running (the test's own instance, at a private mount
#             point in the test's own mount namespace), /proc/meminfo,
#             /proc/uptime and /sys/devices/system/cpu/online show the VPS's
#             limits and uptime and `vps status` says lxcfs true; without
#             it the VPS still starts, sees the host's and status says
#             false; an OCI container with run.berth.lxcfs=true gets it too
#   nproc     --cpus N: ceil(N) CPUs in the affinity mask (nproc), two VPS
#             of one CPU each on different CPUs; no --cpus: all of them
#   identity  machine-id unique per VPS and kept across starts, boot_id new
#             at every start, a template's SSH host keys replaced per VPS
#   sysctl    net.* writable in the guest's own network namespace, kernel.*
#             refused
#   devices   --device tun: /dev/net/tun opens; bad names refused; none
#             removes it
#   debootstrap  template create --debootstrap SUITE --include PKG,...: the
#             packages reach debootstrap (a fake one first on PATH: no
#             download), bad names are refused before it runs, the
#             template's apt sources list SUITE, -updates and -security
#             from the host's apt sources (a private /etc/apt here)
#   status    human vps status and list in units and text, list --json
#             with usage, --cpu-weight 200 twice the default's CPU time
#   sysinfo   busybox free and uptime (sysinfo(2), answered by the console
#             keeper) show --memory, --swap and the VPS's uptime, in a
#             `vps exec` and in a process of the guest's init, live after
#             vps set --memory; with the keeper killed sysinfo fails at
#             once (ENOSYS) instead of hanging
#   sync      the guest's sync(2) writes back its own disk (an ext4 image)
#             and not another filesystem of the host
#   debian    a systemd guest (the cached template of vps_debian_test.sh):
#             MemTotal, nproc, _PHYS_PAGES, uptime, machine-id, journald's
#             boot id
#
# Runs in its own network and mount namespace (re-exec under unshare).
# usage: vps_view_test.sh BERTH [TEST...]
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
bin=${1:-}
case $bin in /*) ;; ?*) bin=$(pwd)/$bin ;; esac
[ $# -gt 0 ] && shift

require_vps_host "$bin"
for c in timeout awk; do
        command -v "$c" >/dev/null || skip "no $c(1)"
done

failures=0
current=""
lxcfs_pid=""

berth() {
        "$bin" --root "$root" vps --data-dir "$data" "$@"
}

gexec() { # gexec NAME CMD...: runs CMD in the VPS, stdin closed
        n=$1
        shift
        berth exec "$n" -- "$@" </dev/null
}

cleanup() {
        for v in "$data"/vps/*/; do
                [ -d "$v" ] || continue
                berth destroy --force "$(basename "$v")" >/dev/null 2>&1
        done
        "$bin" --root "$root" delete --force gvw-oci >/dev/null 2>&1
        stop_lxcfs
        rm -rf "$tmp"
        ext4_scratch_rm "$ext4"
}

# The test's own lxcfs at $tmp/lxcfs (never the host's /var/lib/lxcfs).
start_lxcfs() {
        mkdir -p "$tmp/lxcfs"
        lxcfs -f -l -p "$tmp/lxcfs.pid" "$tmp/lxcfs" >"$tmp/lxcfs.log" 2>&1 &
        lxcfs_pid=$!
        i=0
        while [ $i -lt 50 ]; do
                [ -f "$tmp/lxcfs/proc/meminfo" ] && return 0
                sleep 0.2
                i=$((i + 1))
        done
        echo "lxcfs did not come up: $(cat "$tmp/lxcfs.log")"
        return 1
}

stop_lxcfs() {
        [ -n "$lxcfs_pid" ] || return 0
        kill "$lxcfs_pid" 2>/dev/null
        wait "$lxcfs_pid" 2>/dev/null
        lxcfs_pid=""
        umount "$tmp/lxcfs" 2>/dev/null
        return 0
}

status_lxcfs() { # status_lxcfs NAME: true/false/null from status --json
        berth status "$1" --json | json_field lxcfs
}

host_memtotal() {
        awk '/^MemTotal:/ {print $2}' /proc/meminfo
}

# ---- the tests -------------------------------------------------------------

test_lxcfs() {
        if ! command -v lxcfs >/dev/null; then
                echo "SKIP [lxcfs]: no lxcfs on this host (Debian: apt-get install lxcfs)"
                return 0
        fi
        start_lxcfs || {
                fail "cannot start the test's lxcfs"
                return
        }
        n=gvw-lx
        expect 0 berth create $n --template bb --memory 256M --swap 0 --cpus 1
        BERTH_LXCFS_DIR=$tmp/lxcfs berth start $n >"$tmp/out" 2>&1 || fail "start with lxcfs: $(cat "$tmp/out")"
        mem=$(gexec $n awk '/^MemTotal:/ {print $2}' /proc/meminfo)
        [ "$mem" = 262144 ] || fail "MemTotal in the guest is '$mem' kB, expected 262144 (256M)"
        up=$(gexec $n cut -d. -f1 /proc/uptime)
        [ -n "$up" ] && [ "$up" -lt 120 ] || fail "guest /proc/uptime says $up s: not the VPS's own"
        online=$(gexec $n cat /sys/devices/system/cpu/online)
        case $online in [0-9]) ;; *) fail "guest cpu/online is '$online', expected one CPU" ;; esac
        gexec $n cat /proc/loadavg >/dev/null || fail "guest /proc/loadavg unreadable"
        [ "$(status_lxcfs $n)" = true ] || fail "status --json says lxcfs $(status_lxcfs $n), expected true"
        berth status $n | grep -q '^lxcfs  *true$' || fail "status does not say lxcfs true: $(berth status $n)"
        # lxcfs gone: the bind stays but no longer answers, and status says so.
        stop_lxcfs
        [ "$(status_lxcfs $n)" = false ] || fail "status says lxcfs $(status_lxcfs $n) after lxcfs stopped"
        expect 0 berth destroy --force $n

        # No lxcfs: starts all the same, with the host's view.
        n=gvw-nolx
        expect 0 berth create $n --template bb --memory 256M
        BERTH_LXCFS_DIR=$tmp/no-lxcfs berth start $n >"$tmp/out" 2>&1 || fail "start without lxcfs: $(cat "$tmp/out")"
        [ ! -s "$tmp/out" ] || ! grep -q 'lxcfs' "$tmp/out" || fail "a VPS start without lxcfs warns: $(cat "$tmp/out")"
        mem=$(gexec $n awk '/^MemTotal:/ {print $2}' /proc/meminfo)
        [ "$mem" = "$(host_memtotal)" ] || fail "MemTotal without lxcfs is '$mem', expected the host's"
        [ "$(status_lxcfs $n)" = false ] || fail "status says lxcfs $(status_lxcfs $n) without lxcfs"
        expect 0 berth destroy --force $n

        # OCI mode: opt-in by annotation.
        start_lxcfs || return
        b=$tmp/oci
        mkdir -p "$b"
        cp -a "$data/templates/bb/rootfs" "$b/rootfs"
        (cd "$b" && "$bin" spec) || fail "berth spec"
        python3 - "$b/config.json" <<'PY' || fail "edit OCI config"
import json, sys
p = sys.argv[1]
c = json.load(open(p))
c["process"]["terminal"] = False
c["process"]["args"] = ["sh", "-c", "awk '/^MemTotal:/ {print $2}' /proc/meminfo"]
c.setdefault("annotations", {})["run.berth.lxcfs"] = "true"
c["linux"]["cgroupsPath"] = "gvw-oci"
c["linux"].setdefault("resources", {})["memory"] = {"limit": 134217728}
json.dump(c, open(p, "w"))
PY
        got=$(BERTH_LXCFS_DIR=$tmp/lxcfs timeout 30 "$bin" --root "$root" run --bundle "$b" gvw-oci </dev/null 2>&1)
        [ "$got" = 131072 ] || fail "OCI container with run.berth.lxcfs=true sees MemTotal '$got', expected 131072"
        "$bin" --root "$root" delete --force gvw-oci >/dev/null 2>&1
        stop_lxcfs
}

test_nproc() {
        host=$(nproc)
        expect 0 berth create gvw-c1 --template bb --cpus 1
        expect 0 berth create gvw-c2 --template bb --cpus 0.5
        expect 0 berth create gvw-call --template bb
        for n in gvw-c1 gvw-c2 gvw-call; do expect 0 berth start $n; done
        [ "$(gexec gvw-c1 nproc)" = 1 ] || fail "--cpus 1: nproc says $(gexec gvw-c1 nproc)"
        [ "$(gexec gvw-c2 nproc)" = 1 ] || fail "--cpus 0.5: nproc says $(gexec gvw-c2 nproc)"
        [ "$(gexec gvw-call nproc)" = "$host" ] || fail "no --cpus: nproc says $(gexec gvw-call nproc), host $host"
        if [ "$host" -ge 2 ]; then
                a=$(gexec gvw-c1 awk '/Cpus_allowed_list/ {print $2}' /proc/self/status)
                b=$(gexec gvw-c2 awk '/Cpus_allowed_list/ {print $2}' /proc/self/status)
                [ "$a" != "$b" ] || fail "two one-CPU VPS share CPU $a while another is free"
        fi
        # Live: the cpuset follows vps set --cpus.
        expect 0 berth set gvw-call --cpus 1
        [ "$(gexec gvw-call nproc)" = 1 ] || fail "set --cpus 1 live: nproc says $(gexec gvw-call nproc)"
        expect 0 berth set gvw-c1 --cpus none
        [ "$(gexec gvw-c1 nproc)" = "$host" ] || fail "set --cpus none live: nproc says $(gexec gvw-c1 nproc)"
        for n in gvw-c1 gvw-c2 gvw-call; do expect 0 berth destroy --force $n; done
}

test_identity() {
        # A template with SSH host keys, as a debootstrap with openssh-server has.
        if command -v ssh-keygen >/dev/null; then
                mkdir -p "$data/templates/bb/rootfs/etc/ssh"
                ssh-keygen -q -t ed25519 -N "" -f "$data/templates/bb/rootfs/etc/ssh/ssh_host_ed25519_key"
        fi
        expect 0 berth create gvw-i1 --template bb
        expect 0 berth create gvw-i2 --template bb
        expect 0 berth start gvw-i1
        expect 0 berth start gvw-i2
        m1=$(gexec gvw-i1 cat /etc/machine-id)
        m2=$(gexec gvw-i2 cat /etc/machine-id)
        echo "$m1" | grep -qx '[0-9a-f]\{32\}' || fail "machine-id '$m1' is not 32 hex digits"
        [ "$m1" != "$m2" ] || fail "two VPS share the machine-id $m1"
        b1=$(gexec gvw-i1 cat /proc/sys/kernel/random/boot_id)
        hb=$(cat /proc/sys/kernel/random/boot_id)
        [ "$b1" != "$hb" ] || fail "the guest's boot_id is the host's"
        echo "$b1" | grep -qx '[0-9a-f]\{8\}-[0-9a-f]\{4\}-4[0-9a-f]\{3\}-[89ab][0-9a-f]\{3\}-[0-9a-f]\{12\}' ||
                fail "boot_id '$b1' is not a random UUID"
        [ "$b1" != "$(gexec gvw-i2 cat /proc/sys/kernel/random/boot_id)" ] || fail "two VPS share a boot_id"
        if [ -f "$data/templates/bb/rootfs/etc/ssh/ssh_host_ed25519_key" ]; then
                tk=$(cat "$data/templates/bb/rootfs/etc/ssh/ssh_host_ed25519_key.pub")
                k1=$(gexec gvw-i1 cat /etc/ssh/ssh_host_ed25519_key.pub)
                k2=$(gexec gvw-i2 cat /etc/ssh/ssh_host_ed25519_key.pub)
                [ -n "$k1" ] && [ "$k1" != "$tk" ] || fail "VPS 1 kept the template's SSH host key"
                [ "$k1" != "$k2" ] || fail "two VPS share an SSH host key"
                own=$(gexec gvw-i1 stat -c '%u %a' /etc/ssh/ssh_host_ed25519_key)
                [ "$own" = "0 600" ] || fail "the new private key is '$own' in the guest, expected root's, 600"
                # The pair belongs together: the public key derives from the private one.
                gexec gvw-i1 cat /etc/ssh/ssh_host_ed25519_key >"$tmp/k1"
                chmod 600 "$tmp/k1"
                [ "$(ssh-keygen -y -f "$tmp/k1" | cut -d' ' -f2)" = "$(echo "$k1" | cut -d' ' -f2)" ] ||
                        fail "the guest's SSH public key does not match its private key"
        fi
        expect 0 berth stop gvw-i1 --timeout 10
        expect 0 berth start gvw-i1
        [ "$(gexec gvw-i1 cat /etc/machine-id)" = "$m1" ] || fail "machine-id changed across a restart"
        [ "$(gexec gvw-i1 cat /proc/sys/kernel/random/boot_id)" != "$b1" ] || fail "boot_id unchanged by a restart"
        [ -z "$k1" ] || [ "$(gexec gvw-i1 cat /etc/ssh/ssh_host_ed25519_key.pub)" = "$k1" ] ||
                fail "SSH host key changed across a restart"
        for n in gvw-i1 gvw-i2; do expect 0 berth destroy --force $n; done
        rm -rf "$data/templates/bb/rootfs/etc/ssh"
}

test_sysctl() {
        n=gvw-sc
        expect 0 berth create $n --template bb
        expect 0 berth start $n
        gexec $n sysctl -w net.ipv4.ip_forward=1 >"$tmp/out" 2>&1 || fail "sysctl -w net.ipv4.ip_forward=1: $(cat "$tmp/out")"
        [ "$(gexec $n cat /proc/sys/net/ipv4/ip_forward)" = 1 ] || fail "ip_forward not 1 in the guest"
        gexec $n sh -c 'echo 1 > /proc/sys/net/ipv4/conf/all/forwarding' || fail "net.ipv4.conf.all.forwarding not writable"
        [ "$(cat /proc/sys/net/ipv4/ip_forward)" = 0 ] || fail "the guest's ip_forward reached the test's network namespace"
        gexec $n sysctl -w kernel.domainname=gvw >/dev/null 2>&1 && fail "sysctl -w kernel.domainname was allowed"
        gexec $n sh -c 'echo 1 > /proc/sys/vm/drop_caches' 2>/dev/null && fail "vm.drop_caches was writable"
        expect 0 berth destroy --force $n
}

test_devices() {
        n=gvw-dev
        expect 2 berth create $n --template bb --device kvm
        [ ! -d "$data/vps/$n" ] || fail "a refused --device left $data/vps/$n behind"
        berth create $n --template bb --device kvm 2>&1 | grep -q 'kvm' || fail "--device kvm: the error does not name it"
        expect 0 berth create $n --template bb --device tun,fuse
        berth status $n --json | grep -q '"tun"' || fail "status does not list the tun device"
        expect 0 berth start $n
        out=$(gexec $n cat /dev/net/tun 2>&1)
        case $out in *"bad state"*) ;; *) fail "/dev/net/tun did not open in the guest: $out" ;; esac
        gexec $n test -c /dev/fuse || fail "no /dev/fuse in the guest"
        expect 0 berth stop $n --timeout 10
        expect 0 berth set $n --device none
        expect 0 berth start $n
        gexec $n test -e /dev/net/tun && fail "/dev/net/tun still there after --device none"
        expect 0 berth destroy --force $n
}

test_debootstrap() {
        fake=$tmp/fakebin
        mkdir -p "$fake"
        # berth gives debootstrap a clean environment: the log path is baked in.
        {
                echo '#!/bin/sh'
                echo "echo \"\$*\" >'$tmp/debootstrap.args'"
                echo 'for a; do target=$mirror; mirror=$a; done'
                echo 'mkdir -p "$target/etc/apt" "$target/bin" "$target/sbin"'
                echo 'echo "deb $mirror bookworm main" >"$target/etc/apt/sources.list"'
                echo 'echo "fake debootstrap: done"'
        } >"$fake/debootstrap"
        chmod 755 "$fake/debootstrap"
        # A private /etc/apt (this test's mount namespace): the host's sources.
        mkdir -p "$tmp/apt/sources.list.d"
        printf 'deb http://192.0.2.10/debian bookworm main\ndeb http://192.0.2.11/debian-security bookworm-security main\n' \
                >"$tmp/apt/sources.list"
        # Only ever in the private mount namespace of the re-exec below.
        [ "${BERTH_VPS_TEST_NETNS:-}" = 1 ] || {
                fail "not in the test's own mount namespace"
                return
        }
        mount --bind "$tmp/apt" /etc/apt || {
                fail "cannot bind a private /etc/apt"
                return
        }
        out=$(tb create gvw-deb --debootstrap bookworm --include openssh-server,nginx 2>&1) ||
                fail "template create --include: $out"
        args=$(cat "$tmp/debootstrap.args" 2>/dev/null)
        case $args in
        *"--include=systemd-sysv,iproute2,iputils-ping,openssh-server,nginx bookworm "*" http://192.0.2.10/debian") ;;
        *) fail "debootstrap got '$args'" ;;
        esac
        src=$data/templates/gvw-deb/rootfs/etc/apt/sources.list
        want=$(printf 'deb http://192.0.2.10/debian bookworm main\ndeb http://192.0.2.10/debian bookworm-updates main\ndeb http://192.0.2.11/debian-security bookworm-security main')
        [ "$(cat "$src" 2>/dev/null)" = "$want" ] || fail "the template's sources.list: '$(cat "$src" 2>/dev/null)'"
        # --mirror wins; no security entry on the host: beside the mirror.
        printf 'deb http://192.0.2.10/debian bookworm main\n' >"$tmp/apt/sources.list"
        expect 0 tb create gvw-deb2 --debootstrap trixie --mirror http://192.0.2.12/debian
        src=$data/templates/gvw-deb2/rootfs/etc/apt/sources.list
        grep -qx 'deb http://192.0.2.12/debian-security trixie-security main' "$src" ||
                fail "--mirror: sources.list '$(cat "$src")'"
        umount /etc/apt
        # Bad input: refused before debootstrap runs, nothing left.
        rm -f "$tmp/debootstrap.args"
        expect 2 tb create gvw-bad --debootstrap bookworm --include 'openssh-server,x;rm'
        tb create gvw-bad --debootstrap bookworm --include 'Bad' 2>&1 | grep -q '"Bad"' ||
                fail "--include Bad: the error does not name it"
        expect 2 tb create gvw-bad --debootstrap bookworm --include ''
        expect 2 tb create gvw-bad --busybox --include openssh-server
        [ ! -e "$tmp/debootstrap.args" ] || fail "debootstrap ran for a bad --include: $(cat "$tmp/debootstrap.args")"
        left=""
        for e in "$data/templates"/* "$data/templates"/.[!.]*; do
                [ -e "$e" ] || continue
                case ${e##*/} in bb | gvw-deb | gvw-deb2) ;; *) left="$left ${e##*/}" ;; esac
        done
        [ -z "$left" ] || fail "a refused create left something behind: $left"
        expect 0 tb remove gvw-deb
        expect 0 tb remove gvw-deb2
}

tb() { # tb ARGS...: berth template with the fake debootstrap first on PATH
        PATH=$tmp/fakebin:$PATH "$bin" template --data-dir "$data" "$@"
}

probe_field() { # probe_field FILE KEY: KEY=VALUE of the probe's output
        sed -n "s/^$2=//p" "$1"
}

test_sysinfo() {
        if [ -z "${BERTH_TEST_PROBE:-}" ] || ! [ -x "$BERTH_TEST_PROBE" ]; then
                fail "no probe: BERTH_TEST_PROBE must name tests/integration's static probe"
                return
        fi
        n=gvw-si
        rcs=$data/templates/bb/rootfs/etc/init.d/rcS
        cp "$BERTH_TEST_PROBE" "$data/templates/bb/rootfs/bin/probe"
        # A process of the guest's init (its rcS) too, not only vps exec's.
        cp "$rcs" "$tmp/rcS.orig"
        echo '/bin/probe sysinfo > /run-sysinfo; uptime > /run-uptime' >>"$rcs"
        expect 0 berth create $n --template bb --memory 256M --swap 64M
        expect 0 berth start $n
        # start returns once the init runs, not once its rcS is done: wait
        # for the file rcS writes last, then give the template its rcS back.
        i=0
        while [ $i -lt 100 ] && ! gexec $n test -s /run-uptime; do
                sleep 0.2
                i=$((i + 1))
        done
        cp "$tmp/rcS.orig" "$rcs"
        gexec $n /bin/probe sysinfo >"$tmp/si"
        [ "$(probe_field "$tmp/si" sysinfo)" = ok ] || fail "sysinfo in vps exec: $(cat "$tmp/si")"
        [ "$(probe_field "$tmp/si" sysinfo.totalram)" = 268435456 ] ||
                fail "sysinfo totalram $(probe_field "$tmp/si" sysinfo.totalram), expected 268435456 (256M)"
        free=$(probe_field "$tmp/si" sysinfo.freeram)
        [ "$free" -gt 0 ] && [ "$free" -lt 268435456 ] || fail "sysinfo freeram $free"
        hswap=$(awk '/^SwapTotal:/ {print $2 * 1024}' /proc/meminfo)
        wswap=$((hswap < 67108864 ? hswap : 67108864))
        [ "$(probe_field "$tmp/si" sysinfo.totalswap)" = $wswap ] ||
                fail "sysinfo totalswap $(probe_field "$tmp/si" sysinfo.totalswap), expected $wswap (--swap 64M, host $hswap)"
        up=$(probe_field "$tmp/si" sysinfo.uptime)
        [ "$up" -ge 0 ] && [ "$up" -lt 60 ] || fail "sysinfo uptime $up s: not the VPS's"
        procs=$(probe_field "$tmp/si" sysinfo.procs)
        [ "$procs" -ge 2 ] && [ "$procs" -lt 20 ] || fail "sysinfo procs $procs: not the VPS's tasks"
        [ "$(probe_field "$tmp/si" sysinfo.badptr)" = EFAULT ] || fail "sysinfo to unmapped memory: $(cat "$tmp/si")"
        [ "$(probe_field "$tmp/si" sysinfo.roptr)" = EFAULT ] || fail "sysinfo to read-only memory: $(cat "$tmp/si")"
        gexec $n cat /run-sysinfo >"$tmp/si0"
        [ "$(probe_field "$tmp/si0" sysinfo.totalram)" = 268435456 ] || fail "sysinfo in the init's rcS: $(cat "$tmp/si0")"
        case $(gexec $n cat /run-uptime) in *" up 0 min"*) ;; *) fail "uptime in rcS: '$(gexec $n cat /run-uptime)'" ;; esac
        case $(gexec $n uptime) in *" up 0 min"* | *" up 1 min"*) ;; *) fail "uptime in the VPS: '$(gexec $n uptime)'" ;; esac
        # More memory in use shows as less free.
        gexec $n sh -c 'head -c 48m /dev/zero > /dev/shm/gvw; /bin/probe sysinfo' >"$tmp/si2"
        free2=$(probe_field "$tmp/si2" sysinfo.freeram)
        [ "$free2" -lt $((268435456 - 50331648)) ] || fail "freeram after 48M in /dev/shm: $free2"
        # Live: vps set --memory shows at once.
        expect 0 berth set $n --memory 128M
        gexec $n /bin/probe sysinfo >"$tmp/si3"
        [ "$(probe_field "$tmp/si3" sysinfo.totalram)" = 134217728 ] || fail "after set --memory 128M: $(cat "$tmp/si3")"
        # The keeper gone: sysinfo fails at once (ENOSYS), never hangs.
        pid=$(berth status $n --json | json_field pid)
        keeper=$(awk '/^PPid:/ {print $2}' /proc/"$pid"/status)
        [ "$(cat /proc/"$keeper"/comm)" = berth-console ] || fail "the init's parent $keeper is not the keeper"
        gexec $n sh -c 'sleep 2; /bin/probe sysinfo' >"$tmp/late" 2>&1 &
        late=$!
        sleep 1
        kill -9 "$keeper"
        i=0
        while kill -0 $late 2>/dev/null && [ $i -lt 50 ]; do
                sleep 0.2
                i=$((i + 1))
        done
        if kill -0 $late 2>/dev/null; then
                fail "sysinfo hangs with the keeper gone"
                kill $late
        fi
        wait $late
        [ "$(probe_field "$tmp/late" sysinfo)" = ENOSYS ] || fail "sysinfo with the keeper gone: $(cat "$tmp/late")"
        # vps exec cannot hand its listener over: it says so (125), and a
        # restart brings the keeper back.
        out=$(gexec $n true 2>&1)
        rc=$?
        [ $rc = 125 ] && case $out in *"keeper is gone"*) true ;; *) false ;; esac ||
                fail "vps exec with the keeper gone: exit $rc, '$out'"
        expect 0 berth restart $n --timeout 10
        gexec $n /bin/probe sysinfo >"$tmp/si4"
        [ "$(probe_field "$tmp/si4" sysinfo.totalram)" = 134217728 ] || fail "after the restart: $(cat "$tmp/si4")"
        expect 0 berth destroy --force $n
        rm -f "$data/templates/bb/rootfs/bin/probe"

        # busybox free and uptime as a customer runs them, with lxcfs
        # (free's used column comes from /proc/meminfo).
        if ! command -v lxcfs >/dev/null || ! [ -c /dev/fuse ]; then
                echo "SKIP [sysinfo]: busybox free with lxcfs: no lxcfs or no /dev/fuse"
                return 0
        fi
        start_lxcfs || {
                fail "cannot start the test's lxcfs"
                return
        }
        expect 0 berth create $n --template bb --memory 256M
        BERTH_LXCFS_DIR=$tmp/lxcfs berth start $n >"$tmp/out" 2>&1 || fail "start with lxcfs: $(cat "$tmp/out")"
        gexec $n free >"$tmp/free"
        total=$(awk '$1 == "Mem:" {print $2}' "$tmp/free")
        used=$(awk '$1 == "Mem:" {print $3}' "$tmp/free")
        [ "$total" = 262144 ] || fail "free: Mem total '$total' KiB, expected 262144: $(cat "$tmp/free")"
        [ -n "$used" ] && [ "$used" -lt 262144 ] || fail "free: Mem used '$used' KiB: $(cat "$tmp/free")"
        [ "$(awk '$1 == "Swap:" {print $2}' "$tmp/free")" = 0 ] || fail "free: swap without --swap: $(cat "$tmp/free")"
        echo "free in a 256M VPS: $(grep Mem: "$tmp/free")"
        echo "uptime in the VPS: $(gexec $n uptime)"
        expect 0 berth destroy --force $n
        stop_lxcfs
}

# The human status: sizes in units, lists as text; list --json has the
# usage of a running VPS; --cpu-weight 200 gets twice the CPU of the
# default weight when both compete for every CPU.
# sectors_written DEV: what the block device /dev/DEV has written so far.
sectors_written() {
        awk '{print $7}' "/sys/block/$1/stat"
}

# A guest's sync writes back its own disk, not the host's other
# filesystems: 16 MiB left dirty on an ext4 of the host (not the VPS's)
# stays dirty through it, while 16 MiB the guest wrote reach its disk.
# The kernel's own sync (before the keeper answered it) writes both.
test_sync() {
        other=$(ext4_scratch 64M) || { fail "no ext4 scratch image for the host's other filesystem" && return 1; }
        other_dev=$(basename "$(findmnt -no SOURCE "$other/mnt")")
        export BERTH_VPS_DISK_BACKEND=image BERTH_VPS_DISK_FS=ext4
        expect 0 berth create gvw-sync --template bb --memory 256M --disk 128M
        unset BERTH_VPS_DISK_BACKEND BERTH_VPS_DISK_FS
        expect 0 berth start gvw-sync
        vps_dev=$(basename "$(losetup -j "$data/vps/gvw-sync/disk.img" | cut -d: -f1)")
        if [ -z "$vps_dev" ] || [ ! -e "/sys/block/$vps_dev/stat" ] || [ ! -e "/sys/block/$other_dev/stat" ]; then
                fail "sync: no loop device for the VPS's disk ($vps_dev) or the host's ext4 ($other_dev)"
        else
                gexec gvw-sync dd if=/dev/zero of=/dirty bs=1M count=16 2>/dev/null
                dd if=/dev/zero of="$other/mnt/dirty" bs=1M count=16 2>/dev/null
                vps0=$(sectors_written "$vps_dev") other0=$(sectors_written "$other_dev")
                out=$(gexec gvw-sync sync 2>&1) || fail "sync in the guest: $out"
                vps1=$(sectors_written "$vps_dev") other1=$(sectors_written "$other_dev")
                # 16 MiB: 32768 sectors; the host's ext4 may commit its
                # journal meanwhile, a few blocks.
                [ $((vps1 - vps0)) -ge 32768 ] ||
                        fail "the guest's sync wrote $((vps1 - vps0)) sectors to its disk, not its 16 MiB"
                [ $((other1 - other0)) -lt 16384 ] ||
                        fail "the guest's sync wrote $((other1 - other0)) sectors to another filesystem of the host"
                # A burst: a few children of the keeper answer at once, the
                # rest in its loop; every one returns.
                out=$(gexec gvw-sync sh -c 'i=0; while [ $i -lt 24 ]; do sync & i=$((i + 1)); done; wait; echo synced' 2>&1)
                [ "$out" = synced ] || fail "24 syncs at once in the guest: $out"
                expect 0 berth exec gvw-sync -- true
        fi
        expect 0 berth destroy --force gvw-sync
        ext4_scratch_rm "$other"
}

test_status() {
        n=gvw-st
        expect 0 berth create $n --template bb --memory 512M --swap 64M --ip 10.77.0.2 --ip fd77::2/64 --device tun
        expect 0 berth start $n
        berth status $n >"$tmp/st"
        grep -q '^limits.memory  *512.0 MiB$' "$tmp/st" || fail "status: memory not in units: $(grep memory "$tmp/st")"
        grep -q '^limits.swap  *64.0 MiB$' "$tmp/st" || fail "status: swap not in units: $(grep swap "$tmp/st")"
        grep -q '^addresses  *10.77.0.2/16, fd77::2/64$' "$tmp/st" || fail "status: addresses: $(grep addresses "$tmp/st")"
        grep -q '^devices  *tun$' "$tmp/st" || fail "status: devices: $(grep devices "$tmp/st")"
        grep -q '^usage.memory  *[0-9.]* [KMG]iB$' "$tmp/st" || fail "status: usage.memory: $(grep usage.memory "$tmp/st")"
        grep -q '^usage.cpu_ns  *[0-9]*\.[0-9]* s$' "$tmp/st" || fail "status: cpu time: $(grep cpu_ns "$tmp/st")"
        berth list >"$tmp/list"
        grep -q "^$n  *running .* 10.77.0.2/16, fd77::2/64$" "$tmp/list" || fail "list: $(cat "$tmp/list")"
        berth list --json >"$tmp/list.json"
        python3 - "$tmp/list.json" "$n" <<'PY' || fail "list --json: no usage for the running VPS: $(cat "$tmp/list.json")"
import json, sys
v = [v for v in json.load(open(sys.argv[1])) if v["name"] == sys.argv[2]][0]
u = v["usage"]
assert u["memory"] > 0 and u["cpu_ns"] > 0 and u["pids"] >= 1, u
PY
        expect 0 berth stop $n --timeout 10
        berth list --json | python3 -c 'import json,sys; v=[v for v in json.load(sys.stdin) if v["name"]=="'$n'"][0]; assert v["usage"] is None, v' ||
                fail "list --json: usage for a stopped VPS"
        expect 0 berth destroy --force $n

        # Two VPS on every CPU, each with as many spinners as there are CPUs.
        cpus=$(nproc)
        expect 0 berth create gvw-w2 --template bb --cpu-weight 200
        expect 0 berth create gvw-w1 --template bb
        for v in gvw-w2 gvw-w1; do
                expect 0 berth start $v
                gexec $v sh -c "i=0; while [ \$i -lt $cpus ]; do sh -c 'while :; do :; done' </dev/null >/dev/null 2>&1 & i=\$((i + 1)); done"
        done
        # The weight as the kernel holds it: cpu.shares 2048 on v1 (twice
        # the default 1024), cpu.weight 200 on v2; in the init's cgroup or
        # the VPS's top one above it.
        p=$(berth status gvw-w2 --json | json_field pid)
        if [ -d /sys/fs/cgroup/cpu ]; then
                c=/sys/fs/cgroup/cpu$(awk -F: '$2 ~ /(^|,)cpu(,|$)/ {print $3}' "/proc/$p/cgroup") f=cpu.shares want=2048
        else
                c=/sys/fs/cgroup$(awk -F: '$1 == 0 {print $3}' "/proc/$p/cgroup") f=cpu.weight want=200
        fi
        have=$(cat "$c/$f" "${c%/*}/$f" 2>/dev/null | tr '\n' ' ')
        case " $have" in *" $want "*) ;; *) fail "--cpu-weight 200: $f of the VPS's cgroups: $have(want $want)" ;; esac
        sleep 1
        a0=$(berth status gvw-w2 --json | json_field cpu_ns) b0=$(berth status gvw-w1 --json | json_field cpu_ns)
        sleep 5
        a1=$(berth status gvw-w2 --json | json_field cpu_ns) b1=$(berth status gvw-w1 --json | json_field cpu_ns)
        da=$(((a1 - a0) / 1000000)) db=$(((b1 - b0) / 1000000))
        echo "cpu-weight 200: $da ms of CPU; default weight: $db ms (5 s, $cpus CPUs)"
        # About twice (the other jobs of a loaded host skew it): clearly more.
        [ "$db" -gt 0 ] && [ $((da * 100 / db)) -ge 140 ] && [ $((da * 100 / db)) -le 320 ] ||
                fail "--cpu-weight 200 got $da ms of CPU against $db ms at the default: not about twice"
        for v in gvw-w2 gvw-w1; do expect 0 berth destroy --force $v; done
}

# A Debian VPS booting systemd from the template vps_debian_test.sh caches
# (skipped when that test has not built it): its own memory, CPUs, uptime
# and machine-id, with lxcfs.
test_debian() {
        cache=${BERTH_TEST_CACHE:-/var/cache/berth-test}/${BERTH_TEST_SUITE:-bookworm}/templates/debian
        if ! [ -x "$cache/rootfs/lib/systemd/systemd" ] || ! command -v lxcfs >/dev/null; then
                echo "SKIP [debian]: no cached Debian template at $cache (run integration/debian_vps once) or no lxcfs"
                return 0
        fi
        if ! idmappable "$cache/rootfs/"; then
                echo "SKIP [debian]: the cached template cannot be idmapped"
                return 0
        fi
        mkdir -p "$data/templates/debian"
        ln -s "$cache/rootfs" "$data/templates/debian/rootfs"
        cp "$cache/template.json" "$data/templates/debian/"
        start_lxcfs || {
                fail "cannot start the test's lxcfs"
                return
        }
        n=gvw-deb
        expect 0 berth create $n --template debian --memory 256M --swap 0 --cpus 1
        BERTH_LXCFS_DIR=$tmp/lxcfs berth start $n >"$tmp/out" 2>&1 || fail "start: $(cat "$tmp/out")"
        i=0
        while [ $i -lt 180 ]; do
                st=$(gexec $n systemctl is-system-running 2>/dev/null)
                case $st in running | degraded) break ;; esac
                sleep 1
                i=$((i + 1))
        done
        echo "debian: systemd '$st' after ${i}s"
        mem=$(gexec $n awk '/^MemTotal:/ {print $2}' /proc/meminfo)
        [ "$mem" = 262144 ] || fail "debian: MemTotal '$mem' kB, expected 262144"
        [ "$(gexec $n nproc)" = 1 ] || fail "debian: nproc says $(gexec $n nproc) with --cpus 1"
        # glibc's sysconf(_SC_PHYS_PAGES) asks sysinfo(2): the keeper answers.
        phys=$(gexec $n sh -c 'echo $(($(getconf _PHYS_PAGES) * $(getconf PAGESIZE)))')
        [ "$phys" = 268435456 ] || fail "debian: getconf _PHYS_PAGES gives $phys bytes, expected 268435456"
        up=$(gexec $n cut -d. -f1 /proc/uptime)
        [ -n "$up" ] && [ "$up" -lt 600 ] || fail "debian: /proc/uptime says $up s"
        mid=$(gexec $n cat /etc/machine-id)
        [ "$mid" != "$(cat "$cache/rootfs/etc/machine-id")" ] || fail "debian: the template's machine-id"
        [ "$(gexec $n journalctl --list-boots --no-pager -q 2>/dev/null | awk '{print $2}' | tail -n1)" = \
                "$(gexec $n cat /proc/sys/kernel/random/boot_id | tr -d -)" ] ||
                fail "debian: journald's boot id is not the VPS's own boot_id"
        [ "$(status_lxcfs $n)" = true ] || fail "debian: status says lxcfs $(status_lxcfs $n)"
        expect 0 berth destroy --force $n
        stop_lxcfs
}

# ---- main ------------------------------------------------------------------

in_own_netns --mount "$bin" "$@"

scratch_base
scratch_dir gvw-vpsview
data=$tmp/d0
BERTH_ID_REGISTRY=$tmp/id-ranges # not the host's /var/lib/berth/id-ranges
export BERTH_ID_REGISTRY
BERTH_CONFIG_DIR=$tmp/etc # no host defaults
export BERTH_CONFIG_DIR
BERTH_LXCFS_DIR=$tmp/no-lxcfs # never the host's lxcfs unless a test says so
export BERTH_LXCFS_DIR
trap cleanup EXIT
bb_template

run_named "lxcfs nproc identity sysctl devices sysinfo sync debootstrap status debian" "$@"
finish
