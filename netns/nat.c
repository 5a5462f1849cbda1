// SPDX-License-Identifier: GPL-2.0-or-later
/* Outbound NAT of a bridge (berth/nft.h): a way out for guests with
 * private addresses, in berth's own table "ip berth_nat", one base chain
 * per bridge so that a bridge's NAT comes and goes without touching
 * another's. The rule names the uplink (the interface of the host's IPv4
 * default route) as libvirt and Incus do with their outbound interface:
 * traffic between the bridge and other local networks keeps its source. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "berth/cleanup.h"
#include "berth/netns.h"
#include "berth/nft.h"
#include "netns/nft_nl.h"

#define NAT_TABLE "ip berth_nat"

/* Part of a chain name in the script, unquoted (nft 1.0.6 takes no
 * quoted name in "list chain"): letters, digits, '_', '-' and '.' only. */
static int check_bridge(const char *bridge, struct berth_err *err)
{
        if (!berth_ifname_valid(bridge) ||
            bridge[strspn(bridge, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.")])
                return berth_err_set(err, EINVAL, "NAT: invalid bridge name '%s'", bridge ? bridge : "");
        return 0;
}

/* The interface of the IPv4 default route of the main table. */
static int default_uplink(char out[IF_NAMESIZE], struct berth_err *err)
{
        _cleanup_nl_ struct berth_nl *nl = berth_nl_open(err);
        if (!nl)
                return -(err && err->code ? err->code : EIO);
        struct berth_route routes[64];
        int n = berth_route_list(nl, AF_INET, routes, BERTH_ARRAY_SIZE(routes), err);
        if (n < 0)
                return n;
        for (int i = 0; i < n && i < (int)BERTH_ARRAY_SIZE(routes); i++)
                if (routes[i].dst.prefixlen == 0 && routes[i].oif > 0 &&
                    if_indextoname((unsigned)routes[i].oif, out))
                        return 0;
        return berth_err_set(err, ENETUNREACH,
                             "NAT: the host has no IPv4 default route to masquerade out of");
}

/* The network of a (host bits cleared). */
static void network_of(const struct berth_ip_addr *a, struct berth_ip_addr *net)
{
        *net = *a;
        uint32_t h = ntohl(a->u.v4.s_addr);
        uint32_t mask = a->prefixlen ? ~0u << (32 - a->prefixlen) : 0;
        net->u.v4.s_addr = htonl(h & mask);
}

static int forwarding_on(const char *ifname, struct berth_err *err)
{
        char key[64];
        snprintf(key, sizeof(key), "ipv4/conf/%s/forwarding", ifname);
        return berth_sysctl_net_write(-1, key, "1", err);
}

int berth_nat_apply(const char *bridge, const struct berth_ip_addr *subnet, char *uplink,
                    struct berth_err *err)
{
        char up[IF_NAMESIZE], net[BERTH_IP_ADDR_STRLEN];
        int r = check_bridge(bridge, err);
        if (r < 0)
                return r;
        if (!subnet || subnet->family != AF_INET || subnet->prefixlen == 0)
                return berth_err_set(err, EINVAL, "NAT on %s: the bridge has no IPv4 subnet (--gateway4)",
                                     bridge);
        if ((r = default_uplink(up, err)) < 0)
                return berth_err_wrap(err, "NAT on %s", bridge);
        struct berth_ip_addr n;
        network_of(subnet, &n);
        berth_ip_addr_format(&n, true, net, sizeof(net));
        _cleanup_free_ char *text = NULL;
        if (asprintf(&text,
                     "add table " NAT_TABLE "\n"
                     "add chain " NAT_TABLE " post_%s { type nat hook postrouting priority srcnat; "
                     "policy accept; }\n"
                     "flush chain " NAT_TABLE " post_%s\n"
                     "add rule " NAT_TABLE " post_%s ip saddr %s ip daddr != %s oifname \"%s\" counter "
                     "masquerade\n",
                     bridge, bridge, bridge, net, net, up) < 0)
                return berth_err_set(err, ENOMEM, "out of memory");
        char what[64];
        snprintf(what, sizeof(what), "NAT on %s", bridge);
        r = nft_run_text(text, what, err);
        /* Replies come back in on the uplink: it forwards too. */
        if (r >= 0)
                r = forwarding_on(bridge, err);
        if (r >= 0)
                r = forwarding_on(up, err);
        if (r >= 0 && uplink)
                snprintf(uplink, IF_NAMESIZE, "%s", up);
        return r < 0 ? berth_err_wrap(err, "NAT on %s", bridge) : 0;
}

int berth_nat_remove(const char *bridge, struct berth_err *err)
{
        int r = check_bridge(bridge, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *text = NULL;
        /* Made if missing, emptied and deleted, in one transaction. */
        if (asprintf(&text,
                     "add table " NAT_TABLE "\n"
                     "add chain " NAT_TABLE " post_%s { type nat hook postrouting priority srcnat; "
                     "policy accept; }\n"
                     "flush chain " NAT_TABLE " post_%s\n"
                     "delete chain " NAT_TABLE " post_%s\n",
                     bridge, bridge, bridge) < 0)
                return berth_err_set(err, ENOMEM, "out of memory");
        return nft_run_text(text, "remove NAT", err);
}

int berth_nat_active(const char *bridge, struct berth_err *err)
{
        int r = check_bridge(bridge, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *text = NULL;
        if (asprintf(&text, "list chain " NAT_TABLE " post_%s\n", bridge) < 0)
                return berth_err_set(err, ENOMEM, "out of memory");
        r = nft_run_text(text, "NAT status", err);
        if (r == -ENOENT) {
                berth_err_clear(err);
                return 0;
        }
        return r < 0 ? r : 1;
}
