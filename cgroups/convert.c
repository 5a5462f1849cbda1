/* SPDX-License-Identifier: GPL-2.0-or-later */
/* OCI values -> cgroupfs file values, for both versions. Pure functions,
 * unit-tested without root. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/internal.h"

/* blkio.weight [10, 1000] -> io.weight [1, 10000], linear. */
uint64_t cg_blkio_to_io_weight(uint64_t w)
{
        if (w == 0)
                return 0;
        if (w < 10)
                w = 10;
        if (w > 1000)
                w = 1000;
        return 1 + (w - 10) * 9999 / 990;
}

void cg_fmt_limit(int64_t v, char *buf, size_t len)
{
        if (v < 0)
                snprintf(buf, len, "max");
        else
                snprintf(buf, len, "%" PRId64, v);
}

/* cpu.max takes "QUOTA [PERIOD]": writing the quota alone keeps the period;
 * changing only the period needs the current quota (from `current`). */
int cg_cpu_max(const struct berth_cpu *c, const char *current, char *buf, size_t len)
{
        char q[32] = "max";
        if (!c->quota.set && !c->period.set)
                return 0;
        if (c->quota.set) {
                if (c->quota.v > 0)
                        snprintf(q, sizeof(q), "%" PRId64, c->quota.v);
        } else if (current) {
                size_t ql = strcspn(current, " \n");
                if (ql > 0 && ql < sizeof(q)) {
                        memcpy(q, current, ql);
                        q[ql] = '\0';
                }
        }
        int n =
            c->period.set ? snprintf(buf, len, "%s %" PRIu64, q, c->period.v) : snprintf(buf, len, "%s", q);
        return n;
}

/* OCI swap is memory+swap (v1 memsw semantics); v2 limits swap alone:
 * swap.max = swap - limit. Returns 1 with a value to write, 0 when swap is
 * not set. */
int cg_swap_v2(const struct berth_memory *m, int64_t *value, bool *max, struct berth_err *err)
{
        *max = false;
        *value = 0;
        if (!m->swap.set)
                return 0;
        int64_t limit = m->limit.set ? m->limit.v : -1;
        if (m->swap.v == -1 || (m->swap.v == 0 && limit == -1)) {
                *max = true; /* unlimited memory+swap: unlimited swap */
                return 1;
        }
        if (m->swap.v == 0)
                return 0;
        if (limit <= 0)
                return berth_err_set(err, EINVAL,
                                     "memory.swap: a swap limit needs memory.limit on cgroup v2");
        if (m->swap.v < limit)
                return berth_err_set(err, EINVAL,
                                     "memory.swap (%" PRId64 ") must be >= memory.limit (%" PRId64 ")",
                                     m->swap.v, limit);
        *value = m->swap.v - limit;
        return 1;
}

/* Validates a hugepage size like "2MB" / "1GB" / "64KB" and copies it. */
int cg_hugepage_size(const char *ps, char *out, size_t len)
{
        size_t d = strspn(ps, "0123456789");
        if (d == 0 || (strcmp(ps + d, "KB") != 0 && strcmp(ps + d, "MB") != 0 && strcmp(ps + d, "GB") != 0))
                return -EINVAL;
        if (strlen(ps) >= len)
                return -ENAMETOOLONG;
        strcpy(out, ps);
        return 0;
}
