/* SPDX-License-Identifier: GPL-2.0-or-later */
/* IP address with prefix: parsing "10.0.0.2/24" / "fd00::2/64", formatting. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "berth/netns.h"

static int parse_prefixlen(const char *s, unsigned max)
{
        if (*s < '0' || *s > '9' || strlen(s) > 3)
                return -EINVAL;
        if (s[0] == '0' && s[1] != '\0')
                return -EINVAL; /* "/024" is a typo more likely than a prefix */
        char *end;
        unsigned long v = strtoul(s, &end, 10);
        if (*end != '\0' || v > max)
                return -EINVAL;
        return (int)v;
}

int berth_ip_addr_parse(const char *s, struct berth_ip_addr *out, struct berth_err *err)
{
        char buf[INET6_ADDRSTRLEN + 8];
        struct berth_ip_addr a = {0};
        if (!s || strlen(s) >= sizeof(buf))
                return berth_err_set(err, EINVAL, "invalid IP address '%s'", s ? s : "(null)");
        strcpy(buf, s);
        char *slash = strchr(buf, '/');
        if (slash)
                *slash = '\0';
        if (inet_pton(AF_INET, buf, &a.u.v4) == 1) {
                a.family = AF_INET;
        } else if (inet_pton(AF_INET6, buf, &a.u.v6) == 1) {
                a.family = AF_INET6;
        } else {
                return berth_err_set(err, EINVAL, "invalid IP address '%s'", s);
        }
        unsigned max = a.family == AF_INET ? 32 : 128;
        int plen = slash ? parse_prefixlen(slash + 1, max) : (int)max;
        if (plen < 0)
                return berth_err_set(err, EINVAL, "invalid prefix length in '%s'", s);
        a.prefixlen = (unsigned char)plen;
        *out = a;
        return 0;
}

const char *berth_ip_addr_format(const struct berth_ip_addr *a, bool with_prefix, char *buf, size_t len)
{
        char text[INET6_ADDRSTRLEN];
        if (!a || (a->family != AF_INET && a->family != AF_INET6) ||
            !inet_ntop(a->family, a->u.raw, text, sizeof(text))) {
                snprintf(buf, len, "-");
                return buf;
        }
        if (with_prefix)
                snprintf(buf, len, "%s/%u", text, a->prefixlen);
        else
                snprintf(buf, len, "%s", text);
        return buf;
}

size_t berth_ip_addr_len(const struct berth_ip_addr *a)
{
        if (a->family == AF_INET)
                return 4;
        if (a->family == AF_INET6)
                return 16;
        return 0;
}

bool berth_ip_addr_equal(const struct berth_ip_addr *a, const struct berth_ip_addr *b)
{
        return a->family == b->family && a->prefixlen == b->prefixlen &&
               memcmp(a->u.raw, b->u.raw, berth_ip_addr_len(a)) == 0;
}

bool berth_ip_addr_is_link_local(const struct berth_ip_addr *a)
{
        if (a->family == AF_INET)
                return (ntohl(a->u.v4.s_addr) & 0xffff0000u) == 0xa9fe0000u; /* 169.254/16 */
        if (a->family == AF_INET6)
                return IN6_IS_ADDR_LINKLOCAL(&a->u.v6);
        return false;
}
