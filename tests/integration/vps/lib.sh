# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# Sourced by the VPS tests (vps_test.sh, vps_debian_test.sh): result
# reporting, and scratch space a VPS's user namespace can use.

skip() {
        echo "SKIP: $*"
        exit 77
}

# require_vps_host BERTH: skips (77, with the reason) unless this host can
# run VPS: root, the berth binary, unshare(1), overlayfs.
require_vps_host() {
        [ "$(id -u)" = 0 ] || skip "needs root"
        if [ -z "$1" ] || [ ! -x "$1" ]; then skip "no berth binary given"; fi
        command -v unshare >/dev/null || skip "no unshare(1)"
        grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null
        grep -qw overlay /proc/filesystems || skip "no overlayfs in this kernel"
}

# fail MESSAGE: counts a failure of the current test (the scripts own
# $current and $failures).
# shellcheck disable=SC2154
fail() {
        echo "FAIL [$current]: $*"
        failures=$((failures + 1))
}

# expect CODE CMD...: runs CMD, fails the test unless it exits with CODE.
expect() {
        want=$1
        shift
        out=$("$@" 2>&1)
        got=$?
        [ "$got" = "$want" ] || fail "'$*' exited $got, expected $want: $out"
}

# json_field KEY: the first "KEY": value on stdin (numbers, true/false, strings).
json_field() {
        sed -n "s/^ *\"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}\$/\1/p" | head -n1
}

# A VPS sees its template through an idmapped mount (its own user
# namespace), which the kernel offers for ext4, xfs, btrfs, and tmpfs from
# 6.3; not for 9p or overlayfs (the test guest's shared views), nor for the
# 6.1 guest's tmpfs /tmp.

idmappable() { # idmappable DIR
        case $(stat -f -c %T "$1") in
        ext2/ext3 | xfs | btrfs) return 0 ;;
        tmpfs) [ "$(uname -r | awk -F. '{print $1 * 1000 + $2}')" -ge 6003 ] ;;
        *) return 1 ;;
        esac
}

# ext4_scratch SIZE: a fresh ext4 image mounted under a new /tmp directory;
# prints that directory (the file system is its mnt/). ext4_scratch_rm DIR
# undoes it. Searchable by all: a VPS root (an unprivileged uid) walks
# through it to its own root.
ext4_scratch() {
        d=$(mktemp -d /tmp/berth-ext4.XXXXXX) || return 1
        if truncate -s "$1" "$d/img" && mkfs.ext4 -q "$d/img" && mkdir "$d/mnt" &&
                mount -o loop "$d/img" "$d/mnt" && chmod 711 "$d" "$d/mnt"; then
                echo "$d"
                return 0
        fi
        rm -rf "$d"
        return 1
}

ext4_scratch_rm() {
        [ -n "$1" ] || return 0
        umount "$1/mnt" 2>/dev/null
        rm -rf "$1"
}

# cg_tag DATA_DIR: the suffix berth gives the cgroups of that data
# directory's VPS ("-" + FNV-1a of the path as given, berth_vps_cgroup_name),
# so that a test looks only at its own and not at those of a test running
# beside it with the same VPS names.
cg_tag() {
        h=2166136261
        for c in $(printf %s "$1" | od -An -tu1); do
                h=$((((h ^ c) * 16777619) & 4294967295))
        done
        printf -- '-%08x' "$h"
}
