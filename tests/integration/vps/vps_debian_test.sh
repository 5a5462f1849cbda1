#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Integration test: a Debian VPS booting systemd as its init.
#
# The template is debootstrapped once by `berth template create --debootstrap`
# (mirror: the host's apt sources, as berth finds it) into a cache kept
# between runs, /var/cache/berth-test/<suite> (a berth data directory;
# BERTH_TEST_CACHE overrides the parent), so that later runs only boot.
# The VPS runs inside a network namespace this script makes for itself (it
# re-execs under `unshare --net`), like vps_test.sh.
#
# Checks: systemd is pid 1 and reaches "running" (or "degraded", with the
# failed units shown), it owns a writable cgroup2 tree of its own while the
# host keeps enforcing the VPS's memory limit, exec works and returns exit
# codes, a stop is graceful (systemd exits on SIGRTMIN+3 before the
# timeout), a second boot from the kept upper layer works, a stop right
# after a start is graceful too (systemd takes its signal only a while
# after its exec), `systemctl reboot` inside brings the VPS back up with a
# new systemd, `systemctl poweroff` inside leaves it stopped with nothing
# on the host (the console keeper cleans up), and destroy leaves no state,
# mount, cgroup (so no process either) or link.
#
# Skips (77) with the reason without root, overlayfs, debootstrap, or when
# the mirror is unreachable and no cached tree exists.
#
# usage: vps_debian_test.sh BERTH_BINARY     (BERTH_TEST_SUITE: default bookworm)
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
bin=${BERTH_VPS_BIN:-${1:-}}
suite=${BERTH_TEST_SUITE:-bookworm}
cache=${BERTH_TEST_CACHE:-/var/cache/berth-test}/$suite
boot_timeout=${BERTH_TEST_BOOT_TIMEOUT:-180}

require_vps_host "$bin"

if [ "${BERTH_VPS_TEST_NETNS:-}" != 1 ]; then
        debian_template_cache "$bin" "$cache"
        BERTH_VPS_TEST_NETNS=1 exec unshare --net /bin/sh "$0" "$bin"
fi

# ---- in our own network namespace ------------------------------------------

ip link set lo up 2>/dev/null
ext4=""
tmp=$(mktemp -d /tmp/berth-debiantest.XXXXXX)
chmod 711 "$tmp" # the VPS's root (an unprivileged host uid) walks through to its own root
data=$tmp/data
root=$tmp/run
# The test's own host-wide id registry, not /var/lib/berth/id-ranges.
export BERTH_ID_REGISTRY="$tmp/id-ranges"
failures=0
current=""

berth() {
        "$bin" --root "$root" vps --data-dir "$data" "$@"
}




cleanup() {
        [ -d "$data/vps/deb" ] && berth destroy --force deb >/dev/null 2>&1
        ext4_scratch_rm "$ext4"
        rm -rf "$tmp"
}
trap cleanup EXIT


mkdir -p "$data/templates/debian"
if idmappable "$cache/templates/debian/rootfs/"; then
        ln -s "$cache/templates/debian/rootfs" "$data/templates/debian/rootfs"
else
        echo "template cache on $(stat -f -c %T "$cache/templates/debian/rootfs/"): copied onto an ext4 image"
        # Not below $tmp: test_destroy finds every mount there a leftover.
        if ! { ext4=$(ext4_scratch 1G) && cp -a "$cache/templates/debian/rootfs" "$ext4/mnt/rootfs"; }; then
                echo "cannot make an ext4 template copy"
                exit 1
        fi
        ln -s "$ext4/mnt/rootfs" "$data/templates/debian/rootfs"
fi
cp "$cache/templates/debian/template.json" "$data/templates/debian/"

# Waits until systemd has finished booting; prints its last answer.
wait_booted() {
        state=""
        i=0
        while [ "$i" -lt "$boot_timeout" ]; do
                state=$(berth exec deb -- systemctl is-system-running 2>/dev/null)
                # "offline": systemd does not answer yet (no bus socket).
                case $state in running | degraded | maintenance | stopping) break ;; esac
                sleep 1
                i=$((i + 1))
        done
        echo "$state"
}

check_booted() { # check_booted WHICH-BOOT
        t0=$(date +%s)
        state=$(wait_booted)
        echo "$1 boot: systemd is '$state' after $(($(date +%s) - t0))s"
        case $state in
        running) ;;
        degraded)
                echo "degraded; failed units:"
                berth exec deb -- systemctl --failed --no-legend --no-pager
                ;;
        *)
                fail "$1 boot: systemd did not finish booting: '$state'"
                berth exec deb -- systemctl list-jobs --no-pager 2>&1 | tail -n 20
                berth exec deb -- journalctl -b --no-pager 2>&1 | tail -n 40
                return 1
                ;;
        esac
}

init_pid() {
        berth status deb --json | json_field pid
}

