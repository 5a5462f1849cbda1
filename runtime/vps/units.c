/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Sizes and CPU counts as people write them on a command line or in
 * vps-defaults.json ("1.5G", "0.5"), into bytes and quota. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "berth/vps.h"

/* The fraction after a decimal point, as digits over a power of ten
 * (at most 6 digits count, so that digits << 40 stays within 64 bits). */
static const char *parse_fraction(const char *s, uint64_t *digits, uint64_t *scale)
{
        *digits = 0;
        *scale = 1;
        if (*s != '.')
                return s;
        for (s++; *s >= '0' && *s <= '9'; s++)
                if (*scale < 1000000) {
                        *digits = *digits * 10 + (uint64_t)(*s - '0');
                        *scale *= 10;
                }
        return s;
}

static unsigned size_shift(char unit)
{
        switch (unit) {
        case 'k':
        case 'K':
                return 10;
        case 'm':
        case 'M':
                return 20;
        case 'g':
        case 'G':
                return 30;
        case 't':
        case 'T':
                return 40;
        }
        return 0;
}

/* "512M", "1.5G", "2GiB", "1048576": binary units, as vzctl and docker. */
int berth_vps_parse_size(const char *s, int64_t *out)
{
        char *end;
        errno = 0;
        unsigned long long n = strtoull(s, &end, 10);
        if ((end == s && *end != '.') || errno || *s == '-')
                return -EINVAL;
        uint64_t digits, scale;
        const char *unit = parse_fraction(end, &digits, &scale);
        if (unit == end + 1 && end == s)
                return -EINVAL; /* "." alone */
        unsigned shift = size_shift(*unit);
        if (*unit && !shift)
                return -EINVAL;
        if (*unit && unit[1] && strcmp(unit + 1, "B") && strcmp(unit + 1, "iB"))
                return -EINVAL;
        if (scale > 1 && !shift)
                return -EINVAL; /* a fraction of a byte */
        if (n > (unsigned long long)INT64_MAX >> shift)
                return -ERANGE;
        uint64_t fraction = shift ? (digits << shift) / scale : 0;
        if ((uint64_t)(n << shift) > (uint64_t)INT64_MAX - fraction)
                return -ERANGE;
        *out = (int64_t)((n << shift) + fraction);
        return 0;
}

/* "1.5" -> 150000 with a 100000 us period; decimals beyond a thousandth
 * of a CPU are dropped. */
int berth_vps_parse_cpus(const char *s, uint64_t *quota)
{
        char *end;
        errno = 0;
        unsigned long whole = strtoul(s, &end, 10);
        if ((end == s && *end != '.') || errno || *s == '-' || whole > 4096)
                return -EINVAL;
        uint64_t digits, scale;
        const char *rest = parse_fraction(end, &digits, &scale);
        uint64_t milli = whole * 1000 + digits * 1000 / scale;
        if (*rest || (end == s && rest == end + 1) || milli == 0)
                return -EINVAL;
        /* The kernel's minimum quota is 1 ms. */
        *quota = milli * (BERTH_VPS_CPU_PERIOD / 1000);
        return *quota < 1000 ? -EINVAL : 0;
}
