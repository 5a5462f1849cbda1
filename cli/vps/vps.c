/* SPDX-License-Identifier: GPL-2.0-or-later */
/* berth vps: virtual private servers (create, start, stop, restart,
 * destroy, set, exec, enter; status, list and console are in
 * show.c). Parsing and output only: the work is in runtime/vps/. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/cleanup.h"
#include "cli/vps/vps_cli.h"

static const char vps_usage[] =
    "usage: berth [global options] vps [--data-dir DIR] [--json] COMMAND [options] NAME\n\n"
    "Virtual private servers: persistent system containers booted from templates.\n\n"
    "Commands:\n"
    "  create NAME --template T [options]   define a VPS (copies nothing)\n"
    "  start NAME... | --all [--autostart]  boot\n"
    "  stop NAME... | --all [--timeout S]   graceful stop, killed after S seconds (default 30)\n"
    "  restart NAME [--timeout S]           stop and start\n"
    "  destroy NAME... | --all [--force]    remove everything (--force: also a running VPS)\n"
    "  set NAME [options]                   change limits and addresses (live when running)\n"
    "  exec NAME -- CMD [ARG...]            run a command inside; exits with its code\n"
    "  enter NAME [--shell PATH]            interactive shell on a pseudo-terminal\n"
    "  console NAME [--follow|--attach]     the guest's console (log, or interactive)\n"
    "  status NAME                          state, addresses, limits, usage, limit hits\n"
    "  list                                 every VPS\n"
    "  repair [NAME|--all] [--dry-run]      fix what a crash left inconsistent\n"
    "  snapshot NAME SNAP                   take a snapshot (running or not)\n"
    "  snapshot-list NAME                   its snapshots\n"
    "  snapshot-restore NAME SNAP [--force] roll back (--force: stop and start it)\n"
    "  snapshot-delete NAME SNAP            delete a snapshot\n"
    "  backup NAME FILE|- [--with-template] one archive of the VPS (running: frozen)\n"
    "  restore FILE|- [--name N] [--ip A]   make the VPS of an archive again\n"
    "  clone SRC DST [--ip ADDR]            a new VPS copied from another\n"
    "  migrate NAME [USER@]HOST             move to another host over ssh (offline)\n"
    "  receive NAME                         migrate's other half (started over ssh)\n\n"
    "Every command takes --json (one JSON document on stdout) and --data-dir DIR\n"
    "(default $BERTH_DATA or " BERTH_VPS_DEFAULT_DATA ").\n"
    "Exit codes: 0 ok, 2 invalid argument, 3 not found, 4 already exists,\n"
    "5 wrong state, 6 resource or system error, 1 anything else.\n";

static const char create_usage[] =
    "usage: berth vps create NAME --template T [options]\n\n"
    "  --template, -t T       template under <data>/templates/T (required)\n"
    "  --ip ADDR[/PREFIX]     an IPv4 or IPv6 address (repeatable; bridged: the\n"
    "                         gateway's prefix when none is given)\n"
    "  --net bridged|routed   network mode (default bridged)\n"
    "  --bridge NAME          bridged: host bridge (default " BERTH_VPS_DEFAULT_BRIDGE ")\n"
    "  --gateway4 ADDR/P      bridged: bridge address and IPv4 gateway (default " BERTH_VPS_DEFAULT_GW4 ")\n"
    "                         routed: gateway on the host end (default " BERTH_NET_DEFAULT_GW4 ")\n"
    "  --gateway6 ADDR/P      likewise for IPv6 (default " BERTH_VPS_DEFAULT_GW6 " / " BERTH_NET_DEFAULT_GW6
    ")\n"
    "  --hostname H           host name (default NAME)\n"
    "  --nameserver IP        written to /etc/resolv.conf at start (repeatable)\n"
    "  --memory SIZE          memory limit (512M, 2G)\n"
    "  --swap SIZE            swap beyond the memory limit (needs --memory)\n"
    "  --cpus N               CPU time, in CPUs (1.5)\n"
    "  --cpu-weight N         CPU share, 1..10000 (100 = default)\n"
    "  --pids N               maximum number of processes\n"
    "  --disk SIZE            disk space for everything the VPS writes (10G): a\n"
    "                         project quota where the data file system has one,\n"
    "                         else an ext4 image of its own; df in the guest shows it\n"
    "  --inodes N             files it may have (needs --disk; default SIZE/16K)\n"
    "  --io-read RATE         bytes per second read from its disk (50M)\n"
    "  --io-write RATE        bytes per second written\n"
    "  --iops-read N          read operations per second\n"
    "  --iops-write N         write operations per second\n"
    "  --init PATH            the guest's init (default: the template's, else /sbin/init)\n"
    "  --stop-signal SIG      signal for a graceful stop (default: the template's, else TERM)\n"
    "  --autostart            start with 'vps start --all --autostart' (at boot)\n"
    "  --mac MAC              the guest's MAC (default: a random locally administered one,\n"
    "                         kept across restarts)\n"
    "  --no-filter            no network filter: the guest may use any address and\n"
    "                         reach every host service (for hosts without nf_tables)\n"
    "  --userns auto|none|ID  the guest's ids: auto (default) a range of its own, so\n"
    "                         its root is an unprivileged host uid; ID: the host id\n"
    "                         of its root; none: its root is host root (UNSAFE:\n"
    "                         only for a fully trusted guest)\n"
    "  --allow-io-uring       let the guest use io_uring (refused by default: its\n"
    "                         operations bypass the seccomp filter)\n"
    "  --device tun|fuse|ppp  give the guest /dev/net/tun, /dev/fuse or /dev/ppp\n"
    "                         (repeatable, or a comma list)\n"
    "  --nat                  bridged: the bridge masquerades its IPv4 subnet out of\n"
    "                         the host's default route (outbound access)\n"
    "  --rate-in RATE         bandwidth to the guest (100mbit, 1gbit, 10M bytes/s)\n"
    "  --rate-out RATE        bandwidth from the guest\n"
    "Limits not given come from $BERTH_CONFIG_DIR/vps-defaults.json (default\n"
    "/etc/berth/vps-defaults.json): {\"memory\": \"1G\", \"swap\": \"512M\",\n"
    "\"cpus\": \"1.5\", \"cpu_weight\": 100, \"pids\": 1024, \"disk\": \"10G\",\n"
    "\"io_write\": \"50M\"} (also inodes, io_read, iops_read, iops_write); create warns when\n"
    "the VPS ends up without a memory or pids limit.\n";

static const char set_usage[] =
    "usage: berth vps set NAME [options]\n\n"
    "Saved, and applied at once to a running VPS.\n"
    "  --memory SIZE|none  --swap SIZE|none  --cpus N|none  --cpu-weight N|none\n"
    "  --pids N|none       --ip-add ADDR[/P] (repeatable)   --ip-del ADDR (repeatable)\n"
    "  --disk SIZE         grows live; shrinks below usage are refused (image\n"
    "                      backend: shrinks only while stopped)\n"
    "  --inodes N          (project backend; an image's grow with --disk)\n"
    "  --io-read RATE|none --io-write RATE|none --iops-read N|none --iops-write N|none\n"
    "  --hostname H        --stop-signal SIG   --autostart | --no-autostart\n"
    "  --allow-io-uring | --no-allow-io-uring  io_uring in the guest (next start)\n"
    "  --mac MAC           --filter | --no-filter\n"
    "  --nameserver IP|none  the guest's /etc/resolv.conf (repeatable; live)\n"
    "  --nat | --no-nat    bridged: masquerade the bridge's subnet (--nat: live)\n"
    "  --rate-in RATE|none --rate-out RATE|none  bandwidth to / from the guest (live)\n"
    "  --device LIST|none  the guest's devices: tun, fuse, ppp (repeatable or a comma\n"
    "                      list; replaces the set; next start)\n";

/* Appends to a NULL-terminated vector borrowing argv's strings. */
static int push(const char ***v, const char *s)
{
        size_t n = 0;
        while (*v && (*v)[n])
                n++;
        const char **nv = realloc(*v, (n + 2) * sizeof(char *));
        if (!nv)
                return -ENOMEM;
        nv[n] = s;
        nv[n + 1] = NULL;
        *v = nv;
        return 0;
}

