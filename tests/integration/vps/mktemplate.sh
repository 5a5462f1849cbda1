#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds a busybox VPS template for the tests: <data>/templates/<name>/,
# made by `berth template create --busybox` (one process: linking the
# applets from a shell costs a fork per applet, ~25 s in the TCG test guest)
# with the test's own boot files on top.
# The init is busybox init with a getty-less inittab: the sysinit action
# logs "booted", the shutdown action leaves /var/log/berth-shutdown in the
# VPS's upper layer, which is how the tests see that a stop was graceful.
# /sbin/stubborn-init ignores every signal (the forced-stop test).
#
# usage: mktemplate.sh BERTH DATA NAME      exits 77 without a static busybox
set -eu

berth=$1
data=$2
name=$3
busybox=/bin/busybox

if ! [ -x "$busybox" ] || ldd "$busybox" >/dev/null 2>&1; then
        echo "mktemplate: no static busybox at $busybox" >&2
        exit 77
fi

t="$data/templates/$name"
rm -rf "$t"
"$berth" template --data-dir "$data" create "$name" --busybox >/dev/null
cd "$t/rootfs"
mkdir -p etc/init.d var/log root

cat >etc/inittab <<'TAB'
::sysinit:/etc/init.d/rcS
::shutdown:/etc/init.d/rcK
TAB
cat >etc/init.d/rcS <<'RCS'
#!/bin/sh
rm -f /var/log/berth-shutdown
echo "rcS: booted as $(hostname)"
RCS
cat >etc/init.d/rcK <<'RCK'
#!/bin/sh
echo "rcK: shutting down"
echo graceful >/var/log/berth-shutdown
sync
RCK
cat >sbin/stubborn-init <<'STUB'
#!/bin/sh
# pid 1 of a pid namespace gets only the signals it has a handler for; the
# traps make sure it ignores the usual stop signals all the same.
trap '' TERM INT HUP PWR USR1 USR2
echo "stubborn-init: up"
while :; do sleep 1; done
STUB
chmod 755 etc/init.d/rcS etc/init.d/rcK sbin/stubborn-init

cat >"$t/template.json" <<JSON
{"name": "$name", "source": "busybox", "init": "/sbin/init", "stop_signal": "SIGTERM"}
JSON
