/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth vps status, list and console: what a VPS is and does. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "cli/vps/vps_cli.h"

static json_t *addrs_doc(const struct berth_vps_net *n)
{
        json_t *a = json_array();
        for (size_t i = 0; a && i < n->n_addrs; i++) {
                char buf[BERTH_IP_ADDR_STRLEN];
                json_array_append_new(
                    a, json_string(berth_ip_addr_format(&n->addrs[i], true, buf, sizeof(buf))));
        }
        return a;
}

static json_t *opt_int(bool has, int64_t v)
{
        return has ? json_integer(v) : json_null();
}

/* Limits as a person gives them: bytes, CPUs, weight, processes; null =
 * unlimited. */
static json_t *limits_doc(const struct berth_vps_limits *l)
{
        json_t *cpus = l->has_cpus ? json_real((double)l->cpu_quota / BERTH_VPS_CPU_PERIOD) : json_null();
        return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "memory",
                         opt_int(l->has_memory, l->memory), "swap", opt_int(l->has_swap, l->swap), "cpus",
                         cpus, "cpu_weight", opt_int(l->has_cpu_weight, (int64_t)l->cpu_weight), "pids",
                         opt_int(l->has_pids, l->pids), "disk", opt_int(l->has_disk, l->disk), "inodes",
                         opt_int(l->has_inodes, l->inodes), "io_read", opt_int(l->has_io_rbps, l->io_rbps),
                         "io_write", opt_int(l->has_io_wbps, l->io_wbps), "iops_read",
                         opt_int(l->has_io_riops, l->io_riops), "iops_write",
                         opt_int(l->has_io_wiops, l->io_wiops));
}

/* The guest's id range: "none" for a privileged VPS (its root is host root). */
static json_t *userns_doc(const struct berth_vps_userns *u)
{
        if (!u->enabled)
                return json_string("none");
        return json_pack("{s:I, s:I}", "host_id", (json_int_t)u->host_id, "size", (json_int_t)u->size);
}

/* The --device names, as a list. */
static json_t *devices_doc(unsigned set)
{
        char names[64];
        berth_vps_devices_format(set, names, sizeof(names));
        json_t *a = json_array();
        char *save = NULL;
        for (char *w = strtok_r(names, ",", &save); a && w; w = strtok_r(NULL, ",", &save))
                json_array_append_new(a, json_string(w));
        return a;
}

json_t *vps_config_doc(const struct berth_vps_config *cfg)
{
        char g4[BERTH_IP_ADDR_STRLEN], g6[BERTH_IP_ADDR_STRLEN];
        json_t *ns = json_array();
        for (size_t i = 0; ns && i < cfg->net.n_nameservers; i++)
                json_array_append_new(ns, json_string(cfg->net.nameservers[i]));
        json_t *doc = json_pack(
            "{s:s, s:s, s:s, s:b, s:s?, s:o, s:{s:s, s:s?, s:s, s:s?, s:s?, s:o}, s:o, s:o}", "name",
            cfg->name, "template", cfg->template_name, "hostname", cfg->hostname, "autostart", cfg->autostart,
            "created", cfg->created, "addresses", addrs_doc(&cfg->net), "net", "mode",
            cfg->net.mode == BERTH_NET_ROUTED ? "routed" : "bridged", "bridge",
            cfg->net.bridge[0] ? cfg->net.bridge : NULL, "host_if", cfg->net.host_if, "gateway4",
            cfg->net.gw4.family ? berth_ip_addr_format(&cfg->net.gw4, true, g4, sizeof(g4)) : NULL,
            "gateway6",
            cfg->net.gw6.family ? berth_ip_addr_format(&cfg->net.gw6, true, g6, sizeof(g6)) : NULL,
            "nameservers", ns, "limits", limits_doc(&cfg->limits), "userns", userns_doc(&cfg->userns));
        json_object_set_new(doc, "devices", devices_doc(cfg->devices));
        vps_bandwidth_config_doc(json_object_get(doc, "net"), cfg);
        return doc;
}

/* The disk as the VPS sees it (df), its backend; null without a limit. */
static json_t *disk_doc(const struct berth_vps_config *cfg, const struct berth_vps_status *st)
{
        if (!st->has_disk)
                return json_null();
        json_t *d =
            json_pack("{s:s, s:I, s:I, s:I, s:I}", "backend", berth_vps_disk_backend_name(cfg->disk.backend),
                      "used", (json_int_t)st->disk_used, "size", (json_int_t)st->disk_total, "inodes_used",
                      (json_int_t)st->inodes_used, "inodes", (json_int_t)st->inodes_total);
        /* How often it hit the limits, and what that count is (null: not
         * counted, e.g. never started). */
        /* An image's file system (null for a project quota). */
        json_object_set_new(d, "fs",
                            cfg->disk.backend == BERTH_VPS_DISK_IMAGE
                                ? json_string(berth_vps_disk_fs_name(cfg->disk.fs))
                                : json_null());
        json_object_set_new(d, "disk_limit_hits", opt_int(st->has_disk_hits, (int64_t)st->disk_limit_hits));
        json_object_set_new(d, "inode_limit_hits", opt_int(st->has_disk_hits, (int64_t)st->inode_limit_hits));
        json_object_set_new(d, "hits_counted",
                            st->has_disk_hits ? json_string(st->hits_counted) : json_null());
        return d;
}