enum {
        O_BRIDGE = 256,
        O_GW4,
        O_GW6,
        O_NS,
        O_INIT,
        O_STOPSIG,
        O_AUTO,
        O_NOAUTO,
        O_IPADD,
        O_IPDEL,
        O_URING,
        O_NOURING,
        O_MAC,
        O_FILTER,
        O_NOFILTER,
        O_DISK,
        O_INODES,
        O_IORD,
        O_IOWR,
        O_IOPSRD,
        O_IOPSWR,
        O_DEVICE,
        O_NAT,
        O_NONAT,
        O_RATEIN,
        O_RATEOUT
};

/* The "is set" flag of limit option c in l, or NULL for another option. */
static bool *limit_flag(struct berth_vps_limits *l, int c)
{
        switch (c) {
        case 'm':
                return &l->has_memory;
        case 's':
                return &l->has_swap;
        case 'c':
                return &l->has_cpus;
        case 'w':
                return &l->has_cpu_weight;
        case 'p':
                return &l->has_pids;
        case O_DISK:
                return &l->has_disk;
        case O_INODES:
                return &l->has_inodes;
        case O_IORD:
                return &l->has_io_rbps;
        case O_IOWR:
                return &l->has_io_wbps;
        case O_IOPSRD:
                return &l->has_io_riops;
        case O_IOPSWR:
                return &l->has_io_wiops;
        }
        return NULL;
}

