// SPDX-License-Identifier: GPL-2.0-or-later
/* berth vps repair: the output of berth_vps_repair (runtime/vps/repair.c).
 * Text: one warning line per item on stderr, a summary on stdout. JSON: a
 * document with the items and the counts. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/vps/vps_cli.h"

static const char repair_usage[] =
    "usage: berth vps repair [NAME | --all] [--dry-run] [--json]\n\n"
    "Finds and fixes what a crash left inconsistent, without touching a running\n"
    "VPS: half-created or half-destroyed VPS, containers of VPS that do not run\n"
    "(stopped, never started, damaged state), their leaked cgroups, mounts, host\n"
    "ends and filter entries, template markers of no VPS or missing ones.\n"
    "Each item is a warning naming what was repaired. 'start --all --autostart'\n"
    "runs the same repair first.\n\n"
    "  --all       every VPS of the data directory (the default without NAME)\n"
    "  --dry-run   only say what would be done\n"
    "Exit 0 when everything is consistent or was repaired; 1 when something\n"
    "is left (the line says which command deals with it).\n";

struct collect {
        struct vps_cli *vc;
        json_t *items;
};

static void on_item(void *arg, const struct berth_vps_repair_item *it)
{
        struct collect *c = arg;
        const char *state = berth_vps_repair_state_name(it->state);
        if (c->vc->json) {
                json_array_append_new(c->items,
                                      json_pack("{s:s, s:s, s:s, s:s}", "vps", it->vps ? it->vps : "", "kind",
                                                it->kind, "state", state, "what", it->what));
                return;
        }
        berth_warn(c->vc->v.ctx, "VPS %s: %s: %s", it->vps ? it->vps : "-", state, it->what);
}

int vps_cmd_repair(struct vps_cli *vc, int argc, char **argv)
{
        static const struct option opts[] = {
            {"all", no_argument, NULL, 'a'}, {"dry-run", no_argument, NULL, 'n'}, VPS_COMMON_OPTS, {0}};
        if (cli_wants_help(argc, argv, repair_usage))
                return 0;
        bool all = false;
        struct berth_vps_repair_opts o = {0};
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
                if (c == 'a')
                        all = true;
                else if (c == 'n')
                        o.dry_run = true;
                else if (!vps_common_opt(vc, c))
                        return vps_failf(vc, EINVAL, "repair: unknown option (see --help)");
        if (argc - optind > 1 || (all && argc - optind == 1))
                return vps_failf(vc, EINVAL, "repair: expects one NAME or --all");
        o.name = argc - optind == 1 ? argv[optind] : NULL;
        struct collect col = {.vc = vc, .items = json_array()};
        o.report = on_item;
        o.arg = &col;
        struct berth_vps_repair_counts n;
        struct berth_err err = {0};
        if (berth_vps_repair(&vc->v, &o, &n, &err) < 0) {
                json_decref(col.items);
                return vps_fail(vc, &err);
        }
        if (vc->json)
                vps_print_json(json_pack("{s:b, s:o, s:I, s:I, s:I, s:b}", "dry_run", o.dry_run, "items",
                                         col.items, "found", (json_int_t)n.found, "left", (json_int_t)n.left,
                                         "skipped", (json_int_t)n.skipped, "consistent",
                                         n.left == 0 && (!o.dry_run || n.found == 0)));
        else if (n.found == 0)
                printf("consistent%s\n", n.skipped ? " (busy VPS skipped)" : "");
        else
                printf("%zu %s, %zu left\n", n.found - n.left, o.dry_run ? "to repair" : "repaired", n.left);
        if (!vc->json)
                json_decref(col.items);
        return n.left ? 1 : 0;
}