# The host's view of the VPS's memory limit: v1 memory controller on a
# hybrid host, memory.max of the VPS's cgroup (above systemd's init.scope) on
# a pure cgroup v2 one.
host_memory_limit() {
        p=$(grep ':memory:' "/proc/$1/cgroup" | cut -d: -f3)
        if [ -n "$p" ] && [ -f "/sys/fs/cgroup/memory$p/memory.limit_in_bytes" ]; then
                cat "/sys/fs/cgroup/memory$p/memory.limit_in_bytes"
                return
        fi
        p=$(sed -n 's/^0:://p' "/proc/$1/cgroup")
        cat "/sys/fs/cgroup${p%/init.scope}/memory.max"
}

test_boot() {
        current=boot
        expect 0 berth create deb --template debian --ip 10.77.0.50 --memory 256M
        expect 0 berth start deb
        check_booted first || return
        exe=$(berth exec deb -- readlink /proc/1/exe)
        case $exe in */systemd) ;; *) fail "pid 1 is '$exe', not systemd" ;; esac
        [ "$(berth exec deb -- cat /proc/1/comm)" = systemd ] || fail "pid 1's name is not systemd"
}

test_exec() {
        current="exec"
        [ "$(berth exec deb -- hostname)" = deb ] || fail "hostname"
        expect 7 berth exec deb -- sh -c 'exit 7'
        expect 0 berth exec deb -- ping -c1 -W2 10.77.0.1
        expect 0 berth exec deb -- sh -c 'echo kept >/root/file'
}

test_cgroups() {
        current=cgroups
        fstype=$(berth exec deb -- stat -f -c %T /sys/fs/cgroup)
        [ "$fstype" = cgroup2fs ] || fail "the guest's /sys/fs/cgroup is '$fstype', not cgroup2"
        # systemd made its own tree (so /sys/fs/cgroup is writable) and sees
        # only its subtree (so it is in its own cgroup namespace).
        own=$(berth exec deb -- cat /proc/1/cgroup | sed -n 's/^0:://p')
        [ "$own" = /init.scope ] || fail "pid 1's cgroup inside: '$own'"
        expect 0 berth exec deb -- test -d /sys/fs/cgroup/system.slice
        pid=$(init_pid)
        host=$(sed -n 's/^0:://p' "/proc/$pid/cgroup")
        case $host in */berth-vps-deb-*/init.scope) ;; *) fail "host view of pid 1's cgroup: '$host'" ;; esac
        # The VPS's limits are the host's: the guest may not write them (on a
        # v2 host the kernel's nsdelegate refuses writes to a namespace root).
        if berth exec deb -- test -e /sys/fs/cgroup/memory.max &&
                berth exec deb -- sh -c 'echo max >/sys/fs/cgroup/memory.max' 2>/dev/null; then
                fail "the guest lifted its own memory.max"
        fi
        limit=$(host_memory_limit "$pid")
        [ "$limit" = 268435456 ] || fail "the VPS's memory limit on the host is '$limit', not 256M"
}

# systemd writes to /dev/console only when it is a terminal: the console
# keeper's pty, logged to console.log and attachable.
test_console() {
        current=console
        log=$data/vps/deb/console.log
        grep -q "Welcome to" "$log" || fail "no systemd boot banner in console.log: $(tail -n 5 "$log")"
        # systemd runs a getty on a container's console: Enter shows its prompt.
        out=$( (sleep 1; printf '\n'; sleep 2; printf '\035') |
                timeout 20 "$bin" --root "$root" vps --data-dir "$data" console deb --attach 2>&1)
        echo "$out" | grep -q "login:" || fail "no login prompt on the attached console: $(echo "$out" | tail -n 3)"
}

# systemd runs as the guest's root of the VPS's own user namespace: an
# unprivileged host uid, owning the guest's files on the host.
test_userns() {
        current=userns
        id=$(berth status deb --json | sed -n '/"userns"/,/}/p' | json_field host_id)
        [ -n "$id" ] || { fail "no user namespace range in status --json"; return; }
        berth exec deb -- cat /proc/1/uid_map | grep -Eq "^ *0 +$id +65536\$" || fail "pid 1's uid_map"
        huid=$(awk '/^Uid:/ {print $2}' "/proc/$(init_pid)/status")
        [ "$huid" = "$id" ] || fail "systemd runs as host uid $huid, not $id"
        [ "$(stat -c %u "$data/vps/deb/upper/root/file")" = "$id" ] || fail "guest file not owned by host uid $id"
}

test_stop() {
        current=stop
        t0=$(date +%s)
        out=$(berth stop deb --timeout 90 --json)
        took=$(($(date +%s) - t0))
        echo "stop took ${took}s"
        echo "$out" | grep -q '"forced": false' || fail "systemd did not exit by itself on the stop signal: $out"
        [ "$(berth status deb --json | json_field state)" = stopped ] || fail "deb not stopped"
        tail -n 3 "$data/vps/deb/console.log"
}

test_restart() {
        current=restart
        expect 0 berth start deb
        check_booted second || return
        [ "$(berth exec deb -- cat /root/file)" = kept ] || fail "upper layer lost over a stop and start"
        test_stop
}