/* Limit values; "none" (set) clears. Returns 0, or -EINVAL. */
static int parse_limit(int c, const char *s, struct berth_vps_limits *set, struct berth_vps_limits *clear)
{
        bool *flag = limit_flag(set, c);
        if (!flag)
                return -EINVAL;
        if (clear && (!strcmp(s, "none") || !strcmp(s, "unlimited")))
                return *limit_flag(clear, c) = true, 0;
        *flag = true;
        char *end = NULL;
        switch (c) {
        case 'm':
                return berth_vps_parse_size(s, &set->memory);
        case 's':
                return berth_vps_parse_size(s, &set->swap);
        case 'c':
                return berth_vps_parse_cpus(s, &set->cpu_quota);
        case 'w':
                set->cpu_weight = strtoull(s, &end, 10);
                break;
        case O_DISK:
                return berth_vps_parse_size(s, &set->disk);
        case O_IORD:
                return berth_vps_parse_size(s, &set->io_rbps);
        case O_IOWR:
                return berth_vps_parse_size(s, &set->io_wbps);
        case O_INODES:
                set->inodes = strtoll(s, &end, 10);
                break;
        case O_IOPSRD:
                set->io_riops = strtoll(s, &end, 10);
                break;
        case O_IOPSWR:
                set->io_wiops = strtoll(s, &end, 10);
                break;
        default: /* 'p' */
                set->pids = strtoll(s, &end, 10);
                break;
        }
        return *s && !*end ? 0 : -EINVAL;
}

static int create_opt(struct vps_cli *vc, int c, struct berth_vps_create_opts *o, const char ***ips,
                      const char ***ns, const char ***devs)
{
        switch (c) {
        case O_DEVICE:
                return push(devs, optarg);
        case 't':
                o->template_name = optarg;
                return 0;
        case 'i':
                return push(ips, optarg);
        case 'H':
                o->hostname = optarg;
                return 0;
        case O_NS:
                return push(ns, optarg);
        case O_BRIDGE:
                o->bridge = optarg;
                return 0;
        case O_GW4:
                o->gw4 = optarg;
                return 0;
        case O_GW6:
                o->gw6 = optarg;
                return 0;
        case O_INIT:
                o->init = optarg;
                return 0;
        case O_STOPSIG:
                o->stop_signal = optarg;
                return 0;
        case O_AUTO:
                o->autostart = true;
                return 0;
        case O_MAC:
                o->mac = optarg;
                return 0;
        case O_NOFILTER:
                o->no_filter = true;
                return 0;
        case O_NAT:
                o->nat = true;
                return 0;
        case O_RATEIN:
                o->rate_in = optarg;
                return 0;
        case O_RATEOUT:
                o->rate_out = optarg;
                return 0;
        case 'U':
                o->userns = optarg;
                return 0;
        case O_URING:
                o->allow_io_uring = true;
                return 0;
        case 'n':
                if (strcmp(optarg, "bridged") && strcmp(optarg, "routed"))
                        return vps_failf(vc, EINVAL, "--net: bridged or routed, not \"%s\"", optarg);
                o->mode = strcmp(optarg, "routed") ? BERTH_NET_BRIDGED : BERTH_NET_ROUTED;
                return 0;
        case 'm':
        case 's':
        case 'c':
        case 'w':
        case 'p':
        case O_DISK:
        case O_INODES:
        case O_IORD:
        case O_IOWR:
        case O_IOPSRD:
        case O_IOPSWR:
                if (parse_limit(c, optarg, &o->limits, NULL) < 0)
                        return vps_failf(vc, EINVAL, "invalid limit value \"%s\"", optarg);
                return 0;
        default:
                return vps_common_opt(vc, c) ? 0
                                             : vps_failf(vc, EINVAL, "create: unknown option (see --help)");
        }
}

/* The settings both create and set take: limits, host name, stop signal,
 * autostart, io_uring, MAC, filter (and --json, --data-dir). */
