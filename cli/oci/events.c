/* SPDX-License-Identifier: GPL-2.0-or-later */
/* events: resource usage as runc's JSON events, once (--stats) or as a
 * stream every --interval, with an "oom" event whenever the OOM killer
 * struck; plus berth's "limits" block: how often each limit was hit. */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/cgroup.h"
#include "cli/cli.h"

#define OOM_TICK_MS 250

static json_t *u64(uint64_t v)
{
        return json_integer((json_int_t)(v > INT64_MAX ? INT64_MAX : v));
}

static json_t *memory_json(const struct berth_cgroup_stats *s)
{
        json_t *usage =
            json_pack("{s:o, s:o, s:o, s:o}", "usage", u64(s->memory.usage), "limit", u64(s->memory.limit),
                      "max", u64(s->memory.max_usage), "failcnt", u64(s->memory.failcnt));
        json_t *swap =
            json_pack("{s:o, s:o}", "usage", u64(s->memory.swap_usage), "limit", u64(s->memory.swap_limit));
        return json_pack("{s:o, s:o}", "usage", usage, "swap", swap);
}

static json_t *cpu_json(const struct berth_cgroup_stats *s)
{
        json_t *usage = json_pack("{s:o, s:o, s:o}", "total", u64(s->cpu.usage_ns), "kernel",
                                  u64(s->cpu.system_ns), "user", u64(s->cpu.user_ns));
        json_t *thr = json_pack("{s:o, s:o, s:o}", "periods", u64(s->cpu.nr_periods), "throttledPeriods",
                                u64(s->cpu.nr_throttled), "throttledTime", u64(s->cpu.throttled_ns));
        return json_pack("{s:o, s:o}", "usage", usage, "throttling", thr);
}

/* The beancounter view: for every limit, how often it was hit. */
static json_t *limits_json(const struct berth_cgroup_stats *s)
{
        uint64_t oom_kill = s->memory.has_events ? s->memory.ev_oom_kill : s->memory.oom_kill;
        return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "memoryMax",
                         u64(s->memory.has_events ? s->memory.ev_max : s->memory.failcnt), "memoryHigh",
                         u64(s->memory.ev_high), "outOfMemory", u64(s->memory.ev_oom), "outOfMemoryKills",
                         u64(oom_kill), "pidsMax", u64(s->pids.ev_max), "cpuThrottledPeriods",
                         u64(s->cpu.nr_throttled));
}

static json_t *stats_json(const char *id, const struct berth_cgroup_stats *s)
{
        json_t *data = json_object();
        json_object_set_new(data, "cpu", cpu_json(s));
        json_object_set_new(data, "memory", memory_json(s));
        json_object_set_new(
            data, "pids",
            json_pack("{s:o, s:o}", "current", u64(s->pids.current), "limit", u64(s->pids.limit)));
        json_object_set_new(data, "blkio",
                            json_pack("{s:o, s:o, s:o, s:o}", "readBytes", u64(s->io.read_bytes),
                                      "writeBytes", u64(s->io.write_bytes), "readOps", u64(s->io.read_ios),
                                      "writeOps", u64(s->io.write_ios)));
        json_object_set_new(data, "limits", limits_json(s));
        return json_pack("{s:s, s:s, s:o}", "type", "stats", "id", id, "data", data);
}

static void emit(json_t *j)
{
        char *text = json_dumps(j, JSON_COMPACT);
        if (text)
                printf("%s\n", text);
        fflush(stdout);
        free(text);
        json_decref(j);
}

static uint64_t oom_kills(const struct berth_cgroup_stats *s)
{
        return s->memory.has_events ? s->memory.ev_oom_kill : s->memory.oom_kill;
}

static int parse_interval(const char *s)
{
        char *end;
        double v = strtod(s, &end);
        if (end == s || v <= 0)
                return -1;
        if (!strcmp(end, "ms"))
                return (int)v;
        if (!*end || !strcmp(end, "s"))
                return (int)(v * 1000);
        if (!strcmp(end, "m"))
                return (int)(v * 60000);
        return -1;
}

int cmd_events(struct cli *cli, int argc, char **argv)
{
        if (cli_wants_help(argc, argv,
                           "usage: berth events [--stats] [--interval 5s] CONTAINER_ID\n\n"
                           "Prints resource usage as JSON: once with --stats, else every\n"
                           "interval, plus an \"oom\" event when the OOM killer struck.\n"))
                return 0;
        static const struct option opts[] = {
            {"stats", no_argument, NULL, 's'}, {"interval", required_argument, NULL, 'i'}, {0}};
        bool once = false;
        int interval = 5000, c;
        cli_reorder_args(argc, argv, "+", opts);
        optind = 0;
        while ((c = getopt_long(argc, argv, "+", opts, NULL)) != -1) {
                if (c == 's')
                        once = true;
                else if (c != 'i' || (interval = parse_interval(optarg)) < 0) {
                        cli_errorf(cli, EINVAL, "events: invalid option or --interval");
                        return 1;
                }
        }
        if (!cli_expect_args(cli, "events", argc - optind, 1, 1))
                return 1;
        const char *id = argv[optind];
        uint64_t last_oom = UINT64_MAX;
        /* The OOM counter is checked every tick, the stats printed every
         * interval: an "oom" event comes within a tick of the kill (runc's
         * comes at once; clients wait for it a few seconds). */
        int tick = interval < OOM_TICK_MS ? interval : OOM_TICK_MS, waited = interval;
        for (;; waited += tick) {
                struct berth_cgroup_stats st;
                struct berth_err err = {0};
                if (berth_container_stats(&cli->ctx, id, &st, &err) < 0) {
                        if (once || last_oom == UINT64_MAX)
                                cli_error(cli, &err);
                        return once || last_oom == UINT64_MAX ? 1 : 0;
                }
                if (last_oom != UINT64_MAX && oom_kills(&st) > last_oom)
                        emit(json_pack("{s:s, s:s}", "type", "oom", "id", id));
                last_oom = oom_kills(&st);
                if (waited >= interval) {
                        emit(stats_json(id, &st));
                        waited = 0;
                }
                if (once)
                        return 0;
                poll(NULL, 0, tick);
        }
}