/* Bytes and operations done on the disk's device while running. */
static json_t *io_doc(const struct berth_vps_status *st)
{
        if (!st->has_io)
                return json_null();
        return json_pack("{s:I, s:I, s:I, s:I}", "read_bytes", (json_int_t)st->io_read_bytes, "write_bytes",
                         (json_int_t)st->io_write_bytes, "read_ops", (json_int_t)st->io_read_ops, "write_ops",
                         (json_int_t)st->io_write_ops);
}

static json_t *u64(uint64_t v)
{
        return v == BERTH_CG_UNLIMITED ? json_null() : json_integer((json_int_t)v);
}

/* How often each limit was hit: memory (allocations failed at the limit,
 * v1 failcnt or v2 events "max"), OOM kills, forks refused at pids.max,
 * periods throttled by the CPU quota. */
static json_t *hits_doc(const struct berth_cgroup_stats *s)
{
        uint64_t mem = s->memory.has_events ? s->memory.ev_max : s->memory.failcnt;
        uint64_t oom = s->memory.has_events ? s->memory.ev_oom_kill : s->memory.oom_kill;
        return json_pack("{s:I, s:I, s:I, s:I}", "memory", (json_int_t)mem, "oom_kills", (json_int_t)oom,
                         "pids", (json_int_t)s->pids.ev_max, "cpu_throttled",
                         (json_int_t)s->cpu.nr_throttled);
}

static json_t *usage_doc(const struct berth_cgroup_stats *s)
{
        return json_pack("{s:o, s:o, s:o, s:o, s:o}", "memory",
                         s->memory.present ? u64(s->memory.usage) : json_null(), "memory_max",
                         s->memory.present ? u64(s->memory.max_usage) : json_null(), "pids",
                         s->pids.present ? u64(s->pids.current) : json_null(), "cpu_ns",
                         s->cpu.present ? u64(s->cpu.usage_ns) : json_null(), "cpu_throttled_ns",
                         s->cpu.has_throttling ? u64(s->cpu.throttled_ns) : json_null());
}

static json_t *status_doc(const struct berth_vps_config *cfg, const struct berth_vps_status *st)
{
        json_t *doc = vps_config_doc(cfg);
        if (!doc)
                return NULL;
        json_object_set_new(doc, "state",
                            json_string(st->damaged   ? "damaged"
                                        : st->running ? "running"
                                                      : "stopped"));
        if (st->damaged)
                json_object_set_new(doc, "damage", json_string(st->damage));
        json_object_set_new(doc, "pid", st->running ? json_integer(st->pid) : json_null());
        json_object_set_new(doc, "usage", st->has_stats ? usage_doc(&st->stats) : json_null());
        json_object_set_new(doc, "limit_hits", st->has_stats ? hits_doc(&st->stats) : json_null());
        /* Whether the guest sees its own limits in /proc (lxcfs). */
        json_object_set_new(doc, "lxcfs", st->running ? json_boolean(st->lxcfs) : json_null());
        json_object_set_new(doc, "disk", disk_doc(cfg, st));
        json_object_set_new(doc, "io", io_doc(st));
        json_object_set_new(doc, "snapshots", json_integer((json_int_t)st->snapshots));
        json_object_set_new(doc, "bandwidth", vps_bandwidth_status_doc(st));
        return doc;
}

static void print_value(const char *key, json_t *v)
{
        if (json_is_object(v)) {
                const char *k;
                json_t *e;
                json_object_foreach(v, k, e)
                {
                        char sub[64];
                        snprintf(sub, sizeof(sub), "%s.%s", key, k);
                        print_value(sub, e);
                }
                return;
        }
        char human[512];
        if (vps_human_value(key, v, human, sizeof(human))) {
                printf("%-24s %s\n", key, human);
                return;
        }
        char *text =
            json_is_string(v) ? strdup(json_string_value(v)) : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        printf("%-24s %s\n", key, json_is_null(v) ? "-" : text ? text : "?");
        free(text);
}