// clang-format off
#define VPS_SETTING_OPTS \
        {"memory", required_argument, NULL, 'm'}, {"swap", required_argument, NULL, 's'}, \
        {"cpus", required_argument, NULL, 'c'}, {"cpu-weight", required_argument, NULL, 'w'}, \
        {"pids", required_argument, NULL, 'p'}, {"hostname", required_argument, NULL, 'H'}, \
        {"stop-signal", required_argument, NULL, O_STOPSIG}, {"autostart", no_argument, NULL, O_AUTO}, \
        {"allow-io-uring", no_argument, NULL, O_URING}, {"mac", required_argument, NULL, O_MAC}, \
        {"no-filter", no_argument, NULL, O_NOFILTER}, {"device", required_argument, NULL, O_DEVICE}, \
        {"disk", required_argument, NULL, O_DISK}, \
        {"inodes", required_argument, NULL, O_INODES}, {"io-read", required_argument, NULL, O_IORD}, \
        {"io-write", required_argument, NULL, O_IOWR}, {"iops-read", required_argument, NULL, O_IOPSRD}, \
        {"iops-write", required_argument, NULL, O_IOPSWR}, {"nat", no_argument, NULL, O_NAT}, \
        {"rate-in", required_argument, NULL, O_RATEIN}, {"rate-out", required_argument, NULL, O_RATEOUT}, \
        VPS_COMMON_OPTS
// clang-format on

/* Prints the VPS's configuration (text: its name) after create/set. */
static int print_config(struct vps_cli *vc, const char *name, const char *what)
{
        struct berth_vps_config cfg;
        struct berth_err err = {0};
        if (berth_vps_config_load(&vc->v, name, &cfg, &err) < 0)
                return vps_fail(vc, &err);
        if (vc->json)
                vps_print_json(vps_config_doc(&cfg));
        else
                printf("%s %s\n", what, name);
        berth_vps_config_clear(&cfg);
        return 0;
}

static int cmd_create_vps(struct vps_cli *vc, int argc, char **argv)
{
        static const struct option opts[] = {{"template", required_argument, NULL, 't'},
                                             {"ip", required_argument, NULL, 'i'},
                                             {"net", required_argument, NULL, 'n'},
                                             {"nameserver", required_argument, NULL, O_NS},
                                             {"bridge", required_argument, NULL, O_BRIDGE},
                                             {"gateway4", required_argument, NULL, O_GW4},
                                             {"gateway6", required_argument, NULL, O_GW6},
                                             {"init", required_argument, NULL, O_INIT},
                                             {"userns", required_argument, NULL, 'U'},
                                             VPS_SETTING_OPTS,
                                             {0}};
        if (cli_wants_help(argc, argv, create_usage))
                return 0;
        struct berth_vps_create_opts o = {.mode = BERTH_NET_BRIDGED};
        _cleanup_free_ const char **ips = NULL, **ns = NULL, **devs = NULL;
        int c, code;
        while ((c = getopt_long(argc, argv, "t:i:n:H:m:s:c:w:p:", opts, NULL)) != -1)
                if ((code = create_opt(vc, c, &o, &ips, &ns, &devs)) != 0)
                        return code < 0 ? vps_failf(vc, ENOMEM, "out of memory") : code;
        if (argc - optind != 1)
                return vps_failf(vc, EINVAL, "create: expects one NAME (see 'berth vps create --help')");
        if (!o.template_name)
                return vps_failf(vc, EINVAL, "create: --template is required");
        o.name = argv[optind];
        o.ips = ips;
        o.nameservers = ns;
        o.devices = devs;
        struct berth_err err = {0};
        if (berth_vps_create(&vc->v, &o, &err) < 0)
                return vps_fail(vc, &err);
        return print_config(vc, o.name, "created");
}

static int set_opt(struct vps_cli *vc, int c, struct berth_vps_change *ch, const char ***add,
                   const char ***del, const char ***devs, const char ***ns)
{
        switch (c) {
        case O_NS:
                return push(ns, optarg);
        case O_NAT:
        case O_NONAT:
                ch->nat = c == O_NAT;
                return 0;
        case O_RATEIN:
                ch->rate_in = optarg;
                return 0;
        case O_RATEOUT:
                ch->rate_out = optarg;
                return 0;
        case O_DEVICE:
                return push(devs, optarg);
        case O_IPADD:
                return push(add, optarg);
        case O_IPDEL:
                return push(del, optarg);
        case 'H':
                ch->hostname = optarg;
                return 0;
        case O_STOPSIG:
                ch->stop_signal = optarg;
                return 0;
        case O_AUTO:
                ch->autostart = 1;
                return 0;
        case O_NOAUTO:
                ch->autostart = 0;
                return 0;
        case O_URING:
        case O_NOURING:
                ch->allow_io_uring = c == O_URING;
                return 0;
        case O_MAC:
                ch->mac = optarg;
                return 0;
        case O_FILTER:
        case O_NOFILTER:
                ch->filter = c == O_FILTER;
                return 0;
        case 'm':
        case 's':
        case 'c':
        case 'w':
        case 'p':
        case O_DISK:
        case O_INODES:
        case O_IORD:
        case O_IOWR:
        case O_IOPSRD:
        case O_IOPSWR:
                if (parse_limit(c, optarg, &ch->set, &ch->clear) < 0)
                        return vps_failf(vc, EINVAL, "invalid limit value \"%s\"", optarg);
                return 0;
        default:
                return vps_common_opt(vc, c) ? 0 : vps_failf(vc, EINVAL, "set: unknown option (see --help)");
        }
}

