/* SPDX-License-Identifier: GPL-2.0-or-later */
/* stats/events: usage, limits and how often each limit was hit, from
 * whichever hierarchy holds them (v2 files, the hybrid mirror's cpu.stat,
 * v1 controller files). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "cgroups/internal.h"

/* v1 reports "unlimited" as PAGE_COUNTER_MAX pages in bytes. */
#define V1_UNLIMITED_MIN 0x7FFFFFFFFFFFF000ull

static uint64_t u64_or(int fd, const char *file, uint64_t dflt)
{
        uint64_t v;
        return cg_read_u64(fd, file, &v, NULL) == 0 ? v : dflt;
}

static uint64_t v1_limit(uint64_t v)
{
        return v >= V1_UNLIMITED_MIN ? BERTH_CG_UNLIMITED : v;
}

static bool keyed_file(int fd, const char *file, const char *key, uint64_t *v)
{
        _cleanup_free_ char *buf = NULL;
        return cg_read(fd, file, &buf, NULL) == 0 && cg_keyed_u64(buf, key, v);
}

static void memory_v2(int fd, struct berth_cgroup_stats *st)
{
        _cleanup_free_ char *ev = NULL;
        st->memory.present = true;
        st->memory.usage = u64_or(fd, "memory.current", 0);
        st->memory.limit = u64_or(fd, "memory.max", BERTH_CG_UNLIMITED);
        st->memory.max_usage = u64_or(fd, "memory.peak", 0);
        st->memory.swap_usage = u64_or(fd, "memory.swap.current", 0);
        st->memory.swap_limit = u64_or(fd, "memory.swap.max", BERTH_CG_UNLIMITED);
        keyed_file(fd, "memory.swap.events", "max", &st->memory.swap_failcnt);
        if (cg_read(fd, "memory.events", &ev, NULL) == 0) {
                st->memory.has_events = true;
                cg_keyed_u64(ev, "low", &st->memory.ev_low);
                cg_keyed_u64(ev, "high", &st->memory.ev_high);
                cg_keyed_u64(ev, "max", &st->memory.ev_max);
                cg_keyed_u64(ev, "oom", &st->memory.ev_oom);
                cg_keyed_u64(ev, "oom_kill", &st->memory.ev_oom_kill);
                st->memory.failcnt = st->memory.ev_max;
                st->memory.has_oom_kill = true;
                st->memory.oom_kill = st->memory.ev_oom_kill;
        }
}

static void memory_v1(int fd, struct berth_cgroup_stats *st)
{
        st->memory.present = true;
        st->memory.usage = u64_or(fd, "memory.usage_in_bytes", 0);
        st->memory.limit = v1_limit(u64_or(fd, "memory.limit_in_bytes", BERTH_CG_UNLIMITED));
        st->memory.max_usage = u64_or(fd, "memory.max_usage_in_bytes", 0);
        st->memory.failcnt = u64_or(fd, "memory.failcnt", 0);
        st->memory.swap_usage = u64_or(fd, "memory.memsw.usage_in_bytes", 0);
        st->memory.swap_limit = v1_limit(u64_or(fd, "memory.memsw.limit_in_bytes", BERTH_CG_UNLIMITED));
        st->memory.swap_failcnt = u64_or(fd, "memory.memsw.failcnt", 0);
        st->memory.has_oom_kill = keyed_file(fd, "memory.oom_control", "oom_kill", &st->memory.oom_kill);
}

static void pids_any(int fd, struct berth_cgroup_stats *st)
{
        st->pids.present = true;
        st->pids.current = u64_or(fd, "pids.current", 0);
        st->pids.limit = u64_or(fd, "pids.max", BERTH_CG_UNLIMITED);
        keyed_file(fd, "pids.events", "max", &st->pids.ev_max);
}

/* cpu.stat of v2 (usec) -- also present, without controllers, in the
 * hybrid mirror. */
