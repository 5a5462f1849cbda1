#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Disk quota and I/O limits of `berth vps` (docs/vps.md "Disk and I/O
# limits"), checked from inside real busybox VPS: a guest writing past
# --disk (or --inodes) gets ENOSPC and takes nothing from the host or a
# neighbour, df in the guest shows its own disk, `vps set` grows it live
# and refuses a shrink below usage, bad sizes leave nothing behind, an
# I/O limit holds within 10% for direct I/O, and a stopped VPS leaves no
# loop device or mount.
#
# The backend is the one the data file system offers: an image on this
# host (ext4 for the VPS with --inodes or under 256M; btrfs_full fills a
# btrfs one where the host has btrfs); with BERTH_DISK_PRJQUOTA=1 the data directory is put on a
# fresh ext4 mounted with prjquota (the pure cgroup-v2 test guest, whose
# kernel has project quotas), and the project backend is required.
#
# usage: vps_disk_test.sh BERTH_BINARY [TEST...]
# shellcheck disable=SC2046 # set -- $(guest_df ...): two numbers, split on purpose
# shellcheck disable=SC2016 # the guest's shell expands what is quoted for it
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
bin=${BERTH_VPS_BIN:-${1:-}}
[ $# -gt 0 ] && shift

require_vps_host "$bin"
command -v mkfs.ext4 >/dev/null || [ -x /usr/sbin/mkfs.ext4 ] || [ -x /sbin/mkfs.ext4 ] ||
        skip "no mkfs.ext4 (e2fsprogs)"
[ -e /dev/loop-control ] || skip "no /dev/loop-control"

failures=0
current=""
PATH=$PATH:/usr/sbin:/sbin

berth() {
        "$bin" --root "$root" vps --data-dir "$data" "$@"
}

# The loop devices attached to a file below $tmp (none may stay behind).
our_loops() {
        for f in /sys/block/loop*/loop/backing_file; do
                [ -r "$f" ] && grep -l "^$tmp/" "$f" 2>/dev/null
        done
}

cleanup() {
        for d in "$data"/vps/*/; do
                [ -d "$d" ] && berth destroy --force "$(basename "$d")" >/dev/null 2>&1
        done
        for f in $(our_loops); do
                d=${f%/loop/backing_file}
                losetup -d "/dev/${d##*/}" 2>/dev/null
        done
        if [ -n "$prj" ]; then
                umount "$prj/mnt" 2>/dev/null
                rm -rf "$prj"
        fi
        rm -rf "$tmp"
        ext4_scratch_rm "$ext4"
}

# df -k / (or -i) in VPS $1: "total used" on one line.
guest_df() { # guest_df NAME [-i]
        berth exec "$1" -- df -P "${2:--k}" / | awk 'NR == 2 {print $2, $3}'
}

within() { # within VALUE TARGET PERCENT: VALUE is within PERCENT % of TARGET
        awk -v v="$1" -v t="$2" -v p="$3" 'BEGIN {d = v - t; if (d < 0) d = -d; exit !(d * 100 <= t * p)}'
}

# disk_hits NAME KEY: status's disk.KEY (disk_limit_hits, inode_limit_hits).
disk_hits() { berth status "$1" --json | json_field "$2"; }

# hits_grew NAME KEY BEFORE: waits up to 5 s (the image backend's keeper
# looks once a second) for disk.KEY to pass BEFORE; prints the count.
hits_grew() {
        i=0
        while :; do
                h=$(disk_hits "$1" "$2")
                if [ "${h:-0}" -gt "$3" ] || [ $i -ge 50 ]; then
                        echo "${h:-none}"
                        return 0
                fi
                sleep 0.1
                i=$((i + 1))
        done
}

host_avail_k() { df -Pk "$data" | awk 'NR == 2 {print $4}'; }
host_ifree() { df -Pi "$data" | awk 'NR == 2 {print $4}'; }

# ---- the tests -------------------------------------------------------------

