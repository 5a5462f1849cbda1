# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# The containerd half of tests/clients/run.sh (sourced; uses its globals):
# a containerd of our own, ctr with the io.containerd.runc.v2 shim running
# berth (the shim's BinaryName option, --runc-binary on ctr's side).

containerd_setup() {
	local d=$T/ctd
	mkdir -p "$d/root" "$d/state"
	cat >"$d/config.toml" <<-CONF
		version = 2
		root = "$d/root"
		state = "$d/state"
		disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.snapshotter.v1.btrfs",
		  "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.aufs",
		  "io.containerd.snapshotter.v1.devmapper", "io.containerd.tracing.processor.v1.otlp",
		  "io.containerd.internal.v1.tracing"]
		[grpc]
		  address = "$d/containerd.sock"
		[ttrpc]
		  address = "$d/containerd.sock.ttrpc"
		[debug]
		  address = ""
		[metrics]
		  address = ""
		# What a CRI client (Kubernetes RuntimeClass) would select: the runc
		# shim with BinaryName = berth. ctr passes the same with --runc-binary.
		[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.berth]
		  runtime_type = "io.containerd.runc.v2"
		  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.berth.options]
		    BinaryName = "$BERTH"
		    Root = "$d/runc"
		    SystemdCgroup = false
	CONF
	containerd --config "$d/config.toml" >"$d/log" 2>&1 &
	CTD_PID=$!
	wait_for "ctr --address $d/containerd.sock version" 20 || return 1
	pm save --format oci-archive -o "$T/busybox-oci.tar" "$IMG" >/dev/null 2>&1 || return 1
	ct image import --base-name localhost/berthbox "$T/busybox-oci.tar" >/dev/null 2>&1
}

ct() { timeout -k 10 120 ctr --address "$T/ctd/containerd.sock" -n berthtest "$@"; }
# What every ctr run gets: berth through the runc v2 shim, our cgroup.
ctr_run() {
	local id=$1
	shift
	ct run --runtime io.containerd.runc.v2 --runc-binary "$BERTH" --runc-root "$T/ctd/runc" \
		--cgroup "$CG/ctr-$id" "$@"
}

containerd_cleanup() {
	[ -n "$CTD_PID" ] || return 0
	local t
	for t in $(ct task ls -q 2>/dev/null); do
		ct task kill -s KILL "$t" >/dev/null 2>&1
		ct task delete -f "$t" >/dev/null 2>&1
	done
	for t in $(ct container ls -q 2>/dev/null); do ct container rm "$t" >/dev/null 2>&1; done
	kill "$CTD_PID" 2>/dev/null
	wait_for "! kill -0 $CTD_PID" 10 || kill -9 "$CTD_PID" 2>/dev/null
	wait "$CTD_PID" 2>/dev/null
	CTD_PID=
}

task_status() { ct task ls 2>/dev/null | awk -v t="$1" '$1 == t { print $3 }'; }
task_pid() { ct task ls 2>/dev/null | awk -v t="$1" '$1 == t { print $2 }'; }

ctr_basic() {
	local out
	out=$(ctr_run r1 --rm "$IMG" r1 echo hello 2>&1)
	expect "ctr run --rm" hello "$out"
	expect "ctr run --rm removes the container" "" "$(ct container ls -q | grep -x r1)"
	ctr_run r2 --rm "$IMG" r2 sh -c 'exit 4' >/dev/null 2>&1
	expect "ctr run: exit code" 4 $?
	out=$(with_pty 60 ctr --address "$T/ctd/containerd.sock" -n berthtest run --rm -t \
		--runc-binary "$BERTH" --runc-root "$T/ctd/runc" --cgroup "$CG/ctr-r3" "$IMG" r3 tty)
	if grep -q '/dev/pts/[0-9]' <<<"$out"; then ok "ctr run -t"; else notok "ctr run -t: $out"; fi
}

ctr_task() {
	local out pid
	ctr_run d1 -d --memory-limit 33554432 "$IMG" d1 sleep 1000 >/dev/null 2>&1
	expect "ctr run -d; task ls" RUNNING "$(task_status d1)"
	pid=$(task_pid d1)
	out=$(ct task ps d1 2>&1)
	if awk 'NR > 1 { print $1 }' <<<"$out" | grep -qx "$pid"; then ok "ctr task ps"; else
		notok "ctr task ps: $(tr '\n' ' ' <<<"$out") (init $pid)"; fi
	out=$(ct task exec --exec-id e1 d1 sh -c 'echo exec-out; exit 6' 2>&1)
	expect "ctr task exec: exit code and output" "6 exec-out" "$? $out"
	out=$(with_pty 60 ctr --address "$T/ctd/containerd.sock" -n berthtest task exec -t --exec-id e2 d1 tty)
	if grep -q '/dev/pts/[0-9]' <<<"$out"; then ok "ctr task exec -t"; else notok "ctr task exec -t: $out"; fi
	ct task pause d1 >/dev/null 2>&1
	expect "ctr task pause" PAUSED "$(task_status d1)"
	ct task resume d1 >/dev/null 2>&1
	expect "ctr task resume" RUNNING "$(task_status d1)"
	ctr_metrics d1
	ct task kill -s KILL d1 >/dev/null 2>&1
	wait_for "[ \"\$(task_status d1)\" = STOPPED ]" 10
	expect "ctr task kill" STOPPED "$(task_status d1)"
	ct task delete d1 >/dev/null 2>&1
	expect "ctr task delete" "" "$(task_status d1)"
	ct container rm d1 >/dev/null 2>&1
	expect "ctr container rm" "" "$(ct container ls -q | grep -x d1)"
}

