#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# berth vs runc vs crun on one busybox bundle (issue 7). Not a unit test:
# it needs root, runc, crun and busybox-static, and takes ~1 min (--quick)
# or ~15 min (full). Prints a markdown report on stdout (see docs/performance.md).
#
#   tests/bench/run.sh [--quick] [--berth PATH] [--baseline PATH] [--runs N] [--only LIST] [--keep]
#
#   --berth PATH   the berth binary (default: build/berth, what scripts/setup.sh builds)
#   --baseline PATH  another berth build, timed as a fourth runtime ("baseline")
#                  in the run, lifecycle and exec measures: how a change moves
#                  berth, side by side with the peers
#   --runs N       timed runs per measure and runtime (default 20; --quick 5)
#   --only LIST    comma-separated subset of: wrapper,run,lifecycle,exec,density,vps
#                  (vps: berth VPS, LXC beside them (tests/bench/vps_lxc.sh),
#                  a Debian VPS boot (tests/bench/vps_debian_boot.sh))
#   --keep         keep the work directory (bundles, logs) for inspection
#
# Every measure runs the three runtimes interleaved (berth, runc, crun,
# berth, ...) through tests/bench/benchdrv.c, after a warm-up, and reports
# median, min and max in ms, the median peak RSS of the measured process
# and the ratio median(berth) / median(peer) (below 1: berth is faster).
#
# All three use the same config.json with a relative linux.cgroupsPath
# (bench/...), so every container stays below the caller's own cgroups;
# the "bench" parent stands for the whole run (see below).
# crun refuses hybrid hosts and puts relative paths at the hierarchy root;
# it therefore runs inside a private mount namespace (made once, entered
# with setns by the driver) where /sys/fs/cgroup/unified is unmounted and
# the caller's memory cgroup is bind-mounted over /sys/fs/cgroup/memory.
# The host's mounts are never changed. The "wrapper" rows show what that
# costs: setns alone (what the crun rows pay) and a full unshare+mount
# shell wrapper per call (what a naive harness would pay).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
quick=0 runs= only=all keep=0 berth= baseline=
while [ $# -gt 0 ]; do
        case $1 in
        --quick) quick=1 ;;
        --berth) berth=$2; shift ;;
        --baseline) baseline=$(readlink -f "$2"); shift ;;
        --runs) runs=$2; shift ;;
        --only) only=$2; shift ;;
        --keep) keep=1 ;;
        -h|--help) sed -n '2,30p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown option $1" >&2; exit 2 ;;
        esac
        shift
done
if [ -z "$berth" ]; then
        berth=$repo/build/berth
fi
[ -n "$berth" ] && [ -x "$berth" ] || { echo "run.sh: no berth binary (build it, or --berth PATH)" >&2; exit 2; }
berth=$(readlink -f "$berth")
[ -z "$baseline" ] || [ -x "$baseline" ] || { echo "run.sh: no baseline binary $baseline" >&2; exit 2; }
runtimes="berth runc crun${baseline:+ baseline}"
if [ -z "$runs" ]; then
        if [ $quick = 1 ]; then runs=5; else runs=20; fi
fi
warm=2
[ $quick = 1 ] && warm=1
if [ $quick = 1 ]; then densities=50; else densities="100 500 1000"; fi

want() { case ",$only," in *",all,"*|*",$1,"*) return 0 ;; esac; return 1; }
die() { echo "run.sh: $*" >&2; exit 2; }

[ "$(id -u)" = 0 ] || die "needs root"
runc=$(command -v runc || true)
crun=$(command -v crun || true)
[ -n "$runc" ] || die "runc not found (apt-get install runc)"
[ -n "$crun" ] || die "crun not found (apt-get install crun)"
command -v jq >/dev/null || die "jq not found (apt-get install jq)"
bb=/bin/busybox
file "$bb" 2>/dev/null | grep -q "statically linked" || die "$bb is not busybox-static (apt-get install busybox-static)"

# The caller's own cgroup directory in every mounted hierarchy (from
# /proc/self/cgroup, placed through mountinfo).
own_cgroup_dirs() {
        awk 'NR == FNR { split($0, f, ":"); own[f[2]] = substr($0, length(f[1]) + length(f[2]) + 3); next }
        {
                for (sep = 7; $sep != "-"; sep++) ;
                fs = $(sep + 1)
                if (fs != "cgroup" && fs != "cgroup2") next
                key = ""
                if (fs == "cgroup") {
                        n = split($(sep + 3), opt, ",")
                        for (c in own) {
                                if (c == "") continue
                                m = split(c, want, ","); hit = 0
                                for (i = 1; i <= m; i++) for (j = 1; j <= n; j++) if (opt[j] == want[i]) hit++
                                if (hit == m) { key = c; break }
                        }
                        if (key == "") next
                } else if (!("" in own)) next
                if (key in seen) next
                seen[key] = 1
                p = own[key]; root = $4
                if (root != "/" && index(p, root) == 1) p = substr(p, length(root) + 1)
                print $5 (p == "/" ? "" : p)
        }' /proc/self/cgroup /proc/self/mountinfo
}

