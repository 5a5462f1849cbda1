#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs the OCI runtime-tools validation suite (validation/*, the TAP programs
# of github.com/opencontainers/runtime-tools) against one or more runtimes
# and prints, per runtime, the binaries passed / total and the failed
# assertions, then the binaries whose result differs between the runtimes.
# Not part of CI: it needs root, a runtime-tools source tree and minutes.
#
# usage: tests/conformance/runtime-tools.sh [-s SRC] [-w WORK] [-t TEST]...
#                                           RUNTIME...
#   RUNTIME  a runtime binary (e.g. /usr/sbin/runc build/berth); each gets a
#            private --root state dir under WORK, never the host's
#   -s SRC   a runtime-tools source tree (a checkout with its vendor/ dir, or
#            validation/ + cmd/runtimetest/ beside Debian's Go packages);
#            default $RUNTIME_TOOLS_SRC
#   -w WORK  scratch dir (default /var/tmp/berth-runtime-tools); results in
#            WORK/results/<runtime>/<test>.tap and WORK/results/<runtime>.sum
#   -t TEST  run only this validation program (repeatable)
#
# Debian 12 packages the suite's library (golang-github-opencontainers-
# runtime-tools-dev) but not its validation/ programs, and tap-go is not
# packaged: take the source tree from an upstream checkout (its vendor/ has
# every dependency, so the build needs no network). The busybox rootfs the
# suite unpacks (rootfs-amd64.tar.gz) is built here from busybox-static.
#
# Cgroups: the suite uses absolute cgroupsPaths (/cgrouptest, ...). The
# programs run in a new cgroup namespace rooted at a child cgroup made below
# the caller's own cgroup in every hierarchy, with /sys/fs/cgroup remounted
# in a private mount namespace, so every cgroup the runtimes create lands
# below that child, which is removed at the end.
set -euo pipefail

