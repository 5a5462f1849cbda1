#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/vm/systemd-cgroup-test.sh BERTH_BINARY -- the systemd cgroup driver.
#
# Where systemd is PID 1 (the guest: run it as
#   tests/vm/run.sh --systemd -- tests/vm/systemd-cgroup-test.sh BUILD/berth):
#   `berth --systemd-cgroup` with cgroupsPath "system.slice:berth:ID" puts
#   a busybox container into the transient scope berth-ID.scope: the
#   container sees itself there (/proc/self/cgroup, with and without a
#   cgroup namespace), systemd's unit properties and the cgroup files
#   carry the limits, exec joins the scope, pause/resume freeze it,
#   update changes both, kill and delete work, and after delete the unit
#   and its cgroup are gone. A malformed cgroupsPath and a unit name
#   already taken fail clearly, leave nothing and harm no other container;
#   without a D-Bus daemon systemd's private socket serves. Then
#   systemd-clients.sh: restore of a checkpoint into a scope, containerd
#   with SystemdCgroup = true.
# Where systemd is not PID 1 (this host): --systemd-cgroup (run, restore)
#   fails with "systemd is not running" and leaves no state and no cgroup.
#
# Prints "ok - ..." / "not ok - ..." and "N passed, N failed"; exit 1 on a
# failure, 77 when not root or busybox is missing.
set -u

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
	echo "usage: $0 BERTH_BINARY" >&2
	exit 2
fi
BERTH=$(realpath "$1")
[ "$(id -u)" = 0 ] || { echo "skip: needs root"; exit 77; }
BB=$(command -v busybox) || { echo "skip: busybox is not installed"; exit 77; }

pass=0
fail=0
ok() { echo "ok - $*"; pass=$((pass + 1)); }
notok() { echo "not ok - $*"; fail=$((fail + 1)); }
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@"; then ok "$what"; else notok "$what"; fi
}

D=$(mktemp -d /tmp/berth-sdcg.XXXXXX)
chmod 755 "$D" # the user namespace's root reaches the rootfs in it
ROOT=$D/state
ID=sdcg-$$
b() { "$BERTH" --root "$ROOT" "$@"; }
sb() { "$BERTH" --root "$ROOT" --systemd-cgroup "$@"; }
ids=("$ID" "$ID-run" "$ID-bad" "$ID-dup" "$ID-priv" "$ID-slice" "$ID-fail" "$ID-criu" "$ID-criub")
. "$(dirname "${BASH_SOURCE[0]}")/systemd-clients.sh"

cleanup() {
	local i
	containerd_stop
	for i in "${ids[@]}"; do
		b delete --force "$i" >/dev/null 2>&1
	done
	rm -rf "$D"
}
trap cleanup EXIT

# All bundles at once (python3 and berth spec are slow under TCG): one
# busybox root, and per line of stdin "DIR CGROUPS_PATH NS ARGS-as-JSON"
# a config.json in DIR; NS: 0 no cgroup namespace, 1 one, u one and a
# user namespace; a "t" after it adds a tmpfs on /tmp.
make_bundles() {
	local r=$D/rootfs
	mkdir -p "$r/bin" "$r/proc" "$r/dev" "$r/sys" "$r/tmp" "$D/spec"
	cp "$BB" "$r/bin/busybox"
	for a in sh sleep cat echo true; do ln -s busybox "$r/bin/$a"; done
	(cd "$D/spec" && "$BERTH" spec) || return 1
	python3 -c '
import json, os, sys
base = json.load(open(sys.argv[1]))
for line in sys.stdin:
    d, cgpath, cgns, args = line.rstrip("\n").split(" ", 3)
    c = json.loads(json.dumps(base))
    c["root"]["path"] = sys.argv[2]
    c["process"]["terminal"] = False
    c["process"]["args"] = json.loads(args)
    c["linux"]["cgroupsPath"] = cgpath
    if cgns.endswith("t"):
        cgns = cgns[:-1]
        c["mounts"].append({"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
                            "options": ["nosuid", "nodev", "mode=1777"]})
    if cgns == "0":
        c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "cgroup"]
    if cgns == "u":  # and a user namespace
        c["linux"]["namespaces"].append({"type": "user"})
        for k in ("uidMappings", "gidMappings"):
            c["linux"][k] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
    c["linux"]["resources"] = {
        "memory": {"limit": 67108864},
        "pids": {"limit": 100},
        "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
    }
    os.makedirs(d, exist_ok=True)
    json.dump(c, open(d + "/config.json", "w"), indent=2)
