/* SPDX-License-Identifier: GPL-2.0-or-later */
/* state and list. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "cli/cli.h"

int cmd_state(struct cli *cli, int argc, char **argv)
{
        if (cli_wants_help(argc, argv,
                           "usage: berth state CONTAINER_ID\n\nPrints the container's OCI state as JSON.\n"))
                return 0;
        if (!cli_expect_args(cli, "state", argc - 1, 1, 1))
                return 1;
        struct berth_err err = {0};
        _cleanup_free_ char *json = NULL;
        if (berth_container_state_json(&cli->ctx, argv[1], &json, &err) < 0) {
                cli_error(cli, &err);
                return 1;
        }
        printf("%s\n", json);
        return 0;
}

enum list_format { LIST_TABLE, LIST_JSON, LIST_QUIET };

static void print_table(struct berth_container_info *infos, size_t n)
{
        int w_id = 2, w_bundle = 6;
        for (size_t i = 0; i < n; i++) {
                int l = (int)strlen(infos[i].st.id);
                w_id = l > w_id ? l : w_id;
                l = infos[i].st.bundle ? (int)strlen(infos[i].st.bundle) : 0;
                w_bundle = l > w_bundle ? l : w_bundle;
        }
        printf("%-*s   %-10s %-10s %-*s   %-30s   %s\n", w_id, "ID", "PID", "STATUS", w_bundle, "BUNDLE",
               "CREATED", "OWNER");
        for (size_t i = 0; i < n; i++) {
                const struct berth_container_info *c = &infos[i];
                int pid = c->status == BERTH_STATUS_STOPPED ? 0 : (int)c->st.pid;
                printf("%-*s   %-10d %-10s %-*s   %-30s   %s\n", w_id, c->st.id, pid,
                       berth_status_name(c->status), w_bundle, c->st.bundle ? c->st.bundle : "",
                       c->st.created ? c->st.created : "", c->st.owner ? c->st.owner : "");
        }
}

static void print_json(struct berth_container_info *infos, size_t n)
{
        _cleanup_json_ json_t *arr = json_array();
        for (size_t i = 0; i < n; i++) {
                char *text = berth_oci_state_format(&infos[i].st, infos[i].status, true, false);
                json_t *obj = text ? json_loads(text, 0, NULL) : NULL;
                if (obj)
                        json_array_append_new(arr, obj);
                free(text);
        }
        char *out = json_dumps(arr, JSON_COMPACT);
        printf("%s\n", out ? out : "[]");
        free(out);
}

static int parse_list_format(struct cli *cli, int argc, char **argv, enum list_format *fmt)
{
        static const struct option opts[] = {
            {"format", required_argument, NULL, 'f'}, {"quiet", no_argument, NULL, 'q'}, {0}};
        int c;
        cli_reorder_args(argc, argv, "+f:q", opts);
        optind = 0;
        while ((c = getopt_long(argc, argv, "+f:q", opts, NULL)) != -1) {
                if (c == 'q')
                        *fmt = LIST_QUIET;
                else if (c == 'f' && !strcmp(optarg, "json"))
                        *fmt = LIST_JSON;
                else if (c == 'f' && !strcmp(optarg, "table"))
                        *fmt = LIST_TABLE;
                else if (c == 'f') {
                        cli_errorf(cli, EINVAL, "list: --format must be table or json, not \"%s\"", optarg);
                        return -1;
                } else
                        return -1;
        }
        return cli_expect_args(cli, "list", argc - optind, 0, 0) ? 0 : -1;
}

int cmd_list(struct cli *cli, int argc, char **argv)
{
        if (cli_wants_help(argc, argv,
                           "usage: berth list [--format table|json] [--quiet|-q]\n\nLists containers.\n"))
                return 0;
        enum list_format fmt = LIST_TABLE;
        if (parse_list_format(cli, argc, argv, &fmt) < 0)
                return 1;
        struct berth_err err = {0};
        _cleanup_strv_ char **ids = NULL;
        _cleanup_close_ int root_fd = open(cli->ctx.state_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        int n = root_fd >= 0 ? berth_state_list(root_fd, &ids, &err) : 0;
        if (n < 0) {
                cli_error(cli, &err);
                return 1;
        }
        struct berth_container_info *infos = calloc((size_t)n + 1, sizeof(*infos));
        size_t m = 0;
        for (int i = 0; infos && i < n; i++)
                if (berth_container_load(&cli->ctx, ids[i], &infos[m], &err) >= 0) {
                        if (infos[m].status == BERTH_STATUS_UNKNOWN)
                                berth_warn(&cli->ctx,
                                           "container %s: %s; `berth delete --force %s` removes it", ids[i],
                                           infos[m].damage, ids[i]);
                        m++;
                }
        if (fmt == LIST_QUIET)
                for (size_t i = 0; i < m; i++)
                        printf("%s\n", infos[i].st.id);
        else if (fmt == LIST_JSON)
                print_json(infos, m);
        else
                print_table(infos, m);
        for (size_t i = 0; i < m; i++)
                berth_container_info_clear(&infos[i]);
        free(infos);
        return 0;
}
