# SPDX-License-Identifier: GPL-2.0-or-later
# bash completion for berth and berth-full: global options, the OCI verbs
# and their options, `vps` and `template` commands and their options,
# container ids, VPS and template names. Installed as "berth" in
# bash-completion's completions directory; the lists follow berth's --help.
# shellcheck disable=SC2207 # COMPREPLY=($(compgen ...)): the usual idiom; words have no spaces

_berth_global_opts="--root --log --log-format --debug --systemd-cgroup --cgroup-manager --version --help"
_berth_verbs="create start run exec state kill delete pause resume update ps events list spec features
checkpoint restore vps template"
_berth_vps_cmds="create start stop restart destroy set exec enter console status list repair snapshot
snapshot-list snapshot-restore snapshot-delete backup restore clone migrate receive"
_berth_template_cmds="create import list ls info show rm remove"

# The options of one OCI verb; those that take a value are listed in
# _berth_takes_value.
_berth_verb_opts() {
    case $1 in
    create) echo "--bundle -b --pid-file --console-socket --no-pivot --no-new-keyring --preserve-fds" ;;
    run) echo "--bundle -b --detach -d --keep --pid-file --console-socket --no-pivot --no-new-keyring --preserve-fds" ;;
    exec) echo "--process -p --tty -t --console-socket --detach -d --pid-file --env -e --cwd --user -u
                --additional-gids -g --cap -c --no-new-privs --preserve-fds --cgroup --ignore-paused" ;;
    kill) echo "--all -a" ;;
    delete) echo "--force -f" ;;
    update) echo "--resources -r --memory --memory-swap --memory-reservation --cpu-shares --cpu-share --cpu-quota
                  --cpu-period --cpu-rt-runtime --cpu-rt-period --cpuset-cpus --cpuset-mems --pids-limit
                  --blkio-weight" ;;
    ps | list) echo "--format" ;;
    events) echo "--stats --interval" ;;
    spec) echo "--bundle -b --rootless" ;;
    checkpoint) echo "--image-path --work-path --parent-path --leave-running --pre-dump --tcp-established
                      --ext-unix-sk --shell-job --file-locks --manage-cgroups-mode --criu" ;;
    restore) echo "--image-path --work-path --bundle -b --detach -d --pid-file --console-socket --tcp-established
                   --ext-unix-sk --shell-job --file-locks --manage-cgroups-mode --criu" ;;
    esac
    [ "$1" = list ] && echo "--quiet -q"
    echo "--help"
}

_berth_vps_opts() {
    case $1 in
    create) echo "--template -t --ip --net --bridge --gateway4 --gateway6 --hostname -H --nameserver
                  --memory -m --swap -s --cpus -c --cpu-weight -w --pids -p --init --stop-signal
                  --autostart --userns --allow-io-uring --mac --no-filter --device --disk --inodes --io-read
                  --io-write --iops-read --iops-write --nat --rate-in --rate-out" ;;
    set) echo "--memory -m --swap -s --cpus -c --cpu-weight -w --pids -p --ip-add --ip-del --hostname -H
               --stop-signal --autostart --no-autostart --allow-io-uring --no-allow-io-uring --mac
               --filter --no-filter --device --disk --inodes --io-read --io-write --iops-read --iops-write
               --nameserver --nat --no-nat --rate-in --rate-out" ;;
    start) echo "--all --autostart" ;;
    stop) echo "--all --timeout" ;;
    restart) echo "--timeout" ;;
    destroy) echo "--all --force -f" ;;
    exec) echo "--tty -t" ;;
    enter) echo "--shell" ;;
    console) echo "--follow -f --attach -a --raw" ;;
    repair) echo "--all --dry-run" ;;
    snapshot-restore) echo "--force -f --timeout" ;;
    backup) echo "--with-template" ;;
    restore) echo "--name --ip" ;;
    clone) echo "--ip" ;;
    migrate) echo "--offline --live --keep-source --timeout" ;;
    esac
    echo "--json --data-dir --help"
}

