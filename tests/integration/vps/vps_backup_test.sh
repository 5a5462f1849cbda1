#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `berth vps backup`, `restore` and `clone` (docs/vps.md "Backup, restore,
# clone"), checked from inside real busybox VPS: a running VPS with files
# of odd owners and modes, a user xattr, a POSIX ACL, a file capability,
# a hard link and a sparse file is backed up (frozen), destroyed,
# restored and started, and bkprobe inside shows the same files (the
# capability reads back as v2 inside only when its rootid was shifted
# into the new range); the same with the disk image backend (ext4, and
# btrfs where the host has it: also a VPS with snapshots); a restore
# under another name next to the original; a clone (own machine-id);
# refusals (name and address taken, template missing or different,
# truncated archive) that leave nothing behind; --with-template into a
# data directory without the template.
#
# Both disk backends: the image here, the project quota with
# BERTH_DISK_PRJQUOTA=1 (the pure cgroup-v2 test guest).
#
# usage: vps_backup_test.sh BERTH_BINARY BKPROBE [TEST...]
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
bin=${BERTH_VPS_BIN:-${1:-}}
probe=${2:-}
[ $# -gt 0 ] && shift
[ $# -gt 0 ] && shift

require_vps_host "$bin"
[ -x "$probe" ] || skip "no bkprobe binary given"
command -v zstd >/dev/null || skip "no zstd(1)"
[ -e /dev/loop-control ] || skip "no /dev/loop-control"

failures=0
current=""
PATH=$PATH:/usr/sbin:/sbin

berth() {
        "$bin" --root "$root" vps --data-dir "$data" "$@"
}
berth2() {
        "$bin" --root "$root" vps --data-dir "$data2" "$@"
}

# The backing files below $tmp of attached loop devices, and the devices.
our_loops() {
        [ -n "$tmp" ] || return 0
        for f in /sys/block/loop*/loop/backing_file; do
                [ -r "$f" ] && grep "^$tmp/" "$f" 2>/dev/null
        done
}
our_loop_devs() {
        [ -n "$tmp" ] || return 0
        for f in /sys/block/loop*/loop/backing_file; do
                [ -r "$f" ] && grep -q "^$tmp/" "$f" 2>/dev/null && echo "$f"
        done
}

cleanup() {
        for dd in "$data" "$data2"; do
                for d in "$dd"/vps/*/; do
                        [ -d "$d" ] && "$bin" --root "$root" vps --data-dir "$dd" destroy --force \
                                "$(basename "$d")" >/dev/null 2>&1
                done
        done
        for f in $(our_loop_devs); do
                d=${f%/loop/backing_file}
                losetup -d "/dev/${d##*/}" 2>/dev/null
        done
        [ -z "$tmp" ] || rm -rf "$tmp"
        if [ -n "$prj" ]; then
                umount "$prj/mnt" 2>/dev/null
                rm -rf "$prj"
        fi
}

# What a restore that failed must not leave: the VPS, a .new.* build
# directory, a template marker, a loop device.
nothing_left() { # nothing_left NAME
        [ ! -e "$data/vps/$1" ] || fail "VPS $1 exists after a failed restore"
        left=$(ls -A "$data/vps" | grep '^\.' || true)
        [ -z "$left" ] || fail "left in $data/vps: $left"
        [ ! -e "$data/templates/bb/users/$1" ] || fail "template marker of $1 left"
        [ -z "$(our_loops | grep "/vps/\.new\." || true)" ] || fail "loop device of a build left"
}

# The files the tests compare, as the guest sees them.
FILES="/data /data/owned /data/setuid /data/link1 /data/link2 /data/sparse /data/cap /data/sticky /data/fifo"

setup_files() { # setup_files NAME
        berth exec "$1" -- sh -c '
                mkdir -p /data/sticky && chmod 1777 /data/sticky &&
                echo owned >/data/owned && chown 1234:5678 /data/owned && chmod 640 /data/owned &&
                echo suid >/data/setuid && chown 2000:2001 /data/setuid && chmod 4755 /data/setuid &&
                echo linked >/data/link1 && ln /data/link1 /data/link2 &&
                dd if=/dev/zero of=/data/sparse bs=4096 count=1 seek=20000 2>/dev/null &&
                echo data | dd of=/data/sparse bs=1 seek=1000 conv=notrunc 2>/dev/null &&
                cp /bin/busybox /data/cap && bkprobe set /data/cap &&
                mkfifo /data/fifo && chown 33:33 /data/fifo' ||
                fail "cannot make the test files in $1"
}

show_files() { # show_files NAME
        # shellcheck disable=SC2086 # a list of paths
        berth exec "$1" -- bkprobe show $FILES
}

same_files() { # same_files NAME EXPECTED_FILE
        show_files "$1" >"$tmp/now"
        if ! cmp -s "$2" "$tmp/now"; then
                fail "files of $1 differ from the backup's:$(diff "$2" "$tmp/now" | sed 's/^/  /')"
                return
        fi
        berth exec "$1" -- bkprobe same /data/link1 /data/link2 || fail "$1: /data/link1 and link2 are not one inode"
        grep -q 'security.capability=01000002' "$tmp/now" ||
                fail "$1: the file capability is not the guest root's (v2 inside): $(grep /data/cap "$tmp/now")"
        # On the host: v3 with the rootid of this VPS's root (a v2, or
        # another rootid, would be a capability of some other root).
        upper=$data/vps/$1/upper
        [ -d "$upper" ] || return 0 # the image backend: inside its image
        hid=$(sed -n 's/^ *"host_id": \([0-9]*\).*/\1/p' "$data/vps/$1/vps.json")
        want=$(printf '%08x' "$hid" | sed 's/\(..\)\(..\)\(..\)\(..\)/\4\3\2\1/')
        got=$("$probe" show "$upper/data/cap" | sed -n 's/.*security.capability=\([0-9a-f]*\).*/\1/p')
        case $got in
        01000003*"$want") ;;
        *) fail "$1: capability on the host $got, expected v3 with rootid $hid ($want)" ;;
        esac
}