# A stop right after the start: systemd has not set up its signals yet.
test_stop_early() {
        current=stop_early
        t0=$(date +%s)
        expect 0 berth start deb
        out=$(berth stop deb --timeout 90 --json)
        took=$(($(date +%s) - t0))
        echo "start + stop at once took ${took}s"
        echo "$out" | grep -q '"forced": false' || fail "a stop right after the start was not graceful: $out"
        [ "$took" -lt 45 ] || fail "start + stop took ${took}s"
}

# `systemctl reboot` inside: the keeper starts the VPS again.
test_reboot() {
        current=reboot
        expect 0 berth start deb
        check_booted third || return
        old=$(init_pid)
        t0=$(date +%s)
        berth exec deb -- systemctl reboot >/dev/null 2>&1
        new=""
        i=0
        while [ "$i" -lt "$boot_timeout" ]; do
                new=$(init_pid)
                [ -n "$new" ] && [ "$new" != 0 ] && [ "$new" != null ] && [ "$new" != "$old" ] && break
                new=""
                sleep 1
                i=$((i + 1))
        done
        [ -n "$new" ] || { fail "not running again ${boot_timeout}s after systemctl reboot"; return; }
        echo "reboot: running again with systemd $new (was $old) after $(($(date +%s) - t0))s"
        check_booted "after-reboot" || return
        [ "$(berth exec deb -- cat /proc/1/comm)" = systemd ] || fail "pid 1 after the reboot is not systemd"
        [ "$(berth exec deb -- cat /root/file)" = kept ] || fail "upper layer lost over the reboot"
        grep -q "the guest rebooted" "$data/vps/deb/console.log" || fail "console.log does not say it rebooted"
        k=$(keeper_of "$new")
        [ "$(cat "/proc/$k/comm")" = berth-console ] || fail "the new systemd's parent is not a console keeper"
}

# `systemctl poweroff` inside: stopped, and nothing left on the host.
test_poweroff() {
        current=poweroff
        hif=$(json_field host_if <"$data/vps/deb/vps.json")
        t0=$(date +%s)
        berth exec deb -- systemctl poweroff >/dev/null 2>&1
        i=0
        while [ "$i" -lt 90 ]; do
                [ "$(berth status deb --json | json_field state)" = stopped ] &&
                        [ -z "$(ls -d "$root"/vps-deb-* 2>/dev/null)" ] &&
                        [ -z "$(find /sys/fs/cgroup -maxdepth 8 -type d -name "berth-vps-deb-$(data_tag "$data")" 2>/dev/null)" ] && break
                sleep 1
                i=$((i + 1))
        done
        echo "poweroff: stopped and cleaned after $(($(date +%s) - t0))s"
        [ "$(berth status deb --json | json_field state)" = stopped ] || fail "deb not stopped after systemctl poweroff"
        [ -z "$(ls -d "$root"/vps-deb-* 2>/dev/null)" ] || fail "container state left after poweroff"
        left=$(find /sys/fs/cgroup -maxdepth 8 -type d -name "berth-vps-deb-$(data_tag "$data")" 2>/dev/null)
        [ -z "$left" ] || fail "cgroups left after poweroff: $left"
        ! ip link show "$hif" >/dev/null 2>&1 || fail "host link $hif left after poweroff"
        if command -v nft >/dev/null; then
                left=$(nft list ruleset 2>/dev/null | grep -v 'hook ingress device' | grep "$hif")
                [ -z "$left" ] || fail "nftables elements of $hif left after poweroff: $left"
        fi
        ! grep -q "$data/vps/deb/" /proc/self/mountinfo || fail "mounts left after poweroff"
        grep -q "the guest powered off" "$data/vps/deb/console.log" || fail "console.log does not say it powered off"
        tail -n 4 "$data/vps/deb/console.log"
}

test_destroy() {
        current=destroy
        expect 0 berth destroy deb
        [ -z "$(ls -d "$root/vps-deb" "$root"/vps-deb-[0-9a-f]??????? 2>/dev/null)" ] || fail "container state left in $root"
        [ ! -e "$data/vps/deb" ] || fail "VPS directory left: $(ls -A "$data/vps/deb")"
        [ ! -e "$data/templates/debian/users/deb" ] || fail "template marker left"
        left=$(find /sys/fs/cgroup -maxdepth 8 -type d -name "berth-vps-deb-$(data_tag "$data")" 2>/dev/null)
        [ -z "$left" ] || fail "cgroups left: $left"
        ! grep -q "$tmp" /proc/self/mountinfo || fail "mounts left: $(grep "$tmp" /proc/self/mountinfo)"
        links=$(ip -o link show | grep -E ' (bth[0-9a-f]+|berth0)[@:]')
        [ -z "$links" ] || fail "links left: $links"
}

echo "== debian ($suite)"
if test_boot; then
        test_exec
        test_cgroups
        test_console
        test_userns
fi
test_stop
[ "$failures" = 0 ] && test_restart
if [ "$failures" = 0 ]; then
        test_stop_early
        test_reboot && test_poweroff
fi
test_destroy
finish