# The shim reads the cgroup at cgroupsPath: the limit must be there, and
# the usage figures must be the container's, not those of a parent.
ctr_metrics() {
	local out usage pids
	out=$(ct task metrics "$1" 2>&1)
	expect "ctr --memory-limit (task metrics memory limit)" 33554432 \
		"$(awk '$1 == "memory.limit_in_bytes" || $1 == "memory.max" { print $2 }' <<<"$out")" "$out"
	usage=$(awk '$1 == "cpuacct.usage" || $1 == "cpu.usage_usec" { print $2 }' <<<"$out")
	pids=$(awk '$1 == "pids.current" { print $2 }' <<<"$out")
	if [ -n "$pids" ] && [ "$pids" -ge 1 ] && [ "$pids" -le 5 ] && [ -n "$usage" ] && [ "$usage" -lt 5000000000 ]; then
		ok "ctr task metrics are the container's (pids.current $pids, cpu usage $usage)"
	else
		notok "ctr task metrics are the container's (pids.current '${pids}', cpu usage '${usage}')"
	fi
}

# A pod-like lifecycle, as Kubernetes drives it through the CRI plugin: a
# sandbox, containers in its pid namespace (the shim then sends
# `kill --all ID KILL` when one exits, and CRI kills every stopped task
# with --all before deleting it), one that exits on its own, one that is
# stopped while running; in the end nothing is left in the runtime's state.
ctr_pod() {
	local spid out rc
	ctr_run p0 -d "$IMG" p0 sleep 1000 >/dev/null 2>&1
	expect "pod: sandbox runs" RUNNING "$(task_status p0)"
	spid=$(task_pid p0)
	ctr_run p1 -d --with-ns "pid:/proc/$spid/ns/pid" "$IMG" p1 sh -c 'sleep 1; exit 3' >/dev/null 2>&1
	ctr_run p2 -d --with-ns "pid:/proc/$spid/ns/pid" "$IMG" p2 sleep 1000 >/dev/null 2>&1
	expect "pod: a container in the sandbox's pid namespace runs" RUNNING "$(task_status p2)"
	wait_for "[ \"\$(task_status p1)\" = STOPPED ]" 20
	expect "pod: a container that exits on its own is STOPPED" STOPPED "$(task_status p1)"
	out=$(ct task kill -a -s KILL p1 2>&1)
	expect "pod: kill --all of a stopped task succeeds" "0 " "$? $out"
	out=$(ct task kill -s KILL p1 2>&1)
	if grep -q "process already finished" <<<"$out"; then ok "pod: kill of a stopped task: process already finished"
	else notok "pod: kill of a stopped task: $out"; fi
	out=$(ct task delete p1 2>&1)
	rc=$?
	expect "pod: task delete of the exited container" "" "$(task_status p1)" "$out"
	if [ "$rc" = 0 ] && grep -q "exit code 3" <<<"$out"; then ok "pod: task delete: the exit code of the exited container"
	else notok "pod: task delete: the exit code of the exited container (rc $rc: $out)"; fi
	ct task kill -s TERM p2 >/dev/null 2>&1
	wait_for "[ \"\$(task_status p2)\" = STOPPED ]" 20
	expect "pod: stop of a running container" STOPPED "$(task_status p2)"
	out=$(ct task kill -a -s KILL p2 2>&1)
	expect "pod: kill --all after the stop" "0 " "$? $out"
	check "pod: task delete of the stopped container" ct task delete p2
	ct task kill -a -s KILL p0 >/dev/null 2>&1
	wait_for "[ \"\$(task_status p0)\" = STOPPED ]" 20
	expect "pod: sandbox stopped with kill --all" STOPPED "$(task_status p0)"
	check "pod: task delete of the sandbox" ct task delete p0
	for c in p0 p1 p2; do ct container rm $c >/dev/null 2>&1; done
	expect "pod: containers removed" "" "$(ct container ls -q | grep -x 'p[012]')"
	out=$("$BERTH" --root "$T/ctd/runc/berthtest" list -q 2>&1)
	expect "pod: nothing left in the runtime's state" "" "$out"
}

containerd_tests() {
	timed ctr_basic
	timed ctr_task
	timed ctr_pod
}