# ---- the tests -------------------------------------------------------------

roundtrip() { # roundtrip NAME IP [create options]
        name=$1 ip=$2
        shift 2
        expect 0 berth create "$name" --template bb --ip "$ip" --pids 64 --memory 128M --autostart "$@"
        expect 0 berth start "$name"
        setup_files "$name"
        show_files "$name" >"$tmp/$name.before"
        grep -q 'user.berth=' "$tmp/$name.before" || fail "the guest could not set a user xattr"
        cp "$data/vps/$name/vps.json" "$tmp/$name.json"
        out=$(berth backup "$name" "$tmp/$name.tar.zst" --json 2>/dev/null)
        [ "$(echo "$out" | json_field frozen)" = true ] || fail "a running VPS was not frozen for its backup: $out"
        [ "$(berth status "$name" --json | json_field state)" = running ] || fail "$name not running after its backup"
        expect 0 berth exec "$name" -- true
        zstd -t -q "$tmp/$name.tar.zst" || fail "the archive is not zstd"
        expect 0 berth destroy --force "$name"
        out=$(berth restore "$tmp/$name.tar.zst" --json 2>&1) || fail "restore $name: $out"
        expect 0 berth start "$name"
        same_files "$name" "$tmp/$name.before"
        for key in memory pids autostart backend disk inodes mac; do
                a=$(json_field $key <"$tmp/$name.json")
                b=$(json_field $key <"$data/vps/$name/vps.json")
                [ "$a" = "$b" ] || fail "$key changed over backup and restore: $a -> $b"
        done
        grep -q "\"$ip/" "$data/vps/$name/vps.json" || fail "address $ip not kept"
}

test_roundtrip() {
        roundtrip bk1 10.77.9.2
}

test_image() {
        roundtrip bki 10.77.9.20 --disk 64M
        [ "$(json_field backend <"$data/vps/bki/vps.json")" = "$want_backend" ] ||
                fail "bki's disk backend is not $want_backend"
        [ -z "$(our_loops | grep -v '/vps/bki/' || true)" ] || fail "loop devices left: $(our_loops)"
}

# A btrfs image (256M and up where the host has btrfs; 64M above is
# ext4): the same round trip, and the restored VPS keeps btrfs.
test_image_btrfs() {
        if ! grep -qw btrfs /proc/filesystems || ! command -v mkfs.btrfs >/dev/null ||
                [ "$want_backend" != image ]; then
                echo "   (no btrfs here, or a project quota: btrfs images not tested)"
                return
        fi
        roundtrip bkb 10.77.9.21 --disk 256M
        [ "$(json_field fs <"$data/vps/bkb/vps.json")" = btrfs ] || fail "bkb is not on a btrfs image"
        expect 0 berth destroy --force bkb
}

