/* SPDX-License-Identifier: GPL-2.0-or-later */
/* checkpoint and restore (through criu), with runc's flags. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/checkpoint.h"
#include "cli/cli.h"

static const char checkpoint_usage[] =
    "usage: berth checkpoint [options] CONTAINER_ID\n\n"
    "Dumps a running container with criu; it is removed afterwards unless\n"
    "--leave-running or --pre-dump is given.\n\n"
    "  --image-path DIR          criu image directory (default: ./checkpoint)\n"
    "  --work-path DIR           criu logs and work files (default: the image directory)\n"
    "  --parent-path DIR         previous (pre-dump) images: an existing directory, given\n"
    "                            relative to the image directory\n"
    "  --leave-running           keep the container running after the dump\n"
    "  --pre-dump                dump memory only, for a later iterative dump\n"
    "  --tcp-established         allow open TCP connections\n"
    "  --ext-unix-sk             allow external unix sockets\n"
    "  --shell-job               allow shell jobs\n"
    "  --file-locks              dump file locks\n"
    "  --manage-cgroups-mode M   soft, full, strict or ignore\n"
    "  --criu PATH               the criu program (default: criu from PATH)\n";

static const char restore_usage[] =
    "usage: berth restore [options] CONTAINER_ID\n\n"
    "Restores a checkpointed container from its criu images and, unless\n"
    "--detach is given, waits for it and exits with its exit code.\n\n"
    "  --image-path DIR          criu image directory (default: ./checkpoint)\n"
    "  --work-path DIR           criu logs and work files (default: the image directory)\n"
    "  --bundle, -b DIR          the bundle (default: current directory)\n"
    "  --detach, -d              do not wait for the container\n"
    "  --pid-file FILE           write the restored init's pid to FILE\n"
    "  --console-socket PATH     a terminal's new master goes there\n"
    "  --tcp-established, --ext-unix-sk, --shell-job, --file-locks,\n"
    "  --manage-cgroups-mode M (default ignore), --criu PATH   as for checkpoint\n";

enum {
        OPT_IMAGE = 256,
        OPT_WORK,
        OPT_PARENT,
        OPT_LEAVE,
        OPT_PRE,
        OPT_TCP,
        OPT_UNIX,
        OPT_SHELL,
        OPT_LOCKS,
        OPT_CGMODE,
        OPT_CRIU,
        OPT_PID_FILE,
        OPT_CONSOLE,
        OPT_IGNORED,
        OPT_IGNORED_ARG,
};

static const struct option all_opts[] = {
    {"image-path", required_argument, NULL, OPT_IMAGE},
    {"work-path", required_argument, NULL, OPT_WORK},
    {"parent-path", required_argument, NULL, OPT_PARENT},
    {"leave-running", no_argument, NULL, OPT_LEAVE},
    {"pre-dump", no_argument, NULL, OPT_PRE},
    {"tcp-established", no_argument, NULL, OPT_TCP},
    {"ext-unix-sk", no_argument, NULL, OPT_UNIX},
    {"shell-job", no_argument, NULL, OPT_SHELL},
    {"file-locks", no_argument, NULL, OPT_LOCKS},
    {"manage-cgroups-mode", required_argument, NULL, OPT_CGMODE},
    {"criu", required_argument, NULL, OPT_CRIU},
    {"bundle", required_argument, NULL, 'b'},
    {"detach", no_argument, NULL, 'd'},
    {"pid-file", required_argument, NULL, OPT_PID_FILE},
    {"console-socket", required_argument, NULL, OPT_CONSOLE},
    /* runc flags with nothing to do here */
    {"no-subreaper", no_argument, NULL, OPT_IGNORED},
    {"no-pivot", no_argument, NULL, OPT_IGNORED},
    {"auto-dedup", no_argument, NULL, OPT_IGNORED},
    {"lazy-pages", no_argument, NULL, OPT_IGNORED},
    {"page-server", required_argument, NULL, OPT_IGNORED_ARG},
    {"empty-ns", required_argument, NULL, OPT_IGNORED_ARG},
    {"status-fd", required_argument, NULL, OPT_IGNORED_ARG},
    {"lsm-profile", required_argument, NULL, OPT_IGNORED_ARG},
    {"lsm-mount-context", required_argument, NULL, OPT_IGNORED_ARG},
    {0},
};

static bool valid_cg_mode(const char *m)
{
        return !strcmp(m, "soft") || !strcmp(m, "full") || !strcmp(m, "strict") || !strcmp(m, "ignore");
}

