# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=sh
# Sourced by the VPS tests (vps_*_test.sh): the namespace they run in,
# scratch space a VPS's user namespace can use, the busybox template,
# running the named tests and reporting.

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

# The keeper of init PID: its parent once the start's worker (named
# "berth", not "berth-console") has ended; the worker may still be moving
# the keeper into the VPS's cgroups when the start has answered.
keeper_of() { # keeper_of PID
        for _ in $(seq 50); do
                k=$(awk '{print $4}' "/proc/$1/stat" 2>/dev/null)
                [ "$(cat "/proc/$k/comm" 2>/dev/null)" = berth-console ] && break
                sleep 0.1
        done
        echo "$k"
}

# keeper_settled KEEPER INIT: waits (up to 5 s) until the keeper's only
# child is the init. `vps start`'s worker, the keeper's other child, moves
# the keeper into the VPS's cgroups after the start has answered and then
# exits (holding the VPS's lock until then, so other verbs never see it
# half done); a test that reads /proc right after the start waits for it.
keeper_settled() {
        for _ in $(seq 50); do
                [ "$(cat "/proc/$1/task/$1/children" 2>/dev/null)" = "$2 " ] && return 0
                sleep 0.1
        done
        return 1
}

# The tag berth puts in the names of a data directory's containers and
# cgroups (berth_vps_data_tag: FNV-1a of its real path, 8 hex digits), so
# that a test looks for its own and not for another run's of the same name.
data_tag() { # data_tag DIR
        h=2166136261
        for c in $(printf %s "$(realpath "$1")" | od -An -tu1); do
                h=$((((h ^ c) * 16777619) & 0xffffffff))
        done
        printf '%08x\n' "$h"
}

# in_own_netns [--mount] ARGS...: runs this script again, once, with ARGS
# in a network namespace of its own (with --mount also a private mount
# namespace), so that its bridges, veths and nftables tables are its own;
# there, brings lo up and returns.
in_own_netns() {
        if [ "${BERTH_VPS_TEST_NETNS:-}" = 1 ]; then
                ip link set lo up 2>/dev/null
                return 0
        fi
        if [ "${1:-}" = --mount ]; then
                shift
                BERTH_VPS_TEST_NETNS=1 exec unshare --net --mount --propagation private /bin/sh "$0" "$@"
        fi
        BERTH_VPS_TEST_NETNS=1 exec unshare --net /bin/sh "$0" "$@"
}

# scratch_base [SIZE]: sets base to where the test's scratch directory
# goes: /tmp, or where /tmp cannot be idmapped the mnt/ of an ext4 image of
# SIZE (default 512M), whose directory ext4 names (ext4_scratch_rm it).
scratch_base() {
        ext4="" base=/tmp
        if ! idmappable /tmp; then
                ext4=$(ext4_scratch "${1:-512M}") ||
                        skip "/tmp cannot be idmapped and no ext4 scratch image could be made"
                base=$ext4/mnt
        fi
}

# scratch_dir NAME: sets tmp to a fresh directory below $base and root to
# the state directory (--root) inside it. Searchable by all: a VPS's root
# (an unprivileged host uid) walks through it to its own root.
scratch_dir() {
        tmp=$(mktemp -d "$base/$1.XXXXXX") || {
                echo "FAIL: no scratch directory below $base"
                exit 1
        }
        chmod 711 "$tmp"
        root=$tmp/run
}

# bb_template: the busybox template "bb" in $data (skips without a static
# busybox).
bb_template() {
        sh "$here/mktemplate.sh" "$bin" "$data" bb
        case $? in
        0) ;;
        77) skip "no static busybox" ;;
        *) echo "FAIL: cannot build the busybox template" && exit 1 ;;
        esac
}

# run_named ALL [NAME...]: runs test_NAME for each NAME (all of ALL when
# none is given, less those in $BERTH_VPS_SKIP), timing each.
run_named() {
        all=$1
        shift
        # shellcheck disable=SC2086 # a list of names
        [ $# -gt 0 ] || set -- $all
        for t in "$@"; do
                case " ${BERTH_VPS_SKIP:-} " in *" $t "*)
                        echo "== $t skipped (BERTH_VPS_SKIP)"
                        continue
                        ;;
                esac
                current=$t
                t0=$(date +%s)
                "test_$t"
                echo "== $t ($(($(date +%s) - t0)) s)"
        done
}

# finish: the verdict; exits 1 after any failure.
finish() {
        if [ "$failures" -gt 0 ]; then
                echo "$failures failure(s)"
                exit 1
        fi
        echo "all passed"
        exit 0
}

