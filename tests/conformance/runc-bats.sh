#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# runc's own integration suite (runc v1.1.5, tests/integration/*.bats, as
# Debian 12 ships it) run once with runc and once with berth, then compared.
#
# Not part of CI: it takes about half an hour, needs root, bats, Debian
# packages (the runc source package, golang, debootstrap, busybox-static)
# and the host's Debian mirror. Everything else is built here, offline:
#   - the suite and runc's helper programs (recvtty, sd-helper,
#     seccompagent) from `apt-get source runc`, built with Debian's Go;
#   - the busybox image from busybox-static, the Debian image with
#     debootstrap (the suite would download both from the internet).
# The deb-src line is derived from the host's own apt sources and used
# through a private sources/lists/cache dir: the host's apt configuration
# is not changed.
#
# Each runtime runs in a cgroup sandbox: a child cgroup of the caller's own
# in every hierarchy, entered with a new cgroup and mount namespace where
# cgroupfs is mounted afresh, so that the suite's absolute cgroup paths
# (/runc-cgroups-integration-test/...) land below the caller's cgroup and
# never touch the host's root cgroups.
#
# usage: runc-bats.sh [--work DIR] [--berth BIN] [--runc BIN]
#                     [--runtimes "runc berth"] [--keep-going] [FILE.bats...]
#   FILE.bats: run only these files of the suite (default: all).
#   --compare-only: do not run, compare the results already in DIR.
# Prints per-runtime pass counts and the tests that pass with runc and fail
# with berth, each marked exempt (with the reason) or BERTH BUG; exits 1
# when there is a BERTH BUG.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
WORK=${WORK:-/var/tmp/berth-runc-bats}
BERTH=${BERTH:-$here/../../build/berth}
RUNC_BIN=${RUNC_BIN:-/usr/sbin/runc}
RUNTIMES="runc berth"
COMPARE_ONLY=
FILES=()
while [ $# -gt 0 ]; do
	case $1 in
	--work) WORK=$2; shift 2 ;;
	--berth) BERTH=$2; shift 2 ;;
	--runc) RUNC_BIN=$2; shift 2 ;;
	--runtimes) RUNTIMES=$2; shift 2 ;;
	--compare-only) COMPARE_ONLY=1; shift ;;
	-h | --help) sed -n '3,29p' "$0"; exit 0 ;;
	-*) echo "runc-bats.sh: unknown option $1" >&2; exit 2 ;;
	*) FILES+=("$1"); shift ;;
	esac
done
BERTH=$(readlink -f "$BERTH")
mkdir -p "$WORK"
WORK=$(readlink -f "$WORK")
APT=$WORK/apt
SRC=$WORK/src
RES=$WORK/results

log() { echo "runc-bats: $*" >&2; }
die() { log "$*"; exit 1; }

# Tests that pass with runc and fail with berth because they expect runc's
# own texts or runc-only flags: "file.bats<TAB>test name<TAB>reason".
EXEMPT=$(
	cat <<'EOF'
debug.bats	global --debug	expects runc's logrus debug lines ("level=debug") on stderr
debug.bats	global --debug to --log	expects runc's logrus debug lines ("level=debug") in the log
debug.bats	global --debug to --log --log-format 'text'	expects runc's logrus debug lines ("level=debug") in the log
debug.bats	global --debug to --log --log-format 'json'	expects runc's logrus debug lines ("level":"debug") in the log
exec.bats	runc --debug exec	expects runc's logrus debug lines ("level=debug")
exec.bats	runc --debug --log exec	expects runc's logrus debug lines ("level=debug") in the log
exec.bats	runc exec --cgroup sub-cgroups [v1]	expects Go's lowercase errno text ("no such file "); berth says strerror's "No such file or directory" (the rest of the test passes)
help.bats	runc -h	expects runc's help text ("NAME:" / "runc")
help.bats	runc command -h	expects runc's help texts per command
help.bats	runc foo -h	expects runc's text for an unknown command ("No help topic for 'foo'")
version.bats	runc version	expects "runc version X.Y.Z" and a "commit:" line (berth prints "berth version" and "spec:")
no_pivot.bats	runc run --no-pivot must not expose bare /proc	berth spec's default seccomp profile (Docker's policy) refuses unshare(CLONE_NEWUSER) without CAP_SYS_ADMIN, runc spec has no profile; with .linux.seccomp removed berth passes
EOF
)

# ---- 1. the suite and its helpers, from Debian's runc source package ----

