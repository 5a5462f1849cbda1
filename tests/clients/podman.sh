# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# The podman half of tests/clients/run.sh (sourced; uses its globals).

pm() { timeout -k 10 120 podman --cgroup-manager cgroupfs "$@"; }
# Options every container gets: our cgroup parent.
PMC=(--cgroup-parent "$CG")

podman_setup() {
	mkdir -p "$T/pm/cni" "$T/pm/cni-data" "$T/pm/tmp" "$T/pm/storage" "$T/pm/run" "$T/pm/volumes"
	cat >"$T/pm/containers.conf" <<-CONF
		[containers]
		default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
		cgroups = "no-conmon"
		log_driver = "k8s-file"
		[engine]
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		events_logfile_path = "$T/pm/events.log"
		runtime = "berth"
		runtime_supports_json = ["crun", "runc", "berth"]
		# conmon runs "podman container cleanup" with only these variables:
		# without our config it would look at the system's database.
		conmon_env_vars = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		  "CONTAINERS_CONF=$T/pm/containers.conf", "CONTAINERS_STORAGE_CONF=$T/pm/storage.conf",
		  "CONTAINERS_REGISTRIES_CONF=/dev/null"]
		tmp_dir = "$T/pm/tmp"
		volume_path = "$T/pm/volumes"
		lock_type = "file"
		infra_image = "localhost/berthpause:latest"
		[engine.runtimes]
		berth = ["$BERTH"]
		[network]
		network_backend = "cni"
		network_config_dir = "$T/pm/cni"
		default_network = "berthtest"
		cni_plugin_dirs = ["/usr/lib/cni", "/usr/libexec/cni", "/opt/cni/bin"]
	CONF
	cat >"$T/pm/storage.conf" <<-CONF
		[storage]
		driver = "overlay"
		graphroot = "$T/pm/storage"
		runroot = "$T/pm/run"
	CONF
	# A bridge of our own: no masquerading, no firewall or portmap plugins,
	# so the host's firewall is not touched; IPAM state in our directory.
	cat >"$T/pm/cni/berthtest.conflist" <<-CONF
		{ "cniVersion": "0.4.0", "name": "berthtest",
		  "plugins": [ { "type": "bridge", "bridge": "$BR", "isGateway": true, "ipMasq": false,
		      "ipam": { "type": "host-local", "dataDir": "$T/pm/cni-data", "routes": [{ "dst": "0.0.0.0/0" }],
		        "ranges": [[{ "subnet": "$SUBNET.0/24", "gateway": "$SUBNET.1" }]] } } ] }
	CONF
	export CONTAINERS_CONF=$T/pm/containers.conf CONTAINERS_STORAGE_CONF=$T/pm/storage.conf
	export CONTAINERS_REGISTRIES_CONF=/dev/null
	pm import "$T/busybox.tar" "$IMG" >/dev/null 2>&1 || return 1
	# The pod infra image: a shell that ends on SIGTERM (no pause image offline).
	pm import --change 'ENTRYPOINT ["/bin/sh","-c","trap \"exit 0\" TERM; while :; do sleep 1; done"]' \
		"$T/busybox.tar" localhost/berthpause:latest >/dev/null 2>&1
}

podman_cleanup() {
	[ -n "${CONTAINERS_CONF:-}" ] || return 0
	pm pod rm -af -t 0 >/dev/null 2>&1
	pm rm -af -t 0 >/dev/null 2>&1
	pm unmount -a >/dev/null 2>&1
}

pm_state() { pm inspect -f '{{.State.Status}}' "$1" 2>/dev/null; }
pm_pid() { pm inspect -f '{{.State.Pid}}' "$1" 2>/dev/null; }
pm_exit() { pm inspect -f '{{.State.ExitCode}}' "$1" 2>/dev/null; }

podman_basic() {
	local out rc
	out=$(pm run --rm "${PMC[@]}" "$IMG" echo hello 2>&1)
	expect "podman run --rm" hello "$out"
	expect "podman run --rm leaves no container" "" "$(pm ps -aq)"
	pm run --rm "${PMC[@]}" "$IMG" sh -c 'exit 3' >/dev/null 2>&1
	expect "podman run: exit code 3" 3 $?
	# A process that ends at once, over and over: `start` must not lose the
	# init that conmon (a subreaper) reaps right after it exits.
	local codes="" i
	for i in $(seq 15); do
		pm run --rm "${PMC[@]}" "$IMG" sh -c 'exit 3' >/dev/null 2>&1
		codes="$codes$?"
	done
	expect "podman run: 15 short-lived containers in a row exit 3" "$(printf '3%.0s' $(seq 15))" "$codes"
	out=$(pm run --rm "${PMC[@]}" "$IMG" /no/such/binary 2>&1)
	rc=$?
	expect "podman run: missing binary exits 127" 127 $rc "$out"
	out=$(echo stdin-payload | pm run --rm -i "${PMC[@]}" "$IMG" cat 2>&1)
	expect "podman run -i passes stdin" stdin-payload "$out"
	# The sleep: podman 4.3 attaches to conmon only after "start", so the
	# output of a process that ends at once is lost now and then. That race
	# is podman's (runc 1.1.5 loses it as often: 4 of 15 runs here).
	out=$(with_pty 60 podman run --rm -it "${PMC[@]}" "$IMG" sh -c "'sleep 1; tty; echo \$((6*7))'")
	if grep -q '^/dev/pts/[0-9]' <<<"${out//^@/}" && grep -q 42 <<<"$out"; then
		ok "podman run -it (console socket, pty)"
	else notok "podman run -it (console socket, pty): $out"; fi
}

