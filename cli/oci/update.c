/* SPDX-License-Identifier: GPL-2.0-or-later */
/* update: change a running container's limits (runc's flags or an OCI
 * LinuxResources document). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/spec.h"
#include "cli/cli.h"

static const char update_usage[] =
    "usage: berth update [options] CONTAINER_ID\n\n"
    "Changes the resource limits of a running container.\n\n"
    "  --resources, -r FILE    an OCI LinuxResources JSON document ('-' for stdin)\n"
    "  --memory SIZE           memory limit (bytes, or with k/m/g suffix; -1: unlimited,\n"
    "                          and memory+swap too unless --memory-swap is given)\n"
    "  --memory-swap SIZE      memory + swap limit (-1: unlimited)\n"
    "  --memory-reservation SIZE\n"
    "  --cpu-shares N (or runc's --cpu-share N), --cpu-quota N, --cpu-period N\n"
    "  --cpu-rt-runtime N, --cpu-rt-period N\n"
    "  --cpuset-cpus LIST, --cpuset-mems LIST\n"
    "  --pids-limit N          (-1 or 0: unlimited)\n"
    "  --blkio-weight N        10-1000\n";

/* "512m", "1G", "1048576", "-1". */
static int parse_size(const char *s, int64_t *out)
{
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s)
                return -EINVAL;
        static const char units[] = "bkmgt";
        int64_t mult = 1;
        if (*end) {
                const char *u = strchr(units, end[0] | 0x20);
                if (!u || (end[1] && (end[1] | 0x20) != 'b') || (end[1] && end[2]))
                        return -EINVAL;
                for (long i = 0; i < u - units; i++)
                        mult *= 1024;
        }
        *out = (int64_t)(v * (double)mult);
        return 0;
}

static int read_resources_file(const char *path, struct berth_resources **out, struct berth_err *err)
{
        _cleanup_close_ int fd =
            strcmp(path, "-") ? open(path, O_RDONLY | O_CLOEXEC) : fcntl(STDIN_FILENO, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return berth_err_sys(err, errno, "update: --resources %s", path);
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r = berth_read_fd(fd, 1 << 20, &buf, &len);
        if (r < 0)
                return berth_err_sys(err, -r, "update: read %s", path);
        *out = berth_resources_parse(buf, len, err);
        return *out ? 0 : berth_err_wrap(err, "update: --resources %s", path);
}

enum {
        O_MEM = 256,
        O_SWAP,
        O_RES,
        O_SHARES,
        O_QUOTA,
        O_PERIOD,
        O_RTRUN,
        O_RTPER,
        O_CPUS,
        O_MEMS,
        O_PIDS,
        O_BLKIO,
        O_KMEM
};

static int apply_flag(struct berth_resources *r, int c, const char *arg)
{
        int64_t v = 0;
        if (c != O_CPUS && c != O_MEMS && parse_size(arg, &v) < 0)
                return -EINVAL;
        switch (c) {
        case O_MEM:
                r->has_memory = true;
                r->memory.limit = (struct berth_opt_i64){true, v};
                break;
        case O_SWAP:
                r->has_memory = true;
                r->memory.swap = (struct berth_opt_i64){true, v};
                break;
        case O_RES:
                r->has_memory = true;
                r->memory.reservation = (struct berth_opt_i64){true, v};
                break;
        case O_SHARES:
                r->has_cpu = true;
                r->cpu.shares = (struct berth_opt_u64){true, (uint64_t)v};
                break;
        case O_QUOTA:
                r->has_cpu = true;
                r->cpu.quota = (struct berth_opt_i64){true, v};
                break;
        case O_PERIOD:
                r->has_cpu = true;
                r->cpu.period = (struct berth_opt_u64){true, (uint64_t)v};
                break;
        case O_RTRUN:
                r->has_cpu = true;
                r->cpu.realtime_runtime = (struct berth_opt_i64){true, v};
                break;
        case O_RTPER:
                r->has_cpu = true;
                r->cpu.realtime_period = (struct berth_opt_u64){true, (uint64_t)v};
                break;
        case O_CPUS:
                r->has_cpu = true;
                r->cpu.cpus = (char *)arg;
                break;
        case O_MEMS:
                r->has_cpu = true;
                r->cpu.mems = (char *)arg;
                break;
        case O_PIDS:
                r->has_pids = true;
                r->pids_limit = (struct berth_opt_i64){true, v <= 0 ? -1 : v};
                break;
        case O_BLKIO:
                r->has_blkio = true;
                r->blkio.weight = (struct berth_opt_u64){true, (uint64_t)v};
                break;
        case O_KMEM:
                break;
        default:
                return -EINVAL;
        }
        return 0;
}

int cmd_update(struct cli *cli, int argc, char **argv)
{
        if (cli_wants_help(argc, argv, update_usage))
                return 0;
        static const struct option opts[] = {{"resources", required_argument, NULL, 'r'},
                                             {"memory", required_argument, NULL, O_MEM},
                                             {"memory-swap", required_argument, NULL, O_SWAP},
                                             {"memory-reservation", required_argument, NULL, O_RES},
                                             {"cpu-shares", required_argument, NULL, O_SHARES},
                                             {"cpu-share", required_argument, NULL, O_SHARES}, /* runc's */
                                             {"cpu-quota", required_argument, NULL, O_QUOTA},
                                             {"cpu-period", required_argument, NULL, O_PERIOD},
                                             {"cpu-rt-runtime", required_argument, NULL, O_RTRUN},
                                             {"cpu-rt-period", required_argument, NULL, O_RTPER},
                                             {"cpuset-cpus", required_argument, NULL, O_CPUS},
                                             {"cpuset-mems", required_argument, NULL, O_MEMS},
                                             {"pids-limit", required_argument, NULL, O_PIDS},
                                             {"blkio-weight", required_argument, NULL, O_BLKIO},
                                             {"kernel-memory", required_argument, NULL, O_KMEM},
                                             {"kernel-memory-tcp", required_argument, NULL, O_KMEM},
                                             {0}};
        struct berth_resources flags = {0};
        const char *file = NULL;
        int c;
        cli_reorder_args(argc, argv, "+r:", opts);
        optind = 0;
        while ((c = getopt_long(argc, argv, "+r:", opts, NULL)) != -1) {
                if (c == 'r')
                        file = optarg;
                else if (c == '?' || apply_flag(&flags, c, optarg) < 0) {
                        cli_errorf(cli, EINVAL, "update: invalid value \"%s\"", optarg ? optarg : "");
                        return 1;
                }
        }
        if (!cli_expect_args(cli, "update", argc - optind, 1, 1))
                return 1;
        struct berth_err err = {0};
        struct berth_resources *parsed = NULL;
        if (file && read_resources_file(file, &parsed, &err) < 0) {
                cli_error(cli, &err);
                return 1;
        }
        struct berth_resources *res = parsed ? parsed : &flags;
        /* Unlimited memory with the swap left as it is would stay capped by
         * memory+swap (and v1 refuses a memory limit above memsw): runc
         * lifts the swap limit with it, and so do we. */
        if (res->memory.limit.set && res->memory.limit.v == -1 && !res->memory.swap.set)
                res->memory.swap = (struct berth_opt_i64){true, -1};
        int r = berth_container_update(&cli->ctx, argv[optind], res, &err);
        berth_resources_free(parsed);
        if (r < 0) {
                cli_error(cli, &err);
                return 1;
        }
        return 0;
}
