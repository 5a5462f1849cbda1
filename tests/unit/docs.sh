#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The man pages and the bash completion against the real command line:
# every verb and `vps`/`template` command berth's --help lists has a
# section in its man page and is completed; the pages build with scdoc and
# render with man; completion works for verbs, commands, options, option
# values, container ids, VPS and template names.
#
#   tests/unit/docs.sh BERTH SOURCE_DIR
# Exit 77 (skipped) without scdoc.
set -euo pipefail
berth=$1
src=$2
command -v scdoc >/dev/null || { echo "SKIP: scdoc is not installed (apt-get install scdoc)"; exit 77; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

# ---- man pages ----
for page in berth berth-vps berth-template; do
    scdoc <"$src/man/$page.8.scd" >"$tmp/$page.8" || { bad "scdoc $page.8.scd"; continue; }
    if command -v man >/dev/null; then
        MANWIDTH=80 man -l "$tmp/$page.8" >"$tmp/$page.txt" 2>"$tmp/$page.err" || bad "man -l $page.8"
        [ -s "$tmp/$page.txt" ] || bad "$page.8 renders empty"
        grep -q "^NAME" "$tmp/$page.txt" || bad "$page.8 has no NAME section"
    fi
done

# The commands --help lists: "  NAME   summary" lines after "Commands:".
help_cmds() { sed -n '/^Commands:/,/^$/p' | sed -n 's/^  \([a-z][a-z-]*\) .*/\1/p'; }
verbs=$("$berth" --help | help_cmds)
vps_cmds=$("$berth" vps --help | help_cmds)
tmpl_cmds=$("$berth" template --help | help_cmds | sort -u)
[ "$(echo "$verbs" | wc -l)" -ge 15 ] || bad "berth --help lists too few verbs: $verbs"
[ "$(echo "$vps_cmds" | wc -l)" -ge 10 ] || bad "berth vps --help lists too few commands: $vps_cmds"

# A section "## VERB ..." (pause and resume share one: "## pause ID, resume ID").
has_section() { grep -Eq "^## ($2 |$2\$|.*, $2 )" "$src/man/$1.8.scd"; }
for v in $verbs; do has_section berth "$v" || bad "berth.8 has no section for verb '$v'"; done
for v in $vps_cmds; do has_section berth-vps "$v" || bad "berth-vps.8 has no section for 'vps $v'"; done
for v in $tmpl_cmds; do has_section berth-template "$v" || bad "berth-template.8 has no section for 'template $v'"; done

# Every global long option of --help is in berth.8.
for o in $("$berth" --help | sed -n 's/^  \(--[a-z-]*\).*/\1/p'); do
    grep -q -- "\*$o\*" "$src/man/berth.8.scd" || bad "berth.8 does not document $o"
done

# Every option a command's --help names (outside quoted examples) is in
# the man page (as *--opt*, or in the command's heading).
help_opts() { "$berth" "$@" --help | sed "s/'[^']*'//g" | grep -oE -- '--[a-z][a-z0-9-]+' | sort -u; }
in_page() { grep -qE -- "(\*$2\*|^## .*$2)" "$src/man/$1.8.scd"; }
oci_verbs=$(grep -vxE 'vps|template' <<<"$verbs")
for v in $oci_verbs; do
    for o in $(help_opts "$v"); do in_page berth "$o" || bad "berth.8 does not document $v $o"; done
done
for c in $vps_cmds; do
    for o in $(help_opts vps "$c"); do in_page berth-vps "$o" || bad "berth-vps.8 does not document vps $c $o"; done
done
for c in $tmpl_cmds; do
    for o in $(help_opts template "$c"); do
        in_page berth-template "$o" || bad "berth-template.8 does not document template $c $o"
    done
done

# ---- bash completion ----
# shellcheck source=/dev/null
. "$src/completion/berth.bash"
# complete WORDS...: COMPREPLY for the last word (the one being typed).
complete_words() {
    COMP_WORDS=("$@")
    COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"
    COMPREPLY=()
    _berth
    printf '%s\n' "${COMPREPLY[@]}"
}
expect() { # expect WANT WORDS...
    local want=$1 got
    shift
    got=$(complete_words "$@")
    grep -qx -- "$want" <<<"$got" || bad "completing '$*': want '$want', got: $(tr '\n' ' ' <<<"$got")"
}
reject() { # reject UNWANTED WORDS...
    local no=$1 got
    shift
    got=$(complete_words "$@")
    ! grep -qx -- "$no" <<<"$got" || bad "completing '$*': '$no' offered"
}

for v in $verbs; do
    expect "$v" "$berth" ""
    grep -qw -- "$v" <<<"$_berth_verbs" || bad "completion lacks verb '$v'"
done
for v in $vps_cmds; do
    expect "$v" "$berth" vps ""
    grep -qw -- "$v" <<<"$_berth_vps_cmds" || bad "completion lacks 'vps $v'"
done
for v in $tmpl_cmds; do grep -qw -- "$v" <<<"$_berth_template_cmds" || bad "completion lacks 'template $v'"; done
# ... and every option of their --help is offered.
for v in $oci_verbs; do
    for o in $(help_opts "$v"); do
        grep -qw -- "$o" <<<"$(_berth_verb_opts "$v")" || bad "completion lacks $v $o"
    done
done
for c in $vps_cmds; do
    for o in $(help_opts vps "$c"); do
        grep -qw -- "$o" <<<"$(_berth_vps_opts "$c")" || bad "completion lacks vps $c $o"
    done
done
expect vps "$berth" v
expect start "$berth" vps st
expect stop "$berth" vps st
expect status "$berth" --root /x --debug vps --json st
expect --root "$berth" --ro
expect --bundle "$berth" create --b
expect --force "$berth" delete --f
expect --ip-add "$berth" vps set web1 --ip
expect --timeout "$berth" vps stop --t
expect routed "$berth" vps create web1 --net r
expect json "$berth" --log-format j
expect --debootstrap "$berth" template create t1 --deb
reject create "$berth" exec -t c1 ""

# Names: VPS through `berth vps list --json`, templates from the data dir,
# container ids from the state dir when `berth list` cannot run.
mkdir -p "$tmp/data/vps/docs-v1" "$tmp/data/templates/docs-t1" "$tmp/state/docs-c1"
expect docs-v1 "$berth" vps --data-dir "$tmp/data" start d
expect docs-v1 "$berth" vps status --data-dir "$tmp/data" d
BERTH_DATA=$tmp/data expect docs-v1 "$berth" vps exec ""
reject docs-v1 "$berth" vps --data-dir "$tmp/data" exec docs-v1 ""
expect docs-t1 "$berth" template --data-dir "$tmp/data" rm d
expect docs-t1 "$berth" vps create --data-dir "$tmp/data" x --template d
expect docs-c1 "$tmp/no-such-berth" --root "$tmp/state" kill d
expect KILL "$tmp/no-such-berth" --root "$tmp/state" kill docs-c1 K

# The example systemd unit runs berth where the README installs it.
prefix=$(sed -n 's|^cmake --install build *# *\(/[^:]*\): sbin/berth,.*|\1|p' "$src/README.md")
[ -n "$prefix" ] || bad "README: no 'cmake --install build  # PREFIX: sbin/berth' line"
unit=$src/examples/vps/berth-vps-autostart.service
n=0
while read -r exe; do
    n=$((n + 1))
    [ "$exe" = "$prefix/sbin/berth" ] || bad "$unit runs $exe, the README installs $prefix/sbin/berth"
done < <(sed -n 's/^Exec[A-Za-z]*=\([^ ]*\).*/\1/p' "$unit")
[ $n -gt 0 ] || bad "$unit has no Exec line"

[ $fail -eq 0 ] && echo "ok: man pages and completion match berth --help"
exit $fail