# The Debian stanzas of the host's apt sources, with deb-src added.
apt_private_sources() {
	mkdir -p "$APT/parts" "$APT/lists/partial" "$APT/cache/archives/partial"
	: >"$APT/parts/host.sources"
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -e "$f" ] || continue
		sed -E 's/^Types:.*$/Types: deb deb-src/' "$f" >>"$APT/parts/host.sources"
		echo >>"$APT/parts/host.sources"
	done
	if [ -f /etc/apt/sources.list ]; then
		sed -nE 's/^deb (.*)/deb \1\ndeb-src \1/p' /etc/apt/sources.list \
			>"$APT/parts/host.list"
	fi
	grep -q . "$APT"/parts/* || die "no apt sources found on the host"
}

apt_private() {
	apt-get -o Dir::Etc::SourceList=/dev/null \
		-o Dir::Etc::SourceParts="$APT/parts" \
		-o Dir::State::Lists="$APT/lists" \
		-o Dir::Cache="$APT/cache" "$@"
}

fetch_suite() {
	local d
	d=$(find "$SRC" -maxdepth 1 -type d -name 'runc-1.1.5*' 2>/dev/null | head -1)
	if [ -n "$d" ]; then
		SUITE=$d
		return
	fi
	apt_private_sources
	apt_private update -qq
	mkdir -p "$SRC"
	(cd "$SRC" && apt_private source -qq runc)
	SUITE=$(find "$SRC" -maxdepth 1 -type d -name 'runc-1.1.5*' | head -1)
	[ -n "$SUITE" ] || die "apt-get source runc gave no runc 1.1.5 tree"
	# Go and the build dependencies of runc (the Go libraries the helper
	# programs import), from the same private sources.
	apt_private install -y -qq golang-go debootstrap busybox-static jq gawk xz-utils >/dev/null
	apt_private build-dep -y -qq runc >/dev/null
}

# What the suite and this script run (helpers.bash uses gawk and jq).
check_tools() {
	local t missing=
	for t in go gawk jq debootstrap xz script unshare /bin/busybox; do
		command -v "$t" >/dev/null || missing+=" $t"
	done
	[ -z "$missing" ] || die "missing:$missing (apt-get install golang-go gawk jq debootstrap xz-utils busybox-static)"
}

build_helpers() {
	local gp=$WORK/gopath c
	mkdir -p "$gp/src/github.com/opencontainers"
	ln -sfn "$SUITE" "$gp/src/github.com/opencontainers/runc"
	for c in recvtty sd-helper seccompagent; do
		[ -x "$SUITE/contrib/cmd/$c/$c" ] && continue
		log "building $c"
		(cd "$gp/src/github.com/opencontainers/runc/contrib/cmd/$c" &&
			GOPATH=$gp:/usr/share/gocode GO111MODULE=off GOFLAGS=-mod=mod \
				GOCACHE=$WORK/gocache go build -tags seccomp -o "$c" .)
	done
}

# ---- 2. the images, built locally instead of downloaded ----

busybox_image() {
	local out=$1 r=$WORK/busybox-rootfs a
	[ -e "$out" ] && return
	log "building the busybox image"
	rm -rf "$r"
	mkdir -p "$r"/{bin,etc,home,root,tmp,var/spool/mail,var/www,usr/sbin,proc,sys,dev}
	chmod 1777 "$r/tmp"
	chmod 700 "$r/root"
	cp /bin/busybox "$r/bin/busybox"
	for a in $("$r/bin/busybox" --list); do
		[ "$a" = busybox ] || ln -f "$r/bin/busybox" "$r/bin/$a"
	done
	# docker's busybox image users and groups (tests use nobody, 1000...).
	cat >"$r/etc/passwd" <<-'EOF'
		root:x:0:0:root:/root:/bin/sh
		daemon:x:1:1:daemon:/usr/sbin:/bin/false
		bin:x:2:2:bin:/bin:/bin/false
		sys:x:3:3:sys:/dev:/bin/false
		sync:x:4:100:sync:/bin:/bin/sync
		mail:x:8:8:mail:/var/spool/mail:/bin/false
		www-data:x:33:33:www-data:/var/www:/bin/false
		operator:x:37:37:Operator:/var:/bin/false
		nobody:x:65534:65534:nobody:/home:/bin/false
	EOF
	printf '%s\n' root:x:0: daemon:x:1: bin:x:2: sys:x:3: adm:x:4: tty:x:5: \
		disk:x:6: lp:x:7: mail:x:8: kmem:x:9: wheel:x:10:root audio:x:29: \
		www-data:x:33: operator:x:37: utmp:x:43: staff:x:50: users:x:100: \
		nogroup:x:65534: >"$r/etc/group"
	tar -C "$r" --numeric-owner -cf - . | xz -T2 -1 >"$out.tmp"
	mv "$out.tmp" "$out"
	rm -rf "$r"
}

# The host's Debian mirror: the first URIs of a stanza whose suites are not
# the security ones.
debian_mirror() {
	awk '/^URIs:/ {u=$2} /^Suites:/ && !/-security/ && u {print u; exit}' \
		/etc/apt/sources.list.d/*.sources 2>/dev/null ||
		true
}

debian_image() {
	local out=$1 r=$WORK/debian-rootfs mirror
	[ -e "$out" ] && return
	mirror=$(debian_mirror)
	[ -n "$mirror" ] || die "no Debian mirror in the host's apt sources"
	log "debootstrap bookworm from the host's mirror"
	rm -rf "$r"
	debootstrap --variant=minbase bookworm "$r" "$mirror" >"$WORK/debootstrap.log" 2>&1 ||
		die "debootstrap failed, see $WORK/debootstrap.log"
	tar -C "$r" --numeric-owner --exclude './dev/*' -cf - . | xz -T2 -1 >"$out.tmp"
	mv "$out.tmp" "$out"
	rm -rf "$r"
}

prepare() {
	fetch_suite
	check_tools
	build_helpers
	local arch
	arch=$(go env GOARCH)
	busybox_image "$SUITE/tests/integration/testdata/busybox-$arch.tar.xz"
	debian_image "$SUITE/tests/integration/testdata/debian-$arch.tar.xz"
}

# ---- 3. the cgroup sandbox ----

# One line per hierarchy: "mountpoint<TAB>mount options<TAB>own path".
cgroup_hierarchies() {
	local ctl path mp
	while IFS=: read -r _ ctl path; do
		if [ -z "$ctl" ]; then
			mp=$(awk '$(NF-2) == "cgroup2" {print $5; exit}' /proc/self/mountinfo)
			[ -n "$mp" ] && printf '%s\t%s\t%s\n' "$mp" - "$path"
			continue
		fi
		mp=$(awk -v c="${ctl%%,*}" '$(NF-2) == "cgroup" {
			n = split($NF, o, ","); for (i = 1; i <= n; i++) if (o[i] == c) {print $5; exit}
		}' /proc/self/mountinfo)
		[ -n "$mp" ] && printf '%s\t%s\t%s\n' "$mp" "$ctl" "$path"
	done </proc/self/cgroup
}

# Kill what is left in a sandbox tree (only processes the suite started:
# nothing else is in it), then remove its cgroups leaf first.
sandbox_remove() {
	local name=$1 mp ctl path d pid
	for _ in 1 2 3 4 5; do
		while IFS=$'\t' read -r mp ctl path; do
			d=$mp${path%/}/$name
			[ -d "$d" ] || continue
			find "$d" -name freezer.state -exec sh -c 'echo THAWED >"$1"' _ {} \; 2>/dev/null || true
			find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null |
				while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done
			find "$d" -depth -type d -exec rmdir {} + 2>/dev/null || true
		done < <(cgroup_hierarchies)
		sleep 0.5
	done
}

# Run "$@" in a fresh child cgroup (every hierarchy) seen as the root of a
# new cgroup namespace.
sandbox_run() {
	local name=$1 mp ctl path d
	shift
	local -a mounts=()
	while IFS=$'\t' read -r mp ctl path; do
		d=$mp${path%/}/$name
		mkdir -p "$d"
		if [ -f "$d/cpuset.cpus" ]; then
			cat "$d/../cpuset.cpus" >"$d/cpuset.cpus"
			cat "$d/../cpuset.mems" >"$d/cpuset.mems"
		fi
		mounts+=("$mp" "$ctl" "$d")
	done < <(cgroup_hierarchies)
	(
		i=0
		while [ $i -lt ${#mounts[@]} ]; do
			echo "$BASHPID" >"${mounts[$((i + 2))]}/cgroup.procs"
			i=$((i + 3))
		done
		exec unshare --cgroup --mount --propagation private bash -c '
			set -e
			umount -R /sys/fs/cgroup
			mount -t tmpfs -o mode=755 cgroup /sys/fs/cgroup
			while [ "$1" != -- ]; do
				mkdir -p "$1"
				if [ "$2" = - ]; then
					mount -t cgroup2 cgroup2 "$1"
				else
					mount -t cgroup -o "$2" cgroup "$1"
				fi
				shift 3
			done
			shift
			exec "$@"' sandbox "${mounts[@]}" -- "$@"
	)
}

# ---- 4. run and compare ----

# checkpoint.bats writes /etc/criu/default.conf for one test and removes it
# only when that test gets to its end, which criu 3.17 on this kernel does
# not: a file the suite left is removed (one that was there is kept).
criu_conf_had=
[ -e /etc/criu/default.conf ] && criu_conf_had=1
criu_conf_restore() {
	[ -z "$criu_conf_had" ] || return 0
	rm -f /etc/criu/default.conf
	rmdir /etc/criu 2>/dev/null || true
}

run_runtime() {
	local rt=$1 bin f out
	case $rt in
	runc) bin=$RUNC_BIN ;;
	berth) bin=$BERTH ;;
	*) die "unknown runtime $rt" ;;
	esac
	[ -x "$bin" ] || die "$rt: no executable $bin"
	mkdir -p "$RES/$rt"
	trap 'sandbox_remove "bats-$rt-$$"; criu_conf_restore' EXIT
	trap 'exit 130' INT TERM
	for f in "${FILES[@]}"; do
		out=$RES/$rt/$(basename "$f" .bats).tap
		log "$rt: $(basename "$f")"
		# Each file bounded in time, in its own sandbox, removed afterwards;
		# under script(1) for a controlling terminal, as runc's CI does
		# (runc run with process.terminal and no console socket uses it).
		sandbox_run "bats-$rt-$$" env RUNC="$bin" timeout -k 10 900 \
			script -qec "bats --tap $(printf %q "$SUITE/tests/integration/$(basename "$f")") \
				>$(printf %q "$out") 2>&1" /dev/null </dev/null >/dev/null 2>&1 &
		# In the background and waited for, so that a signal to this
		# script runs the EXIT trap (which empties the sandbox) at once.
		wait $! || true
		sandbox_remove "bats-$rt-$$"
		criu_conf_restore
	done
}

# "file<TAB>status<TAB>name" for every test of a runtime's results.
results() {
	local rt=$1 t
	for t in "$RES/$rt"/*.tap; do
		[ -e "$t" ] || continue
		awk -v f="$(basename "$t" .tap).bats" '
			/^ok [0-9]+ / {
				s = "pass"; sub(/^ok [0-9]+ /, "")
				if ($0 ~ / # skip/) { s = "skip"; sub(/ # skip.*/, "") }
				print f "\t" s "\t" $0; next
			}
			/^not ok [0-9]+ / { sub(/^not ok [0-9]+ /, ""); sub(/ # .*/, ""); print f "\tfail\t" $0 }
		' "$t"
	done
}

compare() {
	local rt
	for rt in $RUNTIMES; do
		results "$rt" >"$RES/$rt.list"
		printf '%-6s pass %4d  fail %4d  skip %4d\n' "$rt" \
			"$(grep -c $'\tpass\t' "$RES/$rt.list" || true)" \
			"$(grep -c $'\tfail\t' "$RES/$rt.list" || true)" \
			"$(grep -c $'\tskip\t' "$RES/$rt.list" || true)"
	done
	[ -f "$RES/runc.list" ] && [ -f "$RES/berth.list" ] || return 0
	echo "pass with runc, not with berth:"
	local f s n st reason bugs=0
	while IFS=$'\t' read -r f s n; do
		[ "$s" = pass ] || continue
		st=$(awk -F'\t' -v f="$f" -v n="$n" '$1 == f && $3 == n {print $2}' "$RES/berth.list")
		[ "$st" = pass ] && continue
		reason=$(awk -F'\t' -v f="$f" -v n="$n" '$1 == f && $2 == n {print $3}' <<<"$EXEMPT")
		if [ -n "$reason" ]; then
			echo "  exempt    $f: $n (${st:-missing}): $reason"
		else
			echo "  BERTH BUG $f: $n (${st:-missing})"
			bugs=$((bugs + 1))
		fi
	done <"$RES/runc.list"
	echo "berth-only failures that are not exempt: $bugs"
	[ "$bugs" -eq 0 ]
}

# A function read whole before it runs: editing this file during a run
# (bash reads scripts as it goes) cannot change what the run does.
main() {
	[ "$(id -u)" = 0 ] || die "needs root"
	if [ -z "$COMPARE_ONLY" ]; then
		command -v bats >/dev/null || die "needs bats (apt-get install bats)"
		prepare
		if [ ${#FILES[@]} -eq 0 ]; then
			for f in "$SUITE"/tests/integration/*.bats; do FILES+=("$f"); done
		fi
		for rt in $RUNTIMES; do
			run_runtime "$rt"
		done
	fi
	compare
}

main; exit
