#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds the integration-test rootfs: a static busybox with its applet links,
# our static probe at /bin/probe, minimal /etc files and the mount points the
# tests use (the rootfs is shared read-only by every test container, so the
# runtime must never need to create anything in it).
#
# usage: mkrootfs.sh ROOTFS PROBE [BUSYBOX]
# Without a static busybox the rootfs is left without /bin/busybox and the
# tests skip with a reason instead of the build failing.
set -eu

rootfs=$1
probe=$2
busybox=${3:-/bin/busybox}

tmp="$rootfs.new"
rm -rf "$tmp"
mkdir -p "$tmp"
cd "$tmp"
mkdir -p bin sbin etc proc sys dev tmp run root home \
         mnt/ro mnt/rw mnt/tmpfs mnt/hooks mnt/masked mnt/extra
chmod 1777 tmp
echo secret >mnt/masked/secret
echo secret >etc/masked-file

# Only a static busybox works inside a rootfs without a libc.
if [ -x "$busybox" ] && ! ldd "$busybox" >/dev/null 2>&1; then
        cp "$busybox" bin/busybox
        for applet in $(bin/busybox --list); do
                [ -e "bin/$applet" ] || ln -s busybox "bin/$applet"
        done
else
        echo "mkrootfs: no static busybox at $busybox; integration tests will skip" >&2
fi
cp "$probe" bin/probe
chmod 755 bin/probe

cat >etc/passwd <<PASSWD
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
itest:x:1000:1000:itest:/home:/bin/sh
PASSWD
cat >etc/group <<GROUP
root:x:0:
tty:x:5:
nogroup:x:65534:
itest:x:1000:
GROUP
echo itest >etc/hostname

cd - >/dev/null
rm -rf "$rootfs"
mv "$tmp" "$rootfs"
