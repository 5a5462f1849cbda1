#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Snapshots of `berth vps` (README "Snapshots", berth/vps_snapshot.h),
# checked from inside real busybox VPS: a snapshot of a stopped and of a
# running VPS, files changed, added and removed in the guest, the
# snapshot restored (refused while running without --force), the old
# files back and the newer ones gone; snapshot-list and status; deleting
# a snapshot a later one stands on; bad and duplicate names; the disk
# backends (none, and the image here: btrfs where the host has it, else
# ext4; with BERTH_DISK_PRJQUOTA=1 a project quota on an ext4 of the
# test's own, as in the pure cgroup-v2 guest); a btrfs image's subvolume
# snapshots (as fast with 1 GiB written as with a few KiB, consistent,
# restored, deleted, live resize); the CLI killed at each rename, mkdir
# and unlink of a snapshot and a restore, then `vps repair` (without a
# disk, and on a btrfs image); destroy removes everything.
#
#   usage: vps_snapshot_test.sh BERTH_BINARY [TEST...]
#   bench: start time with 0, 10 and 50 snapshots (not in the default run)
#   bench_disk: live snapshots of 10 MiB and 1 GiB on ext4 and btrfs images (likewise)
# shellcheck disable=SC2016 # the guest's shell expands what is quoted for it
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
bin=${BERTH_VPS_BIN:-${1:-}}
[ $# -gt 0 ] && shift

require_vps_host "$bin"
failures=0
current=""
before=: after=: # kill_at's hooks, set per call
PATH=$PATH:/usr/sbin:/sbin

berth() {
        "$bin" --root "$root" vps --data-dir "$data" "$@"
}

cleanup() {
        for d in "$data"/vps/*/; do
                [ -d "$d" ] && berth destroy --force "$(basename "$d")" >/dev/null 2>&1
        done
        for f in /sys/block/loop*/loop/backing_file; do
                [ -r "$f" ] && grep -q "^$tmp/" "$f" 2>/dev/null && d=${f%/loop/backing_file} &&
                        losetup -d "/dev/${d##*/}" 2>/dev/null
        done
        rm -rf "$tmp"
        if [ -n "$prj" ]; then
                umount "$prj/mnt" 2>/dev/null
                rm -rf "$prj"
        fi
        ext4_scratch_rm "$ext4"
}

in_guest() { # in_guest NAME SHELL-COMMAND
        berth exec "$1" -- sh -c "$2"
}

# check NAME FILE WANT: the guest's FILE holds WANT ("absent": no such file).
check() {
        got=$(in_guest "$1" "cat $2 2>/dev/null || echo absent")
        [ "$got" = "$3" ] || fail "$1:$2 is \"$got\", expected \"$3\""
}

snap_count() { berth status "$1" --json | json_field snapshots; }

# ---- the tests -------------------------------------------------------------

test_stopped() {
        expect 0 berth create snp1 --template bb --ip 10.77.9.2
        expect 0 berth start snp1
        in_guest snp1 'echo one >/root/a; echo here >/root/gone; echo orig >/etc/motd'
        expect 0 berth stop snp1
        expect 0 berth snapshot snp1 s1
        [ -d "$data/vps/snp1/l" ] || fail "no layer directory after a stopped snapshot"
        [ -z "$(ls -A "$data/vps/snp1/upper")" ] || fail "the upper is not empty after a stopped snapshot"
        expect 0 berth start snp1
        check snp1 /root/a one
        in_guest snp1 'echo two >/root/a; echo new >/root/new; rm /root/gone; rm /etc/motd'
        check snp1 /root/a two
        # Running: refused without --force, and nothing changed.
        out=$(berth snapshot-restore snp1 s1 2>&1)
        rc=$?
        [ "$rc" = 5 ] || fail "restore of a running VPS without --force: exit $rc: $out"
        echo "$out" | grep -q -- "--force" || fail "the refusal does not name --force: $out"
        check snp1 /root/a two
        expect 0 berth snapshot-restore snp1 s1 --force
        [ "$(berth status snp1 --json | json_field state)" = running ] || fail "not running after restore --force"
        check snp1 /root/a one
        check snp1 /root/gone here
        check snp1 /root/new absent
        check snp1 /etc/motd orig
        [ "$(snap_count snp1)" = 1 ] || fail "status shows $(snap_count snp1) snapshots, expected 1"
}

test_live() {
        in_guest snp1 'echo live1 >/root/b; mkdir -p /root/d; echo x >/root/d/f'
        ts=$(date +%s%N)
        expect 0 berth snapshot snp1 s2
        echo "   live snapshot: $((($(date +%s%N) - ts) / 1000000)) ms"
        [ "$(berth status snp1 --json | json_field state)" = running ] || fail "not running after a live snapshot"
        # The guest was thawed: it writes on.
        in_guest snp1 'echo live2 >/root/b; rm -r /root/d; echo after >/root/after' ||
                fail "the guest cannot write after a live snapshot"
        list=$(berth snapshot-list snp1 --json)
        echo "$list" | grep -q '"name": "s1"' || fail "s1 not listed: $list"
        echo "$list" | grep -q '"name": "s2"' || fail "s2 not listed: $list"
        echo "$list" | grep -q '"live": true' || fail "s2 not marked live: $list"
        berth snapshot-list snp1 | grep -q "^s2 " || fail "text list: $(berth snapshot-list snp1)"
        expect 0 berth snapshot-restore snp1 s2 --force
        check snp1 /root/b live1
        check snp1 /root/d/f x
        check snp1 /root/after absent
        check snp1 /root/a one
        # A stopped snapshot after a live one: the rotated stack holds.
        in_guest snp1 'echo three >/root/a'
        expect 0 berth stop snp1
        expect 0 berth snapshot snp1 s3
        expect 0 berth start snp1
        check snp1 /root/a three
        check snp1 /root/b live1
        expect 0 berth snapshot-restore snp1 s1 --force
        check snp1 /root/b absent
        check snp1 /root/a one
}

test_names() {
        for s in "" "-x" ".x" "a/b" "a b" "../up" "$(printf 'x%.0s' $(seq 65))" "a:b" "é"; do
                out=$(berth snapshot snp1 "$s" 2>&1)
                rc=$?
                [ "$rc" = 2 ] || fail "snapshot name \"$s\": exit $rc: $out"
        done
        echo "$out" | grep -q "invalid snapshot name" || fail "no clear error for a bad name: $out"
        expect 4 berth snapshot snp1 s1
        expect 3 berth snapshot-restore snp1 nosuch --force
        expect 3 berth snapshot-delete snp1 nosuch
        expect 3 berth snapshot nosuchvps s9
        expect 3 berth snapshot-list nosuchvps
        expect 2 berth snapshot snp1
        expect 2 berth snapshot-restore snp1 s1 extra
        [ "$(snap_count snp1)" = 3 ] || fail "$(snap_count snp1) snapshots after bad names, expected 3"
        [ ! -e "$data/vps/snp1/snapshot.pending" ] || fail "a journal left by a refused command"
}

test_delete() {
        # s2 (live) and s3 stand on s1's layer: deleting s1 keeps it.
        expect 0 berth snapshot-delete snp1 s1
        expect 0 berth snapshot-restore snp1 s3 --force
        check snp1 /root/a three
        check snp1 /root/b live1
        check snp1 /root/gone here
        expect 0 berth stop snp1
        expect 0 berth snapshot-delete snp1 s2
        expect 0 berth snapshot-delete snp1 s3
        [ "$(snap_count snp1)" = 0 ] || fail "$(snap_count snp1) snapshots after deleting all"
        # What the VPS itself stands on stays; nothing else.
        n_l=$(find "$data/vps/snp1/l" -mindepth 1 -maxdepth 1 | wc -l)
        depth=$(berth snapshot-list snp1 --json | json_field layers)
        [ "$n_l" = "$depth" ] || fail "$n_l layers on disk, the VPS stands on $depth"
        expect 0 berth start snp1
        check snp1 /root/a three
        expect 0 berth stop snp1
}

# The disk backend the data file system offers: the image here (btrfs
# where the host has it, else ext4; BERTH_VPS_DISK_FS picks one); a
# project quota with BERTH_DISK_PRJQUOTA=1 (the pure cgroup-v2 guest).
test_disk() {
        command -v mkfs.ext4 >/dev/null || { echo "   (no mkfs.ext4: disk backends not tested)"; return; }
        # 256M: the least a btrfs image is made of (smaller ones are ext4).
        expect 0 berth create snp2 --template bb --ip 10.77.9.3 --disk 256M
        b=$(berth status snp2 --json | json_field backend)
        [ "$b" = "$want_backend" ] || fail "backend $b, expected $want_backend"
        if [ "$b" = image ]; then
                fs=$(berth status snp2 --json | json_field fs)
                echo "   image file system: $fs"
                [ "$fs" = "$want_fs" ] || fail "image file system $fs, expected $want_fs"
        fi
        expect 0 berth start snp2
        in_guest snp2 'echo img1 >/root/i; dd if=/dev/zero of=/root/big bs=1M count=8 2>/dev/null'
        expect 0 berth snapshot snp2 live
        in_guest snp2 'echo img2 >/root/i; rm /root/big'
        expect 0 berth stop snp2
        expect 0 berth snapshot snp2 cold
        [ "$want_backend" != image ] || [ ! -e "$data/vps/snp2/upper" ] || fail "an upper layer outside the image"
        # The layers count against the VPS's disk: the 8M file is in one.
        used=$(berth status snp2 --json | json_field used)
        [ "${used:-0}" -ge 8000000 ] || fail "disk usage $used with an 8M file in a snapshot layer"
        expect 0 berth snapshot-restore snp2 live
        expect 0 berth start snp2
        check snp2 /root/i img1
        [ "$(in_guest snp2 'wc -c </root/big')" = 8388608 ] || fail "the 8M file is not back"
        expect 0 berth snapshot-restore snp2 cold --force
        check snp2 /root/i img2
        check snp2 /root/big absent
        expect 0 berth stop snp2
        ! grep -q " $tmp/" /proc/self/mountinfo || fail "mounts left: $(grep " $tmp/" /proc/self/mountinfo)"
        sleep 0.5
        for f in /sys/block/loop*/loop/backing_file; do
                ! grep -q "^$tmp/" "$f" 2>/dev/null || fail "a loop device left: $f"
        done
}

# kill_at OP-ARGS...: runs `berth OP-ARGS` once per rename/mkdir/unlink it
# makes, SIGKILLed at that call, each time followed by `vps repair` and
# check_after (the caller's).
kill_at() {
        "$before"
        strace -f -qq -o "$tmp/trace" -e trace=rename,renameat,renameat2,mkdir,mkdirat,unlink,unlinkat \
                "$bin" --root "$root" vps --data-dir "$data" "$@" >/dev/null 2>&1
        sed -n 's/^[0-9]* *\([a-z0-9]*\)(.*/\1/p' "$tmp/trace" | sort | uniq -c | awk '{print $2, $1}' >"$tmp/calls"
        [ -s "$tmp/calls" ] || fail "no calls traced for: $*"
        while read -r sc n; do
                # cp's own calls (live snapshots): the first few stand for the rest.
                [ "$n" -gt 6 ] && n=6
                k=1
                while [ "$k" -le "$n" ]; do
                        "$before"
                        timeout 60 strace -f -qq -o /dev/null -e trace=none -e inject="$sc":signal=KILL:when="$k" \
                                "$bin" --root "$root" vps --data-dir "$data" "$@" >/dev/null 2>&1
                        out=$(berth repair snp1 2>&1) || fail "$sc#$k: repair: $out"
                        [ ! -e "$data/vps/snp1/snapshot.pending" ] || fail "$sc#$k: the journal is left after repair"
                        "$after" "$sc#$k"
                        points=$((points + 1))
                        k=$((k + 1))
                done
        done <"$tmp/calls"
}

before_snap() { berth snapshot-delete snp1 k >/dev/null 2>&1; }
after_snap() {
        expect 0 berth start snp1
        check snp1 /root/a crash
        expect 0 berth stop snp1
        if berth snapshot-list snp1 | grep -q "^k "; then
                expect 0 berth snapshot-restore snp1 k
                expect 0 berth start snp1
                check snp1 /root/a crash
                expect 0 berth stop snp1
        fi
}

before_restore() {
        expect 0 berth start snp1
        in_guest snp1 'echo later >/root/a'
        expect 0 berth stop snp1
}
after_restore() {
        expect 0 berth start snp1
        got=$(in_guest snp1 'cat /root/a')
        [ "$got" = crash ] || [ "$got" = later ] || fail "$1: /root/a is \"$got\" after a killed restore"
        expect 0 berth stop snp1
}

# A live snapshot killed: repair thaws the guest, which has its files.
after_live() {
        got=$(timeout 20 "$bin" --root "$root" vps --data-dir "$data" exec snp1 -- cat /root/a 2>&1)
        [ "$got" = crash ] || fail "$1: after a killed live snapshot and repair the guest says \"$got\""
}

test_crash() {
        command -v strace >/dev/null || { echo "   (no strace: crash points not tested)"; return; }
        berth stop snp1 >/dev/null 2>&1 # running or not, after the tests before
        expect 0 berth start snp1
        in_guest snp1 'echo crash >/root/a'
        expect 0 berth stop snp1
        crash_points 20
}

# crash_points MIN: snp1 (stopped, /root/a "crash") killed in snapshots of
# it stopped and running and in a restore, each repaired; at least MIN.
crash_points() {
        points=0
        before=before_snap after=after_snap kill_at snapshot snp1 k
        expect 0 berth start snp1
        before=before_snap after=after_live kill_at snapshot snp1 k
        expect 0 berth stop snp1
        expect 0 berth snapshot snp1 base
        before=before_restore after=after_restore kill_at snapshot-restore snp1 base
        echo "   $points kill points"
        [ "$points" -ge "$1" ] || fail "only $points kill points"
        out=$(berth repair --dry-run 2>&1)
        echo "$out" | grep -q consistent || fail "not consistent after the kills: $out"
}

test_destroy() {
        expect 0 berth start snp1
        expect 0 berth snapshot snp1 last
        expect 0 berth destroy --force snp1
        [ ! -e "$data/vps/snp1" ] || fail "destroy left $data/vps/snp1"
        [ ! -e "$data/vps/snp2" ] || expect 0 berth destroy snp2
        [ -z "$(ls -A "$data/vps")" ] || fail "left in $data/vps: $(ls -A "$data/vps")"
}

# Start time of a VPS standing on N layers (README "Snapshots"): the
# median of 7 starts of `vps start` (overlay of N layers mounted, guest
# booted), each stopped again; then one snapshot of the stopped VPS.
test_bench() {
        expect 0 berth create snpb --template bb --ip 10.77.9.4
        have=0
        for n in 0 10 50 ${BERTH_SNAP_BENCH_MORE:-}; do
                while [ "$have" -lt "$n" ]; do
                        berth snapshot snpb "b$have" >/dev/null || fail "snapshot b$have"
                        have=$((have + 1))
                done
                : >"$tmp/times"
                for _ in 1 2 3 4 5 6 7; do
                        ts=$(date +%s%N)
                        berth start snpb >/dev/null || fail "start with $n snapshots"
                        te=$(date +%s%N)
                        berth exec snpb -- true || fail "exec after a start with $n snapshots"
                        berth stop --timeout 0 snpb >/dev/null
                        echo $(((te - ts) / 1000000)) >>"$tmp/times"
                done
                echo "   start with $n snapshots: median $(sort -n "$tmp/times" | sed -n 4p) ms" \
                        "(of 7: $(sort -n "$tmp/times" | tr '\n' ' '))"
        done
        ts=$(date +%s%N)
        berth snapshot snpb b-timed >/dev/null
        echo "   snapshot of the stopped VPS on $have layers: $((($(date +%s%N) - ts) / 1000000)) ms"
        # A live snapshot: frozen while what the guest wrote since its
        # start is copied (nothing, then 1000 files and 64 MiB).
        expect 0 berth start snpb
        for what in nothing files; do
                [ "$what" = files ] && in_guest snpb 'mkdir /root/many; for i in $(seq 1000); do echo $i >/root/many/$i; done
                        dd if=/dev/urandom of=/root/big bs=1M count=64 2>/dev/null'
                ts=$(date +%s%N)
                frozen=$("$bin" --debug --root "$root" vps --data-dir "$data" snapshot snpb "live-$what" 2>&1 |
                        sed -n 's/.*frozen for \([0-9]*\) ms.*/\1/p')
                echo "   live snapshot ($what written since the start): $((($(date +%s%N) - ts) / 1000000)) ms," \
                        "frozen ${frozen:-?} ms"
        done
        expect 0 berth destroy --force snpb
}

# snp1_disk FS: snp1 made again with a disk image of FS ("": what the
# host picks).
snp1_disk() {
        berth destroy --force snp1 >/dev/null 2>&1
        expect 0 env BERTH_VPS_DISK_FS="$1" "$bin" --root "$root" vps --data-dir "$data" \
                create snp1 --template bb --ip 10.77.9.2 --disk 256M
        echo "   crash VPS: image of $(berth status snp1 --json | json_field fs)"
        expect 0 berth start snp1
        in_guest snp1 'echo crash >/root/a'
        expect 0 berth stop snp1
}

# The crash points again with snp1 on a btrfs image.
test_crash_btrfs() {
        if ! grep -qw btrfs /proc/filesystems || ! command -v mkfs.btrfs >/dev/null; then
                echo "   (no btrfs in the kernel or no mkfs.btrfs: btrfs images not tested)"
                return
        fi
        [ "$want_backend" = image ] || { echo "   (project quota backend: no image)"; return; }
        command -v strace >/dev/null || { echo "   (no strace: crash points not tested)"; return; }
        snp1_disk btrfs
        crash_points 15
}

# The subvolumes of a VPS's btrfs image (its image mounted in a mount
# namespace of our own, read-only): "cur" and its layers.
subvols() { # subvols NAME
        unshare --mount sh -c "mount -o ro,loop '$data/vps/$1/disk.img' '$data/vps/$1/disk' &&
                btrfs subvolume list -o '$data/vps/$1/disk' | awk '{print \$NF}' | sort | tr '\n' ' '"
}

# within_k VALUE LOW HIGH: LOW < VALUE <= HIGH.
within_k() { [ "${1:-0}" -gt "$2" ] && [ "${1:-0}" -le "$3" ]; }

# ms to take snapshot SNAP of running VPS NAME (the whole command).
snap_ms() { # snap_ms NAME SNAP
        ts=$(date +%s%N)
        berth snapshot "$1" "$2" >/dev/null || fail "snapshot $1 $2"
        echo $((($(date +%s%N) - ts) / 1000000))
}

# A btrfs disk image (the default where the host has btrfs): a snapshot of
# a running VPS is a subvolume snapshot, the same time with 1 GiB written
# as with a few KiB; consistent (what was written before is in it, what
# after is not); restored; deleted without a subvolume left; df in the
# guest shows the image's size; `set --disk` grows and shrinks it live.
test_btrfs() {
        if ! grep -qw btrfs /proc/filesystems || ! command -v mkfs.btrfs >/dev/null; then
                echo "   (no btrfs in the kernel or no mkfs.btrfs: btrfs images not tested)"
                return
        fi
        [ "$want_backend" = image ] || { echo "   (project quota backend: no image)"; return; }
        expect 0 env BERTH_VPS_DISK_FS=btrfs "$bin" --root "$root" vps --data-dir "$data" \
                create snb1 --template bb --ip 10.77.9.5 --disk 2G
        expect 0 env BERTH_VPS_DISK_FS=btrfs "$bin" --root "$root" vps --data-dir "$data" \
                create snb2 --template bb --ip 10.77.9.6 --disk 2G
        for n in snb1 snb2; do
                [ "$(berth status "$n" --json | json_field fs)" = btrfs ] || fail "$n: not a btrfs image"
                expect 0 berth start "$n"
        done
        # df in the guest: the image's size (2 GiB, less btrfs's own).
        size=$(in_guest snb1 'df -k / | tail -1' | awk '{print $2}')
        within_k "$size" 1900000 2097152 || fail "df in the guest says $size KiB of 2G"
        in_guest snb1 'dd if=/dev/zero of=/root/big bs=1M count=1024 2>/dev/null; echo before >/root/f; sync'
        in_guest snb2 'echo small >/root/small; echo before >/root/f'
        big=$(snap_ms snb1 s1)
        small=$(snap_ms snb2 s1)
        echo "   live snapshot with 1 GiB written: $big ms; with a few KiB: $small ms"
        # Constant time: not a copy of 1 GiB (seconds here); a loaded host
        # gets a margin.
        [ "$big" -le $((small * 3 + 1000)) ] || fail "snapshot with 1 GiB took $big ms, with a few KiB $small ms"
        in_guest snb1 'echo after >/root/f; echo new >/root/new; rm /root/big'
        [ "$(berth snapshot-list snb1 --json | json_field layers)" = 1 ] || fail "a btrfs snapshot is not one layer"
        expect 0 berth snapshot-restore snb1 s1 --force
        # The snapshot's subvolume is the upper again: no layer below it.
        depth=$(berth snapshot-list snb1 --json | sed -n 's/^  "layers": \([0-9]*\).*/\1/p')
        [ "$depth" = 0 ] || fail "snb1 stands on $depth layers after a restore"
        check snb1 /root/f before
        check snb1 /root/new absent
        [ "$(in_guest snb1 'wc -c </root/big')" = 1073741824 ] || fail "the 1 GiB file is not back"
        # A snapshot of the stopped VPS is a subvolume too: the stack stays.
        expect 0 berth stop snb2
        expect 0 berth snapshot snb2 s2
        depth=$(berth snapshot-list snb2 --json | sed -n 's/^  "layers": \([0-9]*\).*/\1/p')
        [ "$depth" = 0 ] || fail "the stack of snb2 is $depth layers deep"
        got=$(subvols snb2)
        [ "$got" = "cur l/1 l/2 " ] || fail "snb2's subvolumes: $got"
        expect 0 berth snapshot-delete snb2 s1
        expect 0 berth snapshot-delete snb2 s2
        got=$(subvols snb2)
        [ "$got" = "cur " ] || fail "subvolumes left after the snapshots were deleted: $got"
        # Live resize: grow, shrink, a shrink below usage refused.
        expect 0 berth set snb1 --disk 3G
        size=$(in_guest snb1 'df -k / | tail -1' | awk '{print $2}')
        [ "${size:-0}" -gt 2900000 ] || fail "df after a live grow to 3G says $size KiB"
        out=$(berth set snb1 --disk 512M 2>&1) && fail "a shrink below usage was taken"
        echo "$out" | grep -q "uses" || fail "a shrink below usage: $out"
        # snb1's stack holds the 1 GiB file (restored from s1): snb2 shrinks.
        expect 0 berth start snb2
        expect 0 berth set snb2 --disk 512M
        size=$(in_guest snb2 'df -k / | tail -1' | awk '{print $2}')
        within_k "$size" 400000 524288 || fail "df after a live shrink to 512M says $size KiB"
        [ "$(stat -c %s "$data/vps/snb2/disk.img")" = 536870912 ] || fail "the image file did not shrink"
        check snb2 /root/small small
        check snb1 /root/f before
        out=$(berth set snb1 --inodes 1000 2>&1) && fail "--inodes taken on a btrfs image"
        echo "$out" | grep -q "inode" || fail "--inodes on btrfs: $out"
        expect 0 berth destroy --force snb1
        expect 0 berth destroy --force snb2
}

# Live snapshots of a VPS on an ext4 and on a btrfs image, with 10 MiB
# and with 1 GiB written: each `vps snapshot` timed (the whole command)
# with the time the guest was frozen, 3 times each.
test_bench_disk() {
        for fs in ext4 btrfs; do
                [ "$fs" = btrfs ] && ! command -v mkfs.btrfs >/dev/null && continue
                # ext4 copies: three copies of 1 GiB need the room.
                expect 0 env BERTH_VPS_DISK_FS="$fs" "$bin" --root "$root" vps --data-dir "$data" \
                        create snpd --template bb --ip 10.77.9.7 --disk 6G
                expect 0 berth start snpd
                for mib in 10 1024; do
                        in_guest snpd "dd if=/dev/urandom of=/root/w bs=1M count=$mib 2>/dev/null; sync"
                        for i in 1 2 3; do
                                ts=$(date +%s%N)
                                frozen=$("$bin" --debug --root "$root" vps --data-dir "$data" snapshot snpd "s$mib-$i" 2>&1 |
                                        sed -n 's/.*frozen for \([0-9]*\) ms.*/\1/p')
                                echo "   $fs image, $mib MiB written: snapshot $((($(date +%s%N) - ts) / 1000000)) ms," \
                                        "frozen ${frozen:-?} ms"
                        done
                done
                expect 0 berth destroy --force snpd
        done
}

# ---- main ------------------------------------------------------------------

if [ "${BERTH_VPS_TEST_NETNS:-}" != 1 ]; then
        BERTH_VPS_TEST_NETNS=1 exec unshare --net --mount /bin/sh "$0" "$bin" "$@"
fi
ip link set lo up 2>/dev/null

scratch_base
prj=""
prjquota_base snap-prj
# The image's file system create picks: btrfs where the host has it.
want_fs=${BERTH_VPS_DISK_FS:-ext4}
[ -z "${BERTH_VPS_DISK_FS:-}" ] && grep -qw btrfs /proc/filesystems && command -v mkfs.btrfs >/dev/null && want_fs=btrfs
scratch_dir berth-snaptest
data=$tmp/d0
BERTH_ID_REGISTRY=$tmp/id-ranges # not the host's /var/lib/berth/id-ranges
BERTH_CONFIG_DIR=$tmp/etc        # no host defaults
export BERTH_ID_REGISTRY BERTH_CONFIG_DIR
trap cleanup EXIT
bb_template

run_named "stopped live names delete disk btrfs crash crash_btrfs destroy" "$@"
finish