podman_detached() {
	local out pid1 pid2 t0
	# A container that exits 7 on SIGTERM, to see stop's signal arrive.
	pm run -d --name bt-d "${PMC[@]}" "$IMG" sh -c 'trap "exit 7" TERM; while :; do sleep 0.1; done' >/dev/null 2>&1
	expect "podman run -d" running "$(pm_state bt-d)"
	out=$(pm ps --format '{{.Names}} {{.Status}}' 2>&1)
	if grep -q '^bt-d Up' <<<"$out"; then ok "podman ps"; else notok "podman ps: $out"; fi
	expect "podman exec" inside "$(pm exec bt-d echo inside 2>&1)"
	out=$(with_pty 60 podman exec -t bt-d tty)
	if grep -q '/dev/pts/[0-9]' <<<"$out"; then ok "podman exec -t"; else notok "podman exec -t: $out"; fi
	pm exec bt-d sh -c 'exit 5' >/dev/null 2>&1
	expect "podman exec exit code" 5 $?
	pm pause bt-d >/dev/null 2>&1
	expect "podman pause" paused "$(pm_state bt-d)"
	pm unpause bt-d >/dev/null 2>&1
	expect "podman unpause" running "$(pm_state bt-d)"
	t0=$(date +%s)
	pm stop -t 20 bt-d >/dev/null 2>&1
	expect "podman stop delivers SIGTERM (exit 7)" "exited 7" "$(pm_state bt-d) $(pm_exit bt-d)"
	[ $(($(date +%s) - t0)) -lt 10 ] || notok "podman stop waited for the timeout despite SIGTERM"
	pm start bt-d >/dev/null 2>&1
	expect "podman start" running "$(pm_state bt-d)"
	pid1=$(pm_pid bt-d)
	pm restart -t 5 bt-d >/dev/null 2>&1
	pid2=$(pm_pid bt-d)
	if [ "$(pm_state bt-d)" = running ] && [ "$pid1" != "$pid2" ]; then ok "podman restart"; else
		notok "podman restart (state $(pm_state bt-d), pid $pid1 -> $pid2)"; fi
	pm kill -s KILL bt-d >/dev/null 2>&1
	expect "podman kill" 137 "$(pm wait bt-d 2>&1)"
	pm rm bt-d >/dev/null 2>&1
	expect "podman rm" "" "$(pm ps -aq --filter name=bt-d)"
	# sleep as pid 1 ignores SIGTERM: stop must fall back to SIGKILL.
	pm run -d --name bt-k "${PMC[@]}" "$IMG" sleep 1000 >/dev/null 2>&1
	pm stop -t 1 bt-k >/dev/null 2>&1
	expect "podman stop falls back to SIGKILL (exit 137)" "exited 137" "$(pm_state bt-k) $(pm_exit bt-k)"
	pm rm -f bt-k >/dev/null 2>&1
}

podman_network() {
	local out
	out=$(pm run --rm --network none "${PMC[@]}" "$IMG" ip -o link 2>&1)
	if [ "$(wc -l <<<"$out")" = 1 ] && grep -q '^1: lo:' <<<"$out"; then
		ok "podman --network none: only lo"
	else notok "podman --network none: only lo: $out"; fi
	if grep -q '<LOOPBACK,UP' <<<"$out"; then ok "podman --network none: lo is up (as with runc)"; else
		notok "podman --network none: lo is up (as with runc): $out"; fi
	if ! [ -x /usr/lib/cni/bridge ] && ! [ -x /usr/libexec/cni/bridge ] && ! [ -x /opt/cni/bin/bridge ]; then
		notok "podman bridge network: the CNI plugins (containernetworking-plugins) are missing"
		return
	fi
	out=$(pm run --rm "${PMC[@]}" "$IMG" sh -c "ip -o -4 addr show eth0; ping -c 1 -W 5 $SUBNET.1" 2>&1)
	if grep -q "inet $SUBNET\." <<<"$out" && grep -q '1 packets received' <<<"$out"; then
		ok "podman default bridge network: ping the gateway"
	else notok "podman default bridge network: ping the gateway: $(tail -n 3 <<<"$out")"; fi
}

# The container's own limit file, v1 or v2.
LIMIT_SH='for f in /sys/fs/cgroup/$1 /sys/fs/cgroup/$2; do [ -r "$f" ] && cat "$f" && exit; done; echo none'

