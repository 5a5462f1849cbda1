#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# A provider's view of berth: create, limit and list VPS through --json and
# the stable exit codes (see berth-vps(8): 0 ok, 2 invalid argument, 3 not found,
# 4 already exists, 5 wrong state, 6 resource or system error).
#
#   provider.sh provision NAME IP [PLAN]   create (plan: small|medium|large) and start
#   provider.sh resize NAME PLAN           change the limits of a running VPS
#   provider.sh report                     one line per VPS: state, memory used, limit hits
#   provider.sh retire NAME                stop gracefully, then destroy
#
# Needs jq. BERTH (default: berth) and BERTH_DATA are honoured; TEMPLATE
# (default: busybox) names the template, made once with
# `berth template create busybox --busybox`.
set -eu

BERTH=${BERTH:-berth}
TEMPLATE=${TEMPLATE:-busybox}
command -v jq >/dev/null || { echo "provider.sh: needs jq" >&2; exit 1; }

vps() {
        $BERTH vps --json "$@"
}

plan_limits() {
        case $1 in
        small) echo "--memory 256M --swap 0 --cpus 0.5 --pids 256" ;;
        medium) echo "--memory 1G --swap 256M --cpus 1.5 --pids 1024" ;;
        large) echo "--memory 4G --swap 1G --cpus 4 --cpu-weight 200 --pids 4096" ;;
        *) echo "provider.sh: unknown plan $1" >&2; exit 2 ;;
        esac
}

provision() {
        name=$1 ip=$2 plan=${3:-small}
        limits=$(plan_limits "$plan")
        code=0
        # shellcheck disable=SC2086 # the plan is a list of options
        out=$(vps create "$name" --template "$TEMPLATE" --ip "$ip" --nameserver 9.9.9.9 --autostart $limits) ||
                code=$?
        if [ "$code" -ne 0 ]; then
                case $code in
                4) echo "$name: already exists (or $ip is taken): $(echo "$out" | jq -r .error)" ;;
                3) echo "$name: template $TEMPLATE is missing" ;;
                *) echo "$name: create failed ($code): $(echo "$out" | jq -r .error)" ;;
                esac
                exit "$code"
        fi
        vps start "$name" | jq -r '"\(.name): \(.state)"'
        vps status "$name" | jq -r '"\(.name): pid \(.pid), addresses \(.addresses | join(" "))"'
}

resize() {
        limits=$(plan_limits "$2")
        # shellcheck disable=SC2086
        vps set "$1" $limits | jq -r '"\(.name): memory \(.limits.memory), cpus \(.limits.cpus)"'
}

report() {
        for name in $(vps list | jq -r '.[].name'); do
                vps status "$name" | jq -r '[.name, .state,
                        (.usage.memory // "-" | tostring), (.limits.memory // "unlimited" | tostring),
                        "hits: mem=\(.limit_hits.memory // 0) oom=\(.limit_hits.oom_kills // 0)" +
                        " pids=\(.limit_hits.pids // 0) cpu=\(.limit_hits.cpu_throttled // 0)"] | @tsv'
        done
}

retire() {
        out=$(vps stop "$1" --timeout 60) || [ $? -eq 5 ] # 5: was not running
        echo "$out" | jq -r 'select(.forced == true) | "\(.name): killed after the timeout"'
        vps destroy "$1" | jq -r '"\(.name): \(.state)"'
}

case ${1:-} in
provision) shift; provision "$@" ;;
resize) shift; resize "$@" ;;
report) report ;;
retire) shift; retire "$@" ;;
*) sed -n '2,15p' "$0"; exit 2 ;;
esac