test_other_name() {
        # Next to the original (running), with a range, MAC and address of its own.
        expect 0 berth restore "$tmp/bk1.tar.zst" --name bk1b --ip 10.77.9.3
        expect 0 berth start bk1b
        same_files bk1b "$tmp/bk1.before"
        m1=$(json_field mac <"$data/vps/bk1/vps.json")
        m2=$(json_field mac <"$data/vps/bk1b/vps.json")
        [ "$m1" != "$m2" ] || fail "restore under another name kept the MAC $m1"
        u1=$(stat -c %u "$data/vps/bk1/upper")
        u2=$(stat -c %u "$data/vps/bk1b/upper")
        [ "$u1" != "$u2" ] || fail "bk1 and bk1b share host id $u1"
}

# A VPS with snapshots: its files live in the layers below its upper
# (l/<id>) as much as in it. The backup carries them and the snapshots'
# record; the restored VPS has every file and can roll back.
test_snapshots() {
        snapshots_roundtrip bks 10.77.9.40
}

# The same on a btrfs image, whose snapshots are subvolumes: the archive
# holds their content as l/<id> as from any other VPS.
test_snapshots_btrfs() {
        if ! grep -qw btrfs /proc/filesystems || ! command -v mkfs.btrfs >/dev/null ||
                [ "$want_backend" != image ]; then
                echo "   (no btrfs here, or a project quota: btrfs images not tested)"
                return
        fi
        snapshots_roundtrip bksb 10.77.9.41 --disk 256M
}

