// SPDX-License-Identifier: GPL-2.0-or-later
/* The names of a bridge's overflow bridges (berth/netns.h): derived from
 * the bridge's name alone, so that every berth finds the same ones without
 * a record of them. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "berth/netns.h"

#define IFNAME_MAX 15

/* FNV-1a, 16 bits folded: enough to tell apart the few long bridge names
 * with one beginning that a host has. */
static unsigned name_hash(const char *s)
{
        uint32_t h = 2166136261u;
        for (; *s; s++)
                h = (h ^ (unsigned char)*s) * 16777619u;
        return (h >> 16 ^ h) & 0xffff;
}

int berth_bridge_overflow_name(const char *base, unsigned n, char *out, struct berth_err *err)
{
        if (!berth_ifname_valid(base) || n < 1 || n > BERTH_BRIDGE_OVERFLOW_MAX)
                return berth_err_set(err, EINVAL, "overflow bridge %u of '%s': invalid", n, base ? base : "");
        char suffix[8];
        int slen = snprintf(suffix, sizeof(suffix), "-%u", n);
        size_t blen = strlen(base);
        if (blen + (size_t)slen <= IFNAME_MAX) {
                snprintf(out, IFNAME_MAX + 1, "%s%s", base, suffix);
                return 0;
        }
        int keep = IFNAME_MAX - slen - 4;
        snprintf(out, IFNAME_MAX + 1, "%.*s%04x%s", keep, base, name_hash(base), suffix);
        return 0;
}

unsigned berth_bridge_overflow_index(const char *base, const char *name)
{
        char want[IFNAME_MAX + 1];
        for (unsigned n = 1; name && n <= BERTH_BRIDGE_OVERFLOW_MAX; n++)
                if (berth_bridge_overflow_name(base, n, want, NULL) == 0 && !strcmp(want, name))
                        return n;
        return 0;
}
