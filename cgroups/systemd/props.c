/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OCI linux.resources -> systemd unit properties, as runc maps them on
 * cgroup v2 (systemd's names and units). Only what systemd has a simple
 * property for; berth's cgroupfs code writes every limit to the scope's
 * files afterwards anyway, so these are what keeps systemd from undoing
 * them when it rewrites the unit's cgroup (daemon-reload, a sibling's
 * change). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "berth/cpu_weight.h"
#include "cgroups/internal.h"
#include "cgroups/systemd/sdbus.h"

#define INFINITY_U64 UINT64_MAX
#define MAX_CPUS     8192

static int add_u64(sd_bus_message *m, const char *name, uint64_t v)
{
        return sd_bus_message_append(m, "(sv)", name, "t", v);
}

/* A cpu list ("0-3,7") as systemd's AllowedCPUs bitmask: bit n of byte
 * n/8. 0 bytes (and the property left out) when the list does not parse:
 * the cgroupfs write then reports it. */
static size_t cpu_mask(const char *list, uint8_t *mask, size_t size)
{
        memset(mask, 0, size);
        size_t used = 0;
        const char *p = list;
        while (*p) {
                char *end;
                unsigned long lo = strtoul(p, &end, 10), hi = lo;
                if (end == p)
                        return 0;
                if (*end == '-') {
                        p = end + 1;
                        hi = strtoul(p, &end, 10);
                        if (end == p)
                                return 0;
                }
                if (hi < lo || hi >= size * 8)
                        return 0;
                for (unsigned long c = lo; c <= hi; c++)
                        mask[c / 8] |= (uint8_t)(1u << (c % 8));
                if (hi / 8 + 1 > used)
                        used = hi / 8 + 1;
                p = *end == ',' ? end + 1 : end;
                if (*end && *end != ',')
                        return 0;
        }
        return used;
}

static int add_mask(sd_bus_message *m, const char *name, const char *list)
{
        static uint8_t mask[MAX_CPUS / 8];
        size_t n = list ? cpu_mask(list, mask, sizeof(mask)) : 0;
        if (n == 0)
                return 0;
        int r = sd_bus_message_open_container(m, 'r', "sv");
        r = r < 0 ? r : sd_bus_message_append(m, "s", name);
        r = r < 0 ? r : sd_bus_message_open_container(m, 'v', "ay");
        r = r < 0 ? r : sd_bus_message_append_array(m, 'y', mask, n);
        r = r < 0 ? r : sd_bus_message_close_container(m);
        return r < 0 ? r : sd_bus_message_close_container(m);
}

static int add_memory(sd_bus_message *m, const struct berth_memory *mem)
{
        int r = 0;
        if (mem->limit.set && mem->limit.v != 0)
                r = add_u64(m, "MemoryMax", mem->limit.v < 0 ? INFINITY_U64 : (uint64_t)mem->limit.v);
        if (r >= 0 && mem->reservation.set && mem->reservation.v > 0)
                r = add_u64(m, "MemoryLow", (uint64_t)mem->reservation.v);
        /* OCI's swap is memory+swap; v2's swap limit is the swap alone. */
        if (r >= 0 && mem->swap.set && mem->swap.v < 0)
                r = add_u64(m, "MemorySwapMax", INFINITY_U64);
        else if (r >= 0 && mem->swap.set && mem->limit.set && mem->limit.v > 0 && mem->swap.v >= mem->limit.v)
                r = add_u64(m, "MemorySwapMax", (uint64_t)(mem->swap.v - mem->limit.v));
        return r;
}

/* systemd keeps the quota per second in whole percents of a CPU: round
 * up to 10 ms, so that the cfs quota written to the file afterwards is
 * not above what systemd grants (runc does the same). */
static int add_cpu(sd_bus_message *m, const struct berth_cpu *cpu)
{
        int r = 0;
        if (cpu->shares.set && cpu->shares.v > 0)
                r = add_u64(m, "CPUWeight", berth_cpu_shares_to_weight(cpu->shares.v));
        uint64_t period = cpu->period.set && cpu->period.v ? cpu->period.v : 100000;
        if (r >= 0 && cpu->period.set && cpu->period.v)
                r = add_u64(m, "CPUQuotaPeriodUSec", period);
        if (r >= 0 && cpu->quota.set && cpu->quota.v < 0) {
                r = add_u64(m, "CPUQuotaPerSecUSec", INFINITY_U64);
        } else if (r >= 0 && cpu->quota.set && cpu->quota.v > 0) {
                uint64_t per_sec = (uint64_t)cpu->quota.v * 1000000 / period;
                if (per_sec % 10000)
                        per_sec = (per_sec / 10000 + 1) * 10000;
                r = add_u64(m, "CPUQuotaPerSecUSec", per_sec);
        }
        if (r >= 0)
                r = add_mask(m, "AllowedCPUs", cpu->cpus);
        if (r >= 0)
                r = add_mask(m, "AllowedMemoryNodes", cpu->mems);
        return r;
}

int sdbus_append_resources(sd_bus_message *m, const struct berth_resources *res)
{
        if (!res)
                return 0;
        int r = res->has_memory ? add_memory(m, &res->memory) : 0;
        if (r >= 0 && res->has_cpu)
                r = add_cpu(m, &res->cpu);
        if (r >= 0 && res->has_pids && res->pids_limit.set && res->pids_limit.v != 0)
                r = add_u64(m, "TasksMax",
                            res->pids_limit.v < 0 ? INFINITY_U64 : (uint64_t)res->pids_limit.v);
        /* The same conversion as the io.weight file gets. */
        if (r >= 0 && res->has_blkio && res->blkio.weight.set && res->blkio.weight.v)
                r = add_u64(m, "IOWeight", cg_blkio_to_io_weight(res->blkio.weight.v));
        return r;
}
