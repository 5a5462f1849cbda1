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
#   without a D-Bus daemon systemd's private socket serves.
# Where systemd is not PID 1 (this host): --systemd-cgroup fails with
#   "systemd is not running" and leaves no state and no cgroup.
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
ROOT=$D/state
ID=sdcg-$$
b() { "$BERTH" --root "$ROOT" "$@"; }
sb() { "$BERTH" --root "$ROOT" --systemd-cgroup "$@"; }
ids=("$ID" "$ID-run" "$ID-bad" "$ID-dup" "$ID-priv")

cleanup() {
	local i
	for i in "${ids[@]}"; do
		b delete --force "$i" >/dev/null 2>&1
	done
	rm -rf "$D"
}
trap cleanup EXIT

# make_bundle DIR CGROUPS_PATH CGROUPNS(0/1) ARGS-as-JSON
make_bundle() {
	local r=$1/rootfs
	mkdir -p "$r/bin" "$r/proc" "$r/dev" "$r/sys" "$r/tmp"
	cp "$BB" "$r/bin/busybox"
	for a in sh sleep cat echo; do ln -s busybox "$r/bin/$a"; done
	(cd "$1" && "$BERTH" spec) || return 1
	python3 - "$1/config.json" "$2" "$3" "$4" <<-'PY'
		import json, sys
		path, cgpath, cgns, args = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
		c = json.load(open(path))
		c["process"]["terminal"] = False
		c["process"]["args"] = json.loads(args)
		c["linux"]["cgroupsPath"] = cgpath
		if cgns == "0":
		    c["linux"]["namespaces"] = [n for n in c["linux"]["namespaces"] if n["type"] != "cgroup"]
		c["linux"]["resources"] = {
		    "memory": {"limit": 67108864},
		    "pids": {"limit": 100},
		    "cpu": {"shares": 512, "quota": 50000, "period": 100000},
		}
		json.dump(c, open(path, "w"), indent=2)
	PY
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
		-p Delegate -p MemoryMax -p TasksMax -p CPUQuotaPerSecUSec -p CPUWeight 2>/dev/null)
}
gone() { # the unit is unknown to systemd and its cgroup directory is gone
	[ "$(prop "$1" LoadState)" = not-found ] && [ ! -e "/sys/fs/cgroup/system.slice/$1" ]
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
	make_bundle "$D/bundle" "system.slice:berth:$ID" 1 '["true"]' || { notok "bundle"; return; }
	local out
	out=$(cd "$D/bundle" && sb run "$ID" 2>&1)
	local rc=$?
	check "--systemd-cgroup without systemd fails (rc $rc)" [ $rc -ne 0 ]
	check "and says why: $out" grep -q "systemd is not running on this host" <<<"$out"
	check "no state left" [ ! -e "$ROOT/$ID" ]
	check "no cgroup left" [ -z "$(find /sys/fs/cgroup -maxdepth 4 -name "*$ID*" 2>/dev/null)" ]
}

lifecycle() {
	local unit=berth-$ID.scope cg=/sys/fs/cgroup/system.slice/berth-$ID.scope
	make_bundle "$D/bundle" "system.slice:berth:$ID" 0 '["sleep", "600"]' || { notok "bundle"; return; }
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
	make_bundle "$D/run" "system.slice:berth:$id" 1 '["cat", "/proc/self/cgroup"]' || { notok "bundle"; return; }
	local out
	out=$(cd "$D/run" && sb run "$id")
	check "run with a cgroup namespace: the container sees 0::/ ($out)" [ "$out" = "0::/" ]
	check "after run: unit and cgroup gone" gone "berth-$id.scope"
}

errors() {
	local id=$ID-bad out
	make_bundle "$D/bad" "berth/$id" 0 '["true"]' || { notok "bundle"; return; }
	out=$(cd "$D/bad" && sb run "$id" 2>&1)
	check "malformed cgroupsPath refused: $out" \
		grep -q 'expected cgroupsPath to be of format "slice:prefix:name" for systemd cgroups' <<<"$out"
	check "malformed: no state left" [ ! -e "$ROOT/$id" ]
	check "malformed: no unit" [ -z "$(systemctl list-units --all --no-legend "*$id*" 2>/dev/null)" ]
	# A unit name already taken (two containers, one cgroupsPath): the
	# second fails, the first's processes live on.
	make_bundle "$D/dup1" "system.slice:berth:$id" 0 '["sleep", "600"]' || { notok "bundle"; return; }
	(cd "$D/dup1" && sb run --detach "$ID-dup") || { notok "first of two"; return; }
	out=$(cd "$D/dup1" && sb run "$id" 2>&1)
	check "a taken unit name fails: $out" grep -q "already exists" <<<"$out"
	check "the taken name: no state left" [ ! -e "$ROOT/$id" ]
	check "the first container lives on" [ "$(status "$ID-dup")" = running ]
	b delete --force "$ID-dup" || notok "delete --force"
	check "delete --force: unit gone" gone "berth-$id.scope"
}

# No D-Bus daemon to reach: systemd's private socket serves.
private_socket() {
	local id=$ID-priv
	make_bundle "$D/priv" "system.slice:berth:$id" 0 '["cat", "/proc/self/cgroup"]' || { notok "bundle"; return; }
	local out
	out=$(cd "$D/priv" && DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent sb run "$id" 2>&1)
	check "without the system bus (private socket): $out" [ "$out" = "0::/system.slice/berth-$id.scope" ]
	check "private socket: unit gone after run" gone "berth-$id.scope"
}

if [ -d /run/systemd/system ] && [ "$(cat /proc/1/comm)" = systemd ]; then
	SECONDS=0
	lifecycle
	run_cgroupns
	errors
	private_socket
	echo "# the systemd driver checks took ${SECONDS}s"
else
	no_systemd
fi
echo "$pass passed, $fail failed"
[ $fail -eq 0 ]
