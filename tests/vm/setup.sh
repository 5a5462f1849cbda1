#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/vm/setup.sh -- prepare everything tests/vm/run.sh needs.
#
# Idempotent and cached: a second call only checks stamps.  Needs root and
# Debian 12 package access (apt).  Nothing touches the host's /boot or its
# installed kernel: the guest kernel package is downloaded and unpacked into
# the cache directory ($BERTH_VM_CACHE, default /var/cache/berth-vm):
#
#   kernel/<kver>/            dpkg-deb -x of linux-image-<kver> (+ modules.dep)
#   kernel/<kver>/vmlinux     uncompressed ELF, booted by qemu -M microvm
#   initramfs-<kver>.cpio     busybox-static + needed modules + stage-1 init
#   current                   shell fragment naming the above for run.sh
#
# Options: --force   rebuild the cache even if it looks complete.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cache=${BERTH_VM_CACHE:-/var/cache/berth-vm}
force=0
[ "${1:-}" = --force ] && force=1

# Modules the guest loads at boot, dependencies resolved from modules.dep:
# virtio-mmio transport (microvm has no PCI), 9p for the shared host
# filesystem, virtio console for the command's output, and what the berth
# tests need (overlay rootfs, veth/bridge networking, ext4/loop images, tun).
modules="virtio_mmio 9pnet_virtio 9p overlay virtio_console veth bridge ext4 loop tun"

log() { echo "berth-vm setup: $*" >&2; }

[ "$(id -u)" = 0 ] || {
	log "must run as root"
	exit 1
}

# --- host packages --------------------------------------------------------
need=()
for p in qemu-system-x86 busybox-static cpio xz-utils zstd criu iproute2; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	log "installing ${need[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends "${need[@]}" >&2 || {
		apt-get update >&2
		apt-get install -y --no-install-recommends "${need[@]}" >&2
	}
fi

# --- guest kernel ---------------------------------------------------------
mkdir -p "$cache"
# Several engineers may call run.sh (and so this) at once.
exec 9>"$cache/.lock"
flock 9
# linux-image-amd64 is the metapackage; its dependency names the versioned
# image (linux-image-6.1.0-NN-amd64), whose version string is the kver.
pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)
if [ -z "$pkg" ]; then
	apt-get update >&2
	pkg=$(apt-cache depends linux-image-amd64 |
		sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n1)
fi
[ -n "$pkg" ] || {
	log "cannot resolve linux-image-amd64"
	exit 1
}
kver=${pkg#linux-image-}
kdir=$cache/kernel/$kver

if [ $force = 1 ] || [ ! -e "$kdir/.complete" ]; then
	log "fetching $pkg"
	tmp=$(mktemp -d "$cache/.tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	# apt's _apt user cannot write to our cache dir; download as root
	# into the temp dir (apt warns, harmlessly).
	(cd "$tmp" && apt-get download "$pkg" >&2 2>/dev/null) ||
		(cd "$tmp" && apt-get update >&2 && apt-get download "$pkg" >&2)
	mkdir "$tmp/root"
	dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/root"
	# Debian ships uncompressed .ko files in bookworm; later kernels use
	# .ko.xz, which busybox insmod cannot read: unpack them.
	find "$tmp/root/lib/modules" -name '*.ko.xz' -exec xz -d {} + 2>/dev/null || true
	find "$tmp/root/lib/modules" -name '*.ko.zst' -exec zstd -d -q --rm {} + 2>/dev/null || true
	# modules.dep is generated at install time (postinst), not shipped.
	busybox depmod -b "$tmp/root" "$kver"
	"$here/extract-vmlinux.sh" "$tmp/root/boot/vmlinuz-$kver" "$tmp/root/vmlinux"
	rm -rf "$kdir"
	mkdir -p "$cache/kernel"
	mv "$tmp/root" "$kdir"
	touch "$kdir/.complete"
	rm -rf "$tmp"
	trap - EXIT
fi
moddir=$kdir/lib/modules/$kver

# --- initramfs ------------------------------------------------------------
# Rebuilt when the stage-1 init script or module list changes.
initrd=$cache/initramfs-$kver.cpio
stamp=$(cat "$here/initramfs-init.sh" /bin/busybox | sha256sum | cut -c1-16)-$(echo "$modules" | sha256sum | cut -c1-8)
if [ $force = 1 ] || [ ! -e "$initrd" ] || [ "$(cat "$initrd.stamp" 2>/dev/null)" != "$stamp" ]; then
	log "building $initrd"
	tmp=$(mktemp -d "$cache/.tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	mkdir -p "$tmp"/{bin,dev,proc,sys,etc} "$tmp/lib/modules/$kver"
	cp /bin/busybox "$tmp/bin/busybox"
	install -m 0755 "$here/initramfs-init.sh" "$tmp/init"
	echo "$modules" >"$tmp/etc/berth-vm-modules"
	# Closure of the module list over modules.dep ("mod.ko: dep.ko ...");
	# iterate to a fixed point rather than trusting depmod to list
	# indirect dependencies.
	want=
	for m in $modules; do
		f=$(grep -oE "^[^:]*/${m//_/[_-]}\.ko:" "$moddir/modules.dep") || {
			log "module $m not found"
			exit 1
		}
		want+=" ${f%:}"
	done
	while :; do
		more=$(for f in $want; do
			grep -E "^$f:" "$moddir/modules.dep" | tr -d :
		done | tr ' ' '\n' | sed '/^$/d' | sort -u)
		[ "$more" = "$(echo "$want" | tr ' ' '\n' | sort -u)" ] && break
		want=$more
	done
	for f in $want; do
		mkdir -p "$tmp/lib/modules/$kver/$(dirname "$f")"
		cp "$moddir/$f" "$tmp/lib/modules/$kver/$f"
		grep -E "^$f:" "$moddir/modules.dep" >>"$tmp/lib/modules/$kver/modules.dep"
	done
	# The kernel opens /dev/console for init before anything mounts
	# devtmpfs; without the node init runs with no stdin/stdout/stderr.
	mknod -m 600 "$tmp/dev/console" c 5 1
	(cd "$tmp" && find . -mindepth 1 | LC_ALL=C sort |
		cpio --quiet -o -H newc -R 0:0) >"$tmp.cpio"
	mv "$tmp.cpio" "$initrd"
	echo "$stamp" >"$initrd.stamp"
	rm -rf "$tmp"
	trap - EXIT
fi
# run.sh compares the stage-1 script's mtime against this.
touch "$initrd.stamp"

cat >"$cache/current.tmp.$$" <<EOF
BERTH_VM_KVER=$kver
BERTH_VM_VMLINUX=$kdir/vmlinux
BERTH_VM_INITRD=$initrd
BERTH_VM_MODDIR=$moddir
EOF
mv "$cache/current.tmp.$$" "$cache/current"
log "ready: kernel $kver in $cache"
