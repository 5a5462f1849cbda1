/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth template: create, import, list, info, rm. Parsing and output only;
 * the work is in rootfs/template_*.c. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/cleanup.h"
#include "berth/template.h"
#include "cli/cli.h"

static const char template_usage[] =
    "usage: berth template [--data-dir DIR] [--json] COMMAND [options]\n\n"
    "VPS templates: read-only root filesystems that VPS overlays sit on.\n\n"
    "Commands:\n"
    "  create NAME --busybox                        tiny system from the host's busybox (instant)\n"
    "  create NAME --debootstrap SUITE [--mirror URL] [--include PKG,...]\n"
    "                                               Debian minbase (mirror: from the host's apt sources)\n"
    "                                               plus PKG,... (e.g. openssh-server), with the suite's\n"
    "                                               updates and security sources\n"
    "  import NAME PATH                             a directory, tarball (tar, gz, xz, zst, bz2),\n"
    "                                               OCI image archive or layout, docker-archive\n"
    "  list                                         all templates\n"
    "  info NAME                                    one template's metadata\n"
    "  rm NAME                                      remove (refused while a VPS uses it)\n\n"
    "Every command takes --json (one JSON document on stdout) and --data-dir DIR\n"
    "(default $BERTH_DATA or /var/lib/berth).\n"
    "Exit codes: 0 ok, 2 invalid argument, 3 not found, 4 already exists,\n"
    "5 in use, 6 resource or system error (disk, debootstrap), 1 anything else.\n";

struct tmpl_cli {
        struct cli *cli;
        const char *data_dir;
        bool json;
};

enum { OPT_JSON = 'J', OPT_DATA = 'D', OPT_BUSYBOX = 256, OPT_DEBOOTSTRAP, OPT_MIRROR, OPT_INCLUDE };

static const char *data_dir(const struct tmpl_cli *tc)
{
        return berth_data_dir(tc->data_dir);
}

static int fail(struct tmpl_cli *tc, const struct berth_err *err)
{
        int code = berth_exit_code_from_errno(err->code);
        cli_error(tc->cli, err);
        if (tc->json) {
                _cleanup_json_ json_t *j = json_pack("{s:s, s:i, s:s}", "error", err->msg, "exit_code", code,
                                                     "errno", strerror(err->code ? err->code : EIO));
                _cleanup_free_ char *text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
                if (text)
                        printf("%s\n", text);
        }
        return code;
}

static int __attribute__((format(printf, 3, 4))) failf(struct tmpl_cli *tc, int code, const char *fmt, ...)
{
        struct berth_err err = {.code = code};
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err.msg, sizeof(err.msg), fmt, ap);
        va_end(ap);
        return fail(tc, &err);
}

static bool common_opt(struct tmpl_cli *tc, int c)
{
        if (c == OPT_JSON)
                tc->json = true;
        else if (c == OPT_DATA)
                tc->data_dir = optarg;
        else
                return false;
        return true;
}

static void human_size(uint64_t n, char *buf, size_t len)
{
        static const char units[] = "BKMGTP";
        double v = (double)n;
        size_t u = 0;
        while (v >= 1024 && u + 1 < sizeof(units) - 1) {
                v /= 1024;
                u++;
        }
        if (u == 0)
                snprintf(buf, len, "%lluB", (unsigned long long)n);
        else
                snprintf(buf, len, "%.1f%c", v, units[u]);
}

static json_t *info_doc(const struct berth_template_info *i)
{
        json_t *users = json_array();
        for (size_t k = 0; k < i->n_users; k++)
                json_array_append_new(users, json_string(i->users[k]));
        json_t *j =
            json_pack("{s:s, s:s, s:s?, s:I, s:s?, s:s?, s:s, s:o}", "name", i->name, "source", i->source,
                      "created", i->created, "size_bytes", (json_int_t)i->size_bytes, "init", i->init,
                      "stop_signal", i->stop_signal, "rootfs", i->rootfs, "users", users);
        json_t *cfg = j && i->image_config ? json_loads(i->image_config, 0, NULL) : NULL;
        if (cfg)
                json_object_set_new(j, "image_config", cfg);
        return j;
}

static void print_doc(json_t *doc)
{
        char *text = doc ? json_dumps(doc, JSON_INDENT(2)) : NULL;
        printf("%s\n", text ? text : "null");
        free(text);
        json_decref(doc);
}