static int load_both(struct vps_cli *vc, const char *name, struct berth_vps_config *cfg,
                     struct berth_vps_status *st)
{
        struct berth_err err = {0};
        if (berth_vps_config_load(&vc->v, name, cfg, &err) < 0)
                return vps_fail(vc, &err);
        if (berth_vps_status_get(&vc->v, name, st, &err) < 0) {
                berth_vps_config_clear(cfg);
                return vps_fail(vc, &err);
        }
        if (st->damaged)
                berth_warn(vc->v.ctx,
                           "VPS %s: its container state is damaged (%s); `berth vps %s %s` clears it", name,
                           st->damage, st->running ? "stop" : "repair", name);
        return 0;
}

/* Options only (--json, --data-dir), then exactly n_args names. */
static int simple_args(struct vps_cli *vc, int argc, char **argv, int n_args)
{
        static const struct option opts[] = {VPS_COMMON_OPTS, {0}};
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
                if (!vps_common_opt(vc, c))
                        return vps_failf(vc, EINVAL, "%s: unknown option (see --help)", vc->verb);
        if (argc - optind != n_args)
                return vps_failf(vc, EINVAL, "%s: expects %s", vc->verb, n_args ? "one NAME" : "no argument");
        return 0;
}

int vps_cmd_status(struct vps_cli *vc, int argc, char **argv)
{
        if (cli_wants_help(argc, argv, "usage: berth vps status NAME [--json]\n"))
                return 0;
        int code = simple_args(vc, argc, argv, 1);
        if (code)
                return code;
        struct berth_vps_config cfg;
        struct berth_vps_status st;
        if ((code = load_both(vc, argv[optind], &cfg, &st)))
                return code;
        _cleanup_json_ json_t *doc = status_doc(&cfg, &st);
        berth_vps_config_clear(&cfg);
        if (!doc)
                return vps_failf(vc, ENOMEM, "out of memory");
        if (vc->json) {
                vps_print_json(TAKE_PTR(doc));
                return 0;
        }
        const char *k;
        json_t *e;
        json_object_foreach(doc, k, e) print_value(k, e);
        return 0;
}

static void print_row(json_t *doc)
{
        char a[512];
        if (!vps_human_list(json_object_get(doc, "addresses"), a, sizeof(a)))
                snprintf(a, sizeof(a), "-");
        json_t *pid = json_object_get(doc, "pid");
        char pidbuf[24] = "-";
        if (json_is_integer(pid))
                snprintf(pidbuf, sizeof(pidbuf), "%lld", (long long)json_integer_value(pid));
        printf("%-20s %-8s %-8s %-16s %s\n", json_string_value(json_object_get(doc, "name")),
               json_string_value(json_object_get(doc, "state")), pidbuf,
               json_string_value(json_object_get(doc, "template")), a);
}

int vps_cmd_list(struct vps_cli *vc, int argc, char **argv)
{
        if (cli_wants_help(argc, argv, "usage: berth vps list [--json]\n"))
                return 0;
        int code = simple_args(vc, argc, argv, 0);
        if (code)
                return code;
        struct berth_err err = {0};
        _cleanup_strv_ char **names = NULL;
        if (berth_vps_list_names(&vc->v, &names, &err) < 0)
                return vps_fail(vc, &err);
        _cleanup_json_ json_t *arr = json_array();
        for (size_t i = 0; names[i]; i++) {
                struct berth_vps_config cfg;
                struct berth_vps_status st;
                /* A VPS with a broken vps.json is listed, with its error. */
                if (berth_vps_config_load(&vc->v, names[i], &cfg, &err) < 0) {
                        json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "name", names[i], "state",
                                                             "broken", "error", err.msg));
                        continue;
                }
                /* The usage of a running VPS too: status_get reads it anyway. */
                if (berth_vps_status_get(&vc->v, names[i], &st, &err) < 0)
                        memset(&st, 0, sizeof(st));
                json_array_append_new(arr, status_doc(&cfg, &st));
                berth_vps_config_clear(&cfg);
        }
        if (vc->json) {
                vps_print_json(TAKE_PTR(arr));
                return 0;
        }
        printf("%-20s %-8s %-8s %-16s %s\n", "NAME", "STATE", "PID", "TEMPLATE", "ADDRESSES");
        size_t i;
        json_t *e;
        json_array_foreach(arr, i, e) print_row(e);
        return 0;
}

/* Copies what is new in fd to stdout, through esc unless it is NULL;
 * returns false on a read error. */
static bool drain(int fd, struct vps_escape *esc)
{
        char buf[8192];
        for (;;) {
                ssize_t n = read(fd, buf, sizeof(buf));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        return n == 0;
                if (esc)
                        vps_escape_write(esc, buf, (size_t)n, false, stdout);
                else
                        fwrite(buf, 1, (size_t)n, stdout);
        }
}

