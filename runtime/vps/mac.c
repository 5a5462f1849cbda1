/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A VPS's MAC address: stable across restarts (vps.json), chosen at
 * create or given with --mac, so that neighbours' caches and the network
 * filter hold. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>

#include "runtime/vps/internal.h"

int vps_mac_parse(const char *s, unsigned char mac[6])
{
        unsigned b[6];
        char end;
        if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &end) != 6 ||
            strlen(s) != 17)
                return -EINVAL;
        unsigned any = 0;
        for (size_t i = 0; i < 6; i++) {
                mac[i] = (unsigned char)b[i];
                any |= b[i];
        }
        return (mac[0] & 1) || !any ? -EINVAL : 0; /* multicast bit, or all zero */
}

void vps_mac_format(const unsigned char mac[6], char out[18])
{
        snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

int vps_mac_random(unsigned char mac[6], struct berth_err *err)
{
        if (getrandom(mac, 6, 0) != 6)
                return berth_err_sys(err, errno, "random MAC address");
        mac[0] = (unsigned char)((mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
        return 0;
}
