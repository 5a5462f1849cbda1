#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=dash
# Stage 2 of the berth test guest: PID 1 after switch_root (see
# initramfs-init.sh), read from the host's tree over 9p.
#
# Sets up a host-like system on a pure cgroup-v2 kernel -- the mounts a
# systemd host would have, every controller enabled in the root cgroup's
# subtree_control, the extra modules the tests need -- then runs the command
# run.sh wrote, as root, and records its exit status in the results share.
# Runs with busybox's sh so it does not depend on the host's shell.
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
bb=/bin/busybox
res=/run/berth-vm
. $res/config

fail() {
	echo "berth-vm stage2: $*" >&2
	$bb reboot -f
	sleep 10
	exit 1
}

# Runs COMMAND, records its status and powers the guest off (a reboot,
# which ends qemu): the last step of stage 2, or, with --systemd, the
# service systemd starts (this script with the argument "run").
run_command() {
	# COMMAND's output goes to the virtio console, which run.sh's qemu
	# connects to its stdout.  Keep it open on fd 3 for the whole run: a
	# tty's settings are reset when its last file is closed, and we need it
	# raw (no \n -> \r\n) from first byte to last.
	exec 3<>/dev/hvc0
	$bb stty raw -echo <&3
	(
		cd "$BERTH_VM_CWD" 2>/dev/null || cd /
		exec $bb setsid /bin/bash $res/cmd </dev/null >&3 2>&3 3>&-
	)
	rc=$?
	# tcsetattr(TCSADRAIN) waits until the console has handed every byte
	# to the host, so nothing is cut off by the reboot below.
	$bb stty raw <&3
	echo "$rc" >$res/rc.tmp && $bb mv $res/rc.tmp $res/rc
	$bb sync
	$bb reboot -f
}
[ "${1:-}" = run ] && run_command

# What udev/systemd would add to devtmpfs (bash needs /dev/fd for <(...)).
$bb ln -sf /proc/self/fd /dev/fd
$bb ln -sf /proc/self/fd/0 /dev/stdin
$bb ln -sf /proc/self/fd/1 /dev/stdout
$bb ln -sf /proc/self/fd/2 /dev/stderr
$bb ln -sf /proc/kcore /dev/core
$bb mkdir -p /dev/pts
$bb mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=5 devpts \
	/dev/pts || fail "mount /dev/pts"
$bb mkdir -p /dev/shm /dev/mqueue
$bb mount -t tmpfs -o nosuid,nodev,mode=1777 shm /dev/shm || fail "/dev/shm"
$bb mount -t mqueue mqueue /dev/mqueue 2>/dev/null
$bb mount -t tmpfs -o nosuid,mode=1777 tmp /tmp || fail "mount /tmp"
# Options as systemd mounts them on a unified-hierarchy host.
$bb mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 \
	/sys/fs/cgroup || fail "mount cgroup2"
for c in $($bb cat /sys/fs/cgroup/cgroup.controllers); do
	echo "+$c" >/sys/fs/cgroup/cgroup.subtree_control ||
		fail "enable controller $c"
done
for fs in securityfs:/sys/kernel/security debugfs:/sys/kernel/debug \
	tracefs:/sys/kernel/tracing bpf:/sys/fs/bpf; do
	$bb mount -t "${fs%%:*}" "${fs%%:*}" "${fs#*:}" 2>/dev/null
done

# The guest kernel's full module tree (extracted by setup.sh) where modprobe
# looks for it; the overlay upper layer makes the mountpoint creatable.
$bb mkdir -p "/lib/modules/$BERTH_VM_KVER" &&
	$bb mount --bind "$BERTH_VM_MODDIR" "/lib/modules/$BERTH_VM_KVER" ||
	fail "bind modules"
# The kernel's module autoloading (sock_diag, nf_tables, ...) runs
# modprobe_path; the host may have no kmod, so point it at busybox's
# modprobe, which reads the modules.dep/alias that setup.sh generated.
$bb mkdir -p /run/berth-vm-sbin
$bb ln -s $bb /run/berth-vm-sbin/modprobe
echo /run/berth-vm-sbin/modprobe >/proc/sys/kernel/modprobe
[ -e /sbin/modprobe ] || $bb ln -s $bb /sbin/modprobe
for m in $BERTH_VM_LATE_MODULES; do
	$bb modprobe "$m" || fail "modprobe $m"
done

# Read-write shares (the build tree, ...) at their host paths.
while read -r tag path; do
	[ -n "$tag" ] || continue
	$bb mkdir -p "$path" &&
		$bb mount -t 9p -o "trans=virtio,version=9p2000.L,msize=262144,cache=mmap" \
			"$tag" "$path" || fail "mount $tag on $path"
done <$res/shares

# Host time (the CMOS clock only has whole seconds), rounded up so that
# files the host writes -- also through the 9p shares -- never look like
# they come from the future to make and friends in the guest.
up=$($bb cut -d. -f1 /proc/uptime)
$bb date -u -s "@$((BERTH_VM_DATE + up + 1))" >/dev/null
$bb hostname berth-vm
$bb ip link set lo up
# Like systemd: shared propagation from /, so runtimes see the usual host.
$bb mount --make-rshared /

# --systemd: systemd becomes PID 1 and starts only berth-vm.target: the
# command's service and a D-Bus system bus, both without the default
# dependencies, so nothing of sysinit.target (udev, journald, fsck, ...)
# runs.  The units live in /run/systemd/system, where they outrank the
# host's packaged ones (dbus.socket/dbus.service are replaced whole).
# The options go on systemd's own command line: a host that is itself a
# container leaves /.dockerenv in the shared root, and systemd, taking
# the guest for a container, would ignore the kernel's (and behave as in
# one), so that file goes from the overlay too.
if [ "${BERTH_VM_SYSTEMD:-0}" = 1 ]; then
	$bb rm -f /.dockerenv /run/.containerenv
	u=/run/systemd/system
	$bb mkdir -p $u
	cat >$u/berth-vm.target <<-EOF
		[Unit]
		Description=berth test guest: the command only
		Requires=berth-vm.service
		AllowIsolate=yes
	EOF
	cat >$u/berth-vm.service <<-EOF
		[Unit]
		Description=berth test guest command
		DefaultDependencies=no
		Requires=dbus.socket
		After=dbus.socket
		[Service]
		Type=oneshot
		ExecStart=$bb sh $0 run
		StandardOutput=tty
		TTYPath=/dev/console
	EOF
	cat >$u/dbus.socket <<-EOF
		[Unit]
		Description=D-Bus system bus socket
		DefaultDependencies=no
		[Socket]
		ListenStream=/run/dbus/system_bus_socket
	EOF
	cat >$u/dbus.service <<-EOF
		[Unit]
		Description=D-Bus system bus
		DefaultDependencies=no
		Requires=dbus.socket
		[Service]
		Type=notify
		NotifyAccess=main
		ExecStart=/usr/bin/dbus-daemon --system --address=systemd: --nofork --nopidfile --systemd-activation --syslog-only
	EOF
	# Faster under TCG (about 6 s of ~8): no generators (fstab, getty,
	# sysv, ...: nothing they make is started), and only our own unit
	# directory, not the host's whole unit tree to index.
	$bb mount -t tmpfs -o ro,mode=0755 nogen /usr/lib/systemd/system-generators ||
		fail "hide the systemd generators"
	export SYSTEMD_UNIT_PATH=$u
	exec /lib/systemd/systemd --unit=berth-vm.target --show-status=0 \
		--log-level=warning --log-target=console
fi
run_command