/* --follow: new output as it is written (inotify), until the init exits
 * (its pidfd) or we are interrupted. */
static int follow(int fd, pid_t pid, const char *path, struct vps_escape *esc)
{
        _cleanup_close_ int ino = inotify_init1(IN_CLOEXEC);
        _cleanup_close_ int pidfd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -EBADF;
        if (ino < 0 || inotify_add_watch(ino, path, IN_MODIFY) < 0 || pidfd < 0)
                return -errno;
        struct pollfd p[2] = {{.fd = ino, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
        for (;;) {
                fflush(stdout);
                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        return -errno;
                if (p[0].revents) {
                        char ev[4096];
                        if (read(ino, ev, sizeof(ev)) < 0 && errno != EAGAIN && errno != EINTR)
                                return -errno;
                }
                if (!drain(fd, esc))
                        return -errno;
                if (p[1].revents)
                        return 0;
        }
}

static int console_args(struct vps_cli *vc, int argc, char **argv, bool *follow, bool *attach, bool *raw)
{
        static const struct option opts[] = {{"follow", no_argument, NULL, 'f'},
                                             {"attach", no_argument, NULL, 'a'},
                                             {"raw", no_argument, NULL, 'r'},
                                             VPS_COMMON_OPTS,
                                             {0}};
        int c;
        while ((c = getopt_long(argc, argv, "far", opts, NULL)) != -1)
                if (c == 'f' || c == 'a')
                        *(c == 'f' ? follow : attach) = true;
                else if (c == 'r')
                        *raw = true;
                else if (!vps_common_opt(vc, c))
                        return vps_failf(vc, EINVAL, "%s: unknown option (see --help)", vc->verb);
        if (argc - optind != 1)
                return vps_failf(vc, EINVAL, "%s: expects one NAME", vc->verb);
        if (*follow && *attach)
                return vps_failf(vc, EINVAL, "%s: --follow and --attach exclude each other", vc->verb);
        return 0;
}

int vps_cmd_console(struct vps_cli *vc, int argc, char **argv)
{
        if (cli_wants_help(argc, argv,
                           "usage: berth vps console NAME [--follow|--attach] [--raw] [--json]\n\n"
                           "What the guest wrote on its console in the current (or last) boot.\n"
                           "On a terminal, control characters show as \\xNN (the guest's escape\n"
                           "sequences do not reach this terminal); to a pipe or file, as written.\n"
                           "  --follow   go on printing new output until the VPS stops\n"
                           "  --attach   interactive: the console on this terminal (Ctrl-] detaches)\n"
                           "  --raw      the guest's bytes as they are, on a terminal too\n"))
                return 0;
        bool fol = false, attach = false, raw = false;
        int code = console_args(vc, argc, argv, &fol, &attach, &raw);
        if (code)
                return code;
        const char *name = argv[optind];
        struct berth_vps_config cfg;
        struct berth_vps_status st;
        if ((code = load_both(vc, name, &cfg, &st)))
                return code;
        berth_vps_config_clear(&cfg);
        if (attach) {
                struct berth_err err = {0};
                if (berth_vps_console_attach(&vc->v, name, &err) < 0)
                        return vps_fail(vc, &err);
                return 0;
        }
        char path[PATH_MAX];
        berth_vps_path(&vc->v, name, "console.log", path, sizeof(path));
        _cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno != ENOENT)
                return vps_failf(vc, errno, "console of VPS %s: open %s: %s", name, path, strerror(errno));
        if (vc->json) {
                char *text = NULL;
                size_t len = 0;
                FILE *m = open_memstream(&text, &len);
                char buf[8192];
                ssize_t n;
                while (fd >= 0 && m && (n = read(fd, buf, sizeof(buf))) > 0)
                        fwrite(buf, 1, (size_t)n, m);
                if (m)
                        fclose(m);
                vps_print_json(
                    json_pack("{s:s, s:s%}", "name", name, "log", text ? text : "", text ? len : 0));
                free(text);
                return 0;
        }
        if (fd < 0)
                return 0; /* never started */
        /* Escaped on a terminal only: scripts reading a pipe or a file get
         * the log as the guest wrote it, as before. */
        struct vps_escape escape = {0};
        struct vps_escape *esc = !raw && isatty(STDOUT_FILENO) ? &escape : NULL;
        if (!drain(fd, esc))
                return vps_failf(vc, errno, "console of VPS %s: read: %s", name, strerror(errno));
        if (fol && st.running && follow(fd, st.pid, path, esc) < 0)
                return vps_failf(vc, errno, "console of VPS %s: follow: %s", name, strerror(errno));
        if (esc)
                vps_escape_write(esc, NULL, 0, true, stdout);
        return 0;
}
