/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth: global options, then one verb. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/self_exe.h"
#include "berth/systemd.h"
#include "cli/cli.h"

#define BERTH_SPEC_VERSION "1.2.0"

static void usage(FILE *out, const char *prog)
{
        fprintf(out,
                "usage: %s [global options] COMMAND [options] [arguments]\n\n"
                "berth: a daemonless OCI container runtime and VPS manager\n\n"
                "Global options:\n"
                "  --root DIR            state directory (default /run/berth)\n"
                "  --log FILE            also write errors to FILE\n"
                "  --log-format FORMAT   text (default) or json\n"
                "  --debug               verbose output\n"
                "  --systemd-cgroup      cgroups through systemd: a transient scope per\n"
                "                        container, cgroupsPath \"slice:prefix:name\"\n"
                "  --cgroup-manager M    cgroupfs (default), systemd or disabled\n"
                "  --version, -v         print the version\n"
                "  --help, -h            this text\n\nCommands:\n",
                prog);
        for (const struct cli_verb *v = cli_verbs(); v->name; v++)
                if (v->summary)
                        fprintf(out, "  %-12s %s\n", v->name, v->summary);
        fprintf(out, "\nRun '%s COMMAND --help' for a command's options.\n", prog);
}

/* The systemd driver talks to systemd as the host's init: refuse at once,
 * before anything is made, where it is not. */
static int use_systemd(struct cli *cli)
{
        if (!berth_systemd_booted()) {
                cli_errorf(cli, ENOTSUP,
                           "--systemd-cgroup: systemd is not running on this host "
                           "(no /run/systemd/system); use the default cgroupfs driver");
                return -1;
        }
        cli->ctx.systemd_cgroup = true;
        return 0;
}

static int parse_cgroup_manager(struct cli *cli, const char *m)
{
        if (!strcmp(m, "disabled"))
                cli->ctx.cgroup_disabled = true;
        else if (!strcmp(m, "systemd"))
                return use_systemd(cli);
        else if (strcmp(m, "cgroupfs")) {
                cli_errorf(cli, EINVAL,
                           "--cgroup-manager: unknown manager \"%s\" (cgroupfs, systemd, disabled)", m);
                return -1;
        }
        return 0;
}

enum { OPT_ROOT = 256, OPT_LOG, OPT_LOG_FORMAT, OPT_DEBUG, OPT_SYSTEMD, OPT_CGMGR, OPT_CRIU, OPT_ROOTLESS };

static int parse_globals(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {
            {"root", required_argument, NULL, OPT_ROOT},
            {"log", required_argument, NULL, OPT_LOG},
            {"log-format", required_argument, NULL, OPT_LOG_FORMAT},
            {"debug", no_argument, NULL, OPT_DEBUG},
            {"systemd-cgroup", no_argument, NULL, OPT_SYSTEMD},
            {"cgroup-manager", required_argument, NULL, OPT_CGMGR},
            {"criu", required_argument, NULL, OPT_CRIU},
            {"rootless", required_argument, NULL, OPT_ROOTLESS},
            {"version", no_argument, NULL, 'v'},
            {"help", no_argument, NULL, 'h'},
            {0},
        };
        int c;
        bool systemd = false;
        while ((c = getopt_long(argc, argv, "+vh", opts, NULL)) != -1) {
                switch (c) {
                case OPT_ROOT:
                        cli->ctx.state_root = optarg;
                        break;
                case OPT_LOG:
                        cli->log_path = optarg;
                        break;
                case OPT_LOG_FORMAT:
                        if (strcmp(optarg, "json") && strcmp(optarg, "text")) {
                                cli_errorf(cli, EINVAL, "--log-format: must be text or json, not \"%s\"",
                                           optarg);
                                return -1;
                        }
                        cli->log_json = !strcmp(optarg, "json");
                        break;
                case OPT_DEBUG:
                        berth_log_enable_debug(&cli->ctx.log);
                        break;
                case OPT_SYSTEMD:
                        systemd = true;
                        break;
                case OPT_CGMGR:
                        if (parse_cgroup_manager(cli, optarg) < 0)
                                return -1;
                        break;
                case OPT_CRIU:
                case OPT_ROOTLESS:
                        break; /* accepted for runc compatibility */
                case 'v':
                        printf("berth version %s\nspec: %s\n", BERTH_VERSION, BERTH_SPEC_VERSION);
                        exit(0);
                case 'h':
                        usage(stdout, cli->prog);
                        exit(0);
                default:
                        usage(stderr, cli->prog);
                        return -1;
                }
        }
        if (systemd && use_systemd(cli) < 0)
                return -1;
        return optind;
}

/* A verb without a handler here (the static berth) runs in berth-full,
 * which sits next to our own executable, with the same arguments. */
static int run_full(struct cli *cli, char **argv)
{
        char path[PATH_MAX];
        int r = berth_self_sibling("berth-full", path, sizeof(path));
        if (r < 0) {
                cli_errorf(cli, -r, "cannot find berth-full beside /proc/self/exe: %s", strerror(-r));
                return 1;
        }
        execv(path, argv);
        cli_errorf(cli, errno, "run %s: %s", path, strerror(errno));
        return 1;
}

int main(int argc, char **argv)
{
        struct cli cli = {.prog = "berth"};
        cli.ctx.state_root = "/run/berth";
        cli.ctx.log.emit = cli_log_emit;
        cli.ctx.log.data = &cli;
        const char *debug_env = getenv("BERTH_DEBUG");
        if (debug_env && *debug_env && strcmp(debug_env, "0"))
                berth_log_enable_debug(&cli.ctx.log);
        int first = parse_globals(&cli, argc, argv);
        if (first < 0)
                return 1;
#ifdef BERTH_OCI_ONLY
        /* No libsystemd in the static binary (Debian ships none to link). */
        if (cli.ctx.systemd_cgroup)
                return run_full(&cli, argv);
#else
        cli.ctx.systemd = berth_systemd_driver();
#endif
        if (first >= argc) {
                usage(stderr, cli.prog);
                return 1;
        }
        const char *verb = argv[first];
        for (const struct cli_verb *v = cli_verbs(); v->name; v++) {
                if (!strcmp(v->name, verb)) {
                        if (!v->run)
                                return run_full(&cli, argv);
                        optind = 1;
                        return v->run(&cli, argc - first, argv + first);
                }
        }
        cli_errorf(&cli, EINVAL, "unknown command \"%s\" (see '%s --help')", verb, cli.prog);
        return 1;
}
