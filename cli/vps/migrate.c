// SPDX-License-Identifier: GPL-2.0-or-later
/* berth vps migrate / vps receive: options and output of
 * berth_vps_migrate and berth_vps_receive (runtime/vps/migrate.c,
 * receive.c). Progress goes to stderr, the result to stdout. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/vps_migrate.h"
#include "cli/vps/vps_cli.h"

static const char migrate_usage[] =
    "usage: berth vps migrate NAME [USER@]HOST [--offline|--live] [--keep-source] [--timeout S] [--json]\n\n"
    "Moves the VPS to HOST over ssh (offline, or --live): the destination runs sshd and\n"
    "has the same berth and template; `berth vps receive` is started there.\n"
    "The destination is checked first (berth version and format, the template\n"
    "identical by checksum, the name and addresses free, an id range, disk\n"
    "space): a failed check changes nothing. Then rsync copies the VPS while it\n"
    "runs, the VPS stops, a second rsync pass copies what changed, and it starts\n"
    "on HOST with its name, addresses, MAC, limits and autostart flag (its id\n"
    "range may differ there: the files are shifted). It is removed here once\n"
    "HOST reports it running. Any failure before that restarts it here.\n"
    "A stopped VPS is copied and stays stopped. Progress on stderr; the\n"
    "downtime (stop + second pass + start) is reported.\n\n"
    "  --offline       stop the VPS for the last pass (the default)\n"
    "  --live          checkpoint it with criu instead (memory pre-copied while\n"
    "                  it runs, then dumped, sent and restored on HOST: its\n"
    "                  processes go on); refused before anything stops unless\n"
    "                  `criu check` passes on both hosts and HOST gives it\n"
    "                  the same id range\n"
    "  --keep-source   keep the stopped copy here (autostart off)\n"
    "  --timeout S     seconds for the graceful stop (default 30)\n"
    "Environment: BERTH_SSH  more ssh options, blank-separated (e.g. \"-p 2222\n"
    "                        -i KEY\"); also used for rsync's ssh\n"
    "             BERTH_RSYNC  more rsync options (a bandwidth limit, say)\n"
    "             BERTH_REMOTE  the berth command on HOST (default \"berth\")\n"
    "An interrupted migrate (killed, connection lost) is resolved by\n"
    "`berth vps repair` on either host.\n";

static const char receive_usage[] =
    "usage: berth vps receive NAME\n\n"
    "The destination's half of `vps migrate`, started by it over ssh: speaks\n"
    "its protocol on stdin and stdout. Not for interactive use.\n";

static void to_stderr(void *arg, const char *text, size_t len)
{
        (void)arg;
        fwrite(text, 1, len, stderr);
        fflush(stderr);
}

/* BERTH_SSH or BERTH_RSYNC split on blanks (no quoting: options are
 * simple words). */
static char **env_words(const char *name)
{
        const char *env = getenv(name);
        _cleanup_free_ char *copy = strdup(env ? env : "");
        char **v = copy ? calloc(strlen(copy) / 2 + 2, sizeof(char *)) : NULL;
        if (!v)
                return NULL;
        size_t n = 0;
        char *save = NULL;
        for (char *w = strtok_r(copy, " \t\n", &save); w; w = strtok_r(NULL, " \t\n", &save))
                if (!(v[n++] = strdup(w))) {
                        berth_strv_freep(&v);
                        return NULL;
                }
        return v;
}

static void print_result(struct vps_cli *vc, const char *name, const char *dest,
                         const struct berth_vps_migrate_result *r)
{
        uint64_t total = r->bytes_sent[0] + r->bytes_sent[1];
        if (vc->json) {
                vps_print_json(json_pack(
                    "{s:s, s:s, s:b, s:b, s:i, s:I, s:[I,I], s:I, s:I, s:{s:I, s:I}, s:b}", "name", name,
                    "destination", dest, "live", r->live, "was_running", r->was_running, "passes", r->passes,
                    "bytes_sent", (json_int_t)total, "bytes_sent_per_pass", (json_int_t)r->bytes_sent[0],
                    (json_int_t)r->bytes_sent[1], "downtime_ms", (json_int_t)r->downtime_ms, "total_ms",
                    (json_int_t)r->total_ms, "id_range", "source", (json_int_t)r->src_host_id, "destination",
                    (json_int_t)r->dst_host_id, "kept_source", r->kept_source));
                return;
        }
        printf("VPS %s migrated%s to %s: %d pass%s, %llu bytes sent, downtime %lld ms, total %lld ms%s\n",
               name, r->live ? " live" : "", dest, r->passes, r->passes == 1 ? "" : "es",
               (unsigned long long)total, (long long)r->downtime_ms, (long long)r->total_ms,
               r->src_host_id != r->dst_host_id ? " (ids shifted)" : "");
}