static int cmd_set_vps(struct vps_cli *vc, int argc, char **argv)
{
        static const struct option opts[] = {{"ip-add", required_argument, NULL, O_IPADD},
                                             {"ip-del", required_argument, NULL, O_IPDEL},
                                             {"no-autostart", no_argument, NULL, O_NOAUTO},
                                             {"no-allow-io-uring", no_argument, NULL, O_NOURING},
                                             {"filter", no_argument, NULL, O_FILTER},
                                             {"no-nat", no_argument, NULL, O_NONAT},
                                             {"nameserver", required_argument, NULL, O_NS},
                                             VPS_SETTING_OPTS,
                                             {0}};
        if (cli_wants_help(argc, argv, set_usage))
                return 0;
        struct berth_vps_change ch = {.autostart = -1, .allow_io_uring = -1, .filter = -1, .nat = -1};
        _cleanup_free_ const char **add = NULL, **del = NULL, **devs = NULL, **ns = NULL;
        int c, code;
        while ((c = getopt_long(argc, argv, "H:m:s:c:w:p:", opts, NULL)) != -1)
                if ((code = set_opt(vc, c, &ch, &add, &del, &devs, &ns)) != 0)
                        return code < 0 ? vps_failf(vc, ENOMEM, "out of memory") : code;
        if (argc - optind != 1)
                return vps_failf(vc, EINVAL, "set: expects one NAME");
        ch.ip_add = add;
        ch.ip_del = del;
        ch.devices = devs;
        ch.nameservers = ns;
        struct berth_err err = {0};
        if (berth_vps_set(&vc->v, argv[optind], &ch, &err) < 0)
                return vps_fail(vc, &err);
        return print_config(vc, argv[optind], "updated");
}

/* ---- start, stop, restart, destroy: one or more VPS ------------------------ */

struct life_opts {
        bool all, autostart_only, force;
        int timeout;
        const char *shell;
};

typedef int (*vps_action)(struct vps_cli *vc, const char *name, const struct life_opts *lo, json_t *res,
                          struct berth_err *err);

static int act_start(struct vps_cli *vc, const char *name, const struct life_opts *lo, json_t *res,
                     struct berth_err *err)
{
        int r = berth_vps_start(&vc->v, name, err);
        if (r >= 0)
                json_object_set_new(res, "state", json_string("running"));
        return r;
}

static int act_stop(struct vps_cli *vc, const char *name, const struct life_opts *lo, json_t *res,
                    struct berth_err *err)
{
        bool forced = false;
        int r = berth_vps_stop(&vc->v, name, lo->timeout, &forced, err);
        if (r >= 0) {
                json_object_set_new(res, "state", json_string("stopped"));
                json_object_set_new(res, "forced", json_boolean(forced));
        }
        return r;
}

static int act_restart(struct vps_cli *vc, const char *name, const struct life_opts *lo, json_t *res,
                       struct berth_err *err)
{
        berth_trace(vc->v.ctx, "VPS %s: restart: stop, then start", name);
        int r = act_stop(vc, name, lo, res, err);
        if (r == -ESRCH) { /* restart of a stopped VPS is a start */
                berth_trace(vc->v.ctx, "VPS %s: restart: it was not running", name);
                r = 0;
        }
        return r < 0 ? r : act_start(vc, name, lo, res, err);
}

static int act_destroy(struct vps_cli *vc, const char *name, const struct life_opts *lo, json_t *res,
                       struct berth_err *err)
{
        int r = berth_vps_destroy(&vc->v, name, lo->force, err);
        if (r >= 0)
                json_object_set_new(res, "state", json_string("destroyed"));
        return r;
}

/* Records one VPS's outcome in res (appended to arr) and, in text mode,
 * prints it; *code keeps the exit code of the first failure. */
static void report(struct vps_cli *vc, json_t *arr, json_t *res, int r, const struct berth_err *err,
                   int *code)
{
        const char *name = json_string_value(json_object_get(res, "name"));
        if (r < 0) {
                int c = berth_exit_code_from_errno(err->code);
                *code = *code ? *code : c;
                cli_error(vc->cli, err);
                json_object_set_new(res, "error", json_string(err->msg));
                json_object_set_new(res, "exit_code", json_integer(c));
        } else if (!vc->json) {
                json_t *f = json_object_get(res, "forced");
                printf("%s %s%s\n", name, json_string_value(json_object_get(res, "state")),
                       json_is_true(f) ? " (killed after the timeout)" : "");
        }
        json_array_append_new(arr, res);
}