snapshots_roundtrip() { # snapshots_roundtrip NAME IP [create options]
        n=$1 ip=$2
        shift 2
        expect 0 berth create $n --template bb --ip "$ip" "$@"
        expect 0 berth start $n
        expect 0 berth exec $n -- sh -c 'echo one >/root/a'
        expect 0 berth stop $n --timeout 10
        expect 0 berth snapshot $n s1 # stopped: upper/ becomes a layer
        expect 0 berth start $n
        expect 0 berth exec $n -- sh -c 'echo two >/root/a; echo new >/root/b'
        expect 0 berth snapshot $n s2 # running: a copy of upper/
        expect 0 berth exec $n -- sh -c 'echo three >/root/a'
        expect 0 berth backup $n "$tmp/bks.tar.zst"
        # A btrfs image's backup reads a snapshot of its own, deleted after.
        if [ "$(json_field fs <"$data/vps/$n/vps.json")" = btrfs ]; then
                expect 0 berth stop $n --timeout 10 # its image mounted once only
                subs=$(unshare --mount sh -c "mount -o ro,loop '$data/vps/$n/disk.img' '$data/vps/$n/disk' &&
                        btrfs subvolume list -o '$data/vps/$n/disk'" 2>&1)
                echo "$subs" | grep -q " cur$" || fail "$n: no subvolumes seen: $subs"
                ! echo "$subs" | grep -q backup || fail "$n: the backup's snapshot is left: $subs"
        fi
        expect 0 berth destroy --force $n
        expect 0 berth restore "$tmp/bks.tar.zst"
        berth snapshot-list $n | grep -q s1 || fail "$n: s1 lost: $(berth snapshot-list $n 2>&1)"
        berth snapshot-list $n | grep -q s2 || fail "$n: s2 lost"
        expect 0 berth start $n
        got=$(berth exec $n -- cat /root/a /root/b 2>&1 | tr '\n' ' ')
        [ "$got" = "three new " ] || fail "$n restored: /root/a, /root/b are '$got' (want three, new)"
        expect 0 berth snapshot-restore $n s1 --force
        got=$(berth exec $n -- sh -c 'cat /root/a; test -e /root/b && echo b' 2>&1 | tr '\n' ' ')
        [ "$got" = "one " ] || fail "$n: after snapshot-restore s1: '$got' (want one, no b)"
        expect 0 berth destroy --force $n
}

test_refusals() {
        # Name taken, address taken (the archive's, held by bk1).
        expect 4 berth restore "$tmp/bk1.tar.zst"
        expect 4 berth restore "$tmp/bk1.tar.zst" --name bk1x
        nothing_left bk1x
        # Truncated: half of the archive, and an archive cut in its header.
        size=$(stat -c %s "$tmp/bki.tar.zst")
        head -c $((size / 2)) "$tmp/bki.tar.zst" >"$tmp/trunc.tar.zst"
        out=$(berth restore "$tmp/trunc.tar.zst" --name bkt --ip 10.77.9.30 2>&1) &&
                fail "a truncated archive was restored: $out"
        echo "$out" | grep -qi "truncated\|damaged" || fail "no word of damage: $out"
        nothing_left bkt
        head -c 100 "$tmp/bk1.tar.zst" | berth restore - --name bkt2 --ip 10.77.9.31 >/dev/null 2>&1 &&
                fail "a 100-byte archive was restored"
        nothing_left bkt2
        echo garbage >"$tmp/garbage"
        expect 1 berth restore "$tmp/garbage" --name bkt3
        nothing_left bkt3
        # A backup of no such VPS: exit 3, no file.
        expect 3 berth backup nosuch "$tmp/nosuch.tar.zst"
        [ -z "$(ls "$tmp" | grep nosuch || true)" ] || fail "a failed backup left $(ls "$tmp" | grep nosuch)"
        # A restore killed half-way (its image disk mounted, data coming
        # through a fifo): `vps repair` removes what it left.
        mkfifo "$tmp/feed"
        berth restore "$tmp/feed" --name bkk --ip 10.77.9.50 >/dev/null 2>&1 &
        pid=$!
        exec 3>"$tmp/feed"
        head -c $((size / 2)) "$tmp/bki.tar.zst" >&3
        i=0
        while [ -z "$(ls -A "$data/vps" | grep '^\.new\.bkk\.' || true)" ] && [ $i -lt 100 ]; do
                sleep 0.1
                i=$((i + 1))
        done
        [ $i -lt 100 ] || fail "the restore never began building"
        kill -9 "$pid"
        wait "$pid" 2>/dev/null
        exec 3>&-
        rm -f "$tmp/feed"
        berth repair >/dev/null 2>&1
        nothing_left bkk
        [ -z "$(our_loops | grep '\.new\.' || true)" ] || fail "the killed restore's loop device stayed"
}

# A backup killed while the VPS is frozen for it (its output a pipe nobody
# reads, so it blocks in the copy once zstd hands out its first block of
# several MiB): the VPS stays frozen until `vps repair`, which thaws it
# from the backup's journal and says so.
# frozen NAME: the VPS's init is in a frozen cgroup: berth freezes the
# unified hierarchy's cgroup.freeze where it has the VPS's cgroup (pure v2,
# and hybrid hosts), else the v1 freezer.
frozen() {
        p=$(berth status "$1" --json | json_field pid)
        v2=$(sed -n 's/^0::\(.*\)/\1/p' "/proc/$p/cgroup" 2>/dev/null)
        v1=$(sed -n 's/^[0-9]*:freezer:\(.*\)/\1/p' "/proc/$p/cgroup" 2>/dev/null)
        for u in /sys/fs/cgroup/unified /sys/fs/cgroup; do
                [ -e "$u$v2/cgroup.freeze" ] || continue
                grep -qx "frozen 1" "$u$v2/cgroup.events"
                return
        done
        [ "$(cat "/sys/fs/cgroup/freezer$v1/freezer.state" 2>/dev/null)" = FROZEN ]
}

backup_killed() { # backup_killed NAME
        berth exec "$1" -- dd if=/dev/urandom of=/root/noise bs=1M count=48 2>/dev/null
        berth backup "$1" - 2>/dev/null | sleep 60 &
        i=0
        while ! frozen "$1" && [ $i -lt 100 ]; do
                sleep 0.1
                i=$((i + 1))
        done
        pid=$(pgrep -f -n "vps --data-dir $data backup $1 -")
        [ -n "$pid" ] || { fail "$1: no backup process"; return; }
        [ $i -lt 100 ] || echo "   ($1: the backup froze the VPS only briefly: btrfs)"
        kill -9 "$pid"
        pkill -f -n "^sleep 60$" 2>/dev/null
        wait
        out=$(berth repair 2>&1)
        echo "$out" | grep -q "interrupted backup" || fail "$1: repair did not end the killed backup: $out"
        ! frozen "$1" || fail "$1 is still frozen after repair"
        expect 0 berth exec "$1" -- true
        [ ! -e "$data/vps/$1/snapshot.pending" ] || fail "$1: the backup's journal stayed"
        out=$(berth repair 2>&1)
        [ "$out" = consistent ] || fail "repair after repair: $out"
}

test_killed() {
        expect 0 berth create bkz --template bb --ip 10.77.9.30
        expect 0 berth start bkz
        backup_killed bkz
        expect 0 berth destroy --force bkz
}

test_clone() {
        # A host key of the source's own (not the template's): not the clone's.
        berth exec bk1 -- sh -c 'mkdir -p /etc/ssh && echo sourcekey >/etc/ssh/ssh_host_ed25519_key' ||
                fail "cannot make a host key in bk1"
        expect 0 berth clone bk1 bkc --ip 10.77.9.4
        [ "$(berth status bk1 --json | json_field state)" = running ] || fail "bk1 not running after the clone"
        expect 0 berth start bkc
        same_files bkc "$tmp/bk1.before"
        id1=$(berth exec bk1 -- cat /etc/machine-id)
        id2=$(berth exec bkc -- cat /etc/machine-id)
        [ -n "$id2" ] && [ "$id1" != "$id2" ] || fail "the clone's machine-id is the source's ($id1)"
        key=$(berth exec bkc -- cat /etc/ssh/ssh_host_ed25519_key 2>/dev/null)
        [ "$key" != sourcekey ] || fail "the clone has the source's SSH host key"
        [ "$(json_field mac <"$data/vps/bk1/vps.json")" != "$(json_field mac <"$data/vps/bkc/vps.json")" ] ||
                fail "the clone has the source's MAC"
        expect 4 berth clone bk1 bkc
        expect 3 berth clone nosuch bkc2
        nothing_left bkc2
}

test_template() {
        # Another data directory without template bb: refused, unless the
        # archive carries it.
        mkdir -p "$data2"
        expect 3 berth2 restore "$tmp/bk1.tar.zst" --ip 10.77.9.40
        [ -z "$(ls -A "$data2/vps" 2>/dev/null)" ] || fail "left in $data2/vps: $(ls -A "$data2/vps")"
        expect 0 berth backup bk1 "$tmp/bk1t.tar.zst" --with-template
        expect 0 berth2 restore "$tmp/bk1t.tar.zst" --ip 10.77.9.40
        [ -d "$data2/templates/bb/rootfs" ] || fail "the template was not restored"
        expect 0 berth2 start bk1
        show_files_2=$("$bin" --root "$root" vps --data-dir "$data2" exec bk1 -- bkprobe show $FILES)
        [ "$show_files_2" = "$(cat "$tmp/bk1.before")" ] || fail "files differ in the other data directory"
        expect 0 berth2 destroy --force bk1
        # A different template of the same name: refused without it, and
        # restored beside under bb-<checksum> with it.
        echo changed >"$data2/templates/bb/rootfs/etc/changed"
        expect 4 berth2 restore "$tmp/bk1.tar.zst" --ip 10.77.9.41
        out=$(berth2 restore "$tmp/bk1t.tar.zst" --ip 10.77.9.41 --json 2>&1) || fail "restore beside: $out"
        tpl=$(echo "$out" | json_field template)
        case $tpl in bb-*) ;; *) fail "template restored as '$tpl', expected bb-<checksum>" ;; esac
        expect 0 berth2 destroy --force bk1
}

