# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# Shared setup of tests/clients/run.sh: result lines, the test's own
# cgroup, a local busybox image, and throwaway podman/containerd homes.

pass=0
fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
notok() { echo "not ok - $*"; fail=$((fail + 1)); }

# check NAME CMD...: ok when CMD exits 0; its output is shown on failure.
check() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then ok "$name"; else
		notok "$name (exit $rc)"
		printf '%s\n' "$out" | tail -n 8 | sed 's/^/#   /'
	fi
	return $rc
}

# expect NAME WANT GOT [DETAIL]
expect() {
	if [ "$2" = "$3" ]; then ok "$1"; else
		notok "$1 (want '$2', got '$3')"
		[ -n "${4:-}" ] && printf '%s\n' "$4" | tail -n 8 | sed 's/^/#   /'
	fi
}

# The test's own cgroup: the memory line on v1/hybrid hosts (the only one
# that is not "/" in some sandboxes), the unified line on pure v2.
own_cgroup() {
	local line
	line=$(grep -E '^[0-9]+:([^:]*,)?memory(,[^:]*)?:' /proc/self/cgroup | head -n1)
	[ -n "$line" ] || line=$(grep -E '^0::' /proc/self/cgroup)
	line=${line#*:}
	line=${line#*:}
	[ "$line" = / ] && line=
	echo "$line"
}

# Every cgroup hierarchy root (v1 controllers, the unified mount).
cgroup_roots() {
	awk '$9 == "cgroup" || $9 == "cgroup2" { print $5 }' /proc/self/mountinfo | sort -u
}

# Removes the test cgroup $1 (a path below the hierarchy roots) depth first
# in every hierarchy, then the parents listed in $2 (created by the test).
remove_cgroups() {
	local root d
	for root in $(cgroup_roots); do
		[ -d "$root$1" ] || continue
		find "$root$1" -depth -type d 2>/dev/null | while read -r d; do rmdir "$d" 2>/dev/null; done
	done
}

make_busybox_tar() {
	local dir=$1 tar=$2 bb
	bb=$(command -v busybox) || return 1
	mkdir -p "$dir/bin" "$dir/tmp" "$dir/run" "$dir/etc" "$dir/proc" "$dir/sys" "$dir/dev" "$dir/root" "$dir/var"
	chmod 1777 "$dir/tmp"
	echo image-file >"$dir/run/marker"
	cp "$bb" "$dir/bin/busybox"
	for applet in $("$bb" --list); do
		[ "$applet" = busybox ] || ln -sf busybox "$dir/bin/$applet"
	done
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$dir/etc/passwd"
	printf 'root:x:0:\nnobody:x:65534:\n' >"$dir/etc/group"
	tar -C "$dir" -cf "$tar" .
}

# Unmounts everything below $1, deepest first.
umount_below() {
	local m
	awk -v p="$1" 'index($5, p) == 1 { print $5 }' /proc/self/mountinfo | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null
	done
}

# Installs the clients with apt-get when missing; false if impossible.
ensure_clients() {
	local missing=()
	command -v podman >/dev/null || missing+=(podman)
	command -v containerd >/dev/null || missing+=(containerd)
	command -v ctr >/dev/null || missing+=(containerd)
	command -v busybox >/dev/null || missing+=(busybox-static)
	[ ${#missing[@]} -eq 0 ] && return 0
	command -v apt-get >/dev/null || return 1
	DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null 2>&1 ||
		{ apt-get update >/dev/null 2>&1 &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}" >/dev/null 2>&1; }
	command -v podman >/dev/null && command -v containerd >/dev/null && command -v ctr >/dev/null &&
		command -v busybox >/dev/null
}

# with_pty SECONDS CMD...: runs CMD under a pseudo-terminal (script(1)),
# killed after SECONDS (+10 s grace), and prints what it wrote.
# timeout must stay in the terminal's foreground process group
# (--foreground): in a group of its own, a client that puts the terminal in
# raw mode is stopped by SIGTTOU and hangs. Whether that happened used to
# depend on $SHELL (bash execs the command as the session leader, where
# timeout's setpgid fails; dash forks), so the shell is fixed too.
with_pty() {
	local secs=$1
	shift
	SHELL=/bin/sh script -qec "exec timeout --foreground -k 10 $secs $*" /dev/null </dev/null 2>&1
}

# Waits up to $2 seconds for "$1" (a command) to succeed.
wait_for() {
	local i
	for ((i = 0; i < $2 * 10; i++)); do
		eval "$1" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# The host uid the process $1 runs as.
host_uid() {
	awk '/^Uid:/ { print $2 }' "/proc/$1/status"
}