/* One name: one object; several (or --all): an array. */
static void print_results(struct vps_cli *vc, json_t *arr, const struct life_opts *lo)
{
        if (vc->json)
                vps_print_json(json_array_size(arr) == 1 && !lo->all ? json_incref(json_array_get(arr, 0))
                                                                     : json_incref(arr));
        json_decref(arr);
}

/* Runs act on each name in turn; the exit code is that of the first failure. */
static int run_each(struct vps_cli *vc, char **names, vps_action act, const struct life_opts *lo)
{
        json_t *arr = json_array();
        int code = 0;
        for (size_t i = 0; names[i]; i++) {
                json_t *res = json_pack("{s:s}", "name", names[i]);
                struct berth_err err = {0};
                int r = act(vc, names[i], lo, res, &err);
                report(vc, arr, res, r, &err, &code);
        }
        print_results(vc, arr, lo);
        return code;
}

/* stop: all names together (one deadline for all, see berth_vps_stop_many). */
static int stop_each(struct vps_cli *vc, char **names, const struct life_opts *lo)
{
        size_t n = 0;
        while (names[n])
                n++;
        _cleanup_free_ struct berth_vps_stop_result *res = calloc(n ? n : 1, sizeof(*res));
        if (!res)
                return vps_failf(vc, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++)
                res[i].name = names[i];
        berth_vps_stop_many(&vc->v, res, n, lo->timeout);
        json_t *arr = json_array();
        int code = 0;
        for (size_t i = 0; i < n; i++) {
                json_t *doc = json_pack("{s:s}", "name", names[i]);
                if (res[i].r >= 0) {
                        json_object_set_new(doc, "state", json_string("stopped"));
                        json_object_set_new(doc, "forced", json_boolean(res[i].forced));
                }
                report(vc, arr, doc, res[i].r, &res[i].err, &code);
        }
        print_results(vc, arr, lo);
        return code;
}

/* destroy: in turn; with several, the id-range registry is pruned once at
 * the end instead of rewritten at each (berth_vps_ctx.defer_id_release). */
static int destroy_each(struct vps_cli *vc, char **names, const struct life_opts *lo)
{
        vc->v.defer_id_release = names[0] && names[1];
        int code = run_each(vc, names, act_destroy, lo);
        struct berth_err err = {0};
        if (vc->v.defer_id_release && berth_vps_idrange_prune(&vc->v, &err) < 0)
                berth_warn(vc->v.ctx,
                           "%s; the destroyed VPS's user-id ranges stay taken until `berth vps repair`",
                           err.msg);
        vc->v.defer_id_release = false;
        return code;
}

static int life_each(struct vps_cli *vc, char **names, vps_action act, const struct life_opts *lo)
{
        if (act == act_stop)
                return stop_each(vc, names, lo);
        return act == act_destroy ? destroy_each(vc, names, lo) : run_each(vc, names, act, lo);
}

/* --all: every VPS (start: not running ones, --autostart: marked ones;
 * stop: running ones; destroy: all). */
static int select_all(struct vps_cli *vc, vps_action act, const struct life_opts *lo, char ***out)
{
        struct berth_err err = {0};
        _cleanup_strv_ char **names = NULL;
        if (berth_vps_list_names(&vc->v, &names, &err) < 0)
                return vps_fail(vc, &err);
        size_t n = 0, k = 0;
        while (names[n])
                n++;
        char **sel = calloc(n + 1, sizeof(char *));
        if (!sel)
                return vps_failf(vc, ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                struct berth_vps_status st;
                if (act != act_destroy && berth_vps_state_get(&vc->v, names[i], &st, &err) < 0)
                        continue;
                bool want = act == act_destroy ? true : act == act_stop ? st.running : !st.running;
                if (want && act == act_start && lo->autostart_only) {
                        struct berth_vps_config cfg;
                        if (berth_vps_config_load(&vc->v, names[i], &cfg, &err) < 0)
                                continue;
                        want = cfg.autostart;
                        berth_vps_config_clear(&cfg);
                }
                if (want)
                        if ((sel[k] = strdup(names[i])))
                                k++;
        }
        *out = sel;
        return 0;
}

