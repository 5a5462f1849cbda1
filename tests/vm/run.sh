#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/vm/run.sh -- run a command as root in a pure cgroup-v2 test guest.
#
#   tests/vm/run.sh [OPTIONS] -- COMMAND [ARG...]
#
# Boots Debian 12's kernel (prepared by tests/vm/setup.sh) under qemu TCG
# with cgroup2 as the only hierarchy and every controller enabled in the
# root's cgroup.subtree_control, then runs COMMAND as root in the guest.
# COMMAND's stdout+stderr come out on our stdout; we exit with its status.
#
# The guest sees the host's whole filesystem read-only (9p) under a tmpfs
# overlay, so the freshly built binaries run at their host paths; the
# repository (or each --rw DIR) is shared read-write at its host path, so
# results written there persist.  The working directory is kept.
#
# Options:
#   --timeout S   kill the guest after S seconds, exit 124 (default 600,
#                 or $BERTH_VM_TIMEOUT)
#   --rw DIR      share DIR read-write (repeatable; default: the repository)
#   -e VAR=VAL    set an environment variable for COMMAND (repeatable)
#   --mem SIZE    guest memory (default 2G, or $BERTH_VM_MEM)
#   --smp N       guest vCPUs (default 2)
#   --verbose     copy the guest's kernel console log to stderr afterwards
#   --systemd     boot systemd as PID 1 (with a D-Bus system bus) and run
#                 COMMAND as its only service, berth-vm.service; nothing
#                 of sysinit.target runs (see guest-init.sh)
#
# Exit status: COMMAND's; 124 on timeout; 125 if the guest failed before
# reporting a status (the console log is then printed on stderr).
# Works without a tty or stdin (CI); COMMAND's stdin is /dev/null.
# Environment: BERTH_VM_CACHE (default /var/cache/berth-vm), BERTH_VM_MODULES
# (extra kernel modules to load before COMMAND).  See DEVELOPERS.md.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cache=${BERTH_VM_CACHE:-/var/cache/berth-vm}
timeout=${BERTH_VM_TIMEOUT:-600}
mem=${BERTH_VM_MEM:-2G}
smp=2
verbose=0
systemd=0
rw=()
envs=()

usage() {
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
	exit 125
}

while [ $# -gt 0 ]; do
	case $1 in
	--timeout) timeout=${2:?}; shift 2 ;;
	--rw) rw+=("$(cd "${2:?}" && pwd)"); shift 2 ;;
	-e) [[ ${2:?} == [A-Za-z_]*=* ]] || usage; envs+=("$2"); shift 2 ;;
	--mem) mem=${2:?}; shift 2 ;;
	--smp) smp=${2:?}; shift 2 ;;
	--verbose) verbose=1; shift ;;
	--systemd) systemd=1; shift ;;
	--) shift; break ;;
	*) usage ;;
	esac