test_backend() {
        expect 0 berth create stq1 --template bb --ip 10.77.8.2 --disk 64M --inodes 1000
        expect 0 berth create stq2 --template bb --ip 10.77.8.3 --disk 64M
        b=$(berth status stq1 --json | json_field backend)
        [ "$b" = "$want_backend" ] || fail "backend $b, expected $want_backend"
        if [ "$want_backend" = image ]; then
                [ -f "$data/vps/stq1/disk.img" ] || fail "no disk image"
                [ ! -e "$data/vps/stq1/upper" ] || fail "an upper layer outside the image"
                [ -z "$(our_loops)" ] || fail "a stopped VPS has a loop device: $(our_loops)"
        fi
        expect 0 berth start stq1 stq2
        # Its disk, not the host's: size and inodes as asked.
        set -- $(guest_df stq1)
        within "$1" 65536 8 || fail "df in the guest: size $1 KiB, expected about 65536"
        set -- $(guest_df stq1 -i)
        within "$1" 1000 5 || fail "df -i in the guest: $1 inodes, expected about 1000"
        st=$(berth status stq1 --json)
        echo "$st" | grep -q '"size": ' || fail "status shows no disk size: $st"
        [ "$(echo "$st" | json_field inodes)" = "$1" ] ||
                fail "status inodes $(echo "$st" | json_field inodes), df -i $1"
}

test_enospc() {
        n_before=$(guest_df stq2)
        ni_before=$(guest_df stq2 -i)
        h_before=$(host_avail_k)
        hi_before=$(host_ifree)
        hits_kind=$(disk_hits stq1 hits_counted)
        case $want_backend in
        project) [ "$hits_kind" = "quota warnings" ] || fail "hits_counted '$hits_kind' with a project quota" ;;
        image) [ "$hits_kind" = "full seen" ] || fail "hits_counted '$hits_kind' with an image" ;;
        esac
        hd0=$(disk_hits stq1 disk_limit_hits)
        hi0=$(disk_hits stq1 inode_limit_hits)
        if [ -z "$hd0" ] || [ -z "$hi0" ]; then
                fail "no limit hit counts in status: $(berth status stq1 --json)"
        fi
        out=$(berth exec stq1 -- dd if=/dev/zero of=/big bs=1M count=100 2>&1)
        rc=$?
        [ "$rc" != 0 ] || fail "a 100M write into a 64M disk succeeded: $out"
        echo "$out" | grep -q "$full" || fail "no $full: $out"
        set -- $(guest_df stq1)
        [ "$2" -le 65536 ] || fail "the guest used $2 KiB of a 64M disk"
        h_after=$(host_avail_k)
        # The host gives at most the VPS's disk (other work on this host
        # may move it a little: 16M of slack).
        [ $((h_before - h_after)) -le $((65536 + 16384)) ] ||
                fail "host lost $((h_before - h_after)) KiB to a 64M VPS"
        [ "$(guest_df stq2)" = "$n_before" ] || fail "neighbour's df changed: $n_before -> $(guest_df stq2)"
        st=$(berth status stq1 --json)
        used=$(echo "$st" | json_field used)
        [ "${used:-0}" -gt $((50 * 1048576)) ] || fail "status: $used bytes used after filling the disk"
        hd1=$(hits_grew stq1 disk_limit_hits "${hd0:-0}")
        echo "   disk_limit_hits ${hd0:-?} -> $hd1 ($hits_kind)"
        if [ "$hd1" = none ] || [ "$hd1" -le "${hd0:-0}" ]; then
                fail "disk_limit_hits ${hd0:-?} -> $hd1 after ENOSPC"
        fi
        [ "$(disk_hits stq2 disk_limit_hits)" = 0 ] || fail "the neighbour counts a hit: $(disk_hits stq2 disk_limit_hits)"
        # Restarted with its disk still full, it starts (berth's guest files
        # are as they were: nothing to write). The image's keeper finds it
        # as full as before: no new hit. With a project quota a write the
        # guest's boot tries is refused, and the kernel warns: one hit.
        expect 0 berth restart stq1
        sleep 2
        hd2=$(disk_hits stq1 disk_limit_hits)
        case $want_backend in
        image) [ "$hd2" = "$hd1" ] || fail "a restart while full counted a hit: $hd1 -> $hd2" ;;
        *) [ "$hd2" -le $((hd1 + 1)) ] || fail "a restart while full counted $((hd2 - hd1)) hits" ;;
        esac
        berth exec stq1 -- rm -f /big

        # Inodes: files until the limit.
        out=$(berth exec stq1 -- sh -c 'mkdir /many && i=0
                while true 2>/dev/null >/many/$i; do i=$((i + 1)); done; echo $i; touch /many/x' 2>&1)
        echo "$out" | grep -q "$full" || fail "no $full at the inode limit: $out"
        made=$(echo "$out" | head -n1)
        if [ "${made:-0}" -gt 1000 ] || [ "${made:-0}" -lt 900 ]; then
                fail "$made files made with --inodes 1000"
        fi
        hi1=$(hits_grew stq1 inode_limit_hits "${hi0:-0}")
        echo "   inode_limit_hits ${hi0:-?} -> $hi1"
        if [ "$hi1" = none ] || [ "$hi1" -le "${hi0:-0}" ]; then
                fail "inode_limit_hits ${hi0:-?} -> $hi1 at the inode limit"
        fi
        hi_after=$(host_ifree)
        # The image costs the host no inode; a project quota counts the VPS's own.
        [ $((hi_before - hi_after)) -le 1200 ] || fail "host lost $((hi_before - hi_after)) inodes"
        [ "$(guest_df stq2 -i)" = "$ni_before" ] ||
                fail "neighbour's inodes changed: $ni_before -> $(guest_df stq2 -i)"
        berth exec stq1 -- rm -rf /many
}