static int apply_common(struct cli *cli, int c, struct berth_checkpoint_opts *o)
{
        switch (c) {
        case OPT_IMAGE:
                o->image_path = optarg;
                return 0;
        case OPT_WORK:
                o->work_path = optarg;
                return 0;
        case OPT_TCP:
                o->tcp_established = true;
                return 0;
        case OPT_UNIX:
                o->ext_unix_sk = true;
                return 0;
        case OPT_SHELL:
                o->shell_job = true;
                return 0;
        case OPT_LOCKS:
                o->file_locks = true;
                return 0;
        case OPT_CGMODE:
                if (!valid_cg_mode(optarg)) {
                        cli_errorf(cli, EINVAL,
                                   "--manage-cgroups-mode: \"%s\": expected soft, full, strict or ignore",
                                   optarg);
                        return -1;
                }
                o->manage_cgroups_mode = optarg;
                return 0;
        case OPT_CRIU:
                o->criu = optarg;
                return 0;
        case OPT_IGNORED:
        case OPT_IGNORED_ARG:
                return 0;
        }
        return 1; /* not a common option */
}

static int apply_checkpoint_opt(struct cli *cli, int c, struct berth_checkpoint_opts *o)
{
        int r = apply_common(cli, c, o);
        if (r <= 0)
                return r;
        switch (c) {
        case OPT_PARENT:
                o->parent_path = optarg;
                return 0;
        case OPT_LEAVE:
                o->leave_running = true;
                return 0;
        case OPT_PRE:
                o->pre_dump = true;
                return 0;
        }
        cli_errorf(cli, EINVAL, "checkpoint: unknown option");
        return -1;
}

static int apply_restore_opt(struct cli *cli, int c, struct berth_restore_opts *o)
{
        int r = apply_common(cli, c, &o->c);
        if (r <= 0)
                return r;
        switch (c) {
        case 'b':
                o->bundle = optarg;
                return 0;
        case 'd':
                o->detach = true;
                return 0;
        case OPT_PID_FILE:
                o->pid_file = optarg;
                return 0;
        case OPT_CONSOLE:
                o->console_socket = optarg;
                return 0;
        }
        cli_errorf(cli, EINVAL, "restore: unknown option");
        return -1;
}

/* runc's default image directory: ./checkpoint. */
static const char *default_image(char *buf, size_t len)
{
        if (!getcwd(buf, len - sizeof("/checkpoint")))
                return "checkpoint";
        strcat(buf, "/checkpoint");
        return buf;
}

/* runc's rule: the parent images are named relative to the image
 * directory (criu resolves them there) and must be an existing directory;
 * criu itself would fail late, after freezing the container. */
static int check_parent_path(struct cli *cli, const struct berth_checkpoint_opts *o)
{
        if (!o->parent_path)
                return 0;
        if (o->parent_path[0] == '/') {
                cli_errorf(cli, EINVAL,
                           "checkpoint: --parent-path must be relative to the image directory: %s",
                           o->parent_path);
                return -1;
        }
        char path[PATH_MAX];
        struct stat sb;
        int n = snprintf(path, sizeof(path), "%s/%s", o->image_path, o->parent_path);
        int e = n >= (int)sizeof(path) ? ENAMETOOLONG : stat(path, &sb) < 0 ? errno : 0;
        if (!e && !S_ISDIR(sb.st_mode))
                e = ENOTDIR;
        if (e) {
                cli_errorf(cli, e, "checkpoint: invalid --parent-path: %s: %s", path, strerror(e));
                return -1;
        }
        return 0;
}

int cmd_checkpoint(struct cli *cli, int argc, char **argv)
{
        if (cli_wants_help(argc, argv, checkpoint_usage))
                return 0;
        struct berth_checkpoint_opts o = {0};
        int c;
        cli_reorder_args(argc, argv, "+", all_opts);
        optind = 0;
        while ((c = getopt_long(argc, argv, "+", all_opts, NULL)) != -1)
                if (c == '?' || c == 'b' || c == 'd' || apply_checkpoint_opt(cli, c, &o) < 0)
                        return 1;
        if (!cli_expect_args(cli, "checkpoint", argc - optind, 1, 1))
                return 1;
        o.id = argv[optind];
        char image[PATH_MAX];
        if (!o.image_path)
                o.image_path = default_image(image, sizeof(image));
        if (check_parent_path(cli, &o) < 0)
                return 1;
        struct berth_err err = {0};
        if (berth_container_checkpoint(&cli->ctx, &o, &err) < 0) {
                cli_error(cli, &err);
                return 1;
        }
        return 0;
}

int cmd_restore(struct cli *cli, int argc, char **argv)
{
        if (cli_wants_help(argc, argv, restore_usage))
                return 0;
        struct berth_restore_opts o = {0};
        int c;
        cli_reorder_args(argc, argv, "+b:d", all_opts);
        optind = 0;
        while ((c = getopt_long(argc, argv, "+b:d", all_opts, NULL)) != -1)
                if (c == '?' || apply_restore_opt(cli, c, &o) < 0)
                        return 1;
        if (!cli_expect_args(cli, "restore", argc - optind, 1, 1))
                return 1;
        o.c.id = argv[optind];
        char image[PATH_MAX];
        if (!o.c.image_path)
                o.c.image_path = default_image(image, sizeof(image));
        struct berth_err err = {0};
        int code = 0;
        if (berth_container_restore(&cli->ctx, &o, &code, &err) < 0) {
                cli_error(cli, &err);
                return 1;
        }
        return code;
}
