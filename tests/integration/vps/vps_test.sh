#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Integration test of `berth vps`: real VPS from a busybox template, booted
# with their own init, in their own network namespaces.
#
# Everything runs inside a network namespace this script makes (it re-execs
# itself under `unshare --net`), so the bridge, the veths and the routes
# never reach the machine's real network. Needs root, a static busybox,
# overlayfs and unshare; skips (77) with the reason otherwise.
#
# usage: vps_test.sh BERTH_BINARY [TEST...]     (BERTH_VPS_BIN overrides the binary;
#        BERTH_VPS_SKIP="routed ..." leaves those tests out, saying so)
set -u

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"
bin=${BERTH_VPS_BIN:-${1:-}}
[ $# -gt 0 ] && shift

require_vps_host "$bin"

failures=0
current=""

berth() {
        "$bin" --root "$root" vps "$@"
}




vps_pid() {
        berth status "$1" --json | json_field pid
}

cleanup() {
        for d in "$data"/vps/*/; do
                [ -d "$d" ] && berth destroy --force "$(basename "$d")" >/dev/null 2>&1
        done
        rm -rf "$tmp"
        ext4_scratch_rm "$ext4"
}

# cgroup directory of a process in one v1 hierarchy (or the unified one).
cg_dir() { # cg_dir PID CONTROLLER
        if [ "$2" = unified ]; then
                p=$(sed -n 's/^0:://p' "/proc/$1/cgroup")
                [ -d /sys/fs/cgroup/unified ] && echo "/sys/fs/cgroup/unified$p" || echo "/sys/fs/cgroup$p"
        else
                p=$(grep ":$2:" "/proc/$1/cgroup" | cut -d: -f3)
                echo "/sys/fs/cgroup/$2$p"
        fi
}

# Nothing of VPS $1 is left on the host: container state, cgroup, links,
# mounts, files, template marker.
assert_gone() {
        name=$1
        # vps-NAME, or vps-NAME-XXXXXXXX outside the default data directory
        left=$(ls -d "$root/vps-$name" "$root/vps-$name"-[0-9a-f]??????? 2>/dev/null)
        [ -z "$left" ] || fail "$name: container state left in $root: $left"
        [ ! -e "$data/vps/$name" ] || fail "$name: directory left: $(ls -A "$data/vps/$name")"
        [ ! -e "$data/templates/bb/users/$name" ] || fail "$name: template marker left"
        left=$(find /sys/fs/cgroup -maxdepth 8 -type d -name "berth-vps-$name-$(data_tag "$data")" 2>/dev/null)
        [ -z "$left" ] || fail "$name: cgroups left: $left"
        ! grep -q "$tmp" /proc/self/mountinfo || fail "$name: mounts left: $(grep "$tmp" /proc/self/mountinfo)"
}

assert_no_links() {
        links=$(ip -o link show | grep -E ' (bth[0-9a-f]+|berth0)[@:]')
        [ -z "$links" ] || fail "links left: $links"
}

# ---- the tests -------------------------------------------------------------

test_two_vps() {
        expect 0 berth create a --template bb --ip 10.77.0.2 --ip fd77::2/64
        expect 0 berth create b --template bb --ip 10.77.0.3/16 --hostname bee
        upper=$(ls -A "$data/vps/a/upper")
        [ -z "$upper" ] || fail "create copied files into the upper layer: $upper"
        expect 0 berth start a b
        [ "$(berth exec a -- hostname)" = a ] || fail "hostname of a"
        [ "$(berth exec b -- hostname)" = bee ] || fail "hostname of b"
        [ "$(berth exec b -- cat /etc/hostname)" = bee ] || fail "/etc/hostname of b"
        berth exec b -- grep -q 'bee' /etc/hosts || fail "/etc/hosts of b has no entry for bee"
        # Each sees only its own processes: its init and the ps itself.
        procs=$(berth exec a -- ps -o pid,comm | tail -n +2)
        [ "$(echo "$procs" | wc -l)" = 2 ] || fail "a sees other processes: $procs"
        echo "$procs" | grep -q '^ *1 init$' || fail "a's pid 1 is not its init: $procs"
        berth exec b -- sleep 30 &
        sleeper=$!
        # The sleep runs once its exec got that far: on a loaded machine,
        # not yet when the next command starts.
        for _ in $(seq 50); do
                berth exec b -- ps -o comm | grep -q sleep && break
                sleep 0.1
        done
        berth exec b -- ps -o comm | grep -q sleep || fail "b does not see its own sleep"
        berth exec a -- ps -o comm | grep -q sleep && fail "a sees b's sleep"
        kill "$sleeper" 2>/dev/null
        wait "$sleeper" 2>/dev/null
        expect 0 berth exec a -- ping -c1 -W2 10.77.0.3
        expect 0 berth exec b -- ping -c1 -W2 10.77.0.2
        expect 0 berth exec a -- ping -c1 -W2 10.77.0.1
        expect 0 berth exec a -- ping -c1 -W3 fd77::1
        # exec returns the command's exit code.
        expect 7 berth exec a -- sh -c 'exit 7'
        dev_tmpfs_check a
}

# /dev/shm and the masks of directories live on the VPS's /dev tmpfs, its
# only tmpfs superblock: each superblock costs kernel memory in every
# memory cgroup of the host (docs/performance.md, "Limits").
dev_tmpfs_check() { # dev_tmpfs_check NAME
        mi=$(berth exec "$1" -- cat /proc/self/mountinfo)
        sbs=$(echo "$mi" | awk '/ - tmpfs / {print $3}' | sort -u | wc -l)
        [ "$sbs" = 1 ] || fail "$1 has $sbs tmpfs superblocks: $mi"
        [ "$(berth exec "$1" -- stat -c %a /dev/shm)" = 1777 ] || fail "$1: /dev/shm is not a 1777 directory"
        expect 0 berth exec "$1" -- sh -c 'echo x >/dev/shm/t && rm /dev/shm/t'
        if berth exec "$1" -- sh -c '[ -d /proc/acpi ]'; then
                [ -z "$(berth exec "$1" -- ls -A /proc/acpi)" ] || fail "$1: /proc/acpi is not masked"
                expect 1 berth exec "$1" -- touch /proc/acpi/x
                echo "$mi" | grep -q ' /proc/acpi .* - tmpfs ' || fail "$1: /proc/acpi mask: $mi"
        fi
        berth exec "$1" -- ls -A /dev | grep -q berth-mask && fail "$1: the masks' directory is left in /dev"
}

test_exit_codes() {
        expect 4 berth create a --template bb
        expect 2 berth create Bad_Name --template bb
        expect 3 berth create c --template nosuchtemplate
        expect 3 berth start nosuchvps
        expect 5 berth start a
        expect 5 berth destroy a
        expect 2 berth create c --template bb --memory lots
        expect 2 berth set a --cpus 0
        expect 2 berth set a --cpus "$(($(getconf _NPROCESSORS_ONLN) + 1))"
        expect 4 berth create c --template bb --ip 10.77.0.2
        # exec's own failures are 125/126/127 (docker's), never a code the
        # command could return; the command's own code passes through.
        expect 125 berth exec nosuchvps -- true
        expect 125 berth exec a
        expect 127 berth exec a -- /no/such/command
        expect 126 berth exec a -- /etc
        expect 7 berth exec a -- sh -c 'exit 7'
        expect 125 berth enter a </dev/null
        # shellcheck disable=SC2016 # expanded inside the VPS
        env=$(berth exec a -- sh -c 'echo "$HOME $USER $LOGNAME $PATH"')
        [ "$env" = "/root root root /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" ] ||
                fail "exec's environment: $env"
        out=$(berth exec --json a -- echo hi)
        [ "$out" = hi ] || fail "--json exec mixed its own output with the command's: $out"
        out=$(berth status nosuchvps --json 2>/dev/null)
        echo "$out" | grep -q '"exit_code": 3' || fail "--json error document: $out"
}

test_set_limits() {
        pid=$(vps_pid a)
        [ -n "$pid" ] || { fail "no pid for a"; return; }
        expect 0 berth set a --memory 48M --pids 64 --cpus 0.5
        if [ -f "$(cg_dir "$pid" memory)/memory.limit_in_bytes" ]; then
                mem=$(cat "$(cg_dir "$pid" memory)/memory.limit_in_bytes")
                pids=$(cat "$(cg_dir "$pid" pids)/pids.max")
                quota=$(cat "$(cg_dir "$pid" cpu)/cpu.cfs_quota_us")
        else
                mem=$(cat "$(cg_dir "$pid" unified)/memory.max")
                pids=$(cat "$(cg_dir "$pid" unified)/pids.max")
                quota=$(cut -d' ' -f1 "$(cg_dir "$pid" unified)/cpu.max")
        fi
        [ "$mem" = 50331648 ] || fail "live memory limit is $mem, expected 50331648"
        # Without --swap, no swap beyond the memory limit.
        memsw=$(cg_dir "$pid" memory)/memory.memsw.limit_in_bytes
        if [ -f "$memsw" ]; then
                [ "$(cat "$memsw")" = 50331648 ] || fail "memory+swap limit is $(cat "$memsw") without --swap"
        elif [ -f "$(cg_dir "$pid" unified)/memory.swap.max" ]; then
                [ "$(cat "$(cg_dir "$pid" unified)/memory.swap.max")" = 0 ] || fail "swap allowed without --swap"
        fi
        [ "$pids" = 64 ] || fail "live pids limit is $pids"
        [ "$quota" = 50000 ] || fail "live cpu quota is $quota"
        [ "$(berth status a --json | json_field memory)" = 50331648 ] || fail "status does not show the new limit"
        grep -q '"memory": 50331648' "$data/vps/a/vps.json" || fail "vps.json not saved"
        # The pids limit is hit and counted.
        # shellcheck disable=SC2016 # expanded inside the VPS
        berth exec a -- sh -c 'for i in $(seq 80); do sleep 5 & done; wait' >/dev/null 2>&1
        hits=$(berth status a --json | sed -n '/limit_hits/,/}/p' | json_field pids)
        [ "${hits:-0}" -gt 0 ] || fail "pids limit hits not counted ($hits)"
        expect 0 berth set a --pids none --memory none --cpus none
}

test_ip_live() {
        expect 0 berth set a --ip-add 10.77.0.20
        expect 0 berth exec b -- ping -c1 -W2 10.77.0.20
        expect 0 berth set a --ip-del 10.77.0.20
        expect 1 berth exec b -- ping -c1 -W1 10.77.0.20
        grep -q 10.77.0.20 "$data/vps/a/vps.json" && fail "deleted address still in vps.json"
}

# The console: a terminal kept by a per-VPS keeper process, logged and
# attachable; the keeper is the init's parent and ends with it.
test_console() {
        grep -q 'rcS: booted as a' "$data/vps/a/console.log" || fail "console.log lacks the boot output"
        # The guest writes while the attach runs: several times, since on a
        # slow machine (the TCG guest) the attach may connect late.
        out=$( (sleep 1; printf 'typed-in\n'; sleep 3; printf '\035') |
                timeout 20 "$bin" --root "$root" vps console a --attach 2>&1 &
                for _ in 1 2 3 4 5 6; do
                        sleep 0.5
                        berth exec a -- sh -c 'echo written-to-console >/dev/console'
                done
                wait)
        echo "$out" | grep -q written-to-console || fail "attach did not show the guest's console output: $out"
        echo "$out" | grep -q typed-in || fail "attach did not reach the guest's terminal: $out"
        grep -q written-to-console "$data/vps/a/console.log" || fail "console.log lacks what the guest wrote"
        keeper=$(ps -o ppid= -p "$(vps_pid a)" | tr -d ' ')
        [ "$(cat "/proc/$keeper/comm" 2>/dev/null)" = berth-console ] || fail "the init's parent is not the console keeper"
        expect 3 berth console c --attach
}

# ---- the admin's terminal ----------------------------------------------------

# on_pty CMD [INPUT]: runs the shell command CMD on a new pseudo-terminal
# that is its controlling terminal (script(1)), as in an admin's login
# shell; prints what appeared on that terminal. INPUT is typed into the
# terminal once CMD has created $tmp/pty-ready. script's own stdin is a fifo
# that never ends: at EOF script would type ^D into the terminal.
on_pty() {
        fifo=$tmp/pty-stdin
        rm -f "$fifo" "$tmp/pty-ready" && mkfifo "$fifo"
        exec 9<>"$fifo"
        if [ -n "${2:-}" ]; then
                (
                        i=0
                        while [ ! -e "$tmp/pty-ready" ] && [ $i -lt 300 ]; do
                                sleep 0.1
                                i=$((i + 1))
                        done
                        printf '%s\n' "$2" >&9
                ) &
        fi
        SHELL=/bin/sh timeout 60 script -qec "$1" /dev/null <&9
        wait
        exec 9<&-
        rm -f "$fifo" "$tmp/pty-ready"
}

# A guest replaces a binary the admin runs with `vps exec` by one that types
# a command line into the terminal it got (TIOCSTI on fds 0-2). The shell
# that ran `vps exec` reads the next line: it must see nothing.
# dev.tty.legacy_tiocsti=1 (the default of kernels before 6.2, e.g. Debian
# 12's) for the test, then the host's own value again.
tty_inject_check() { # tty_inject_check NAME
        name=$1
        # shellcheck disable=SC2016 # expanded inside the VPS
        berth exec "$name" -- sh -c 'cat >/bin/attacker && chmod 755 /bin/attacker &&
                rm -f /bin/ls && printf "#!/bin/sh\nexec /bin/attacker tty \"touch /tmp/tty-pwned\n\"\n" >/bin/ls &&
                chmod 755 /bin/ls' <"$attacker" || { fail "$name: cannot plant the binary"; return; }
        legacy=$(cat /proc/sys/dev/tty/legacy_tiocsti 2>/dev/null)
        [ -n "$legacy" ] && echo 1 >/proc/sys/dev/tty/legacy_tiocsti
        out=$(on_pty "$bin --root $root vps exec $name -- ls; touch $tmp/pty-ready; read -r line; echo \"LINE[\$line]\"" admin-typed)
        [ -n "$legacy" ] && echo "$legacy" >/proc/sys/dev/tty/legacy_tiocsti
        echo "$out" | grep -q 'fd0.tiocsti=' || fail "$name: the planted binary did not run: $out"
        echo "$out" | grep -q 'LINE\[admin-typed\]' || fail "$name: the guest typed into the admin's shell: $out"
        for fd in 0 1 2; do
                echo "$out" | grep -q "fd$fd.isatty=0" || fail "$name: the guest got the admin's terminal as fd $fd: $out"
        done
        echo "$out" | grep -q 'ctty=ENXIO' || fail "$name: the guest has a controlling terminal: $out"
}

test_tty_inject() {
        attacker=${BERTH_TEST_ATTACKER:-}
        if [ -z "$attacker" ] || [ ! -x "$attacker" ]; then
                fail "no attacker binary (BERTH_TEST_ATTACKER): cannot test"
                return
        fi
        command -v script >/dev/null || { fail "no script(1)"; return; }
        expect 0 berth create tty1 --template bb
        expect 0 berth create tty2 --template bb --userns none
        expect 0 berth start tty1 tty2
        tty_inject_check tty1
        # No user namespace: the guest's root has CAP_SYS_ADMIN over the
        # host's terminals, a new session alone does not stop TIOCSTI.
        tty_inject_check tty2
        # Input typed by the admin still reaches the process, output and exit
        # code come back.
        out=$(on_pty "touch $tmp/pty-ready; $bin --root $root vps exec tty1 -- sh -c 'read x; echo got=\$x; exit 4'; echo rc=\$?" typed-in)
        echo "$out" | grep -q 'got=typed-in' || fail "typed input did not reach the process: $out"
        echo "$out" | grep -q 'rc=4' || fail "exit code lost: $out"
        # enter (and exec --tty) still get a terminal of the guest's own.
        out=$(on_pty "touch $tmp/pty-ready; $bin --root $root vps enter tty1; echo rc=\$?" 'tty; exit 5')
        echo "$out" | grep -q '^/dev/pts/[0-9]' || fail "enter: no terminal in the guest: $out"
        echo "$out" | grep -q 'rc=5' || fail "enter: exit code lost: $out"
        expect 0 berth destroy --force tty1
        expect 0 berth destroy --force tty2
}

# What the guest wrote on its console reaches the admin's terminal with its
# escape sequences shown, not acted on; --raw and pipes get the bytes.
test_console_escape() {
        expect 0 berth create tty3 --template bb
        expect 0 berth start tty3
        berth exec tty3 -- sh -c 'printf "\033]0;pwned\007\033[2J\n" >/dev/console'
        esc=$(printf '\033')
        out=$(on_pty "$bin --root $root vps console tty3")
        case $out in *"$esc"*) fail "an escape sequence reached the terminal: $(echo "$out" | od -c | head)" ;; esac
        echo "$out" | grep -qF '\x1b]0;pwned\x07\x1b[2J' || fail "console on a terminal: not escaped: $out"
        out=$(on_pty "$bin --root $root vps console tty3 --raw")
        case $out in *"$esc]0;pwned"*) ;; *) fail "console --raw: not raw: $out" ;; esac
        out=$(berth console tty3)
        case $out in *"$esc]0;pwned"*) ;; *) fail "console to a pipe: not raw: $out" ;; esac
        expect 0 berth destroy --force tty3
}

test_stop_graceful() {
        start=$(date +%s)
        out=$(berth stop a --timeout 20 --json)
        took=$(($(date +%s) - start))
        echo "$out" | grep -q '"forced": false' || fail "graceful stop reported: $out"
        [ "$took" -lt 20 ] || fail "graceful stop took ${took}s"
        [ "$(cat "$data/vps/a/upper/var/log/berth-shutdown" 2>/dev/null)" = graceful ] ||
                fail "the init's shutdown action did not run"
        grep -q 'rcK: shutting down' "$data/vps/a/console.log" || fail "console.log lacks the shutdown"
        expect 5 berth console a --attach
        [ "$(berth status a --json | json_field state)" = stopped ] || fail "a not stopped"
        # The upper layer survives: a restart keeps a's files.
        expect 0 berth start a
        expect 0 berth exec a -- sh -c 'echo kept >/root/file'
        expect 0 berth restart a --timeout 20
        [ "$(berth exec a -- cat /root/file)" = kept ] || fail "upper layer lost over restart"
        expect 0 berth stop a b --timeout 20
}

# Gone, or a zombie waiting for whichever reaper inherited it.
assert_dead() { # assert_dead PID
        state=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "/proc/$1/status" 2>/dev/null)
        [ -n "$1" ] && { [ -z "$state" ] || [ "$state" = Z ]; } || fail "init $1 still alive ($state)"
}

test_stop_forced() {
        expect 0 berth create s --template bb --ip 10.77.0.9 --init /sbin/stubborn-init
        expect 0 berth start s
        pid=$(vps_pid s)
        start=$(date +%s)
        out=$(berth stop s --timeout 2 --json)
        took=$(($(date +%s) - start))
        echo "$out" | grep -q '"forced": true' || fail "forced stop reported: $out"
        [ "$took" -ge 2 ] && [ "$took" -lt 10 ] || fail "forced stop took ${took}s (timeout 2)"
        assert_dead "$pid"
        expect 0 berth destroy s
        assert_gone s
}

# Several VPS stop together: one deadline for all, not one after the other.
test_stop_many() {
        for n in 1 2 3; do
                expect 0 berth create "s$n" --template bb --ip "10.77.0.1$n" --init /sbin/stubborn-init
        done
        expect 0 berth start s1 s2 s3
        pids="$(vps_pid s1) $(vps_pid s2) $(vps_pid s3)"
        start=$(date +%s)
        out=$(berth stop s3 s1 s2 s1 --timeout 3 --json)
        code=$?
        took=$(($(date +%s) - start))
        [ "$code" = 0 ] || fail "stop of several exited $code: $out"
        [ "$(echo "$out" | grep -c '"forced": true')" = 4 ] || fail "stop of several reported: $out"
        # One after the other would take 9 s and more.
        [ "$took" -ge 3 ] && [ "$took" -lt 8 ] || fail "stop of 3 VPS took ${took}s (timeout 3)"
        for p in $pids; do assert_dead "$p"; done
        for n in 1 2 3; do
                expect 0 berth destroy "s$n"
                assert_gone "s$n"
        done
}

test_routed() {
        expect 0 berth create r1 --template bb --net routed --ip 10.88.0.2
        expect 0 berth create r2 --template bb --net routed --ip 10.88.0.3 --ip fd88::3
        expect 0 berth start r1 r2
        expect 0 berth exec r1 -- ping -c1 -W2 10.88.0.3
        expect 0 berth exec r1 -- ping -c1 -W2 169.254.0.1
        addrs=$(berth exec r1 -- ip -o addr show dev eth0)
        echo "$addrs" | grep -q '10.88.0.2/32' || fail "routed guest address: $addrs"
        expect 0 berth stop r1 r2 --timeout 20
        expect 0 berth destroy r1
        expect 0 berth destroy r2
}

test_failed_start() {
        expect 0 berth create f --template bb --init /no/such/init
        out=$(berth start f 2>&1)
        code=$?
        [ "$code" != 0 ] || fail "start with a missing init succeeded"
        echo "$out" | grep -q 'no/such/init' || fail "failed start does not say why: $out"
        [ -z "$(ls -d "$root/vps-f" "$root"/vps-f-[0-9a-f]??????? 2>/dev/null)" ] ||
                fail "failed start left its container"
        left=$(find /sys/fs/cgroup -maxdepth 8 -type d -name "berth-vps-f-$(data_tag "$data")" 2>/dev/null)
        [ -z "$left" ] || fail "failed start left cgroups: $left"
        expect 0 berth destroy f
        assert_gone f
}

# in_order FILE PATTERN...: each pattern matches a line after the previous one's.
in_order() {
        file=$1 at=0
        shift
        for pat in "$@"; do
                n=$(tail -n +$((at + 1)) "$file" | grep -n -m1 -F -- "$pat" | cut -d: -f1)
                [ -n "$n" ] || { fail "trace lacks \"$pat\" after line $at: $(cat "$file")"; return; }
                at=$((at + n))
        done
}

# --debug traces vps start step by step to stderr and to the --log file as
# JSON lines; BERTH_DEBUG=1 does it without the flag; without either there
# is no trace.
test_debug() {
        expect 0 berth create dbg --template bb
        "$bin" --root "$root" --debug --log "$tmp/dbg.json" --log-format json vps start dbg 2>"$tmp/dbg.err" ||
                fail "--debug vps start failed: $(cat "$tmp/dbg.err")"
        in_order "$tmp/dbg.err" "berth: debug: +" "VPS dbg: no container" "VPS dbg: vps.json " \
                "VPS dbg: config.json " "overlay mounted" "create 'vps-dbg" "namespaces: clone3 creates" \
                "sync: the init is READY" "state written" "VPS dbg: network bridged" "VPS dbg: network up" \
                "the process runs" "VPS dbg: guest init started" "VPS dbg: running"
        grep -q "console keeper started" "$tmp/dbg.err" || fail "no console keeper in the trace"
        python3 -c 'import json, sys
n = 0
for line in open(sys.argv[1]):
    o = json.loads(line)
    assert {"level", "msg", "time"} <= set(o), o
    n += o["level"] == "debug"
assert n >= 15, n' "$tmp/dbg.json" || fail "--log-format json: not JSON lines: $(head -3 "$tmp/dbg.json")"
        err=$(BERTH_DEBUG=1 "$bin" --root "$root" vps stop dbg --timeout 0 2>&1 >/dev/null)
        echo "$err" | grep -q "debug: .*VPS dbg: stop: container running" || fail "BERTH_DEBUG=1: no trace: $err"
        err=$(berth start dbg 2>&1 >/dev/null)
        [ -z "$err" ] || fail "start without --debug wrote to stderr: $err"
        expect 0 berth destroy --force dbg
        assert_gone dbg
}

test_autostart() {
        expect 0 berth create auto --template bb --autostart
        expect 0 berth create manual --template bb
        expect 0 berth start --all --autostart
        [ "$(berth status auto --json | json_field state)" = running ] || fail "autostart VPS not started"
        [ "$(berth status manual --json | json_field state)" = stopped ] || fail "manual VPS started"
        list=$(berth list --json)
        echo "$list" | grep -q '"name": "auto"' || fail "list --json: $list"
        expect 0 berth stop --all --timeout 20
        expect 0 berth destroy auto
        expect 0 berth destroy manual
}

test_destroy() {
        expect 0 berth start a b
        expect 0 berth destroy --force a
        expect 0 berth destroy --force b
        for n in a b; do assert_gone "$n"; done
        assert_no_links
        [ -z "$(ls -A "$data/vps")" ] || fail "vps dir not empty: $(ls -A "$data/vps")"
}

# ---- user namespaces ---------------------------------------------------------

userns_host_id() { # userns_host_id NAME: host id of the guest's 0 (status --json)
        berth status "$1" --json | sed -n '/"userns"/,/}/p' | json_field host_id
}

# A guest root that mounts the VPS's v1 memory hierarchy: prints "nomount"
# when the kernel refuses (pure v2 hosts, or no such hierarchy), else
# "limit=<code> mkdir=<code>" for raising its own limit and making a cgroup.
v1_probe() { # v1_probe NAME
        # shellcheck disable=SC2016 # expanded inside the VPS
        berth exec "$1" -- sh -c 'mkdir -p /tmp/cg
                mount -t cgroup -o memory cgroup /tmp/cg 2>/dev/null || { echo nomount; exit; }
                { echo 1073741824 >/tmp/cg/memory.limit_in_bytes; } 2>/dev/null; l=$?
                mkdir /tmp/cg/probe 2>/dev/null; m=$?
                rmdir /tmp/cg/probe 2>/dev/null; umount /tmp/cg
                echo "limit=$l mkdir=$m"'
}

test_userns() {
        expect 0 berth create u1 --template bb
        expect 0 berth create u2 --template bb
        expect 0 berth create pv --template bb --userns none
        expect 2 berth create u3 --template bb --userns nonsense
        id1=$(userns_host_id u1)
        id2=$(userns_host_id u2)
        if [ -z "$id1" ] || [ -z "$id2" ]; then
                fail "status --json shows no user namespace range ($id1, $id2)"
                return
        fi
        d=$((id2 - id1))
        if [ "$id1" -le 65535 ] || [ "${d#-}" -lt 65536 ]; then
                fail "ranges at $id1 and $id2 overlap or reach host ids"
        fi
        expect 4 berth create u3 --template bb --userns "$((id1 + 100))"
        berth status pv --json | grep -q '"userns": "none"' || fail "privileged VPS not shown as userns none"
        upper=$data/vps/u1/upper
        [ "$(stat -c %u:%g "$upper")" = "$id1:$id1" ] || fail "upper root owned by $(stat -c %u:%g "$upper")"
        expect 0 berth start u1 u2 pv

        map=$(berth exec u1 -- cat /proc/self/uid_map)
        echo "$map" | grep -Eq "^ *0 +$id1 +65536\$" || fail "guest uid_map: $map"
        [ "$(berth exec u1 -- id -u)" = 0 ] || fail "guest id -u is not 0"
        pid=$(vps_pid u1)
        huid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
        [ "$huid" = "$id1" ] || fail "the init runs as host uid $huid, expected $id1"
        berth exec pv -- cat /proc/self/uid_map | grep -Eq '^ *0 +0 +4294967295$' || fail "pv is not privileged"

        # The template, owned by host root, is the guest root's without chown.
        [ "$(berth exec u1 -- stat -c %u:%g /bin/busybox)" = 0:0 ] || fail "template not owned by the guest's root"
        [ "$(stat -c %u "$data/templates/bb/rootfs/bin/busybox")" = 0 ] || fail "template chowned on disk"

        # Files the guest makes belong to its ids on the host; a chown of a
        # template file copies it up with the new owner, the template stays.
        expect 0 berth exec u1 -- sh -c 'echo x >/root/by-root && chown 5:5 /etc/inittab'
        expect 0 berth exec u1 -- sh -c 'echo "u:x:1000:1000::/tmp:/bin/sh" >>/etc/passwd && su u -c "touch /tmp/by-user"' 
        [ "$(stat -c %u:%g "$upper/root/by-root")" = "$id1:$id1" ] || fail "guest root's file: $(stat -c %u:%g "$upper/root/by-root")"
        [ "$(stat -c %u:%g "$upper/tmp/by-user")" = "$((id1 + 1000)):$((id1 + 1000))" ] ||
                fail "guest user's file: $(stat -c %u:%g "$upper/tmp/by-user" 2>&1)"
        [ "$(stat -c %u:%g "$upper/etc/inittab")" = "$((id1 + 5)):$((id1 + 5))" ] ||
                fail "chowned template file copied up as $(stat -c %u:%g "$upper/etc/inittab" 2>&1)"
        [ "$(stat -c %u:%g "$data/templates/bb/rootfs/etc/inittab")" = 0:0 ] || fail "the chown reached the template"
        [ "$(berth exec u1 -- stat -c %u:%g /etc/inittab)" = 5:5 ] || fail "guest does not see its chown"
        [ "$(berth exec u1 -- stat -c %u /etc/hostname)" = 0 ] || fail "berth's guest files not the guest root's"

        # Host root's files and host ids stay out of reach.
        expect 1 berth exec u1 -- sh -c 'echo 1 >/proc/sys/kernel/panic'
        probe=$(v1_probe u1)
        case $probe in
        nomount | "limit=1 mkdir=1") ;;
        *) fail "guest root in a user namespace got at its v1 cgroup: $probe" ;;
        esac
        # The same probe finds the hole in a privileged VPS (where there is
        # a v1 memory hierarchy): it is the probe that makes the check above.
        pprobe=$(v1_probe pv)
        [ "$pprobe" = nomount ] || [ "$pprobe" = "limit=0 mkdir=0" ] || fail "probe in privileged VPS: $pprobe"
        echo "   v1 memory hierarchy from the guest: userns: $probe; privileged: $pprobe"

        # The guest's cgroup2 root is its own (systemd's delegation).
        [ "$(berth exec u1 -- stat -c %u /sys/fs/cgroup/cgroup.procs)" = 0 ] ||
                fail "the guest's root does not own its cgroup.procs"

        expect 0 berth destroy --force u1
        expect 0 berth destroy --force u2
        expect 0 berth destroy --force pv
        for n in u1 u2 pv; do assert_gone "$n"; done
}

# ---- main ------------------------------------------------------------------

in_own_netns "$bin" "$@"

scratch_base
scratch_dir berth-vpstest
data=$tmp/data
export BERTH_DATA="$data"
# The test's own host-wide id registry, not /var/lib/berth/id-ranges.
export BERTH_ID_REGISTRY="$tmp/id-ranges"
trap cleanup EXIT
bb_template

run_named "two_vps exit_codes set_limits ip_live console tty_inject console_escape stop_graceful stop_forced stop_many routed failed_start debug autostart destroy userns" "$@"
assert_no_links
finish