install_deps() {
        local pkgs=(golang-go busybox-static)
        # Without vendor/ the dependencies come from Debian's Go packages.
        [ -d "$src/vendor" ] || pkgs+=(golang-github-opencontainers-runtime-tools-dev
                golang-github-google-uuid-dev golang-github-mrunalp-fileutils-dev
                golang-github-opencontainers-selinux-dev golang-gocapability-dev
                golang-github-hashicorp-go-multierror-dev golang-github-sirupsen-logrus-dev
                golang-github-urfave-cli-dev golang-golang-x-sys-dev golang-gopkg-yaml.v2-dev)
        local missing=()
        for p in "${pkgs[@]}"; do
                dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
        done
        [ ${#missing[@]} -eq 0 ] || apt-get install -y "${missing[@]}" >"$work/apt.log" 2>&1 || {
                echo "runtime-tools.sh: apt-get install ${missing[*]} failed, see $work/apt.log" >&2
                exit 1
        }
}

# The suite's programs and runtimetest, built in GOPATH mode from a copy of
# the tree: vendor/ is honoured there, and without it Debian's /usr/share/gocode
# provides the packages. CGO off: runtimetest runs inside the busybox rootfs.
build_suite() {
        local gp=$work/gopath pkg=github.com/opencontainers/runtime-tools
        rm -rf "$gp" "${work:?}/bin"
        mkdir -p "$gp/src/${pkg%/*}" "$work/bin/validation"
        cp -a "$src" "$gp/src/$pkg"
        export GOPATH=$gp:/usr/share/gocode GO111MODULE=off CGO_ENABLED=0 GOFLAGS='' GOCACHE=$work/gocache
        (cd "$gp/src/$pkg" && go build -o "$work/bin/runtimetest" ./cmd/runtimetest) >"$work/build.log" 2>&1 || {
                echo "runtime-tools.sh: building runtimetest failed, see $work/build.log" >&2
                exit 1
        }
        local d n fail=0
        for d in "$gp/src/$pkg"/validation/*/; do
                n=$(basename "$d")
                [ "$n" != util ] && [ -f "$d/$n.go" ] || continue
                (cd "$gp/src/$pkg" && go build -o "$work/bin/validation/$n.t" "./validation/$n") >>"$work/build.log" 2>&1 ||
                        {
                                echo "build failed: $n" >>"$work/build.log"
                                fail=$((fail + 1))
                        }
        done
        echo "built $(ls "$work/bin/validation" | wc -l) validation programs ($fail failed to build, see $work/build.log)"
}

# rootfs-amd64.tar.gz: what util.PrepareBundle unpacks as the bundle (and
# the config's root "."): busybox with its applets, /etc/passwd and group.
build_rootfs() {
        local r=$work/rootfs
        rm -rf "$r"
        mkdir -p "$r"/{bin,sbin,etc,dev,proc,sys,tmp,root,usr/bin,usr/sbin,var}
        cp /bin/busybox "$r/bin/busybox"
        local a
        for a in $("$r/bin/busybox" --list); do
                [ -e "$r/bin/$a" ] || ln -s busybox "$r/bin/$a"
        done
        printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$r/etc/passwd"
        printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
        chmod 1777 "$r/tmp"
        tar -C "$r" -czf "$work/bin/rootfs-$(go env GOARCH).tar.gz" .
}

# A wrapper per runtime so that each keeps its state in WORK, not in the
# host's shared /run/<runtime>.
runtime_wrapper() {
        local rt=$1 name=$2 w=$work/wrap/$2
        mkdir -p "$work/wrap" "$work/state/$name"
        printf '#!/bin/sh\nexec %q --root %q "$@"\n' "$(readlink -f "$rt")" "$work/state/$name" >"$w"
        chmod 755 "$w"
        echo "$w"
}

# Hierarchies mounted under /sys/fs/cgroup: "mountpoint fstype superopts".
cgroup_mounts() {
        awk '$5 ~ "^/sys/fs/cgroup/" { for (i = 7; $i != "-"; i++); print $5, $(i + 1), $(i + 3) }' /proc/self/mountinfo
}

# own cgroup path of this process in the hierarchy mounted at $1
own_cgroup() {
        local opts=$2 line
        while IFS= read -r line; do
                local ctl=${line#*:}
                ctl=${ctl%%:*}
                local path=${line#*:*:}
                if [ "$3" = cgroup2 ] && [ -z "$ctl" ]; then
                        echo "$path"
                        return
                fi
                [ "$3" = cgroup2 ] && continue
                local o
                for o in ${opts//,/ }; do
                        case ",$ctl," in *",$o,"*)
                                echo "$path"
                                return
                                ;;
                        esac
                done
        done </proc/self/cgroup
        echo /
}

sandbox_cgroups=()
make_sandbox_cgroups() {
        local mp type opts own dir
        while read -r mp type opts; do
                own=$(own_cgroup "$mp" "$opts" "$type")
                dir=$mp${own%/}/berth-rtools-$$
                mkdir -p "$dir"
                # A new v1 cpuset child has no cpus or mems: copy the parent's.
                if [ -f "$dir/cpuset.cpus" ]; then
                        cat "$dir/../cpuset.cpus" >"$dir/cpuset.cpus"
                        cat "$dir/../cpuset.mems" >"$dir/cpuset.mems"
                fi
                sandbox_cgroups+=("$dir")
        done < <(cgroup_mounts)
}

remove_sandbox_cgroups() {
        local dir
        for dir in "${sandbox_cgroups[@]}"; do
                [ -d "$dir" ] || continue
                find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null ||
                        echo "runtime-tools.sh: could not remove $dir (processes left?)" >&2
        done
}

# Runs "$@" in the sandbox cgroups, a new cgroup namespace and a private
# mount namespace where /sys/fs/cgroup shows the sandbox as the root.
in_sandbox() {
        local procs=() d
        for d in "${sandbox_cgroups[@]}"; do procs+=("$d/cgroup.procs"); done
        bash -c '
                for f in "${@:2:$1}"; do echo $$ >"$f"; done
                shift $(($1 + 1))
                exec unshare --cgroup --mount --propagation private "$@"' \
                sandbox ${#procs[@]} "${procs[@]}" bash -c '
                        set -e
                        mounts=$1; shift
                        umount -R -l /sys/fs/cgroup
                        mount -t tmpfs -o mode=755 cgroup-sandbox /sys/fs/cgroup
                        while read -r mp type opts; do
                                mkdir -p "$mp"
                                mount -t "$type" -o "$opts" "$type" "$mp"
                        done <<<"$mounts"
                        exec "$@"' sandbox "$(cgroup_mounts)" "$@"
}

# One TAP stream -> "ok notok plan": top-level lines only (runtimetest's
# nested output sits indented in YAML blocks); TODO lines are not failures.
tap_count() {
        awk '
                /^ok /                           { ok++ }
                /^not ok / && !/# *[Tt][Oo][Dd][Oo]/ { nok++ }
                /^not ok / && /# *[Tt][Oo][Dd][Oo]/  { ok++ }
                /^1\.\.[0-9]+/                   { split($1, p, "\\.\\."); plan = p[2] }
                END { printf "%d %d %s\n", ok, nok, plan == "" ? "-" : plan }' "$1"
}

run_one_runtime() {
        local rt=$1 name
        name=$(basename "$rt")
        local wrap res=$work/results/$name
        wrap=$(runtime_wrapper "$rt" "$name")
        rm -rf "$res" "$work/tmp"
        mkdir -p "$res" "$work/tmp"
        local t list=("${tests[@]}")
        if [ ${#list[@]} -eq 0 ]; then
                for t in "$work"/bin/validation/*.t; do list+=("$(basename "$t" .t)"); done
        fi
        : >"$res.sum"
        for t in "${list[@]}"; do
                local rc=0
                (cd "$work/bin" && TMPDIR=$work/tmp RUNTIME=$wrap \
                        timeout -k 10 180 "./validation/$t.t") >"$res/$t.tap" 2>"$res/$t.err" </dev/null || rc=$?
                local ok nok plan status=pass
                read -r ok nok plan < <(tap_count "$res/$t.tap")
                if [ "$rc" -ne 0 ] || [ "$nok" -gt 0 ] || [ "$plan" = - ] || [ "$plan" -ne $((ok + nok)) ]; then
                        status=fail
                fi
                echo "$t $status ok=$ok notok=$nok plan=$plan rc=$rc" >>"$res.sum"
        done
        # Containers a failed program left behind, then their bundles, and
        # the mounts a container without its own mount namespace made in
        # them (they are in this sandbox's mount namespace only).
        local id
        for id in $("$wrap" list -q 2>/dev/null); do "$wrap" delete --force "$id" >/dev/null 2>&1 || true; done
        awk -v d="$work/tmp/" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo | sort -r |
                xargs -r umount -l
        rm -rf "$work/tmp"
        awk -v n="$name" '{ total++; if ($2 == "pass") pass++; split($4, f, "="); nok += f[2] }
                END { printf "%s: %d / %d binaries passed, %d failed assertions\n", n, pass, total, nok }' "$res.sum"
}

compare() {
        [ $# -ge 2 ] || return 0
        local a b
        a=$(basename "$1")
        b=$(basename "$2")
        echo "differences ($a vs $b):"
        join <(sort "$work/results/$a.sum") <(sort "$work/results/$b.sum") |
                awk '$2 != $7 || $4 != $9 { printf "  %-40s %s %s | %s %s\n", $1, $2, $4, $7, $9 }'
}

main() {
        install_deps
        build_suite
        build_rootfs
        make_sandbox_cgroups
        trap remove_sandbox_cgroups EXIT
        local rt
        for rt in "$@"; do
                [ -x "$rt" ] || rt=$(command -v "$rt") || {
                        echo "runtime-tools.sh: no runtime $rt" >&2
                        exit 2
                }
                in_sandbox "$here/runtime-tools.sh" --run-one "$work" "$rt" "${tests[@]}"
        done
        compare "$@"
}

here=$(cd "$(dirname "$0")" && pwd)

# Internal entry: inside the sandbox, run the suite for one runtime.
if [ "${1:-}" = --run-one ]; then
        work=$2
        rt=$3
        shift 3
        tests=("$@")
        run_one_runtime "$rt"
        exit 0
fi

src=${RUNTIME_TOOLS_SRC:-}
work=/var/tmp/berth-runtime-tools
tests=()
while getopts s:w:t:h opt; do
        case $opt in
        s) src=$OPTARG ;;
        w) work=$OPTARG ;;
        t) tests+=("$OPTARG") ;;
        *)
                sed -n '3,20p' "$0"
                exit 2
                ;;
        esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || {
        echo "runtime-tools.sh: name at least one runtime binary" >&2
        exit 2
}
[ "$(id -u)" = 0 ] || {
        echo "runtime-tools.sh: must run as root" >&2
        exit 2
}
[ -n "$src" ] && [ -d "$src/validation" ] && [ -d "$src/cmd/runtimetest" ] || {
        echo "runtime-tools.sh: no runtime-tools source tree (-s or RUNTIME_TOOLS_SRC): need validation/ and cmd/runtimetest/" >&2
        exit 2
}
src=$(cd "$src" && pwd)
mkdir -p "$work"
work=$(cd "$work" && pwd)

main "$@"