work=$(mktemp -d /tmp/berth-bench.XXXXXX)
bench_parents=
chmod 711 "$work" # a VPS's root (an unprivileged host uid in its user namespace) walks through it
log=$work/log
holder=
own_mem=$(awk -F: '$2=="memory" {print $3}' /proc/self/cgroup)
mem_root=/sys/fs/cgroup/memory$own_mem
hybrid=0
[ -d /sys/fs/cgroup/unified ] && [ -d "$mem_root" ] && hybrid=1

cleanup() {
        set +e
        for rt in $runtimes; do
                for st in "$work"/st-$rt/*/; do
                        [ -d "$st" ] || continue
                        id=$(basename "$st")
                        case $rt in
                        berth) "$berth" --root "$work/st-berth" delete -f "$id" ;;
                        baseline) "$baseline" --root "$work/st-baseline" delete -f "$id" ;;
                        runc) "$runc" --root "$work/st-runc" delete -f "$id" ;;
                        crun) [ -n "$holder" ] && nsenter -m"/proc/$holder/ns/mnt" \
                                "$crun" --root "$work/st-crun" delete -f "$id" ;;
                        esac
                done
        done >/dev/null 2>&1
        [ -n "$holder" ] && kill "$holder" 2>/dev/null && wait "$holder" 2>/dev/null
        # The runtimes remove each container's cgroup, not the standing
        # "bench" parent.
        for c in $bench_parents; do
                rmdir "$c" 2>/dev/null
        done
        if [ $keep = 1 ]; then echo "run.sh: kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT INT TERM

# ---- the bundle ---------------------------------------------------------
rootfs=$work/rootfs
mkdir -p "$rootfs/bin" "$rootfs/proc" "$rootfs/dev" "$rootfs/sys" "$rootfs/tmp" "$rootfs/etc"
cp "$bb" "$rootfs/bin/busybox"
for a in sh true sleep cat ls echo; do ln -s busybox "$rootfs/bin/$a"; done
# berth's default spec (runc's plus the default seccomp profile and a
# cgroup namespace), adjusted for a non-interactive benchmark. ociVersion
# 1.0.2: crun 1.8 refuses 1.2.0.
mkdir -p "$work/spec"
"$berth" spec -b "$work/spec"
jq --arg root "$rootfs" '
    .ociVersion = "1.0.2"
  | .process.terminal = false
  | .hostname = "bench"
  | .root.path = $root
  | .linux.cgroupsPath = "bench/CGPATH"
  | .linux.resources = {devices: [{allow: false, access: "rwm"}],
                        memory: {limit: 67108864}, pids: {limit: 64}}' \
        "$work/spec/config.json" >"$work/seccomp.json"
jq 'del(.linux.seccomp)' "$work/seccomp.json" >"$work/plain.json"
# bundle NAME TEMPLATE CGPATH ARGS-JSON
bundle() {
        mkdir -p "$work/$1"
        jq --argjson args "$4" '.process.args = $args' "$work/$2.json" |
                sed "s|bench/CGPATH|bench/$3|" >"$work/$1/config.json"
}
# One set per runtime: the containers of "state" and "exec" live side by
# side, and must not share a cgroup.
for rt in $runtimes; do
        bundle true-$rt plain run-$rt '["/bin/true"]'
        bundle true-sc-$rt seccomp run-$rt '["/bin/true"]'
        bundle sleep-$rt plain life-$rt '["/bin/sleep","3600"]'
        bundle sleep-sc-$rt seccomp life-$rt '["/bin/sleep","3600"]'
done

cc -O2 -o "$work/benchdrv" "$here/benchdrv.c" || die "cannot build benchdrv"
drv=$work/benchdrv

# ---- the containers' parent cgroup ---------------------------------------
# "bench" stands for the whole run in every hierarchy, as a client's parent
# cgroup (/k8s.io, machine.slice, libpod_parent) does in real use. runc and
# crun never remove parent levels; berth removes the levels it made itself
# once the last container below them is gone, so without a standing parent
# it alone would make and remove "bench" (one mkdir and one rmdir per
# hierarchy) on every back-to-back run.
for d in $(own_cgroup_dirs); do
        [ -d "$d/bench" ] && continue
        mkdir "$d/bench" || die "cannot create $d/bench"
        bench_parents="$d/bench $bench_parents"
        # A new v1 cpuset admits no task until it has cpus and mems.
        if [ -e "$d/cgroup.clone_children" ] && [ -e "$d/cpuset.cpus" ]; then
                cat "$d/cpuset.cpus" >"$d/bench/cpuset.cpus"
                cat "$d/cpuset.mems" >"$d/bench/cpuset.mems"
        fi
done

# ---- crun's private mount namespace --------------------------------------
crun_ns=
if [ $hybrid = 1 ]; then
        unshare -m --propagation private sh -c "
                umount /sys/fs/cgroup/unified &&
                mount --bind '$mem_root' /sys/fs/cgroup/memory &&
                touch '$work/ns.ready' && exec sleep 100000" &
        holder=$!
        i=0
        while [ ! -e "$work/ns.ready" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
        [ -e "$work/ns.ready" ] || die "could not prepare crun's mount namespace"
        crun_ns="-N/proc/$holder/ns/mnt"
fi

B="$berth --root $work/st-berth"
R="$runc --root $work/st-runc"
C="$crun --root $work/st-crun"
X="$baseline --root $work/st-baseline"
# Untimed helpers run through sh -c; crun's inside its namespace too.
wait_stopped() { echo "i=0; while [ \$i -lt 500 ] && ! $1 state $2 2>/dev/null | grep -q '\"stopped\"'; do sleep 0.01; i=\$((i+1)); done"; }

# measure TITLE DRIVER-ARGS...: each runtime gets the same arguments with
# @RT@ replaced by its command and @NAME@ by its name (bundle suffixes).
measure() {
        title=$1
        shift
        args_b= args_r= args_c= args_x=
        for a in "$@"; do
                args_b="$args_b$(printf '%s' "$a" | sed "s|@RT@|$B|g; s|@NAME@|berth|g")$(printf '\036')"
                args_r="$args_r$(printf '%s' "$a" | sed "s|@RT@|$R|g; s|@NAME@|runc|g")$(printf '\036')"
                args_c="$args_c$(printf '%s' "$a" | sed "s|@RT@|$C|g; s|@NAME@|crun|g")$(printf '\036')"
                args_x="$args_x$(printf '%s' "$a" | sed "s|@RT@|$X|g; s|@NAME@|baseline|g")$(printf '\036')"
        done
        oldifs=$IFS
        IFS=$(printf '\036')
        if [ -n "$baseline" ]; then
                # shellcheck disable=SC2086
                "$drv" time -n "$runs" -w "$warm" -l "$log" -m "$title" \
                        -r berth $args_b -r runc $args_r -r crun $crun_ns $args_c -r baseline $args_x
        else
                # shellcheck disable=SC2086
                "$drv" time -n "$runs" -w "$warm" -l "$log" -m "$title" \
                        -r berth $args_b -r runc $args_r -r crun $crun_ns $args_c
        fi
        IFS=$oldifs
}

header() {
        echo
        echo "| measure | runtime | median ms | min ms | max ms | peak RSS KiB | berth/this |"
        echo "|---|---|---:|---:|---:|---:|---:|"
}

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
echo "## Benchmark: berth vs runc vs crun"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "- machine: $(nproc) CPUs ($cpu), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r), $( [ $hybrid = 1 ] && echo 'hybrid cgroups (v1 controllers + empty cgroup2)' || echo 'cgroup2')"
echo "- berth $("$berth" --version | head -1 | awk '{print $3}') ($berth), runc $("$runc" --version | awk 'NR==1 {print $3}'), crun $("$crun" --version | awk 'NR==1 {print $3}')"
echo "- command: \`tests/bench/run.sh$( [ $quick = 1 ] && echo ' --quick')$( [ "$only" != all ] && echo " --only $only")$( [ -n "$baseline" ] && echo " --baseline $baseline")\` ($runs runs + $warm warm-up per measure, interleaved)"
echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (the machine is shared: compare ratios, which interleaving keeps fair)"
echo "- bundle: busybox-static, read-only root, pid/net/ipc/uts/mount/cgroup namespaces, memory 64 MiB + pids 64 + deny-all devices, relative cgroupsPath"

if want wrapper; then
        header
        "$drv" time -n "$runs" -w "$warm" -l "$log" -m "wrapper: /bin/true" \
                -r direct -t /bin/true \
                -r "setns (crun rows)" $crun_ns -t /bin/true \
                -r "unshare+mount sh" -t "unshare -m --propagation private sh -c umount\${IFS}/sys/fs/cgroup/unified;mount\${IFS}--bind\${IFS}$mem_root\${IFS}/sys/fs/cgroup/memory;exec\${IFS}/bin/true"
fi

if want run; then
        header
        measure "run /bin/true" -t "@RT@ run -b $work/true-@NAME@ r1"
        measure "run /bin/true, seccomp" -t "@RT@ run -b $work/true-sc-@NAME@ r1"
        # After 0.2 s without any cgroup migration on the machine, the next
        # write of a pid to a v1 cgroup.procs waits for an RCU grace period
        # (the kernel's threadgroup lock); back to back, the lock stays
        # cheap. Sporadic starts, the common case, look like this row.
        measure "run /bin/true, idle 0.2 s before" -p "sleep 0.2" -t "@RT@ run -b $work/true-@NAME@ r1"
fi

if want lifecycle; then
        header
        measure "create" -t "@RT@ create -b $work/sleep-@NAME@ c1" -c "@RT@ delete -f c1"
        measure "start" -p "@RT@ create -b $work/sleep-@NAME@ c1" -t "@RT@ start c1" -c "@RT@ delete -f c1"
        measure "create, seccomp" -t "@RT@ create -b $work/sleep-sc-@NAME@ c1" -c "@RT@ delete -f c1"
        measure "start, seccomp" -p "@RT@ create -b $work/sleep-sc-@NAME@ c1" -t "@RT@ start c1" -c "@RT@ delete -f c1"
        measure "state" -b "@RT@ run -d -b $work/sleep-@NAME@ c1" -t "@RT@ state c1" -a "@RT@ delete -f c1"
        measure "kill" -p "@RT@ run -d -b $work/sleep-@NAME@ c1" -t "@RT@ kill c1 KILL" -c "@RT@ delete -f c1"
        measure "delete (stopped)" -p "@RT@ run -d -b $work/sleep-@NAME@ c1; @RT@ kill c1 KILL; $(wait_stopped @RT@ c1)" \
                -t "@RT@ delete c1" -c "@RT@ delete -f c1 2>/dev/null || true"
        measure "delete --force (running)" -p "@RT@ run -d -b $work/sleep-@NAME@ c1" -t "@RT@ delete --force c1" \
                -c "@RT@ delete -f c1 2>/dev/null || true"
fi

if want exec; then
        header
        measure "exec /bin/true" -b "@RT@ run -d -b $work/sleep-@NAME@ c1" -t "@RT@ exec c1 /bin/true" -a "@RT@ delete -f c1"
fi

if want density; then
        echo
        echo "| density | runtime | containers | start all (s) | per container (ms) | caller's memcg KiB/ctr | bench/ memcg KiB/ctr | delete all (s) |"
        echo "|---|---|---:|---:|---:|---:|---:|---:|"
        max=0
        for n in $densities; do [ "$n" -gt $max ] && max=$n; done
        i=0
        while [ $i -lt $max ]; do
                mkdir -p "$work/d/$i"
                sed "s|bench/life-berth|bench/d$i|" "$work/sleep-berth/config.json" >"$work/d/$i/config.json"
                i=$((i + 1))
        done
        # Memory: the caller's own memory cgroup (what the issue asks for,
        # noisy on a shared machine: page cache of anything else running
        # under it) and bench/, the parent of the containers' own cgroups.
        mems="-M $mem_root/memory.usage_in_bytes -M $mem_root/bench/memory.usage_in_bytes"
        order="berth runc crun"
        for n in $densities; do
                # Rotate who goes first, and pause: the kernel tears the
                # previous containers' network namespaces down in the
                # background for seconds, slowing whoever runs next.
                for rt in $order; do
                        sleep 5
                        case $rt in berth) cmd=$B ns= ;; runc) cmd=$R ns= ;; crun) cmd=$C ns=$crun_ns ;; esac
                        sync
                        # shellcheck disable=SC2086
                        "$drv" density -k "$n" -l "$log" -m "run -d sleep" $mems -r "$rt" $ns \
                                -t "$cmd run -d -b $work/d/%d d%d" -d "$cmd delete -f d%d"
                done
                order="${order#* } ${order%% *}"
        done
fi

if want vps; then
        echo
        if "$berth" vps --help >/dev/null 2>&1; then
                sh "$here/vps.sh" "$berth" "$work" "$drv" "$quick" || echo "(vps benchmark failed, see $log)"
        else
                echo "VPS: not measured: this berth has no \`vps\` verb yet."
        fi
fi

if [ -s "$log" ] && grep -q . "$log"; then
        echo
        echo "(runtime output: $(wc -l <"$log") lines in the log$( [ $keep = 1 ] && echo ": $log"))"
fi