# prjquota_base NAME: with BERTH_DISK_PRJQUOTA=1 (the v2 test guest, whose
# kernel has project quotas), moves base onto a fresh 1 GiB ext4 mounted
# with prjquota, in the directory prj (prjquota_rm undoes it), and sets
# want_backend=project; else leaves base and sets want_backend=image.
prjquota_base() {
        prj="" want_backend=image
        [ "${BERTH_DISK_PRJQUOTA:-}" = 1 ] || return 0
        prj=$(mktemp -d "$base/$1.XXXXXX") || skip "no scratch directory below $base"
        if ! { truncate -s 1G "$prj/img" && mkfs.ext4 -q -O quota,project "$prj/img" && mkdir "$prj/mnt" &&
                mount -o loop,prjquota "$prj/img" "$prj/mnt" && chmod 711 "$prj" "$prj/mnt"; }; then
                prjquota_rm
                ext4_scratch_rm "${ext4:-}"
                skip "no ext4 with project quotas here"
        fi
        base=$prj/mnt want_backend=project
}

prjquota_rm() {
        [ -n "${prj:-}" ] || return 0
        umount "$prj/mnt" 2>/dev/null
        rm -rf "$prj"
}

# ---- the Debian template: debootstrapped once, cached by suite --------------
# (vps_debian, vps_migrate). The cache /var/cache/berth-test/<suite> is a
# berth data directory kept between runs.

has_systemd() {
        [ -x "$1/usr/lib/systemd/systemd" ] || [ -x "$1/lib/systemd/systemd" ]
}

# The first http(s) Debian/Ubuntu archive in the host's apt sources (the
# mirror berth uses too), only to tell "unreachable" (skip) from "broken"
# (fail) before debootstrapping.
apt_mirror() {
        [ -n "${BERTH_TEST_MIRROR:-}" ] && { echo "$BERTH_TEST_MIRROR"; return; }
        cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null |
                sed -n -e 's/^[[:space:]]*deb[[:space:]]\{1,\}\(\[[^]]*\][[:space:]]*\)\{0,1\}\(https\{0,1\}:[^[:space:]]*\).*/\2/p' \
                        -e 's/^URIs:[[:space:]]*\(https\{0,1\}:[^[:space:]]*\).*/\1/p' |
                grep -E '/(debian|ubuntu)/?$' | head -n1
}

reachable() {
        if command -v curl >/dev/null; then
                curl -fsS -m 10 -o /dev/null "$1"
        else
                wget -q -T 10 -O /dev/null "$1"
        fi
}

# debian_template_cache BIN CACHE: builds CACHE/templates/debian unless it
# has systemd already; skips (77) when debootstrap or the mirror is missing.
debian_template_cache() {
        bin=$1 cache=$2 suite=$(basename "$2")
        mkdir -p "$cache" || skip "cannot create the cache $cache"
        # One builder at a time: parallel runs share the cache.
        exec 9>"$cache.lock"
        flock -w 900 9 2>/dev/null || true
        debian_template_build
        exec 9>&-
}

debian_template_build() {
        tdir=$cache/templates/debian
        has_systemd "$tdir/rootfs" && return 0
        command -v debootstrap >/dev/null || skip "no debootstrap (apt-get install debootstrap)"
        mirror=$(apt_mirror)
        [ -n "$mirror" ] || skip "no Debian mirror in the host's apt sources (BERTH_TEST_MIRROR=URL sets one)"
        reachable "${mirror%/}/dists/$suite/Release" 2>/dev/null || skip "mirror $mirror is not reachable"
        # A partial tree (an older template without systemd, say) is rebuilt.
        [ -e "$tdir" ] && "$bin" template --data-dir "$cache" rm debian >/dev/null 2>&1
        echo "debootstrap $suite into $cache (once; about a minute)..."
        set -- template --data-dir "$cache" create debian --debootstrap "$suite"
        [ -n "${BERTH_TEST_MIRROR:-}" ] && set -- "$@" --mirror "$BERTH_TEST_MIRROR"
        if ! timeout 900 "$bin" "$@" >"$cache.log" 2>&1; then
                tail -n 20 "$cache.log"
                echo "FAIL: berth template create --debootstrap $suite failed (log: $cache.log)"
                exit 1
        fi
        tail -n 1 "$cache.log"
        has_systemd "$tdir/rootfs" || {
                echo "FAIL: the debootstrapped template has no systemd"
                exit 1
        }
}
