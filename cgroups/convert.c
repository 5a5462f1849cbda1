/* OCI values -> cgroupfs file values, for both versions. Pure functions,
 * unit-tested without root. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cgroups/internal.h"

/* log2(x) for x >= 1 without libm (the core library does not link it):
 * the integer part from the bit length, the fraction bit by bit by
 * repeated squaring of the mantissa. */
static double log2_u64(uint64_t x)
{
        int k = 63 - __builtin_clzll(x);
        double m = (double)x / (double)(1ull << k), frac = 0, bit = 0.5;
        for (int i = 0; i < 48; i++, bit /= 2) {
                m *= m;
                if (m >= 2.0) {
                        m /= 2.0;
                        frac += bit;
                }
        }
        return k + frac;
}

/* 10^e for 0 <= e <= 4: integer power times exp(frac * ln 10) by series. */
static double pow10_small(double e)
{
        int ip = (int)e;
        double y = (e - ip) * 2.302585092994045684, term = 1, sum = 1;
        for (int i = 1; i < 40; i++) {
                term *= y / i;
                sum += term;
        }
        for (int i = 0; i < ip; i++)
                sum *= 10;
        return sum;
}

/* cpu.shares [2, 262144] -> cpu.weight [1, 10000] on a quadratic curve in
 * log space that maps the v1 default 1024 onto the v2 default 100 (the
 * old linear formula gave 39, quietly starving containers next to
 * unconfigured services): with l = log2(shares),
 * weight = 10^((l^2 + 125 l) / 612 - 7/34), rounded up. */
uint64_t cg_shares_to_weight(uint64_t shares)
{
        if (shares == 0)
                return 0;
        if (shares < 2)
                shares = 2;
        if (shares > 262144)
                shares = 262144;
        double l = log2_u64(shares);
        double e = (l * l + 125 * l) / 612.0 - 7.0 / 34.0;
        double w = pow10_small(e < 0 ? 0 : e);
        /* Round up, but not past an exact integer that the series hit
         * a hair above. */
        uint64_t iw = (uint64_t)w;
        if (w - (double)iw > 1e-6)
                iw++;
        if (iw < 1)
                iw = 1;
        if (iw > 10000)
                iw = 10000;
        return iw;
}

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