# Options that take a value (the next word is not a name or a command);
# $2 $3: the verb and the vps command so far (-t is a value only for
# `vps create --template`; elsewhere it is --tty).
_berth_takes_value() {
    [ "$1" = -t ] && { [ "$2" = vps ] && [ "$3" = create ]; return; }
    case $1 in
    --root | --log | --log-format | --cgroup-manager | --criu | --rootless | --bundle | -b | --pid-file | \
        --console-socket | --preserve-fds | --process | -p | --env | -e | --cwd | --user | -u | \
        --additional-gids | -g | --cap | -c | --cgroup | --resources | -r | --memory | --memory-swap | \
        --memory-reservation | --cpu-shares | --cpu-share | --cpu-quota | --cpu-period | --cpu-rt-runtime | \
        --cpu-rt-period | --cpuset-cpus | --cpuset-mems | --pids-limit | --blkio-weight | --format | \
        --interval | --image-path | --work-path | --parent-path | --manage-cgroups-mode | --data-dir | \
        --template | --ip | --net | --bridge | --gateway4 | --gateway6 | --hostname | -H | \
        --nameserver | -m | --swap | -s | --cpus | --cpu-weight | -w | --pids | --init | \
        --stop-signal | --userns | --ip-add | --ip-del | --timeout | --shell | --debootstrap | --mirror | --include | --mac | \
        --disk | --inodes | --io-read | --io-write | --iops-read | --iops-write | --name | --rate-in | --rate-out)
        return 0 ;;
    esac
    return 1
}

# Container ids: `berth list -q` with the same --root, else the state dir.
_berth_container_ids() {
    local root=${_berth_root:-/run/berth}
    local ids
    ids=$("$_berth_cmd" --root "$root" list -q 2>/dev/null) ||
        ids=$(cd "$root" 2>/dev/null && for d in */; do [ -d "$d" ] && echo "${d%/}"; done)
    echo "$ids"
}

# The data directory the command line (or BERTH_DATA) names.
_berth_data() {
    echo "${_berth_data_dir:-${BERTH_DATA:-/var/lib/berth}}"
}

# VPS names: `berth vps list --json` (names only), else the data dir.
_berth_vps_names() {
    local data names
    data=$(_berth_data)
    names=$("$_berth_cmd" vps --data-dir "$data" list --json 2>/dev/null |
        sed -n 's/^    "name": "\(.*\)",$/\1/p')
    [ -n "$names" ] ||
        names=$(cd "$data/vps" 2>/dev/null && for d in */; do [ -d "$d" ] && echo "${d%/}"; done)
    echo "$names"
}

# The snapshots of VPS $1 (snapshot-restore, snapshot-delete).
_berth_vps_snaps() {
    "$_berth_cmd" vps --data-dir "$(_berth_data)" snapshot-list "$1" --json 2>/dev/null |
        sed -n 's/^      "name": "\(.*\)",$/\1/p'
}

_berth_template_names() {
    local d
    (cd "$(_berth_data)/templates" 2>/dev/null && for d in */; do [ -d "$d" ] && echo "${d%/}"; done)
}

_berth_value() {
    local prev=$1 cur=$2
    case $prev in
    --log-format) COMPREPLY=($(compgen -W "text json" -- "$cur")) ;;
    --format) COMPREPLY=($(compgen -W "table json" -- "$cur")) ;;
    --cgroup-manager) COMPREPLY=($(compgen -W "cgroupfs systemd disabled" -- "$cur")) ;;
    --manage-cgroups-mode) COMPREPLY=($(compgen -W "soft full strict ignore" -- "$cur")) ;;
    --net) COMPREPLY=($(compgen -W "bridged routed" -- "$cur")) ;;
    --userns) COMPREPLY=($(compgen -W "auto none" -- "$cur")) ;;
    --template | -t) COMPREPLY=($(compgen -W "$(_berth_template_names)" -- "$cur")) ;;
    --root | --bundle | -b | --image-path | --work-path | --parent-path | --data-dir | --cwd)
        COMPREPLY=($(compgen -d -- "$cur")) ;;
    --log | --pid-file | --console-socket | --process | -p | --resources | -r | --criu | --shell | --init)
        COMPREPLY=($(compgen -f -- "$cur")) ;;
    *) COMPREPLY=() ;;
    esac
}

