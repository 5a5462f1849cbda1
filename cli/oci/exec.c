/* SPDX-License-Identifier: GPL-2.0-or-later */
/* exec: run a process in a running container (runc's flags). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const char exec_usage[] =
    "usage: berth exec [options] CONTAINER_ID [COMMAND [ARG...]]\n\n"
    "Runs a process inside a running container and returns its exit code;\n"
    "255 when it cannot be run (as runc).\n\n"
    "  --process, -p FILE      an OCI process JSON instead of COMMAND\n"
    "  --tty, -t               allocate a pseudo-terminal\n"
    "  --console-socket PATH   send the pty master to this unix socket\n"
    "  --detach, -d            do not wait for the process\n"
    "  --pid-file FILE         write the process's pid to FILE\n"
    "  --env, -e KEY=VALUE     set an environment variable (repeatable)\n"
    "  --cwd DIR               working directory inside the container\n"
    "  --user, -u UID[:GID]    run as this user\n"
    "  --additional-gids, -g GID   add a supplementary group (repeatable)\n"
    "  --cap, -c CAP           add a capability (repeatable)\n"
    "  --no-new-privs          set no_new_privs\n"
    "  --preserve-fds N        pass N extra fds (3 .. 3+N-1)\n"
    "  --ignore-paused         exec into a paused container (runs once resumed)\n"
    "  --cgroup [CTRL[,CTRL]:]PATH  run in this sub-cgroup of the container\n";

enum {
        OPT_CONSOLE = 256,
        OPT_PID_FILE,
        OPT_CWD,
        OPT_NNP,
        OPT_PRESERVE,
        OPT_CGROUP,
        OPT_IGNORE_PAUSED,
        OPT_IGNORED
};

/* Appends to a NULL-terminated vector that borrows argv's strings. */
static int push(char ***v, size_t *n, char *s)
{
        char **nv = realloc(*v, (*n + 2) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        nv[(*n)++] = s;
        nv[*n] = NULL;
        *v = nv;
        return 0;
}

static int parse_user(struct cli *cli, const char *s, struct berth_exec_opts *o)
{
        char *end;
        o->uid = (uid_t)strtoul(s, &end, 10);
        if (end == s || (*end && *end != ':')) {
                cli_errorf(cli, EINVAL, "exec: --user must be UID[:GID], not \"%s\"", s);
                return -1;
        }
        o->has_user = true;
        if (*end == ':') {
                const char *g = end + 1;
                o->gid = (gid_t)strtoul(g, &end, 10);
                if (end == g || *end) {
                        cli_errorf(cli, EINVAL, "exec: --user must be UID[:GID], not \"%s\"", s);
                        return -1;
                }
                o->has_gid = true;
        }
        return 0;
}

static int add_gid(struct cli *cli, const char *s, struct berth_exec_opts *o)
{
        char *end;
        unsigned long g = strtoul(s, &end, 10);
        gid_t *ng = realloc(o->additional_gids, (o->n_additional_gids + 1) * sizeof(gid_t));
        if (end == s || *end || !ng) {
                free(ng == o->additional_gids ? NULL : ng);
                cli_errorf(cli, EINVAL, "exec: --additional-gids: not a gid: \"%s\"", s);
                return -1;
        }
        ng[o->n_additional_gids++] = (gid_t)g;
        o->additional_gids = ng;
        return 0;
}

static int parse_exec_opt(struct cli *cli, int c, struct berth_exec_opts *o, size_t *n_env, size_t *n_caps)
{
        char *end;
        switch (c) {
        case 'p':
                o->process_file = optarg;
                return 0;
        case 't':
                o->tty = true;
                return 0;
        case 'd':
                o->detach = true;
                return 0;
        case 'e':
                return push(&o->env, n_env, optarg);
        case 'u':
                return parse_user(cli, optarg, o);
        case 'g':
                return add_gid(cli, optarg, o);
        case 'c':
                return push(&o->caps, n_caps, optarg);
        case OPT_CONSOLE:
                o->console_socket = optarg;
                return 0;
        case OPT_PID_FILE:
                o->pid_file = optarg;
                return 0;
        case OPT_CWD:
                o->cwd = optarg;
                return 0;
        case OPT_NNP:
                o->no_new_privs = true;
                return 0;
        case OPT_CGROUP:
                return push(&o->cgroups, &o->n_cgroups, optarg);
        case OPT_IGNORE_PAUSED:
                o->ignore_paused = true;
                return 0;
        case OPT_IGNORED:
                return 0;
        case OPT_PRESERVE:
                o->preserve_fds = (unsigned)strtoul(optarg, &end, 10);
                if (!*end && *optarg)
                        return 0;
                cli_errorf(cli, EINVAL, "exec: --preserve-fds: not a number: %s", optarg);
                return -1;
        default:
                return -1;
        }
}

static int parse_exec(struct cli *cli, int argc, char **argv, struct berth_exec_opts *o)
{
        static const struct option opts[] = {{"process", required_argument, NULL, 'p'},
                                             {"tty", no_argument, NULL, 't'},
                                             {"detach", no_argument, NULL, 'd'},
                                             {"env", required_argument, NULL, 'e'},
                                             {"user", required_argument, NULL, 'u'},
                                             {"additional-gids", required_argument, NULL, 'g'},
                                             {"cap", required_argument, NULL, 'c'},
                                             {"console-socket", required_argument, NULL, OPT_CONSOLE},
                                             {"pid-file", required_argument, NULL, OPT_PID_FILE},
                                             {"cwd", required_argument, NULL, OPT_CWD},
                                             {"no-new-privs", no_argument, NULL, OPT_NNP},
                                             {"preserve-fds", required_argument, NULL, OPT_PRESERVE},
                                             {"cgroup", required_argument, NULL, OPT_CGROUP},
                                             {"ignore-paused", no_argument, NULL, OPT_IGNORE_PAUSED},
                                             {"process-label", required_argument, NULL, OPT_IGNORED},
                                             {"apparmor", required_argument, NULL, OPT_IGNORED},
                                             {0}};
        size_t n_env = 0, n_caps = 0;
        int c;
        optind = 0;
        while ((c = getopt_long(argc, argv, "+p:tde:u:g:c:", opts, NULL)) != -1)
                if (parse_exec_opt(cli, c, o, &n_env, &n_caps) < 0)
                        return -1;
        if (!cli_expect_args(cli, "exec", argc - optind, o->process_file ? 1 : 2, -1))
                return -1;
        o->id = argv[optind];
        o->args = argv + optind + 1;
        return 0;
}

int cmd_exec(struct cli *cli, int argc, char **argv)
{
        if (cli_wants_help(argc, argv, exec_usage))
                return 0;
        struct berth_exec_opts o = {0};
        int code = 1;
        if (parse_exec(cli, argc, argv, &o) == 0) {
                struct berth_err err = {0};
                code = 0;
                /* 255, as runc: a process's own exit code is 0..255 too, but
                 * clients (containerd, podman's conmon) expect runc's code
                 * for "the runtime could not run it". Bad arguments stay 1. */
                if (berth_container_exec(&cli->ctx, &o, &code, &err) < 0) {
                        cli_error(cli, &err);
                        code = 255;
                }
        }
        free(o.env);
        free(o.caps);
        free(o.cgroups);
        free(o.additional_gids);
        return code;
}