# A btrfs image (256M and no --inodes, where the host has btrfs): df
# shows its size and no inode count; a write past it gets ENOSPC in the
# guest only, the host gives no more than its size, and the keeper counts
# the hit.
test_btrfs_full() {
        if [ "$want_backend" != image ] || ! grep -qw btrfs /proc/filesystems ||
                ! command -v mkfs.btrfs >/dev/null; then
                echo "   (no btrfs here, or a project quota: btrfs images not tested)"
                return
        fi
        expect 0 berth create stb1 --template bb --ip 10.77.8.6 --disk 256M
        [ "$(berth status stb1 --json | json_field fs)" = btrfs ] || fail "stb1 is not on a btrfs image"
        expect 0 berth start stb1
        set -- $(guest_df stb1)
        within "$1" 262144 8 || fail "df in the guest: size $1 KiB, expected about 262144"
        set -- $(guest_df stb1 -i)
        [ "$1" = 0 ] || fail "df -i in the guest shows $1 inodes on btrfs"
        n_before=$(guest_df stq2)
        h_before=$(host_avail_k)
        hd0=$(disk_hits stb1 disk_limit_hits)
        out=$(berth exec stb1 -- dd if=/dev/zero of=/big bs=1M count=400 2>&1)
        rc=$?
        [ "$rc" != 0 ] || fail "a 400M write into a 256M btrfs disk succeeded: $out"
        echo "$out" | grep -q "No space left" || fail "no ENOSPC: $out"
        set -- $(guest_df stb1)
        echo "   btrfs 256M: df in the guest after filling it: $(berth exec stb1 -- df -Pk / | tail -1)"
        [ "$2" -le 262144 ] || fail "the guest used $2 KiB of a 256M disk"
        h_after=$(host_avail_k)
        [ $((h_before - h_after)) -le $((262144 + 16384)) ] ||
                fail "host lost $((h_before - h_after)) KiB to a 256M VPS"
        [ "$(guest_df stq2)" = "$n_before" ] || fail "neighbour's df changed: $n_before -> $(guest_df stq2)"
        hd1=$(hits_grew stb1 disk_limit_hits "${hd0:-0}")
        echo "   disk_limit_hits ${hd0:-?} -> $hd1"
        if [ "$hd1" = none ] || [ "$hd1" -le "${hd0:-0}" ]; then
                fail "disk_limit_hits ${hd0:-?} -> $hd1 after ENOSPC on btrfs"
        fi
        [ "$(disk_hits stb1 inode_limit_hits)" = 0 ] || fail "btrfs counted an inode limit hit"
        expect 0 berth destroy --force stb1
}