static int cmd_life(struct vps_cli *vc, int argc, char **argv, vps_action act, const char *usage)
{
        static const struct option opts[] = {{"all", no_argument, NULL, 'a'},
                                             {"autostart", no_argument, NULL, 'A'},
                                             {"timeout", required_argument, NULL, 'T'},
                                             {"force", no_argument, NULL, 'f'},
                                             VPS_COMMON_OPTS,
                                             {0}};
        if (cli_wants_help(argc, argv, usage))
                return 0;
        struct life_opts lo = {.timeout = BERTH_VPS_DEFAULT_TIMEOUT};
        char *end;
        int c;
        while ((c = getopt_long(argc, argv, "afT:", opts, NULL)) != -1) {
                if (c == 'a')
                        lo.all = true;
                else if (c == 'A')
                        lo.autostart_only = true;
                else if (c == 'f')
                        lo.force = true;
                else if (c == 'T' && ((lo.timeout = (int)strtol(optarg, &end, 10)) < 0 || *end || !*optarg))
                        return vps_failf(vc, EINVAL, "--timeout: seconds, not \"%s\"", optarg);
                else if (c != 'T' && !vps_common_opt(vc, c))
                        return vps_failf(vc, EINVAL, "%s: unknown option (see --help)", vc->verb);
        }
        bool multi = act == act_start || act == act_stop || act == act_destroy;
        if ((lo.all && (!multi || optind < argc)) || (!lo.all && optind >= argc) ||
            (!multi && argc - optind != 1))
                return vps_failf(vc, EINVAL, "%s: expects %s", vc->verb,
                                 multi ? "NAME... or --all" : "one NAME");
        if (lo.autostart_only && !(lo.all && act == act_start))
                return vps_failf(vc, EINVAL, "--autostart goes with start --all");
        if (!lo.all)
                return life_each(vc, argv + optind, act, &lo);
        /* At boot after a crash: what the crash left goes first (each fix
         * a warning); a failed repair stops nothing. */
        if (lo.autostart_only) {
                struct berth_vps_repair_opts ro = {0};
                struct berth_vps_repair_counts rn;
                struct berth_err rerr = {0};
                if (berth_vps_repair(&vc->v, &ro, &rn, &rerr) < 0)
                        berth_warn(vc->v.ctx, "vps repair: %s", rerr.msg);
        }
        _cleanup_strv_ char **names = NULL;
        int code = select_all(vc, act, &lo, &names);
        if (code)
                return code;
        return life_each(vc, names, act, &lo);
}

/* ---- exec, enter ------------------------------------------------------------ */

/* exec's own failures exit 125 (usage included), never a code its command
 * could also return; with --json the error document is exec's only output,
 * so it never mixes with the command's. */
static int cmd_exec_vps(struct vps_cli *vc, int argc, char **argv)
{
        static const struct option opts[] = {{"tty", no_argument, NULL, 't'}, VPS_COMMON_OPTS, {0}};
        if (cli_wants_help(argc, argv, "usage: berth vps exec NAME [--tty] -- CMD [ARG...]\n"))
                return 0;
        bool tty = false;
        int c;
        while ((c = getopt_long(argc, argv, "t", opts, NULL)) != -1)
                if (c == 't')
                        tty = true;
                else if (!vps_common_opt(vc, c))
                        return vps_fail_code(vc, EINVAL, 125, "exec: unknown option");
        if (argc - optind < 2)
                return vps_fail_code(vc, EINVAL, 125, "exec: expects NAME -- CMD [ARG...]");
        const char *name = argv[optind++];
        if (!strcmp(argv[optind], "--"))
                optind++;
        if (optind >= argc)
                return vps_fail_code(vc, EINVAL, 125, "exec: no command after --");
        struct berth_err err = {0};
        int exit_code = 0;
        if (berth_vps_exec(&vc->v, name, argv + optind, NULL, tty, &exit_code, &err) < 0)
                return vps_fail_code(vc, err.code, exit_code, "%s", err.msg);
        return exit_code;
}

static int cmd_enter_vps(struct vps_cli *vc, int argc, char **argv)
{
        static const struct option opts[] = {{"shell", required_argument, NULL, 'S'}, VPS_COMMON_OPTS, {0}};
        if (cli_wants_help(argc, argv,
                           "usage: berth vps enter NAME [--shell PATH]\n\n"
                           "An interactive login shell on a new pty: PATH, or root's shell\n"
                           "from the guest's /etc/passwd. Needs a terminal on stdin.\n"))
                return 0;
        const char *shell = NULL;
        int c;
        while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1)
                if (c == 'S')
                        shell = optarg;
                else if (!vps_common_opt(vc, c))
                        return vps_fail_code(vc, EINVAL, 125, "enter: unknown option");
        if (argc - optind != 1)
                return vps_fail_code(vc, EINVAL, 125, "enter: expects one NAME");
        /* Without a terminal the shell would wait for a line nobody types. */
        if (!isatty(STDIN_FILENO))
                return vps_fail_code(vc, ENOTTY, 125,
                                     "enter: stdin is not a terminal (use vps exec NAME -- CMD)");
        struct berth_err err = {0};
        int exit_code = 0;
        /* No console socket: the runtime relays the pty to our terminal. */
        if (berth_vps_enter(&vc->v, argv[optind], shell, &exit_code, &err) < 0)
                return vps_fail_code(vc, err.code, exit_code, "%s", err.msg);
        return exit_code;
}

