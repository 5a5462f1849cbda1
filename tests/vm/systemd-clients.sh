# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# The systemd guest's client checks, sourced by systemd-cgroup-test.sh
# (uses its globals and helpers: b, sb, ok/notok/check, props/P, gone,
# status, wait_status, $D, $ID, $BB):
#
#   sd_restore     checkpoint a counting container that lives in a
#                  transient scope, restore it with --systemd-cgroup: it
#                  comes back in a new scope of the same name with the
#                  container's limits and counts on; delete removes it.
#   sd_containerd  containerd 1.6 (Debian's) with the runc v2 shim running
#                  berth with the shim options BinaryName = berth and
#                  SystemdCgroup = true (what a CRI runtime handler with
#                  those options passes; ctr sets the same two options with
#                  --runc-binary and --runc-systemd-cgroup): a pod-like
#                  lifecycle, each container in its own scope in a nested
#                  pod slice (cgroupsPath as containerd's CRI writes it,
#                  "<pod>.slice:cri-containerd:<id>"), gone after its task
#                  is deleted.

# An empty read falls between the counter's truncate and its write: again.
sd_count() {
	local c i=0
	while [ $i -lt 50 ]; do
		c=$(cat "/proc/$(init_pid "$1")/root/tmp/count" 2>/dev/null) || break
		[ -n "$c" ] && { echo "$c"; return; }
		sleep 0.01
		i=$((i + 1))
	done
	echo 0
}
init_pid() { b state "$1" 2>/dev/null | sed -n 's/.*"pid": \([0-9]*\).*/\1/p'; }
# wait_count ID N: the counter reaches N (10 s at most).
wait_count() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(sd_count "$1")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

# restore_taken ID UNIT: another container holds the unit name: restore
# fails saying so, leaves no state and no criu, and harms neither the
# other container nor the images.
no_trace() { [ ! -e "$ROOT/$1" ] && ! pgrep -x criu >/dev/null; }
restore_taken() {
	local out
	(cd "$D/criub" && sb run -d "$1b" </dev/null >/dev/null 2>&1) || { notok "the blocker runs"; return; }
	out=$(sb restore -d --image-path "$D/img" --work-path "$D/work" --bundle "$D/criu" "$1" </dev/null 2>&1)
	check "restore into a taken unit name fails: $out" grep -q "unit $2 already exists" <<<"$out"
	check "that restore leaves no state and no criu process" no_trace "$1"
	check "the other container lives on" [ "$(status "$1b")" = running ]
	sb delete --force "$1b" || notok "delete the blocker"
	gone "$2" || notok "the blocker's scope is gone"
}

sd_restore() {
	local id=$ID-criu unit=berth-$ID-criu.scope out pid before after
	local cg=/sys/fs/cgroup/system.slice/berth-$ID-criu.scope
	if ! out=$(criu check 2>&1); then
		notok "criu check passes in the systemd guest: $(tail -n 2 <<<"$out" | tr '\n' ' ')"
		return
	fi
	(cd "$D/criu" && sb run -d "$id" </dev/null >/dev/null 2>"$D/criu.err") ||
		{ notok "start the counter: $(cat "$D/criu.err")"; return; }
	wait_count "$id" 10 || { notok "the counter counts"; return; }
	if ! sb checkpoint --image-path "$D/img" --work-path "$D/work" "$id" 2>"$D/criu.err"; then
		notok "checkpoint: $(cat "$D/criu.err")"
		return
	fi
	check "checkpointed: the scope is gone" gone "$unit"
	restore_taken "$id" "$unit"
	if ! out=$(sb restore -d --image-path "$D/img" --work-path "$D/work" --bundle "$D/criu" "$id" \
		</dev/null 2>&1 >/dev/null); then
		notok "restore --systemd-cgroup: $out"
		return
	fi
	ok "restore --systemd-cgroup"
	pid=$(init_pid "$id")
	check "restored: running" [ "$(status "$id")" = running ]
	check "the restored init is in the scope $unit" grep -qx "0::/system.slice/$unit" "/proc/$pid/cgroup"
	props "$unit"
	check "the scope is active (${P[ActiveState]}), delegated (${P[Delegate]})" \
		[ "${P[ActiveState]}/${P[Delegate]}" = active/yes ]
	check "the scope has the limits: MemoryMax and memory.max 64M, pids.max 100" \
		[ "${P[MemoryMax]}/$(cat "$cg/memory.max")/$(cat "$cg/pids.max")" = 67108864/67108864/100 ]
	# criu itself (the scope's first pid) is gone: the container's shell
	# and its short sleeps are all that is left there.
	out=$(while read -r p; do cat "/proc/$p/comm"; done <"$cg/cgroup.procs" 2>/dev/null | sort -u | tr '\n' ' ')
	check "the init is in the scope, criu is not ($out)" \
		[ "$(grep -cx "$pid" "$cg/cgroup.procs")/$(grep -c criu <<<"$out")" = 1/0 ]
	before=$(sd_count "$id")
	sleep 1
	after=$(sd_count "$id")
	check "it counts on in the scope ($before -> $after)" [ "$after" -gt "$before" ]
	b kill "$id" KILL || notok "kill the restored container"
	check "stopped after kill" wait_status "$id" stopped
	b delete "$id" || notok "delete the restored container"
	check "after delete: the scope and its cgroup are gone" gone "$unit"
}

