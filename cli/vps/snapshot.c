// SPDX-License-Identifier: GPL-2.0-or-later
/* berth vps snapshot, snapshot-list, snapshot-restore, snapshot-delete:
 * parsing and output of berth/vps_snapshot.h (runtime/vps/snapshot*.c). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/cleanup.h"
#include "berth/vps_snapshot.h"
#include "cli/vps/vps_cli.h"

static const char snapshot_usage[] =
    "usage: berth vps snapshot NAME SNAP [--json]\n\n"
    "Takes snapshot SNAP of the VPS. Stopped: its upper layer becomes a read-only\n"
    "layer (constant time). Running: its cgroup is frozen while its upper layer\n"
    "(what it wrote since that was last emptied) is copied, so the snapshot\n"
    "is of one instant. SNAP: letters, digits, '.', '_', '-' (at most 64).\n";

static const char list_usage[] = "usage: berth vps snapshot-list NAME [--json]\n\n"
                                 "The VPS's snapshots, oldest first, and the layers each stands on.\n";

static const char restore_usage[] =
    "usage: berth vps snapshot-restore NAME SNAP [--force] [--timeout S] [--json]\n\n"
    "Rolls the VPS back to SNAP: what it wrote since is gone. A running VPS is\n"
    "refused unless --force, which stops it (within S seconds, default 30) and\n"
    "starts it again.\n";

static const char delete_usage[] = "usage: berth vps snapshot-delete NAME SNAP [--json]\n\n"
                                   "Deletes SNAP. Its layers stay while a later snapshot or the VPS itself\n"
                                   "stands on them, and go with the last one that does.\n";

/* Options (--force, --timeout where force_ok), then exactly n names. */
static int parse(struct vps_cli *vc, int argc, char **argv, int n, bool force_ok, bool *force, int *timeout)
{
        static const struct option opts[] = {{"force", no_argument, NULL, 'f'},
                                             {"timeout", required_argument, NULL, 'T'},
                                             VPS_COMMON_OPTS,
                                             {0}};
        int c;
        char *end;
        while ((c = getopt_long(argc, argv, force_ok ? "f" : "", opts, NULL)) != -1) {
                if (force_ok && c == 'f')
                        *force = true;
                else if (force_ok && c == 'T' &&
                         ((*timeout = (int)strtol(optarg, &end, 10)) < 0 || *end || !*optarg))
                        return vps_failf(vc, EINVAL, "--timeout: seconds, not \"%s\"", optarg);
                else if ((c != 'T' || !force_ok) && !vps_common_opt(vc, c))
                        return vps_failf(vc, EINVAL, "%s: unknown option (see --help)", vc->verb);
        }
        if (argc - optind != n)
                return vps_failf(vc, EINVAL, "%s: expects %s", vc->verb, n == 1 ? "NAME" : "NAME SNAP");
        return 0;
}

static int done(struct vps_cli *vc, const char *name, const char *snap, const char *what)
{
        if (vc->json)
                vps_print_json(json_pack("{s:s, s:s, s:s}", "name", name, "snapshot", snap, "state", what));
        else
                printf("%s %s %s\n", name, snap, what);
        return 0;
}

int vps_cmd_snapshot(struct vps_cli *vc, int argc, char **argv)
{
        if (cli_wants_help(argc, argv, snapshot_usage))
                return 0;
        int code = parse(vc, argc, argv, 2, false, NULL, NULL);
        if (code)
                return code;
        struct berth_err err = {0};
        if (berth_vps_snapshot_create(&vc->v, argv[optind], argv[optind + 1], &err) < 0)
                return vps_fail(vc, &err);
        return done(vc, argv[optind], argv[optind + 1], "taken");
}

int vps_cmd_snapshot_list(struct vps_cli *vc, int argc, char **argv)
{
        if (cli_wants_help(argc, argv, list_usage))
                return 0;
        int code = parse(vc, argc, argv, 1, false, NULL, NULL);
        if (code)
                return code;
        struct berth_err err = {0};
        _cleanup_free_ struct berth_vps_snapshot_info *a = NULL;
        size_t n = 0, depth = 0;
        if (berth_vps_snapshot_list(&vc->v, argv[optind], &a, &n, &depth, &err) < 0)
                return vps_fail(vc, &err);
        if (vc->json) {
                json_t *arr = json_array();
                for (size_t i = 0; i < n; i++)
                        json_array_append_new(arr, json_pack("{s:s, s:s, s:I, s:b}", "name", a[i].name,
                                                             "created", a[i].created, "layers",
                                                             (json_int_t)a[i].layers, "live", a[i].live));
                vps_print_json(json_pack("{s:s, s:o, s:I}", "name", argv[optind], "snapshots", arr, "layers",
                                         (json_int_t)depth));
                return 0;
        }
        printf("%-24s %-20s %-7s %s\n", "SNAPSHOT", "CREATED", "LAYERS", "TAKEN");
        for (size_t i = 0; i < n; i++)
                printf("%-24s %-20s %-7zu %s\n", a[i].name, a[i].created, a[i].layers,
                       a[i].live ? "running" : "stopped");
        return 0;
}

int vps_cmd_snapshot_restore(struct vps_cli *vc, int argc, char **argv)
{
        if (cli_wants_help(argc, argv, restore_usage))
                return 0;
        bool force = false;
        int timeout = BERTH_VPS_DEFAULT_TIMEOUT;
        int code = parse(vc, argc, argv, 2, true, &force, &timeout);
        if (code)
                return code;
        struct berth_err err = {0};
        if (berth_vps_snapshot_restore(&vc->v, argv[optind], argv[optind + 1], force, timeout, &err) < 0)
                return vps_fail(vc, &err);
        return done(vc, argv[optind], argv[optind + 1], "restored");
}

int vps_cmd_snapshot_delete(struct vps_cli *vc, int argc, char **argv)
{
        if (cli_wants_help(argc, argv, delete_usage))
                return 0;
        int code = parse(vc, argc, argv, 2, false, NULL, NULL);
        if (code)
                return code;
        struct berth_err err = {0};
        if (berth_vps_snapshot_delete(&vc->v, argv[optind], argv[optind + 1], &err) < 0)
                return vps_fail(vc, &err);
        return done(vc, argv[optind], argv[optind + 1], "deleted");
}