' "$D/spec/config.json" "$r"
}

status() { b state "$1" 2>/dev/null | sed -n 's/.*"status": "\([a-z]*\)".*/\1/p'; }
prop() { systemctl show -P "$2" "$1" 2>/dev/null; }
# props UNIT: every property the checks read, with one systemctl (slow
# under TCG), into the array P.
declare -A P
props() {
	local k v
	P=()
	while IFS='=' read -r k v; do P[$k]=$v; done < <(systemctl show "$1" -p ActiveState \
		-p Delegate -p MemoryMax -p TasksMax -p CPUQuotaPerSecUSec -p CPUWeight -p AllowedCPUs 2>/dev/null)
}
# gone UNIT: its cgroup directory is gone and systemd has collected the
# unit (right after its stop job, or a moment later).
gone() {
	local i
	[ ! -e "/sys/fs/cgroup/system.slice/$1" ] || return 1
	for ((i = 0; i < 20; i++)); do
		[ "$(prop "$1" LoadState)" = not-found ] && return 0
		sleep 0.1
	done
	return 1
}
wait_status() {
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(status "$1")" = "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

no_systemd() {
	make_bundles <<<"$D/bundle system.slice:berth:$ID 1 [\"true\"]" || { notok "bundle"; return; }
	local out
	out=$(cd "$D/bundle" && sb run "$ID" 2>&1)
	local rc=$?
	check "--systemd-cgroup without systemd fails (rc $rc)" [ $rc -ne 0 ]
	check "and says why: $out" grep -q "systemd is not running on this host" <<<"$out"
	check "no state left" [ ! -e "$ROOT/$ID" ]
	check "no cgroup left" [ -z "$(find /sys/fs/cgroup -maxdepth 4 -name "*$ID*" 2>/dev/null)" ]
	mkdir -p "$D/img"
	out=$(sb restore --image-path "$D/img" --bundle "$D/bundle" "$ID" 2>&1)
	check "restore --systemd-cgroup without systemd says why: $out" \
		grep -q "systemd is not running on this host" <<<"$out"
	check "restore: no state left" [ ! -e "$ROOT/$ID" ]
}

lifecycle() {
	local unit=berth-$ID.scope cg=/sys/fs/cgroup/system.slice/berth-$ID.scope
	(cd "$D/bundle" && sb create "$ID") || { notok "create"; return; }
	ok "create with cgroupsPath system.slice:berth:$ID"
	props "$unit"
	check "the unit $unit is active" [ "${P[ActiveState]}" = active ]
	check "delegated to us" [ "${P[Delegate]}" = yes ]
	local pid
	pid=$(b state "$ID" | sed -n 's/.*"pid": \([0-9]*\).*/\1/p')
	check "the init is in the scope's cgroup" grep -qx "0::/system.slice/$unit" "/proc/$pid/cgroup"
	check "systemd holds MemoryMax=64M (${P[MemoryMax]})" [ "${P[MemoryMax]}" = 67108864 ]
	check "memory.max is 64M" [ "$(cat "$cg/memory.max")" = 67108864 ]
	check "TasksMax and pids.max are 100" [ "${P[TasksMax]}/$(cat "$cg/pids.max")" = 100/100 ]
	check "CPU quota 50% (${P[CPUQuotaPerSecUSec]}, cpu.max $(cat "$cg/cpu.max"))" \
		[ "${P[CPUQuotaPerSecUSec]}/$(cat "$cg/cpu.max")" = "500ms/50000 100000" ]
	check "CPUWeight from shares 512 (${P[CPUWeight]})" [ "${P[CPUWeight]}" = "$(cat "$cg/cpu.weight")" ]
	check "AllowedCPUs and cpuset.cpus are 0 (${P[AllowedCPUs]}, $(cat "$cg/cpuset.cpus"))" \
		[ "${P[AllowedCPUs]}/$(cat "$cg/cpuset.cpus")" = 0/0 ]
	b start "$ID" || notok "start"
	check "running" [ "$(status "$ID")" = running ]
	local inside
	inside=$(b exec "$ID" cat /proc/self/cgroup)
	check "inside, exec sees 0::/system.slice/$unit ($inside)" [ "$inside" = "0::/system.slice/$unit" ]
	b pause "$ID" || notok "pause"
	check "pause freezes the scope" grep -qx "frozen 1" "$cg/cgroup.events"
	check "paused" [ "$(status "$ID")" = paused ]
	b resume "$ID" || notok "resume"
	check "resume thaws it" grep -qx "frozen 0" "$cg/cgroup.events"
	sb update --memory 128m --pids-limit 50 "$ID" || notok "update"
	props "$unit"
	check "update: MemoryMax and memory.max 128M" \
		[ "${P[MemoryMax]}/$(cat "$cg/memory.max")" = 134217728/134217728 ]
	check "update: TasksMax and pids.max 50" [ "${P[TasksMax]}/$(cat "$cg/pids.max")" = 50/50 ]
	check "ps lists the init" grep -qw "$pid" <(b ps "$ID")
	check "events --stats reads the scope (memory limit 128M)" grep -q '"limit": *134217728' <(b events --stats "$ID")
	b kill "$ID" KILL || notok "kill"
	check "stopped after kill" wait_status "$ID" stopped
	b delete "$ID" || notok "delete"
	check "after delete: unit and cgroup gone" gone "$unit"
	check "after delete: no state" [ ! -e "$ROOT/$ID" ]
}

# A foreground run in a cgroup namespace rooted at the scope; delete at
# its end removes the unit.
run_cgroupns() {
	local id=$ID-run
	local out
	out=$(cd "$D/run" && sb run "$id" 2>&1)
	local rc=$?
	check "run with a cgroup namespace: the container sees 0::/ ($out), run exits 0 ($rc)" \
		[ "$out/$rc" = "0:://0" ]
	check "after run: unit and cgroup gone" gone "berth-$id.scope"
	# With a user namespace too: the scope is started before the init
	# makes its cgroup namespace all the same.
	out=$(cd "$D/userns" && sb run "$id" 2>&1)
	check "run in a user namespace: 0::/ ($out)" [ "$out" = "0::/" ]
	check "after that run: unit and cgroup gone" gone "berth-$id.scope"
}

errors() {
	local id=$ID-bad out
	out=$(cd "$D/bad" && sb run "$id" 2>&1)
	check "malformed cgroupsPath refused: $out" \
		grep -q 'expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups' <<<"$out"
	check "malformed: no state left" [ ! -e "$ROOT/$id" ]
	check "malformed: no unit" [ -z "$(systemctl list-units --all --no-legend "*$id*" 2>/dev/null)" ]
	# A unit name already taken (two containers, one cgroupsPath): the
	# second fails, the first's processes live on.
	(cd "$D/dup1" && sb run --detach "$ID-dup") || { notok "first of two"; return; }
	out=$(cd "$D/dup1" && sb run "$id" 2>&1)
	check "a taken unit name fails: $out" grep -q "already exists" <<<"$out"
	check "the taken name: no state left" [ ! -e "$ROOT/$id" ]
	check "the first container lives on" [ "$(status "$ID-dup")" = running ]
	sb delete --force "$ID-dup" || notok "delete --force" # kills, then StopUnit
	check "delete --force: unit gone" gone "berth-$id.scope"
}

# A failed unit of the same name left over (here: its stop timed out) is
# reset and the name reused.
failed_unit() {
	local id=$ID-fail unit=berth-$ID-fail.scope i
	(systemd-run --quiet --scope --unit="$unit" -p TimeoutStopSec=1 \
		"$BB" sh -c 'trap "" TERM; exec '"$BB"' sleep 100'; true) 2>/dev/null &
	for ((i = 0; i < 50; i++)); do
		[ "$(prop "$unit" ActiveState)" = active ] && break
		sleep 0.1
	done
	systemctl stop "$unit" 2>/dev/null
	wait
	check "a failed unit is left over ($(prop "$unit" ActiveState))" [ "$(prop "$unit" ActiveState)" = failed ]
	local out
	out=$(cd "$D/fail" && sb run "$id" 2>&1)
	check "its name is reused: $out" [ "$out" = "0::/system.slice/$unit" ]
	check "and gone after the run" gone "$unit"
}

# No D-Bus daemon to reach: systemd's private socket serves.
private_socket() {
	local id=$ID-priv
	local out
	out=$(cd "$D/priv" && DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent sb run "$id" 2>&1)
	[ $? = 0 ] || notok "run exits 0"
	check "without the system bus (private socket): $out" [ "$out" = "0::/system.slice/berth-$id.scope" ]
	check "private socket: unit gone after run" gone "berth-$id.scope"
}

# systemd loads a slice without a unit file on any query ("inactive").
slice_gone() { [ "$(prop "$1" ActiveState)" = inactive ] && [ ! -e "/sys/fs/cgroup/$1" ]; }

# A name ending in ".slice" is a slice unit of its own; the init joins it.
# (--cgroup-manager systemd is --systemd-cgroup.)
slice_unit() {
	local id=$ID-slice sl=berthsl$$.slice
	local out
	out=$(cd "$D/slice" && b --cgroup-manager systemd run "$id" 2>&1)
	[ $? = 0 ] || notok "run exits 0"
	check "a slice unit: the container is in /$sl ($out)" [ "$out" = "0::/$sl" ]
	check "a slice unit: stopped, its cgroup gone after run" slice_gone "$sl"
}

if [ -d /run/systemd/system ] && [ "$(cat /proc/1/comm)" = systemd ]; then
	SECONDS=0
	# Counts into its tmpfs (criu saves the content), stdio on its own
	# /dev/null (nothing of ours for criu to reconnect).
	counter='["sh", "-c", "exec </dev/null >/dev/null 2>&1; i=0; while :; do i=$((i+1)); echo $i >/tmp/count; sleep 0.1; done"]'
	make_bundles <<-EOF || { echo "not ok - bundles"; exit 1; }
		$D/bundle system.slice:berth:$ID 0 ["sleep", "600"]
		$D/run system.slice:berth:$ID-run 1 ["cat", "/proc/self/cgroup"]
		$D/userns system.slice:berth:$ID-run u ["cat", "/proc/self/cgroup"]
		$D/bad berth/$ID-bad 0 ["true"]
		$D/dup1 system.slice:berth:$ID-bad 0 ["sleep", "600"]
		$D/priv system.slice:berth:$ID-priv 0 ["cat", "/proc/self/cgroup"]
		$D/slice :berth:berthsl$$.slice 0 ["cat", "/proc/self/cgroup"]
		$D/fail system.slice:berth:$ID-fail 0 ["cat", "/proc/self/cgroup"]
		$D/criu system.slice:berth:$ID-criu 1t $counter
		$D/criub system.slice:berth:$ID-criu 0 ["sleep", "600"]
	EOF
	lifecycle
	run_cgroupns
	errors
	private_socket
	slice_unit
	failed_unit
	echo "# the systemd driver checks took ${SECONDS}s"
	SECONDS=0
	sd_restore
	echo "# restore into a scope took ${SECONDS}s"
	SECONDS=0
	sd_containerd
	echo "# containerd with SystemdCgroup took ${SECONDS}s"
else
	no_systemd
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
