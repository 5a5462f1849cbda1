#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the security-test rootfs: the integration-test rootfs (busybox,
# probe, mount points) plus the static attacker at /bin/attacker.
#
# usage: mkrootfs.sh ROOTFS PROBE ATTACKER
set -eu
rootfs=$1
probe=$2
attacker=$3
here=$(cd "$(dirname "$0")" && pwd)
sh "$here/../integration/mkrootfs.sh" "$rootfs" "$probe"
cp "$attacker" "$rootfs/bin/attacker"
chmod 755 "$rootfs/bin/attacker"