_berth() {
    local cur=${COMP_WORDS[COMP_CWORD]} prev=''
    [ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
    local _berth_cmd=${COMP_WORDS[0]} _berth_root='' _berth_data_dir=''
    COMPREPLY=()
    # Walk the words before the cursor: global options, the verb, the vps
    # or template command, and how many positional arguments came after it.
    local i=1 w verb='' sub='' npos=0 dashdash='' first_pos=''
    while [ $i -lt "$COMP_CWORD" ]; do
        w=${COMP_WORDS[i]}
        if [ -n "$dashdash" ]; then
            npos=$((npos + 1))
        elif [ "$w" = -- ]; then
            dashdash=1
        elif _berth_takes_value "$w" "$verb" "$sub"; then
            case $w in
            --root) _berth_root=${COMP_WORDS[i + 1]} ;;
            --data-dir) _berth_data_dir=${COMP_WORDS[i + 1]} ;;
            esac
            i=$((i + 1))
        elif [[ $w == -* ]]; then
            :
        elif [ -z "$verb" ]; then
            verb=$w
        elif [ -z "$sub" ] && { [ "$verb" = vps ] || [ "$verb" = template ]; }; then
            sub=$w
        else
            [ "$npos" -eq 0 ] && first_pos=$w
            npos=$((npos + 1))
        fi
        i=$((i + 1))
    done

    if _berth_takes_value "$prev" "$verb" "$sub" && [ -z "$dashdash" ]; then
        _berth_value "$prev" "$cur"
        return 0
    fi
    # After `--` (vps exec NAME -- CMD): the guest's command, nothing to offer.
    [ -n "$dashdash" ] && return 0

    if [ -z "$verb" ]; then
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$_berth_global_opts" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$_berth_verbs" -- "$cur"))
        fi
        return 0
    fi

    case $verb in
    vps)
        if [ -z "$sub" ]; then
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "--json --data-dir --help" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$_berth_vps_cmds" -- "$cur"))
            fi
        elif [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$(_berth_vps_opts "$sub")" -- "$cur"))
        elif [ "$sub" = list ]; then
            :
        elif [ "$sub" = snapshot-restore ] || [ "$sub" = snapshot-delete ] || [ "$sub" = snapshot ] ||
            [ "$sub" = snapshot-list ]; then
            # NAME, then SNAP (a new one for snapshot: nothing to offer).
            if [ "$npos" -eq 0 ]; then
                COMPREPLY=($(compgen -W "$(_berth_vps_names)" -- "$cur"))
            elif [ "$npos" -eq 1 ] && [ "$sub" != snapshot ] && [ "$sub" != snapshot-list ]; then
                COMPREPLY=($(compgen -W "$(_berth_vps_snaps "$first_pos")" -- "$cur"))
            fi
        elif [ "$sub" = backup ] || [ "$sub" = restore ] || [ "$sub" = clone ]; then
            # backup NAME FILE, restore FILE, clone SRC DST.
            if [ "$sub" = restore ] || { [ "$sub" = backup ] && [ "$npos" -eq 1 ]; }; then
                COMPREPLY=($(compgen -f -- "$cur"))
            elif [ "$npos" -eq 0 ]; then
                COMPREPLY=($(compgen -W "$(_berth_vps_names)" -- "$cur"))
            fi
        elif [ "$sub" = create ] || [ "$sub" = exec ] || [ "$sub" = enter ] || [ "$sub" = console ] ||
            [ "$sub" = status ] || [ "$sub" = set ] || [ "$sub" = restart ] ||
            [ "$sub" = repair ] || [ "$sub" = migrate ] || [ "$sub" = receive ]; then
            # One NAME (create: a new one, nothing to offer; migrate: then
            # a host, which ssh's completion knows better).
            [ "$npos" -eq 0 ] && [ "$sub" != create ] &&
                COMPREPLY=($(compgen -W "$(_berth_vps_names)" -- "$cur"))
        else
            COMPREPLY=($(compgen -W "$(_berth_vps_names)" -- "$cur")) # start, stop, destroy: NAME...
        fi
        ;;
    template)
        if [ -z "$sub" ]; then
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "--json --data-dir --help" -- "$cur"))
            else
                COMPREPLY=($(compgen -W "$_berth_template_cmds" -- "$cur"))
            fi
        elif [[ $cur == -* ]]; then
            case $sub in
            create) COMPREPLY=($(compgen -W "--busybox --debootstrap --mirror --include --json --data-dir --help" -- "$cur")) ;;
            *) COMPREPLY=($(compgen -W "--json --data-dir --help" -- "$cur")) ;;
            esac
        elif [ "$npos" -eq 0 ]; then
            case $sub in
            info | show | rm | remove) COMPREPLY=($(compgen -W "$(_berth_template_names)" -- "$cur")) ;;
            esac
        elif [ "$sub" = import ] && [ "$npos" -eq 1 ]; then
            COMPREPLY=($(compgen -f -- "$cur"))
        fi
        ;;
    *)
        if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$(_berth_verb_opts "$verb")" -- "$cur"))
        elif [ "$npos" -eq 0 ]; then
            case $verb in
            start | exec | state | kill | delete | pause | resume | update | ps | events | checkpoint)
                COMPREPLY=($(compgen -W "$(_berth_container_ids)" -- "$cur")) ;;
            esac
        elif [ "$verb" = kill ] && [ "$npos" -eq 1 ]; then
            COMPREPLY=($(compgen -W "$(compgen -A signal | sed 's/^SIG//')" -- "$cur"))
        fi
        ;;
    esac
    return 0
}

complete -F _berth berth berth-full