test_grow() {
        berth exec stq1 -- dd if=/dev/zero of=/fill bs=1M count=40 2>/dev/null
        # A mounted ext4 grows only for a holder of CAP_SYS_RESOURCE (this
        # host's root may lack it): then the refusal must say so, and the
        # VPS grows while stopped.
        if [ $((0x$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status) >> 24 & 1)) = 1 ] ||
                [ "$want_backend" = project ]; then
                expect 0 berth set stq1 --disk 160M
        else
                echo "   (no CAP_SYS_RESOURCE: a running image cannot grow; grown while stopped)"
                out=$(berth set stq1 --disk 160M 2>&1)
                echo "$out" | grep -q CAP_SYS_RESOURCE || fail "live grow without CAP_SYS_RESOURCE: $out"
                expect 0 berth stop stq1
                expect 0 berth set stq1 --disk 160M
                expect 0 berth start stq1
        fi
        set -- $(guest_df stq1)
        within "$1" 163840 8 || fail "df after growing to 160M: $1 KiB"
        out=$(berth exec stq1 -- dd if=/dev/zero of=/more bs=1M count=80 2>&1) ||
                fail "an 80M write after growing failed: $out"
        [ "$(berth status stq1 --json | json_field disk)" = $((160 << 20)) ] || fail "limits.disk not saved"
}

test_shrink() {
        # 120M in use now: a shrink below it is refused and changes nothing.
        if out=$(berth set stq1 --disk 64M 2>&1); then
                fail "shrink below usage accepted"
        fi
        echo "$out" | grep -q "uses" || fail "shrink refusal does not say why: $out"
        [ "$(berth status stq1 --json | json_field disk)" = $((160 << 20)) ] || fail "refused shrink saved"
        set -- $(guest_df stq1)
        within "$1" 163840 8 || fail "df after a refused shrink: $1 KiB"
        berth exec stq1 -- rm -f /fill /more
        if [ "$want_backend" = project ]; then
                expect 0 berth set stq1 --disk 96M --inodes 2000
                set -- $(guest_df stq1 -i)
                [ "$1" = 2000 ] || fail "df -i after --inodes 2000: $1"
        else
                out=$(berth set stq1 --disk 96M 2>&1)
                echo "$out" | grep -q "stop the VPS" || fail "live shrink of an image: $out"
                expect 0 berth stop stq1
                expect 0 berth set stq1 --disk 96M
                expect 0 berth start stq1
                set -- $(guest_df stq1)
                within "$1" 98304 8 || fail "df after the offline shrink to 96M: $1 KiB"
        fi
}

# with_backend BACKEND ARGS...: berth ARGS with $BERTH_VPS_DISK_BACKEND.
with_backend() {
        (
                BERTH_VPS_DISK_BACKEND=$1
                export BERTH_VPS_DISK_BACKEND
                shift
                berth "$@"
        )
}

