#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs every Debian package berth needs (build, tests, benchmarks) and
# builds build/berth (+ build/berth-full). Idempotent; run as root on Debian 12.
set -eu
cd "$(dirname "$0")/.."

PACKAGES="build-essential cmake pkg-config git
libcap-dev libseccomp-dev libmnl-dev libjansson-dev libarchive-dev libzstd-dev check libsystemd-dev
clang clang-format libclang-rt-14-dev llvm python3
busybox-static iproute2 procps kmod cpio xz-utils zstd e2fsprogs btrfs-progs
qemu-system-x86 criu debootstrap systemd dbus
runc crun hyperfine podman containerd uidmap slirp4netns fuse-overlayfs
libnftables-dev nftables lxcfs openssh-client openssh-server rsync scdoc bash-completion acl"

missing=""
for p in $PACKAGES; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed' || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "setup: installing:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing
fi

# berth static (the default; explicit here so that an older build/ cache
# switches too), with berth-full next to it for `vps` and `template`.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DBERTH_STATIC=ON >/dev/null
cmake --build build -j"$(nproc)"
echo "setup: built $(pwd)/build/berth and build/berth-full (install both, side by side)"
