#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
# Stage 1 of the berth test guest: /init of the initramfs built by setup.sh.
#
# Job: turn the host's filesystem (shared read-only over 9p) into a writable
# real root and switch to it.  We cannot stay on the initramfs: rootfs has no
# parent mount, so pivot_root(2) -- which every container runtime needs --
# fails with EINVAL there.  An overlay (9p lower + tmpfs upper) mounted on top
# of rootfs does have a parent, so pivot_root works after switch_root.
#
# Everything run-specific (extra shares, the command) lives in the results
# share written by run.sh; stage 2 (guest-init.sh) is read from the host at
# its host path, so editing it needs no initramfs rebuild.
set -u

/bin/busybox --install -s /bin
export PATH=/bin

die() {
	echo "berth-vm stage1: $*" >&2
	# reboot=t + qemu -no-reboot: a reboot ends qemu; no results file tells
	# run.sh the guest failed.
	reboot -f
	sleep 10
	exit 1
}

mount -t proc proc /proc || die "mount /proc"
mount -t sysfs sysfs /sys || die "mount /sys"
mount -t devtmpfs devtmpfs /dev || die "mount /dev"

# Load the modules packed by setup.sh; the list need not be in load order:
# busybox modprobe resolves each one's dependencies from modules.dep.
for m in $(cat /etc/berth-vm-modules); do
	modprobe "$m" || die "modprobe $m"
done

# virtio-mmio devices are probed asynchronously; wait for the 9p tags.
i=0
while [ ! -e /sys/bus/virtio/drivers/9pnet_virtio ] ||
	! grep -qs berthres /sys/bus/virtio/drivers/9pnet_virtio/virtio*/mount_tag; do
	i=$((i + 1))
	[ $i -gt 200 ] && die "9p devices did not appear"
	sleep 0.05
done

opts=trans=virtio,version=9p2000.L,msize=262144
mkdir -p /lower /rw /newroot
# The host root does not change while the guest runs: cache it aggressively.
mount -t 9p -o ro,$opts,cache=loose berthroot /lower || die "mount host root"
mount -t tmpfs -o mode=0755 rw /rw || die "mount tmpfs"
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work \
	berthroot /newroot || die "mount overlay root"

# /run is a tmpfs in the guest (as on a systemd host); the results share
# sits inside it so stage 2 finds its instructions at a fixed place.
mount -t tmpfs -o mode=0755,nosuid,nodev run /newroot/run || die "mount /run"
mkdir -p /newroot/run/berth-vm
mount -t 9p -o $opts,cache=none berthres /newroot/run/berth-vm ||
	die "mount results"
. /newroot/run/berth-vm/config || die "read config"

for d in dev proc sys; do
	mount --move /$d /newroot/$d || die "move /$d"
done
# shellcheck disable=SC2093 # die only runs if switch_root fails
exec switch_root /newroot /bin/busybox sh "$BERTH_VM_STAGE2"
die "switch_root failed"