podman_limits() {
	local out rc
	out=$(pm run --rm --memory 32m "${PMC[@]}" "$IMG" sh -c "$LIMIT_SH" x memory/memory.limit_in_bytes memory.max 2>&1)
	expect "podman --memory sets the limit" 33554432 "$out"
	out=$(pm run --rm --memory 32m --memory-swap 32m "${PMC[@]}" "$IMG" \
		sh -c 'x=$(head -c 200000000 /dev/zero | tr "\0" a); echo survived' 2>&1)
	rc=$?
	expect "podman --memory: an OOM kill exits 137" 137 $rc "$out"
	out=$(pm run --rm --pids-limit 20 "${PMC[@]}" "$IMG" \
		sh -c "$LIMIT_SH"'; for i in $(seq 40); do sleep 10 & done; echo all-forked' x pids/pids.max pids.max 2>&1)
	if [ "$(head -n1 <<<"$out")" = 20 ] && ! grep -q all-forked <<<"$out"; then
		ok "podman --pids-limit"
	else notok "podman --pids-limit: $(tr '\n' ' ' <<<"$out")"; fi
	pm run -d --name bt-u --uidmap 0:100000:65536 --gidmap 0:100000:65536 "${PMC[@]}" "$IMG" sleep 1000 >/dev/null 2>&1
	out=$(pm exec bt-u cat /proc/self/uid_map 2>&1 | tr -s ' ')
	local pid
	pid=$(pm_pid bt-u)
	if [ "$out" = " 0 100000 65536" ] && [ "$(host_uid "$pid" 2>/dev/null)" = 100000 ]; then
		ok "podman --uidmap/--gidmap"
	else notok "podman --uidmap/--gidmap: uid_map '$out', state $(pm_state bt-u), pid '$pid'"; fi
	pm rm -f -t 0 bt-u >/dev/null 2>&1
	out=$(pm run --rm --read-only --user 65534:65534 -e BT_VAR=bt-value -w /tmp "${PMC[@]}" "$IMG" \
		sh -c 'id -u; id -g; echo $BT_VAR; pwd; touch /rootfile 2>/dev/null && echo root-writable; touch /tmp/f && echo tmp-writable' 2>&1)
	expect "podman --read-only --user -e -w" "65534 65534 bt-value /tmp tmp-writable" "$(tr '\n' ' ' <<<"$out" | sed 's/ $//')"
	# --read-only puts tmpfs mounts with "tmpcopyup" on /run, /tmp, /var/tmp:
	# the image's files there must show through, as with runc.
	out=$(pm run --rm --read-only "${PMC[@]}" "$IMG" sh -c 'cat /run/marker; touch /run/f && echo run-writable' 2>&1)
	expect "podman --read-only: tmpcopyup keeps the image's /run files" "image-file run-writable" \
		"$(tr '\n' ' ' <<<"$out" | sed 's/ $//')"
}

podman_pod() {
	local infra member ok_ns=1 ns
	if ! pm pod create --name bt-pod "${PMC[@]}" >/dev/null 2>&1 ||
		! pm run -d --pod bt-pod --name bt-pm "$IMG" sleep 1000 >/dev/null 2>&1; then
		notok "podman pod: create the pod and a member"
		return
	fi
	infra=$(pm_pid "$(pm pod inspect -f '{{.InfraContainerID}}' bt-pod)")
	member=$(pm_pid bt-pm)
	for ns in net ipc uts; do
		[ -n "$infra" ] && [ "$infra" != 0 ] &&
			[ "$(readlink "/proc/$infra/ns/$ns")" = "$(readlink "/proc/$member/ns/$ns")" ] || ok_ns=0
	done
	[ "$(readlink "/proc/$infra/ns/mnt")" != "$(readlink "/proc/$member/ns/mnt")" ] || ok_ns=0
	if [ $ok_ns = 1 ]; then ok "podman pod: the member joins the infra's net/ipc/uts namespaces"; else
		notok "podman pod: the member joins the infra's net/ipc/uts namespaces (pids $infra $member)"; fi
	pm pod rm -f -t 0 bt-pod >/dev/null 2>&1
}

podman_update() {
	local out
	pm run -d --name bt-up "${PMC[@]}" "$IMG" sleep 1000 >/dev/null 2>&1
	local upd
	upd=$(pm update --memory 64m bt-up 2>&1)
	out=$(pm exec bt-up sh -c "$LIMIT_SH" x memory/memory.limit_in_bytes memory.max 2>&1)
	expect "podman update --memory" 67108864 "$out" "$upd"
	pm rm -f -t 0 bt-up >/dev/null 2>&1
}

# Runs a group of checks and notes how long it took.
timed() {
	local t0=$SECONDS
	"$@"
	echo "# $1: $((SECONDS - t0)) s"
}

podman_tests() {
	timed podman_basic
	timed podman_detached
	timed podman_network
	timed podman_limits
	timed podman_pod
	timed podman_update
}