int vps_cmd_migrate(struct vps_cli *vc, int argc, char **argv)
{
        static const struct option opts[] = {{"keep-source", no_argument, NULL, 'k'},
                                             {"offline", no_argument, NULL, 'o'},
                                             {"live", no_argument, NULL, 'l'},
                                             {"timeout", required_argument, NULL, 'T'},
                                             VPS_COMMON_OPTS,
                                             {0}};
        if (cli_wants_help(argc, argv, migrate_usage))
                return 0;
        struct berth_vps_migrate_opts o = {.stop_timeout = BERTH_VPS_DEFAULT_TIMEOUT, .progress = to_stderr};
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                char *end;
                if (c == 'k') {
                        o.keep_source = true;
                } else if (c == 'l') {
                        o.live = true;
                } else if (c == 'o') {
                        o.live = false; /* the default */
                } else if (c == 'T') {
                        long t = strtol(optarg, &end, 10);
                        if (*end || end == optarg || t < 0 || t > 86400)
                                return vps_failf(vc, EINVAL, "migrate: --timeout: seconds, not \"%s\"",
                                                 optarg);
                        o.stop_timeout = (int)t;
                } else if (!vps_common_opt(vc, c)) {
                        return vps_failf(vc, EINVAL, "migrate: unknown option (see --help)");
                }
        }
        if (argc - optind != 2)
                return vps_failf(vc, EINVAL, "migrate: expects NAME and [USER@]HOST (see --help)");
        o.name = argv[optind];
        o.dest = argv[optind + 1];
        const char *remote = getenv("BERTH_REMOTE");
        o.remote_berth = remote && *remote ? remote : NULL;
        char **ssh = env_words("BERTH_SSH"), **rsync = env_words("BERTH_RSYNC");
        if (!ssh || !rsync) {
                berth_strv_freep(&ssh);
                berth_strv_freep(&rsync);
                return vps_failf(vc, ENOMEM, "migrate: out of memory");
        }
        o.ssh_opts = (const char *const *)ssh;
        o.rsync_opts = (const char *const *)rsync;
        struct berth_vps_migrate_result res;
        struct berth_err err = {0};
        int r = berth_vps_migrate(&vc->v, &o, &res, &err);
        berth_strv_freep(&ssh);
        berth_strv_freep(&rsync);
        if (r < 0)
                return vps_fail(vc, &err);
        print_result(vc, o.name, o.dest, &res);
        return 0;
}

int vps_cmd_receive(struct vps_cli *vc, int argc, char **argv)
{
        static const struct option opts[] = {VPS_COMMON_OPTS, {0}};
        if (cli_wants_help(argc, argv, receive_usage))
                return 0;
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
                if (!vps_common_opt(vc, c))
                        return vps_failf(vc, EINVAL, "receive: unknown option (see --help)");
        if (argc - optind != 1)
                return vps_failf(vc, EINVAL, "receive: expects NAME (see --help)");
        if (isatty(STDIN_FILENO))
                return vps_failf(vc, ENOTTY, "receive: started by `berth vps migrate` over ssh, not by hand");
        /* stdout carries the protocol: nothing else may be printed there. */
        struct berth_err err = {0};
        int r = berth_vps_receive(&vc->v, argv[optind], STDIN_FILENO, STDOUT_FILENO, &err);
        if (r < 0) {
                vc->json = false;
                return vps_fail(vc, &err);
        }
        return r; /* 1: refused or aborted; the source was told why */
}