/* ---- dispatch ------------------------------------------------------------------ */

static const struct {
        const char *name;
        int (*run)(struct vps_cli *vc, int argc, char **argv);
        vps_action act;
        const char *usage;
} subverbs[] = {
    {"create", cmd_create_vps, NULL, NULL},
    {"set", cmd_set_vps, NULL, NULL},
    {"start", NULL, act_start, "usage: berth vps start NAME... | --all [--autostart]\n"},
    {"stop", NULL, act_stop,
     "usage: berth vps stop NAME... | --all [--timeout S]\n\n"
     "Sends the stop signal to the init, waits up to S seconds (default 30),\n"
     "then kills every process. --timeout 0 kills at once. Several VPS stop\n"
     "together: all are signalled first, then share one deadline.\n"},
    {"restart", NULL, act_restart, "usage: berth vps restart NAME [--timeout S]\n"},
    {"destroy", NULL, act_destroy,
     "usage: berth vps destroy NAME... | --all [--force]\n\n"
     "Removes the VPS, its layers, network and container; a running VPS\n"
     "needs --force. --all: every VPS of the data directory, one after\n"
     "another in this one process (a host's thousands in one command).\n"},
    {"exec", cmd_exec_vps, NULL, NULL},
    {"enter", cmd_enter_vps, NULL, NULL},
    {"status", vps_cmd_status, NULL, NULL},
    {"list", vps_cmd_list, NULL, NULL},
    {"console", vps_cmd_console, NULL, NULL},
    {"repair", vps_cmd_repair, NULL, NULL},
    {"snapshot", vps_cmd_snapshot, NULL, NULL},
    {"snapshot-list", vps_cmd_snapshot_list, NULL, NULL},
    {"snapshot-restore", vps_cmd_snapshot_restore, NULL, NULL},
    {"snapshot-delete", vps_cmd_snapshot_delete, NULL, NULL},
    {"backup", vps_cmd_backup, NULL, NULL},
    {"restore", vps_cmd_restore, NULL, NULL},
    {"clone", vps_cmd_clone, NULL, NULL},
    {"migrate", vps_cmd_migrate, NULL, NULL},
    {"receive", vps_cmd_receive, NULL, NULL},
};

/* Options given before the command: --json, --data-dir DIR. */
static int leading_opts(struct vps_cli *vc, int argc, char **argv)
{
        int i = 1;
        for (; i < argc && argv[i][0] == '-'; i++) {
                if (!strcmp(argv[i], "--json"))
                        vc->json = true;
                else if (!strcmp(argv[i], "--data-dir") && i + 1 < argc)
                        vc->v.data_dir = argv[++i];
                else if (!strncmp(argv[i], "--data-dir=", 11))
                        vc->v.data_dir = argv[i] + 11;
                else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
                        return -1;
                else
                        return -2;
        }
        return i;
}

int cmd_vps(struct cli *cli, int argc, char **argv)
{
        const char *env = getenv("BERTH_DATA");
        struct vps_cli vc = {.cli = cli,
                             .v = {.ctx = &cli->ctx, .data_dir = env && *env ? env : BERTH_VPS_DEFAULT_DATA}};
        int first = leading_opts(&vc, argc, argv);
        if (first == -1 || (first > 0 && first >= argc && argc == 1)) {
                fputs(vps_usage, first == -1 ? stdout : stderr);
                return first == -1 ? 0 : BERTH_EXIT_INVALID;
        }
        if (first < 0 || first >= argc)
                return vps_failf(&vc, EINVAL, "vps: expects a command (see 'berth vps --help')");
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(subverbs); i++) {
                if (strcmp(subverbs[i].name, argv[first]))
                        continue;
                char verb[32];
                snprintf(verb, sizeof(verb), "vps %s", subverbs[i].name);
                vc.verb = verb;
                optind = 0;
                if (subverbs[i].run)
                        return subverbs[i].run(&vc, argc - first, argv + first);
                return cmd_life(&vc, argc - first, argv + first, subverbs[i].act, subverbs[i].usage);
        }
        return vps_failf(&vc, EINVAL, "vps: unknown command \"%s\" (see 'berth vps --help')", argv[first]);
}
