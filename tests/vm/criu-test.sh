#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/vm/criu-test.sh BERTH_BINARY -- checkpoint/restore through criu.
#
# Where `criu check` passes (the pure cgroup-v2 guest: run it as
#   tests/vm/run.sh -- tests/vm/criu-test.sh BUILD/berth):
#   a busybox container counts into a file on its own tmpfs; it is
#   checkpointed (--leave-running first, then for real), restored, and the
#   count must go on from where it was, not start again; state, kill and
#   delete must work on the restored container and leave no cgroup behind.
# Where `criu check` fails (this 6.18 host with Debian's criu 3.17):
#   checkpoint and restore must both refuse with "criu check failed on this
#   kernel" and leave the container running.
#
# Prints "ok - ..." / "not ok - ..." and "N passed, N failed"; exit 1 on a
# failure, 77 when not root or criu is not installed.
set -u

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 BERTH_BINARY" >&2
	exit 2
fi
BERTH=$(realpath "$1")
[ "$(id -u)" = 0 ] || { echo "skip: needs root"; exit 77; }
CRIU=$(command -v criu || echo /usr/sbin/criu)
[ -x "$CRIU" ] || { echo "skip: criu is not installed"; exit 77; }
BB=$(command -v busybox) || { echo "skip: busybox is not installed"; exit 77; }

pass=0
fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
notok() { echo "not ok - $*"; fail=$((fail + 1)); }

D=$(mktemp -d /tmp/berth-criu.XXXXXX)
ROOT=$D/state
ID=criu-count-$$
b() { "$BERTH" --root "$ROOT" "$@"; }

cleanup() {
	b delete --force "$ID" >/dev/null 2>&1
	rm -rf "$D"
}
trap cleanup EXIT

make_bundle() {
	local r=$D/bundle/rootfs
	mkdir -p "$r/bin" "$r/tmp" "$r/proc" "$r/dev" "$r/sys"
	cp "$BB" "$r/bin/busybox"
	for a in sh sleep cat echo; do ln -s busybox "$r/bin/$a"; done
	(cd "$D/bundle" && "$BERTH" spec) || return 1
	# The counter writes to a tmpfs of the container (criu saves its
	# content) and has its stdio on the container's own /dev/null.
	python3 - "$D/bundle/config.json" "$ID" <<-'PY'
		import json, sys
		path, cid = sys.argv[1], sys.argv[2]
		c = json.load(open(path))
		c["process"]["terminal"] = False
		c["process"]["args"] = ["sh", "-c",
		    "exec </dev/null >/dev/null 2>&1; i=0; "
		    "while :; do i=$((i+1)); echo $i >/tmp/count; sleep 0.1; done"]
		c["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
		                    "options": ["nosuid", "nodev", "mode=1777"]})
		c["linux"]["cgroupsPath"] = "berth-criu-test/" + cid
		json.dump(c, open(path, "w"), indent=2)
	PY
}

init_pid() { b state "$ID" 2>/dev/null | sed -n 's/.*"pid": \([0-9]*\).*/\1/p'; }
status() { b state "$ID" 2>/dev/null | sed -n 's/.*"status": "\([a-z]*\)".*/\1/p'; }
# The counter rewrites its file (open with O_TRUNC, then write): a read
# between the two is empty, so an empty read is tried again.
count() {
	local c i
	for ((i = 0; i < 50; i++)); do
		c=$(cat "/proc/$(init_pid)/root/tmp/count" 2>/dev/null) || break
		[ -n "$c" ] && { echo "$c"; return; }
		sleep 0.01
	done
	echo 0
}
# Waits until the counter is at least $1 (10 s at most).
wait_count() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(count)" -ge "$1" ] && return 0
		sleep 0.1
	done
	return 1
}

start_counter() {
	b run -d --bundle "$D/bundle" "$ID" </dev/null >/dev/null 2>"$D/run.err" &&
		wait_count "${1:-20}"
}