# ---- main ------------------------------------------------------------------

if [ "${BERTH_VPS_TEST_NETNS:-}" != 1 ]; then
        BERTH_VPS_TEST_NETNS=1 exec unshare --net --mount /bin/sh "$0" "$bin" "$probe" "$@"
fi
ip link set lo up 2>/dev/null

# BERTH_DISK_PRJQUOTA=1 (the v2 test guest, whose kernel has project
# quotas): the data directory on an ext4 mounted with prjquota, so that
# --disk takes the project backend.
base=/tmp prj="" want_backend=image tmp="" data=/nonexistent data2=/nonexistent root=/nonexistent
trap cleanup EXIT
prjquota_base berth-backup-prj
tmp=$(mktemp -d "$base/berth-backup.XXXXXX")
chmod 711 "$tmp"
idmappable "$tmp" || skip "$tmp cannot be idmapped"
data=$tmp/d0
data2=$tmp/d1
root=$tmp/run
BERTH_ID_REGISTRY=$tmp/id-ranges # not the host's /var/lib/berth/id-ranges
BERTH_CONFIG_DIR=$tmp/etc        # no host defaults
export BERTH_ID_REGISTRY BERTH_CONFIG_DIR
bb_template
cp "$probe" "$data/templates/bb/rootfs/bin/bkprobe"

run_named "roundtrip image image_btrfs other_name refusals killed clone template snapshots snapshots_btrfs" "$@"
finish