static void cpu_v2(int fd, struct berth_cgroup_stats *st)
{
        _cleanup_free_ char *buf = NULL;
        if (cg_read(fd, "cpu.stat", &buf, NULL) < 0)
                return;
        uint64_t v;
        st->cpu.present = true;
        if (cg_keyed_u64(buf, "usage_usec", &v))
                st->cpu.usage_ns = v * 1000;
        if (cg_keyed_u64(buf, "user_usec", &v))
                st->cpu.user_ns = v * 1000;
        if (cg_keyed_u64(buf, "system_usec", &v))
                st->cpu.system_ns = v * 1000;
        if (cg_keyed_u64(buf, "nr_periods", &st->cpu.nr_periods)) {
                st->cpu.has_throttling = true;
                cg_keyed_u64(buf, "nr_throttled", &st->cpu.nr_throttled);
                if (cg_keyed_u64(buf, "throttled_usec", &v))
                        st->cpu.throttled_ns = v * 1000;
        }
}

static void cpu_v1(struct berth_cgroup *cg, struct berth_cgroup_stats *st)
{
        struct cg_hier *h = cg_v1(cg, CG_CPU);
        int fd;
        if (h && (fd = cg_hier_fd(h, NULL)) >= 0) {
                _cleanup_free_ char *buf = NULL;
                if (cg_read(fd, "cpu.stat", &buf, NULL) == 0) {
                        st->cpu.has_throttling = true;
                        cg_keyed_u64(buf, "nr_periods", &st->cpu.nr_periods);
                        cg_keyed_u64(buf, "nr_throttled", &st->cpu.nr_throttled);
                        cg_keyed_u64(buf, "throttled_time", &st->cpu.throttled_ns);
                }
        }
        h = cg_v1(cg, CG_CPUACCT);
        if (st->cpu.present || !h || (fd = cg_hier_fd(h, NULL)) < 0)
                return;
        st->cpu.present = true;
        st->cpu.usage_ns = u64_or(fd, "cpuacct.usage", 0);
        uint64_t ns_per_tick = 1000000000ull / (uint64_t)sysconf(_SC_CLK_TCK), v;
        if (keyed_file(fd, "cpuacct.stat", "user", &v))
                st->cpu.user_ns = v * ns_per_tick;
        if (keyed_file(fd, "cpuacct.stat", "system", &v))
                st->cpu.system_ns = v * ns_per_tick;
}

static void io_any(int fd, bool v2, struct berth_cgroup_stats *st)
{
        _cleanup_free_ char *a = NULL, *b = NULL;
        if (v2) {
                if (cg_read(fd, "io.stat", &a, NULL) < 0)
                        return;
                cg_parse_io_stat(a, &st->io.read_bytes, &st->io.write_bytes, &st->io.read_ios,
                                 &st->io.write_ios);
        } else {
                if (cg_read(fd, "blkio.throttle.io_service_bytes_recursive", &a, NULL) < 0 ||
                    cg_read(fd, "blkio.throttle.io_serviced_recursive", &b, NULL) < 0)
                        return;
                cg_parse_blkio(a, &st->io.read_bytes, &st->io.write_bytes);
                cg_parse_blkio(b, &st->io.read_ios, &st->io.write_ios);
        }
        st->io.present = true;
}

int berth_cgroup_stats(struct berth_cgroup *cg, struct berth_cgroup_stats *st, struct berth_err *err)
{
        memset(st, 0, sizeof(*st));
        struct cg_hier *u = cg_unified(cg), *h;
        int fd = u ? cg_hier_fd(u, err) : -EBADF;
        if (u && fd < 0)
                return fd;
        if (cg->layout == BERTH_CG_UNIFIED) {
                memory_v2(fd, st);
                pids_any(fd, st);
                cpu_v2(fd, st);
                io_any(fd, true, st);
                return 0;
        }
        if (u)
                cpu_v2(fd, st);
        cpu_v1(cg, st);
        if ((h = cg_v1(cg, CG_MEMORY)) && (fd = cg_hier_fd(h, err)) >= 0)
                memory_v1(fd, st);
        if ((h = cg_v1(cg, CG_PIDS)) && (fd = cg_hier_fd(h, err)) >= 0)
                pids_any(fd, st);
        if ((h = cg_v1(cg, CG_BLKIO)) && (fd = cg_hier_fd(h, err)) >= 0)
                io_any(fd, false, st);
        return 0;
}