# --- containerd -----------------------------------------------------------
CTD=
ct() { timeout -k 5 60 ctr --address "$D/ctd/sock" -n berthsd "$@"; }
ctq() { ct "$@" >/dev/null 2>&1; } # ctr's warnings (a task's exit code) are no result
# ctr_run ID [ctr run options] -- ARGS: berth through the runc v2 shim with
# SystemdCgroup; the busybox rootfs as is (no image, no snapshotter).
ctr_run() {
	local id=$1
	shift
	ct run --runtime io.containerd.runc.v2 --runc-binary "$BERTH" --runc-root "$D/ctd/runc" \
		--runc-systemd-cgroup --cgroup "$CSLICE:cri-containerd:$id-$$" --rootfs "$@"
}
# The containers' slice, nested as the kubelet's pod slices are
# (kubepods-besteffort-pod<UID>.slice): systemd makes the parents.
CSLICE=berthpods-pod$$.slice
CSLICE_DIR=/sys/fs/cgroup/berthpods.slice/berthpods-pod$$.slice
# cunit ID: the container's scope; cgone ID: it and its cgroup are gone.
cunit() { echo "cri-containerd-$1-$$.scope"; }
cgone() {
	local i
	[ ! -e "$CSLICE_DIR/$(cunit "$1")" ] || return 1
	for ((i = 0; i < 20; i++)); do
		[ "$(prop "$(cunit "$1")" LoadState)" = not-found ] && return 0
		sleep 0.1
	done
	return 1
}
task_status() { ct task ls 2>/dev/null | awk -v t="$1" '$1 == t { print $3 }'; }
task_pid() { ct task ls 2>/dev/null | awk -v t="$1" '$1 == t { print $2 }'; }
wait_task() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(task_status "$1")" = "$2" ] && return 0
		sleep 0.2
	done
	return 1
}