# The image backend forced ($BERTH_VPS_DISK_BACKEND=image, also where
# project quotas are enforced) grows live where berth holds
# CAP_SYS_RESOURCE (the test guest's root), else refuses saying why and
# changes nothing.
test_image_grow() {
        out=$(with_backend bogus create stbad --template bb --disk 32M 2>&1) &&
                fail "BERTH_VPS_DISK_BACKEND=bogus accepted"
        echo "$out" | grep -q BERTH_VPS_DISK_BACKEND || fail "bad backend knob not named: $out"
        [ ! -e "$data/vps/stbad" ] || fail "a refused backend left $data/vps/stbad"
        if [ "$want_backend" = image ]; then
                out=$(with_backend project create stbad --template bb --disk 32M 2>&1) &&
                        fail "BERTH_VPS_DISK_BACKEND=project accepted without project quotas"
                echo "$out" | grep -q prjquota || fail "project knob refusal does not say why: $out"
                [ ! -e "$data/vps/stbad" ] || fail "a refused backend left $data/vps/stbad"
        fi
        expect 0 with_backend image create stimg --template bb --ip 10.77.8.5 --disk 32M
        [ "$(berth status stimg --json | json_field backend)" = image ] || fail "image backend not forced"
        expect 0 berth start stimg
        berth exec stimg -- dd if=/dev/zero of=/fill bs=1M count=20 2>/dev/null
        set -- $(guest_df stimg)
        before=$1
        if [ $((0x$(sed -n 's/^CapEff:[[:space:]]*//p' /proc/self/status) >> 24 & 1)) = 1 ]; then
                echo "   (CAP_SYS_RESOURCE: live grow of a mounted image)"
                expect 0 berth set stimg --disk 96M
                set -- $(guest_df stimg)
                echo "   df in the guest: $before KiB -> $1 KiB"
                within "$1" 98304 8 || fail "df after a live grow to 96M: $1 KiB (was $before)"
                out=$(berth exec stimg -- dd if=/dev/zero of=/more bs=1M count=50 2>&1) ||
                        fail "a 50M write after the live grow failed: $out"
                [ "$(berth status stimg --json | json_field disk)" = $((96 << 20)) ] || fail "limits.disk not saved"
        else
                echo "   (no CAP_SYS_RESOURCE: the live grow is refused)"
                out=$(berth set stimg --disk 96M 2>&1) && fail "live grow without CAP_SYS_RESOURCE succeeded: $out"
                echo "$out" | grep -q CAP_SYS_RESOURCE || fail "refusal does not name CAP_SYS_RESOURCE: $out"
                echo "$out" | grep -q "stop the VPS" || fail "refusal does not say what to do: $out"
                set -- $(guest_df stimg)
                [ "$1" = "$before" ] || fail "df changed after a refused grow: $before -> $1 KiB"
                [ "$(berth status stimg --json | json_field disk)" = $((32 << 20)) ] || fail "a refused grow was saved"
                [ "$(stat -c %s "$data/vps/stimg/disk.img")" = $((32 << 20)) ] || fail "a refused grow left the image grown"
        fi
        expect 0 berth destroy --force stimg
}

test_bad_sizes() {
        for a in "--disk 0" "--disk abc" "--disk 1K" "--disk 64M --inodes 10" "--inodes 100" \
                "--disk -5M" "--io-write 1" "--iops-read 0" "--io-read x"; do
                # shellcheck disable=SC2086 # the options
                out=$(berth create stbad --template bb $a 2>&1)
                rc=$?
                [ "$rc" = 2 ] || fail "create $a: exit $rc: $out"
                [ ! -e "$data/vps/stbad" ] || fail "create $a left $data/vps/stbad"
        done
        expect 2 berth set stq2 --disk 1K
        expect 2 berth set stq2 --inodes 5
}

# guest_rate NAME MIB DD-ARGS...: bytes per second of dd in the guest, timed
# there (/proc/uptime: busybox dd prints no rate).
guest_rate() {
        n=$1 mib=$2
        shift 2
        berth exec "$n" -- sh -c 'read a x </proc/uptime; dd "$@" 2>/dev/null; read b x </proc/uptime; echo $a $b' \
                sh "$@" | awk -v m="$mib" '{t = $2 - $1; if (t > 0) printf "%d\n", m * 1048576 / t}'
}

# limited_rate WHAT LIMIT MIB DD-ARGS...: dd in VPS stio runs within 10% of
# LIMIT bytes/s. Faster fails at once (the limit does not hold); slower is
# tried again, up to 3 times, since a loaded machine (or the emulated test
# guest) may not reach the limit at all.
limited_rate() {
        what=$1 limit=$2
        shift 2
        for _ in 1 2 3; do
                rate=$(guest_rate stio "$@")
                echo "   $what: ${rate:-?} bytes/s"
                within "${rate:-0}" "$limit" 10 && return 0
                [ "${rate:-0}" -lt "$limit" ] || break
        done
        fail "$what: $rate B/s, limit $limit"
}

