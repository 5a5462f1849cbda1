#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/clients/run.sh BERTH_BINARY -- drives Debian's podman and containerd
# (ctr + the io.containerd.runc.v2 shim) against berth, offline.
#
# Everything lives in a temporary directory: a busybox image made from the
# host's busybox-static (podman import; podman save --format oci-archive ->
# ctr image import), podman's storage/run/tmp dirs and containers.conf,
# a CNI bridge network of its own (unique bridge name, no masquerading or
# firewall rules), a containerd with its own root/state/socket. The
# containers' cgroups go below the test's own cgroup. The containerd daemon
# is started and stopped here; nothing is left behind.
#
# Prints "ok - ..." / "not ok - ..." per check and "N passed, N failed";
# exits 1 on any failure, 77 (skip) only when the clients cannot be
# installed or the test does not run as root.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 BERTH_BINARY" >&2
	exit 2
fi
BERTH=$(realpath "$1")
if [ "$(id -u)" != 0 ]; then
	echo "skip: the client test needs root"
	exit 77
fi
if ! ensure_clients; then
	echo "skip: podman/containerd/busybox-static are missing and apt-get cannot install them"
	exit 77
fi

T=$(mktemp -d /tmp/berth-clients.XXXXXX)
# conmon drops an "oom" marker into its working directory when a container is
# OOM-killed: keep that (and anything else) inside the test directory.
cd "$T"
CG_OWN=$(own_cgroup)
CG=$CG_OWN/berth-clients-$$
BR=bcl$$
SUBNET=10.231.$(($$ % 200 + 20))
IMG=localhost/berthbox:latest
CTD_PID=
netns_before=$(ls /run/netns 2>/dev/null)
# Paths the clients write outside our directory whatever they are told:
# containerd's shim sockets and fifos (/run/containerd), CNI's result cache,
# containers/image's blob-info cache. Removed afterwards if we made them.
global_dirs=(/run/containerd /var/lib/cni /var/lib/containers/cache)
global_new=()
for d in "${global_dirs[@]}"; do [ -e "$d" ] || global_new+=("$d"); done

# Each hierarchy level between the hierarchy root and our own cgroup that
# does not exist yet is created by podman/berth: remember to remove it.
created_levels=()
for root in $(cgroup_roots); do
	p=
	IFS=/ read -ra parts <<<"${CG_OWN#/}"
	for part in "${parts[@]}"; do
		[ -n "$part" ] || continue
		p=$p/$part
		[ -d "$root$p" ] || created_levels+=("$root$p")
	done
done

# podman's CNI bridge turns on IPv4 forwarding machine-wide: put it back.
ip_forward_before=$(cat /proc/sys/net/ipv4/ip_forward)

cleanup() {
	trap - EXIT INT TERM
	echo "$ip_forward_before" >/proc/sys/net/ipv4/ip_forward
	podman_cleanup
	containerd_cleanup
	# Anything still running from our directories (conmon, shims).
	for pid in $(grep -l -s -F "$T" /proc/[0-9]*/cmdline | cut -d/ -f3); do
		[ "$pid" != $$ ] && kill -9 "$pid" 2>/dev/null
	done
	umount_below "$T"
	remove_cgroups "$CG"
	for ((i = ${#created_levels[@]} - 1; i >= 0; i--)); do
		rmdir "${created_levels[$i]}" 2>/dev/null
	done
	ip link del "$BR" 2>/dev/null
	for ns in /run/netns/*; do
		[ -e "$ns" ] || continue
		if ! grep -qx "${ns##*/}" <<<"$netns_before"; then
			umount "$ns" 2>/dev/null
			rm -f "$ns"
		fi
	done
	rm -f /var/lib/cni/results/berthtest-* 2>/dev/null
	for d in "${global_new[@]}"; do rm -rf "$d"; done
	rmdir /var/lib/containers 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=podman.sh
. "$here/podman.sh"
# shellcheck source=containerd.sh
. "$here/containerd.sh"

start=$(date +%s)
# BERTH_CLIENTS=containerd skips podman's tests (containerd still imports
# the image through podman).
if make_busybox_tar "$T/bbroot" "$T/busybox.tar" && podman_setup; then
	[ "${BERTH_CLIENTS:-podman containerd}" = containerd ] || podman_tests
else
	notok "podman setup (import of the busybox image)"
fi
if containerd_setup; then
	containerd_tests
else
	notok "containerd setup (daemon start, image import)"
fi
echo "# $(($(date +%s) - start)) s"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
