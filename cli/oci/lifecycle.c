/* SPDX-License-Identifier: GPL-2.0-or-later */
/* create, run, start, kill, delete. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char create_usage[] =
    "usage: berth create [options] CONTAINER_ID\n\n"
    "Creates a container from an OCI bundle; 'berth start' runs its process.\n\n"
    "  --bundle, -b DIR        the bundle (default: current directory)\n"
    "  --pid-file FILE         write the init's pid to FILE\n"
    "  --console-socket PATH   unix socket that receives the pty master (process.terminal)\n"
    "  --no-pivot              MS_MOVE + chroot instead of pivot_root (initramfs roots)\n"
    "  --no-new-keyring        keep the caller's session keyring\n"
    "  --preserve-fds N        pass N extra fds (3 .. 3+N-1) to the container\n";

static const char run_usage[] = "usage: berth run [options] CONTAINER_ID\n\n"
                                "Creates and starts a container; waits for it and exits with its exit code\n"
                                "(128+N when killed by signal N), then deletes it.\n\n"
                                "  --bundle, -b DIR        the bundle (default: current directory)\n"
                                "  --detach, -d            do not wait: leave the container running\n"
                                "  --keep                  do not delete the container after it exits\n"
                                "  --pid-file FILE         write the init's pid to FILE\n"
                                "  --console-socket PATH   unix socket that receives the pty master\n"
                                "  --no-pivot, --no-new-keyring, --preserve-fds N   as for create\n";

enum {
        OPT_PID_FILE = 256,
        OPT_CONSOLE,
        OPT_NO_PIVOT,
        OPT_NO_KEYRING,
        OPT_PRESERVE,
        OPT_NO_SUBREAPER,
        OPT_KEEP
};

static int parse_create_opts(struct cli *cli, int argc, char **argv, struct berth_create_opts *o, bool run)
{
        static const struct option opts[] = {
            {"bundle", required_argument, NULL, 'b'},
            {"pid-file", required_argument, NULL, OPT_PID_FILE},
            {"console-socket", required_argument, NULL, OPT_CONSOLE},
            {"no-pivot", no_argument, NULL, OPT_NO_PIVOT},
            {"no-new-keyring", no_argument, NULL, OPT_NO_KEYRING},
            {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
            {"detach", no_argument, NULL, 'd'},
            {"no-subreaper", no_argument, NULL, OPT_NO_SUBREAPER},
            {"keep", no_argument, NULL, OPT_KEEP},
            {0},
        };
        int c;
        cli_reorder_args(argc, argv, run ? "+b:d" : "+b:", opts);
        optind = 0;
        while ((c = getopt_long(argc, argv, run ? "+b:d" : "+b:", opts, NULL)) != -1) {
                char *end;
                switch (c) {
                case 'b':
                        o->bundle = optarg;
                        break;
                case 'd':
                        o->detach = true;
                        break;
                case OPT_PID_FILE:
                        o->pid_file = optarg;
                        break;
                case OPT_CONSOLE:
                        o->console_socket = optarg;
                        break;
                case OPT_NO_PIVOT:
                        o->no_pivot = true;
                        break;
                case OPT_NO_KEYRING:
                        o->no_new_keyring = true;
                        break;
                case OPT_NO_SUBREAPER:
                        break;
                case OPT_KEEP:
                        if (!run) {
                                cli_errorf(cli, EINVAL, "create: --keep is an option of run");
                                return -1;
                        }
                        o->keep = true;
                        break;
                case OPT_PRESERVE:
                        o->preserve_fds = (unsigned)strtoul(optarg, &end, 10);
                        if (*end || !*optarg) {
                                cli_errorf(cli, EINVAL, "--preserve-fds: not a number: %s", optarg);
                                return -1;
                        }
                        break;
                default:
                        return -1;
                }
        }
        if (!cli_expect_args(cli, argv[0], argc - optind, 1, 1))
                return -1;
        o->id = argv[optind];
        return 0;
}

int cmd_create(struct cli *cli, int argc, char **argv)
{
        if (cli_wants_help(argc, argv, create_usage))
                return 0;
        struct berth_create_opts o = {0};
        if (parse_create_opts(cli, argc, argv, &o, false) < 0)
                return 1;
        struct berth_err err = {0};
        if (berth_container_create(&cli->ctx, &o, &err) < 0) {
                cli_error(cli, &err);
                return 1;
        }
        return 0;
}

int cmd_run(struct cli *cli, int argc, char **argv)
{
        if (cli_wants_help(argc, argv, run_usage))
                return 0;
        struct berth_create_opts o = {0};
        if (parse_create_opts(cli, argc, argv, &o, true) < 0)
                return 1;
        struct berth_err err = {0};
        int code = 0;
        if (berth_container_run(&cli->ctx, &o, &code, &err) < 0) {
                cli_error(cli, &err);
                return 1;
        }
        return code;
}

int cmd_start(struct cli *cli, int argc, char **argv)
{
        return cli_id_verb(cli, argc, argv,
                           "usage: berth start CONTAINER_ID\n\nRuns the process of a created container.\n",
                           berth_container_start);
}

static const char kill_usage[] = "usage: berth kill [--all|-a] CONTAINER_ID [SIGNAL]\n\n"
                                 "Sends SIGNAL (default SIGTERM; a name with or without SIG, or a number)\n"
                                 "to the container's init, or with --all to every process in it.\n"
                                 "Signal 0 only tests that the init is alive. A stopped container is\n"
                                 "refused (\"container not running\"), except with --all, which signals\n"
                                 "what is left in its cgroup and succeeds when nothing is (as runc).\n";

int cmd_kill(struct cli *cli, int argc, char **argv)
{
        if (cli_wants_help(argc, argv, kill_usage))
                return 0;
        static const struct option opts[] = {{"all", no_argument, NULL, 'a'}, {0}};
        bool all = false;
        int c;
        cli_reorder_args(argc, argv, "+a", opts);
        optind = 0;
        while ((c = getopt_long(argc, argv, "+a", opts, NULL)) != -1) {
                if (c != 'a')
                        return 1;
                all = true;
        }
        if (!cli_expect_args(cli, "kill", argc - optind, 1, 2))
                return 1;
        const char *sigstr = argc - optind == 2 ? argv[optind + 1] : "SIGTERM";
        /* Signal 0 sends nothing and tests that the init is alive. */
        int sig = !strcmp(sigstr, "0") ? 0 : berth_signal_parse(sigstr);
        if (sig < 0) {
                cli_errorf(cli, EINVAL, "kill: unknown signal \"%s\"", sigstr);
                return 1;
        }
        struct berth_err err = {0};
        if (berth_container_kill(&cli->ctx, argv[optind], sig, all, &err) < 0) {
                cli_error(cli, &err);
                return 1;
        }
        return 0;
}

static const char delete_usage[] = "usage: berth delete [--force|-f] CONTAINER_ID\n\n"
                                   "Deletes a stopped container; --force kills a live one first\n"
                                   "(and succeeds for an unknown id).\n";

int cmd_delete(struct cli *cli, int argc, char **argv)
{
        if (cli_wants_help(argc, argv, delete_usage))
                return 0;
        static const struct option opts[] = {{"force", no_argument, NULL, 'f'}, {0}};
        bool force = false;
        int c;
        cli_reorder_args(argc, argv, "+f", opts);
        optind = 0;
        while ((c = getopt_long(argc, argv, "+f", opts, NULL)) != -1) {
                if (c != 'f')
                        return 1;
                force = true;
        }
        if (!cli_expect_args(cli, "delete", argc - optind, 1, 1))
                return 1;
        struct berth_err err = {0};
        if (berth_container_delete(&cli->ctx, argv[optind], force, &err) < 0) {
                cli_error(cli, &err);
                return 1;
        }
        return 0;
}