containerd_start() {
	local d=$D/ctd
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
		  address = "$d/sock"
		[ttrpc]
		  address = "$d/sock.ttrpc"
		[debug]
		  address = ""
		[metrics]
		  address = ""
	CONF
	containerd --config "$d/config.toml" >"$d/log" 2>&1 &
	CTD=$!
	local i
	for ((i = 0; i < 100; i++)); do
		ct version >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

containerd_stop() {
	[ -n "$CTD" ] || return 0
	local t
	for t in $(ct task ls -q 2>/dev/null); do
		ct task kill -a -s KILL "$t" >/dev/null 2>&1
		ct task delete -f "$t" >/dev/null 2>&1
	done
	for t in $(ct container ls -q 2>/dev/null); do ct container rm "$t" >/dev/null 2>&1; done
	kill "$CTD" 2>/dev/null
	wait "$CTD" 2>/dev/null
	CTD=
	systemctl stop berthpods.slice 2>/dev/null
}

# The exec'd process and the init share the container's scope; the
# shim's own cgroup is not the container's.
sd_ctr_exec() {
	local out
	out=$(ct task exec --exec-id e1 p2 cat /proc/self/cgroup 2>&1)
	check "exec: the process is in the scope ($out)" [ "$out" = "0::${CSLICE_DIR#/sys/fs/cgroup}/$(cunit p2)" ]
	out=$(ct task exec --exec-id e2 p2 sh -c 'exit 6' 2>&1)
	check "exec: its exit code (6: $? $out)" [ "$?" = 6 ]
	local cg
	cg=$CSLICE_DIR/$(cunit p2)
	ctq task pause p2
	check "pause freezes the scope ($(task_status p2))" grep -qx "frozen 1" "$cg/cgroup.events"
	ctq task resume p2
	check "resume thaws it ($(task_status p2))" grep -qx "frozen 0" "$cg/cgroup.events"
	# ctr has no update; CRI's UpdateContainerResources makes the shim
	# run this (go-runc's Update), with the shim's --root and flag.
	echo '{"memory": {"limit": 50331648}, "pids": {"limit": 40}}' |
		"$BERTH" --root "$D/ctd/runc/berthsd" --systemd-cgroup update --resources - p2 ||
		notok "update --resources - as the shim runs it"
	props "$(cunit p2)"
	check "update: MemoryMax, TasksMax and the files follow (${P[MemoryMax]} ${P[TasksMax]})" \
		[ "${P[MemoryMax]}/${P[TasksMax]}/$(cat "$cg/memory.max")/$(cat "$cg/pids.max")" = 50331648/40/50331648/40 ]
	out=$(ct task ps p2 2>&1)
	check "task ps lists the init $(task_pid p2) ($(tr -s ' \n' ' ' <<<"$out"))" \
		grep -qx "$(task_pid p2)" < <(awk 'NR > 1 { print $1 }' <<<"$out")
}

sd_containerd() {
	if ! command -v containerd >/dev/null || ! command -v ctr >/dev/null; then
		notok "containerd and ctr are installed"
		return
	fi
	containerd_start || { notok "containerd starts: $(tail -n 3 "$D/ctd/log")"; return; }
	local r=$D/rootfs spid out rc
	ctr_run p0 -d --memory-limit 33554432 "$r" p0 sleep 1000 >/dev/null 2>"$D/ctr.err"
	check "sandbox runs ($(tail -n 2 "$D/ctr.err"))" [ "$(task_status p0)" = RUNNING ]
	spid=$(task_pid p0)
	check "sandbox in the scope $(cunit p0)" grep -qx "0::${CSLICE_DIR#/sys/fs/cgroup}/$(cunit p0)" "/proc/$spid/cgroup"
	props "$(cunit p0)"
	check "the scope is active with MemoryMax 32M (${P[ActiveState]} ${P[MemoryMax]})" \
		[ "${P[ActiveState]}/${P[MemoryMax]}" = active/33554432 ]
	out=$(ct task metrics p0 2>&1)
	check "task metrics read the scope ($(grep limit <<<"$out" | tr -s ' \t\n' ' '))" \
		grep -qE '^memory\.usage_limit[[:space:]]+33554432[[:space:]]*$' <<<"$out"
	ctr_run p1 -d --with-ns "pid:/proc/$spid/ns/pid" "$r" p1 sh -c 'sleep 1; exit 3' >/dev/null 2>&1
	ctr_run p2 -d --with-ns "pid:/proc/$spid/ns/pid" "$r" p2 sleep 1000 >/dev/null 2>&1
	check "a container in the sandbox's pid namespace runs" [ "$(task_status p2)" = RUNNING ]
	sd_ctr_exec
	check "a container that exits on its own is STOPPED" wait_task p1 STOPPED
	out=$(ct task kill -a -s KILL p1 2>&1)
	check "kill --all of the stopped task succeeds ($out)" [ $? = 0 ]
	out=$(ct task delete p1 2>&1)
	rc=$?
	check "task delete gives its exit code 3 (rc $rc: $out)" grep -q "exit code 3" <<<"$out"
	check "its scope is gone" cgone p1
	ct task kill -s TERM p2 >/dev/null 2>&1
	check "stop of a running container (TERM)" wait_task p2 STOPPED
	ct task kill -a -s KILL p2 >/dev/null 2>&1
	check "task delete of the stopped container" ctq task delete p2
	check "its scope is gone" cgone p2
	ct task kill -a -s KILL p0 >/dev/null 2>&1
	check "sandbox stopped with kill --all" wait_task p0 STOPPED
	check "task delete of the sandbox" ctq task delete p0
	check "the sandbox's scope is gone" cgone p0
	for out in p0 p1 p2; do ct container rm $out >/dev/null 2>&1; done
	check "containers removed" [ -z "$(ct container ls -q)" ]
	out=$("$BERTH" --root "$D/ctd/runc/berthsd" list -q 2>&1)
	check "nothing left in the runtime's state ($out)" [ -z "$out" ]
	check "no scope left in the pod slice" [ -z "$(find "$CSLICE_DIR" -mindepth 1 -type d)" ]
	containerd_stop
}