done
[ $# -gt 0 ] || usage
[[ $timeout =~ ^[0-9]+$ ]] || usage
[ ${#rw[@]} -gt 0 ] || rw=("$repo")
# microvm offers a fixed number of virtio-mmio slots (8 by default), and
# we use three ourselves.
[ ${#rw[@]} -le 5 ] || {
	echo "run.sh: at most 5 --rw shares" >&2
	exit 125
}

[ -r "$cache/current" ] || {
	echo "run.sh: no guest kernel in $cache; run tests/vm/setup.sh first" >&2
	exit 125
}
. "$cache/current"
# Keep the initramfs in step with a changed stage-1 script (cheap if not).
if [ "$here/initramfs-init.sh" -nt "$BERTH_VM_INITRD.stamp" ]; then
	"$here/setup.sh" >&2 || exit 125
	. "$cache/current"
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/berth-vm.XXXXXX")
qpid=
cleanup() {
	if [ -n "$qpid" ]; then
		kill -KILL "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

res=$tmp/res
mkdir "$res"
{
	echo "BERTH_VM_STAGE2=$(printf %q "$here/guest-init.sh")"
	echo "BERTH_VM_KVER=$BERTH_VM_KVER"
	echo "BERTH_VM_MODDIR=$(printf %q "$BERTH_VM_MODDIR")"
	echo "BERTH_VM_LATE_MODULES='${BERTH_VM_MODULES:-}'"
	echo "BERTH_VM_CWD=$(printf %q "$PWD")"
	echo "BERTH_VM_SYSTEMD=$systemd"
	# The guest has no RTC worth trusting under TCG; make would see host
	# files from the "future" without this.
	echo "BERTH_VM_DATE=$(date -u +%s)"
} >"$res/config"

# The command, as a bash script (printf %q quoting is bash's).
{
	echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
	echo 'export HOME=/root LANG=C.UTF-8 TERM=dumb USER=root LOGNAME=root'
	echo 'unset BERTH_VM_STAGE2 BERTH_VM_KVER BERTH_VM_MODDIR BERTH_VM_LATE_MODULES BERTH_VM_CWD BERTH_VM_DATE BERTH_VM_SYSTEMD'
	for e in ${envs[@]+"${envs[@]}"}; do
		echo "export ${e%%=*}=$(printf %q "${e#*=}")"
	done
	printf 'exec'
	printf ' %q' "$@"
	echo
} >"$res/cmd"

fs=()
: >"$res/shares"
n=0
for d in "${rw[@]}"; do
	fs+=(-fsdev "local,id=rw$n,path=$d,security_model=passthrough,multidevs=remap"
		-device "virtio-9p-device,fsdev=rw$n,mount_tag=berthrw$n")
	printf 'berthrw%d %s\n' $n "$d" >>"$res/shares"
	n=$((n + 1))
done

# microvm hangs calibrating the TSC without a hint; TCG's TSC runs at the
# host's rate.
khz=$(awk -F': *' '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
cmdline="console=ttyS0 loglevel=4 rdinit=/init panic=-1 reboot=t"
cmdline+=" tsc_early_khz=${khz:-2000000} tsc=reliable mitigations=off"
cmdline+=" systemd.unified_cgroup_hierarchy=1 cgroup_no_v1=all"

# stdout of qemu carries only COMMAND's output (virtio console hvc0); the
# kernel console goes to a file.  -no-reboot + reboot=t: the guest ends
# itself (and any panic ends qemu) by rebooting.
qemu-system-x86_64 \
	-M microvm,x-option-roms=off,isa-serial=on,rtc=on \
	-accel tcg -cpu max -smp "$smp" -m "$mem" \
	-nodefaults -no-user-config -display none -no-reboot \
	-kernel "$BERTH_VM_VMLINUX" -initrd "$BERTH_VM_INITRD" -append "$cmdline" \
	-serial "file:$tmp/console.log" \
	-device virtio-serial-device \
	-chardev stdio,id=out,signal=off -device virtconsole,chardev=out \
	-fsdev local,id=root,path=/,security_model=passthrough,readonly=on,multidevs=remap \
	-device virtio-9p-device,fsdev=root,mount_tag=berthroot \
	-fsdev "local,id=res,path=$res,security_model=passthrough" \
	-device virtio-9p-device,fsdev=res,mount_tag=berthres \
	"${fs[@]}" </dev/null &
qpid=$!

# Our own timeout rather than timeout(1): it keeps qemu our direct child,
# so the traps above can always reap it.
deadline=$((SECONDS + timeout))
while kill -0 "$qpid" 2>/dev/null; do
	if [ $SECONDS -ge $deadline ]; then
		kill -KILL "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
		qpid=
		echo "run.sh: guest timed out after ${timeout}s; console log:" >&2
		tail -n 40 "$tmp/console.log" >&2; [ -z "${BERTH_VM_KEEPLOG:-}" ] || cp "$tmp/console.log" "$BERTH_VM_KEEPLOG"
		exit 124
	fi
	sleep 0.2
done
wait "$qpid" || true
qpid=

[ $verbose = 1 ] && cat "$tmp/console.log" >&2
if [ -s "$res/rc" ]; then
	exit "$(cat "$res/rc")"
fi
echo "run.sh: guest ended without reporting a status; console log:" >&2
tail -n 60 "$tmp/console.log" >&2
exit 125
