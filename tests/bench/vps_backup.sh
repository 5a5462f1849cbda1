#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# `berth vps backup` and `restore` against `tar --zstd` of the same tree
# (issue 13: each within 2x). The tree is a Debian root (~250 MB: the
# debootstrap cache of the Debian VPS test, /var/cache/berth-test/<suite>,
# or SRC) copied into a stopped VPS's upper layer with its ids moved into
# the VPS's range, as a guest would have written it. Page cache warm for
# both (a first untimed pass reads everything). Prints markdown.
#
# usage: vps_backup.sh BERTH [SRC]     (root; runs in its own namespaces)
set -eu
berth=$1
src=${2:-/var/cache/berth-test/bookworm}
# The Debian test's cache is a data directory: its template's root.
[ -d "$src/templates/debian/rootfs" ] && src=$src/templates/debian/rootfs
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 77; }
[ -d "$src" ] || { echo "no tree at $src (run integration/debian_vps once, or give SRC)" >&2; exit 77; }
if [ "${BERTH_BENCH_NS:-}" != 1 ]; then
        BERTH_BENCH_NS=1 exec unshare --net --mount /bin/sh "$0" "$@"
fi

w=$(mktemp -d /tmp/berth-bench-backup.XXXXXX)
chmod 711 "$w"
data=$w/d root=$w/run
BERTH_ID_REGISTRY=$w/id-ranges BERTH_CONFIG_DIR=$w/etc
export BERTH_ID_REGISTRY BERTH_CONFIG_DIR
V="$berth --root $root vps --data-dir $data"
cleanup() {
        for n in bench bench2; do $V destroy --force $n >/dev/null 2>&1 || true; done
        rm -rf "$w"
}
trap cleanup EXIT

"$berth" template --data-dir "$data" create bb --busybox >/dev/null
$V create bench --template bb >/dev/null 2>&1
upper=$data/vps/bench/upper
hid=$(sed -n 's/^ *"host_id": \([0-9]*\).*/\1/p' "$data/vps/bench/vps.json")
cp -a "$src/." "$upper/"
# The guest's ids as the host stores them: + the VPS's first id.
for u in $(find "$upper" -printf '%U\n' | sort -un); do
        find "$upper" -uid "$u" -exec chown -h "$((hid + u))" {} +
done
for g in $(find "$upper" -printf '%G\n' | sort -un); do
        find "$upper" -gid "$g" -exec chgrp -h "$((hid + g))" {} +
done
size=$(du -sm "$upper" | cut -f1)
files=$(find "$upper" | wc -l)
cat "$upper" >/dev/null 2>&1 || true
tar -cf - -C "$upper" . >/dev/null # warm the page cache

t() { # t CMD...: seconds
        s=$(date +%s%N)
        "$@" >/dev/null 2>&1
        e=$(date +%s%N)
        echo "$s $e" | awk '{printf "%.2f", ($2 - $1) / 1e9}'
}

b=$(t $V backup bench "$w/b.tar.zst")
tb=$(t tar --zstd --xattrs --xattrs-include='*' --acls -cpf "$w/t.tar.zst" -C "$upper" .)
mkdir "$w/x"
tr=$(t tar --zstd --xattrs --xattrs-include='*' --acls -xpf "$w/t.tar.zst" -C "$w/x")
r=$(t $V restore "$w/b.tar.zst" --name bench2)
[ -d "$data/vps/bench2/upper" ] || { echo "restore failed" >&2; exit 1; }
# The restored tree is the whole tree (entries and bytes).
[ "$(find "$data/vps/bench2/upper" | wc -l)" = "$files" ] || { echo "restore: entries differ" >&2; exit 1; }
bytes() { find "$1" -type f -printf '%s\n' | awk '{s += $1} END {print s}'; }
[ "$(bytes "$data/vps/bench2/upper")" = "$(bytes "$upper")" ] || { echo "restore: file bytes differ" >&2; exit 1; }
bs=$(du -m "$w/b.tar.zst" | cut -f1)
ts=$(du -m "$w/t.tar.zst" | cut -f1)

echo "Tree: $src in a VPS's upper layer: $size MB, $files entries; $(nproc) CPUs."
echo
echo "| | berth vps | tar --zstd (GNU tar, zstd -3) | ratio |"
echo "|---|---:|---:|---:|"
echo "| backup, s | $b | $tb | $(echo "$b $tb" | awk '{printf "%.2f", $1 / $2}') |"
echo "| restore, s | $r | $tr | $(echo "$r $tr" | awk '{printf "%.2f", $1 / $2}') |"
echo "| archive, MB | $bs | $ts | |"