host_refuses() {
	local out
	start_counter 3 || { notok "start the counting container: $(cat "$D/run.err")"; return; }
	out=$(b checkpoint --image-path "$D/img" "$ID" 2>&1)
	if [ $? -ne 0 ] && grep -q "checkpoint: criu check failed on this kernel: " <<<"$out"; then
		ok "checkpoint refuses: $out"
	else notok "checkpoint refuses with 'criu check failed on this kernel': $out"; fi
	expect_running "the container still runs after the refused checkpoint"
	out=$(b restore --image-path "$D/img" --bundle "$D/bundle" other-$$ 2>&1)
	if [ $? -ne 0 ] && grep -q "restore: criu check failed on this kernel: " <<<"$out"; then
		ok "restore refuses with the same message"
	else notok "restore refuses with 'criu check failed on this kernel': $out"; fi
	[ ! -e "$ROOT/other-$$" ] && ok "the refused restore leaves no state" ||
		notok "the refused restore leaves no state"
}

expect_running() {
	if [ "$(status)" = running ]; then ok "$1"; else notok "$1 (status '$(status)')"; fi
}

cgroup_dir() {
	local own
	own=$(sed -n 's/^0:://p' /proc/self/cgroup)
	echo "/sys/fs/cgroup${own%/}/berth-criu-test/$ID"
}

guest_roundtrip() {
	local before after pid_before
	start_counter 20 || { notok "start the counting container: $(cat "$D/run.err")"; return; }
	ok "the container counts ($(count))"
	pid_before=$(init_pid)
	if b checkpoint --leave-running --image-path "$D/img0" --work-path "$D/work0" "$ID" 2>"$D/err"; then
		ok "checkpoint --leave-running"
	else notok "checkpoint --leave-running: $(cat "$D/err")"; fi
	expect_running "the container still runs after --leave-running"
	before=$(count)
	if b checkpoint --image-path "$D/img" --work-path "$D/work" "$ID" 2>"$D/err"; then
		ok "checkpoint at count $before"
	else
		notok "checkpoint: $(cat "$D/err")"
		return
	fi
	if ! b state "$ID" >/dev/null 2>&1 && ! kill -0 "$pid_before" 2>/dev/null; then
		ok "the checkpointed container is gone"
	else notok "the checkpointed container is gone (state: $(status))"; fi
	[ ! -d "$(cgroup_dir)" ] && ok "its cgroup is removed" || notok "its cgroup is removed"
	sleep 1
	if b restore -d --image-path "$D/img" --work-path "$D/work" --bundle "$D/bundle" --pid-file "$D/pid" \
		"$ID" </dev/null >/dev/null 2>"$D/err"; then
		ok "restore -d"
	else
		notok "restore -d: $(cat "$D/err")"
		return
	fi
	expect_running "the restored container is running"
	[ "$(cat "$D/pid" 2>/dev/null)" = "$(init_pid)" ] && ok "restore --pid-file names the restored init" ||
		notok "restore --pid-file names the restored init ($(cat "$D/pid" 2>/dev/null) vs $(init_pid))"
	sleep 1
	after=$(count)
	if [ "$after" -gt "$before" ] && [ "$after" -lt $((before + 100)) ]; then
		ok "the count goes on after restore ($before -> $after)"
	else notok "the count goes on after restore ($before -> $after)"; fi
	if grep -qx "$(init_pid)" "$(cgroup_dir)/cgroup.procs" 2>/dev/null; then
		ok "the restored init is in the container's cgroup"
	else notok "the restored init is in the container's cgroup ($(cgroup_dir))"; fi
	b kill "$ID" KILL && sleep 0.5
	[ "$(status)" = stopped ] && ok "kill the restored container" || notok "kill the restored container ($(status))"
	b delete "$ID" && [ ! -d "$(cgroup_dir)" ] && ok "delete the restored container (cgroup removed)" ||
		notok "delete the restored container"
}

if ! make_bundle; then
	notok "make the bundle"
elif "$CRIU" check >/dev/null 2>&1; then
	guest_roundtrip
else
	host_refuses
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