test_io_limit() {
        expect 0 berth create stio --template bb --ip 10.77.8.4 --disk 256M --io-write 8M --io-read 16M
        expect 0 berth start stio
        limited_rate "write at --io-write 8M" $((8 << 20)) 40 if=/dev/zero of=/io bs=1M count=40 oflag=direct
        limited_rate "read at --io-read 16M" $((16 << 20)) 40 if=/io of=/dev/null bs=1M iflag=direct
        st=$(berth status stio --json)
        wb=$(echo "$st" | json_field write_bytes)
        # 95%: a btrfs image (256M: the default where the host has btrfs)
        # writes a little of a direct write through its page cache, whose
        # writeback v1 charges to no cgroup.
        [ "${wb:-0}" -ge $((38 << 20)) ] || fail "status io.write_bytes $wb after 40M written: $st"
        # Live: half as fast again.
        expect 0 berth set stio --io-write 12M
        limited_rate "write after set --io-write 12M" $((12 << 20)) 48 if=/dev/zero of=/io bs=1M count=48 \
                oflag=direct
        # A neighbour without a limit is not held to it (well above 12M).
        rate=$(guest_rate stq2 32 if=/dev/zero of=/io bs=1M count=32 oflag=direct)
        echo "   neighbour without a limit: ${rate:-?} bytes/s"
        [ "${rate:-0}" -gt $((16 << 20)) ] || fail "the neighbour wrote at only $rate B/s"
        berth exec stq2 -- rm -f /io
}

test_stop_clean() {
        expect 0 berth stop stq1 stq2 stio
        i=0
        while [ -n "$(our_loops)" ] && [ $i -lt 50 ]; do
                sleep 0.1
                i=$((i + 1))
        done
        [ -z "$(our_loops)" ] || fail "loop devices left after stop: $(our_loops)"
        ! grep -q " $tmp/" /proc/self/mountinfo || fail "mounts left: $(grep " $tmp/" /proc/self/mountinfo)"
        st=$(berth status stq1 --json)
        [ -n "$(echo "$st" | json_field used)" ] || fail "no disk usage for a stopped VPS: $st"
        # The data survives a restart.
        expect 0 berth start stq1
        berth exec stq1 -- sh -c 'echo kept >/root/kept'
        expect 0 berth stop stq1
        expect 0 berth start stq1
        [ "$(berth exec stq1 -- cat /root/kept)" = kept ] || fail "the disk's content did not survive a restart"
        expect 0 berth destroy --force stq1
        # A start that crashed after attaching the image left its loop
        # device: destroy takes it away.
        [ "$want_backend" != image ] || losetup -f "$data/vps/stq2/disk.img" ||
                fail "could not attach stq2's image by hand"
        expect 0 berth destroy stq2
        expect 0 berth destroy stio
        [ -z "$(our_loops)" ] || fail "loop devices left after destroy: $(our_loops)"
        left=$(find /sys/fs/cgroup -maxdepth 8 -type d \( -name 'berth-vps-stq[12]-*' -o -name 'berth-vps-stio-*' \) \
                2>/dev/null)
        [ -z "$left" ] || fail "cgroups left after destroy: $left"
        [ -z "$(ls -A "$data/vps")" ] || fail "left in $data/vps: $(ls -A "$data/vps")"
}

# ---- main ------------------------------------------------------------------

in_own_netns "$bin" "$@"

prj=""
scratch_base
# What a write past the limit fails with: ENOSPC on the image; ext4 says
# EDQUOT for a project quota (XFS: ENOSPC).
full="No space left"
prjquota_base storage-prj
[ "$want_backend" = image ] || full="No space left\|Disk quota exceeded"
scratch_dir storage-disk
data=$tmp/d0
BERTH_ID_REGISTRY=$tmp/id-ranges # not the host's /var/lib/berth/id-ranges
BERTH_CONFIG_DIR=$tmp/etc        # no host defaults
export BERTH_ID_REGISTRY BERTH_CONFIG_DIR
trap cleanup EXIT
bb_template

run_named "backend enospc btrfs_full grow shrink image_grow bad_sizes io_limit stop_clean" "$@"
finish