/* After create/import: the new template, as text or JSON. */
static int report_created(struct tmpl_cli *tc, const char *name)
{
        struct berth_err err = {0};
        struct berth_template_info info;
        if (berth_template_info(data_dir(tc), name, &info, &err) < 0)
                return fail(tc, &err);
        if (tc->json) {
                print_doc(info_doc(&info));
        } else {
                char size[32];
                human_size(info.size_bytes, size, sizeof(size));
                printf("template %s created (%s, %s)\n", name, info.source, size);
        }
        berth_template_info_clear(&info);
        return BERTH_EXIT_OK;
}

static void print_progress(void *data, const char *line)
{
        (void)data;
        fprintf(stderr, "%s\n", line);
}

struct create_opts {
        bool busybox;
        const char *suite, *mirror, *include;
};

static int parse_create(struct tmpl_cli *tc, int argc, char **argv, struct create_opts *o)
{
        static const struct option opts[] = {
            {"busybox", no_argument, NULL, OPT_BUSYBOX},
            {"debootstrap", required_argument, NULL, OPT_DEBOOTSTRAP},
            {"mirror", required_argument, NULL, OPT_MIRROR},
            {"include", required_argument, NULL, OPT_INCLUDE},
            {"json", no_argument, NULL, OPT_JSON},
            {"data-dir", required_argument, NULL, OPT_DATA},
            {0},
        };
        int c;
        optind = 0;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
                if (c == OPT_BUSYBOX)
                        o->busybox = true;
                else if (c == OPT_DEBOOTSTRAP)
                        o->suite = optarg;
                else if (c == OPT_MIRROR)
                        o->mirror = optarg;
                else if (c == OPT_INCLUDE)
                        o->include = optarg;
                else if (!common_opt(tc, c))
                        return -failf(tc, EINVAL, "template create: unknown option (see --help)");
        }
        if (argc - optind != 1)
                return -failf(tc, EINVAL, "template create: expects one NAME");
        if (o->busybox == !!o->suite)
                return -failf(tc, EINVAL,
                              "template create: give exactly one of --busybox, --debootstrap SUITE");
        if (o->mirror && !o->suite)
                return -failf(tc, EINVAL, "template create: --mirror goes with --debootstrap");
        if (o->include && !o->suite)
                return -failf(tc, EINVAL, "template create: --include goes with --debootstrap");
        return 0;
}

static int do_create(struct tmpl_cli *tc, int argc, char **argv)
{
        if (cli_wants_help(argc, argv,
                           "usage: berth template create NAME --busybox | --debootstrap SUITE [--mirror URL] "
                           "[--include PKG,...]\n"))
                return 0;
        struct create_opts o = {0};
        int r = parse_create(tc, argc, argv, &o);
        if (r < 0)
                return -r;
        const char *name = argv[optind];
        struct berth_err err = {0};
        berth_trace(&tc->cli->ctx, "template %s: build from %s%s%s%s in %s/templates", name,
                    o.busybox ? "the host's busybox" : "debootstrap ", o.busybox ? "" : o.suite,
                    o.mirror ? ", mirror " : "", o.mirror ? o.mirror : "", data_dir(tc));
        if (o.busybox)
                r = berth_template_create_busybox(data_dir(tc), name, &err);
        else
                r = berth_template_create_debootstrap(data_dir(tc), name, o.suite, o.mirror, o.include,
                                                      print_progress, NULL, &err);
        return r < 0 ? fail(tc, &err) : report_created(tc, name);
}

/* The options of the verbs that only take --json and --data-dir; leaves
 * optind at the first positional argument. */
static int parse_simple(struct tmpl_cli *tc, const char *verb, int argc, char **argv, int nargs)
{
        static const struct option opts[] = {
            {"json", no_argument, NULL, OPT_JSON}, {"data-dir", required_argument, NULL, OPT_DATA}, {0}};
        int c;
        optind = 0;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
                if (!common_opt(tc, c))
                        return -failf(tc, EINVAL, "template %s: unknown option (see --help)", verb);
        if (argc - optind != nargs)
                return -failf(tc, EINVAL, "template %s: expects %d argument(s)", verb, nargs);
        return 0;
}

static int do_import(struct tmpl_cli *tc, int argc, char **argv)
{
        if (cli_wants_help(argc, argv, "usage: berth template import NAME PATH\n"))
                return 0;
        int r = parse_simple(tc, "import", argc, argv, 2);
        if (r < 0)
                return -r;
        struct berth_err err = {0};
        if (berth_template_import(data_dir(tc), argv[optind], argv[optind + 1], &err) < 0)
                return fail(tc, &err);
        return report_created(tc, argv[optind]);
}

static void print_table(const struct berth_template_info *infos, size_t n)
{
        int wn = 4, ws = 6;
        for (size_t i = 0; i < n; i++) {
                wn = (int)strlen(infos[i].name) > wn ? (int)strlen(infos[i].name) : wn;
                ws = (int)strlen(infos[i].source) > ws ? (int)strlen(infos[i].source) : ws;
        }
        printf("%-*s  %-*s  %8s  %-20s  %s\n", wn, "NAME", ws, "SOURCE", "SIZE", "CREATED", "USERS");
        for (size_t i = 0; i < n; i++) {
                char size[32], users[256] = "-";
                human_size(infos[i].size_bytes, size, sizeof(size));
                size_t len = 0;
                for (size_t k = 0; k < infos[i].n_users && len < sizeof(users) - 1; k++)
                        len += (size_t)snprintf(users + len, sizeof(users) - len, "%s%s", k ? "," : "",
                                                infos[i].users[k]);
                printf("%-*s  %-*s  %8s  %-20s  %s\n", wn, infos[i].name, ws, infos[i].source, size,
                       infos[i].created ? infos[i].created : "-", users);
        }
}

static int do_list(struct tmpl_cli *tc, int argc, char **argv)
{
        if (cli_wants_help(argc, argv, "usage: berth template list [--json]\n"))
                return 0;
        int r = parse_simple(tc, "list", argc, argv, 0);
        if (r < 0)
                return -r;
        struct berth_err err = {0};
        struct berth_template_info *infos = NULL;
        size_t n = 0;
        if (berth_template_list(data_dir(tc), &infos, &n, &err) < 0)
                return fail(tc, &err);
        if (tc->json) {
                json_t *arr = json_array();
                for (size_t i = 0; i < n; i++)
                        json_array_append_new(arr, info_doc(&infos[i]));
                print_doc(arr);
        } else {
                print_table(infos, n);
        }
        berth_template_list_free(infos, n);
        return BERTH_EXIT_OK;
}

static int do_info(struct tmpl_cli *tc, int argc, char **argv)
{
        if (cli_wants_help(argc, argv,
                           "usage: berth template info NAME\n\nPrints the template's metadata as JSON.\n"))
                return 0;
        int r = parse_simple(tc, "info", argc, argv, 1);
        if (r < 0)
                return -r;
        struct berth_err err = {0};
        struct berth_template_info info;
        if (berth_template_info(data_dir(tc), argv[optind], &info, &err) < 0)
                return fail(tc, &err);
        print_doc(info_doc(&info));
        berth_template_info_clear(&info);
        return BERTH_EXIT_OK;
}

static int do_rm(struct tmpl_cli *tc, int argc, char **argv)
{
        if (cli_wants_help(argc, argv, "usage: berth template rm NAME\n"))
                return 0;
        int r = parse_simple(tc, "rm", argc, argv, 1);
        if (r < 0)
                return -r;
        struct berth_err err = {0};
        if (berth_template_remove(data_dir(tc), argv[optind], &err) < 0)
                return fail(tc, &err);
        if (tc->json)
                print_doc(json_pack("{s:s, s:b}", "name", argv[optind], "removed", 1));
        else
                printf("template %s removed\n", argv[optind]);
        return BERTH_EXIT_OK;
}

static const struct {
        const char *name;
        int (*run)(struct tmpl_cli *tc, int argc, char **argv);
} subcommands[] = {
    {"create", do_create}, {"import", do_import}, {"list", do_list}, {"ls", do_list},
    {"info", do_info},     {"show", do_info},     {"rm", do_rm},     {"remove", do_rm},
};

int cmd_template(struct cli *cli, int argc, char **argv)
{
        static const struct option opts[] = {{"json", no_argument, NULL, OPT_JSON},
                                             {"data-dir", required_argument, NULL, OPT_DATA},
                                             {"help", no_argument, NULL, 'h'},
                                             {0}};
        struct tmpl_cli tc = {.cli = cli};
        int c;
        optind = 0;
        while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
                if (c == 'h') {
                        fputs(template_usage, stdout);
                        return 0;
                }
                if (!common_opt(&tc, c))
                        return failf(&tc, EINVAL, "template: unknown option (see 'berth template --help')");
        }
        if (optind >= argc) {
                fputs(template_usage, stderr);
                return BERTH_EXIT_INVALID;
        }
        const char *sub = argv[optind];
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(subcommands); i++) {
                if (strcmp(sub, subcommands[i].name))
                        continue;
                berth_trace(&cli->ctx, "template %s: begin (data dir %s)", sub, data_dir(&tc));
                int rc = subcommands[i].run(&tc, argc - optind, argv + optind);
                berth_trace(&cli->ctx, "template %s: done, exit code %d", sub, rc);
                return rc;
        }
        return failf(&tc, EINVAL, "template: unknown command \"%s\" (see 'berth template --help')", sub);
}
