// SPDX-License-Identifier: GPL-2.0-or-later
/* Overflow bridges: a Linux bridge takes at most 1023 ports, so the VPS of
 * a bridged network beyond that go onto bridges <bridge>-1, -2, ...
 * (berth_bridge_overflow_name), made when the first VPS needs one and
 * removed with the last that leaves it, like the bridge itself.
 *
 * The guests keep their addresses, prefixes and gateway, and reach each
 * other across bridges through the host at layer 3:
 *
 *   - an overflow bridge carries the gateway as a host address (/32,
 *     /128), so the guests on it reach their gateway and the host has one
 *     connected route to the subnet only, the bridge's;
 *   - each address of a guest on an overflow bridge has a host route to
 *     it (protocol BERTH_RTPROT_BRIDGE, so that a later command finds and
 *     deletes it whatever became of the VPS), which wins over the
 *     subnet's route by its length;
 *   - proxy ARP on every bridge of the group (and IPv4 forwarding, which
 *     proxy ARP needs) answers a guest's ARP for an address whose route
 *     leaves through another bridge with the bridge's MAC: neighbours on
 *     the same bridge still answer for themselves, since their route leaves
 *     where the question came in.
 *
 * The filters (berth/nft.h) hook the host end whatever its bridge; the
 * bridge's NAT matches the subnet, so it covers the overflow bridges;
 * the shapers sit on the host end. IPv6 guests on an overflow bridge reach
 * the host and the outside through their gateway (a /128 route each); IPv6
 * between guests on different bridges would need one proxy NDP entry per
 * guest and bridge and is not done. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/netns.h"
#include "berth/nft.h"
#include "runtime/vps/net_bridges.h"

/* The lock is on the network namespace's own inode (nsfs keeps one per
 * namespace while anything holds it open): every berth whose bridges live
 * there meets on it, whatever its mount namespace or state directory, and
 * there is no lock file to leave behind. Without it another VPS's
 * teardown could find a bridge that a start had made but not yet joined
 * without ports, and remove it under the start. */
int net_bridges_lock(int op, struct berth_err *err)
{
        _cleanup_close_ int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_err_sys(err, errno, "open /proc/thread-self/ns/net");
        int r;
        while ((r = flock(fd, op)) < 0 && errno == EINTR)
                ;
        if (r < 0)
                return berth_err_sys(err, errno, "lock the bridges of the network namespace");
        return TAKE_FD(fd);
}

int net_tolerate(int r, int ok_errno, struct berth_err *err)
{
        if (r == -ok_errno) {
                berth_err_clear(err);
                return 0;
        }
        return r;
}

int net_conf_sysctl(const char *proto, const char *ifname, const char *leaf, const char *value,
                    struct berth_err *err)
{
        char key[128];
        snprintf(key, sizeof(key), "%s/conf/%s/%s", proto, ifname, leaf);
        return berth_sysctl_net_write(-1, key, value, err);
}

int net_bridge_full(struct berth_nl *nl, const char *br, unsigned max, struct berth_err *err)
{
        if (!max)
                return 0;
        /* Counting costs a message per port: only with the test knob. */
        int n = net_tolerate(berth_link_count_ports(nl, br, err), ENODEV, err);
        return n < 0 ? n : (unsigned)n >= max;
}

static struct berth_ip_addr host_prefix(const struct berth_ip_addr *a)
{
        struct berth_ip_addr h = *a;
        h.prefixlen = a->family == AF_INET ? 32 : 128;
        return h;
}

/* Proxy ARP answers only where the packets may be forwarded, and by
 * default after a random delay of up to 0.8 s (proxy_delay, for a router
 * that should lose to the real owner): here no one else answers. */
static int proxy_arp_on(const char *br, struct berth_err *err)
{
        char key[64];
        int r = net_conf_sysctl("ipv4", br, "forwarding", "1", err);
        if (r >= 0)
                r = net_conf_sysctl("ipv4", br, "proxy_arp", "1", err);
        snprintf(key, sizeof(key), "ipv4/neigh/%s/proxy_delay", br);
        return r < 0 ? r : berth_sysctl_net_write(-1, key, "0", err);
}

/* Made when missing. "Up" is the last step of its setup, so an overflow
 * bridge that is up is finished and costs a start one netlink lookup; one
 * a killed start left down is set up again by the next. The sysctls are
 * the slow part: the first lookup of a /proc/sys/net file costs time in
 * proportion to the network namespaces on the host (~2-5 ms each at 2500
 * VPS), and every start past the first bridge's 1023 ports came here. */
static int overflow_ensure(struct berth_nl *nl, const char *base, const char *br,
                           const struct berth_ip_addr *gw4, const struct berth_ip_addr *gw6,
                           struct berth_err *err)
{
        struct berth_link_info info;
        int r = berth_link_get(nl, br, &info, err);
        if (r >= 0 && strcmp(info.kind, "bridge") != 0)
                return berth_err_set(err, EEXIST, "overflow bridge %s: exists and is not a bridge", br);
        if (r >= 0 && (info.flags & IFF_UP))
                return 0;
        if (r == -ENODEV) {
                berth_err_clear(err);
                r = net_tolerate(berth_link_add_bridge(nl, br, NULL, 0, err), EEXIST, err);
        }
        /* As the bridge: no routes learned from the guests' RAs. */
        if (r >= 0)
                r = net_tolerate(net_conf_sysctl("ipv6", br, "accept_ra", "0", err), ENOENT, err);
        struct berth_ip_addr h;
        if (r >= 0 && gw4->family && (h = host_prefix(gw4), true))
                r = berth_addr_add(nl, br, &h, BERTH_ADDR_REPLACE, err);
        if (r >= 0 && gw6->family && (h = host_prefix(gw6), true))
                r = berth_addr_add(nl, br, &h, BERTH_ADDR_REPLACE | BERTH_ADDR_NODAD, err);
        /* The group answers ARP for the guests across its bridges. */
        if (r >= 0 && gw4->family)
                r = proxy_arp_on(br, err);
        if (r >= 0 && gw4->family)
                r = proxy_arp_on(base, err);
        return r < 0 ? r : berth_link_set_up(nl, br, true, err);
}

int net_bridge_route_add(struct berth_nl *nl, const char *br, const struct berth_ip_addr *a,
                         struct berth_err *err)
{
        struct berth_route rt = {.dst = host_prefix(a), .dev = br, .protocol = BERTH_RTPROT_BRIDGE};
        /* A route a killed run left, to whichever bridge, goes first. */
        struct berth_route old = {.dst = rt.dst, .protocol = BERTH_RTPROT_BRIDGE};
        int r = net_tolerate(berth_route_del(nl, &old, err), ESRCH, err);
        return r < 0 ? r : berth_route_add(nl, &rt, err);
}

static int routes_add(struct berth_nl *nl, const struct berth_net_config *c, const char *br,
                      struct berth_err *err)
{
        int r = 0;
        for (size_t i = 0; r >= 0 && i < c->n_addrs; i++)
                r = net_bridge_route_add(nl, br, &c->addrs[i], err);
        return r;
}

int net_bridge_routes_del(struct berth_nl *nl, const struct berth_net_config *c,
                          const struct berth_ip_addr *a, struct berth_err *err)
{
        int r = 0;
        for (size_t i = 0; r >= 0 && i < (a ? 1 : c->n_addrs); i++) {
                struct berth_route rt = {.dst = host_prefix(a ? a : &c->addrs[i]),
                                         .protocol = BERTH_RTPROT_BRIDGE};
                r = net_tolerate(berth_route_del(nl, &rt, err), ESRCH, err);
        }
        return r;
}

/* Tries overflow bridge br: 1 when host_if is on it, 0 when it is full. */
static int overflow_try(struct berth_nl *nl, const struct berth_net_config *c, const char *br,
                        const struct berth_ip_addr *gw4, const struct berth_ip_addr *gw6,
                        struct berth_err *err)
{
        int r = overflow_ensure(nl, c->bridge, br, gw4, gw6, err);
        if (r >= 0)
                r = net_bridge_full(nl, br, c->bridge_ports_max, err);
        if (r != 0)
                return r < 0 ? r : 0;
        r = berth_link_set_master(nl, c->host_if, br, err);
        if (r == -EXFULL)
                return net_tolerate(r, EXFULL, err);
        return r < 0 ? r : 1;
}

/* The guest's neighbours on the other bridges of the group may hold its
 * MAC from a life on their bridge: they learn the proxy's now. */
static int announce_on(struct berth_nl *nl, const struct berth_net_config *c, const char *br,
                       struct berth_err *err)
{
        int r = 0;
        for (size_t i = 0; r >= 0 && i < c->n_addrs; i++)
                r = net_tolerate(berth_neigh_announce(nl, br, &c->addrs[i], err), ENETDOWN, err);
        return net_tolerate(r, ENODEV, err);
}

static int announce_moved(struct berth_nl *nl, const struct berth_net_config *c, const char *used,
                          struct berth_err *err)
{
        int r = if_nametoindex(c->bridge) ? announce_on(nl, c, c->bridge, err) : 0;
        for (unsigned n = 1; r >= 0 && n <= BERTH_BRIDGE_OVERFLOW_MAX; n++) {
                char br[NET_IFNAMSIZ];
                r = berth_bridge_overflow_name(c->bridge, n, br, err);
                if (r >= 0 && strcmp(br, used) && if_nametoindex(br))
                        r = announce_on(nl, c, br, err);
        }
        return r;
}

int net_bridge_overflow_attach(struct berth_nl *nl, const struct berth_net_config *c,
                               const struct berth_ip_addr *gw4, const struct berth_ip_addr *gw6, char *used,
                               struct berth_err *err)
{
        char br[NET_IFNAMSIZ];
        int r = 0;
        for (unsigned n = 1; r == 0 && n <= BERTH_BRIDGE_OVERFLOW_MAX; n++) {
                r = berth_bridge_overflow_name(c->bridge, n, br, err);
                if (r >= 0)
                        r = overflow_try(nl, c, br, gw4, gw6, err);
        }
        if (r == 0)
                return berth_err_set(err, EXFULL, "bridge %s and its %d overflow bridges are full", c->bridge,
                                     BERTH_BRIDGE_OVERFLOW_MAX);
        if (r < 0)
                return r;
        snprintf(used, NET_IFNAMSIZ, "%s", br);
        r = routes_add(nl, c, br, err);
        if (r < 0 || (c->last_bridge && (!c->last_bridge[0] || !strcmp(c->last_bridge, br))))
                return r;
        return announce_moved(nl, c, br, err);
}

static void index_name(int ifindex, char *out)
{
        char name[IF_NAMESIZE];
        if (ifindex > 0 && if_indextoname((unsigned)ifindex, name))
                snprintf(out, NET_IFNAMSIZ, "%s", name);
}

int net_bridge_of(struct berth_nl *nl, const char *ifname, char *out, struct berth_err *err)
{
        struct berth_link_info info;
        out[0] = '\0';
        int r = berth_link_get(nl, ifname, &info, err);
        if (r == -ENODEV)
                return net_tolerate(r, ENODEV, err);
        if (r >= 0)
                index_name(info.master, out);
        return r < 0 ? r : 0;
}

int net_bridge_of_vps(struct berth_nl *nl, const struct berth_net_config *c, char *out, struct berth_err *err)
{
        int r = net_bridge_of(nl, c->host_if, out, err);
        if (r < 0 || out[0] || !c->n_addrs)
                return r;
        /* The host end went with the guest's netns: its route still says. */
        r = berth_route_get_oif(nl, &c->addrs[0], err);
        if (r < 0) { /* no route at all: no bridge of ours */
                berth_err_clear(err);
                return 0;
        }
        index_name(r, out);
        if (!berth_bridge_overflow_index(c->bridge, out))
                out[0] = '\0';
        return 0;
}

/* The bridge's NAT goes with it. Only where nf_tables can have made one:
 * a NAT VPS's teardown, or a host whose bridge has the chain (an ordinary
 * VPS may be the last to leave a NAT bridge). */
static int remove_bridge_nat(const char *bridge, bool nat, struct berth_err *err)
{
        /* Not knowing is no NAT (no nf_tables, say): nothing of ours. */
        int r = nat ? 1 : berth_nat_active(bridge, err);
        berth_err_clear(err);
        return r > 0 ? berth_nat_remove(bridge, err) : 0;
}

/* 1 when br has ports (or is gone: 0), else removes it: 0. */
static int remove_if_empty(struct berth_nl *nl, const char *br, bool overflow, struct berth_err *err)
{
        /* Whether any port is left, not how many: one netlink message
         * instead of one per port (a thousand on a full bridge). */
        int n = berth_link_has_ports(nl, br, err);
        if (n == -ENODEV)
                return net_tolerate(n, ENODEV, err);
        if (n != 0)
                return n;
        int r = net_tolerate(berth_link_del(nl, br, err), ENODEV, err);
        if (r >= 0 && overflow)
                r = berth_nft_ifs_remove(br, err);
        return r;
}

/* Every overflow bridge without ports goes; 1 when one with ports stays. */
static int sweep_overflow(struct berth_nl *nl, const char *base, struct berth_err *err)
{
        int busy = 0;
        for (unsigned n = 1; n <= BERTH_BRIDGE_OVERFLOW_MAX; n++) {
                char br[NET_IFNAMSIZ];
                int r = berth_bridge_overflow_name(base, n, br, err);
                if (r >= 0)
                        r = remove_if_empty(nl, br, true, err);
                if (r < 0)
                        return r;
                busy |= r;
        }
        return busy;
}

static int bridges_remove_locked(struct berth_nl *nl, const char *base, const char *own, bool nat,
                                 struct berth_err *err)
{
        int r = 0;
        if (own && own[0] && berth_bridge_overflow_index(base, own))
                r = remove_if_empty(nl, own, true, err);
        /* The usual case: the bridge still has ports, one message. */
        if (r >= 0 && (r = berth_link_has_ports(nl, base, err)) > 0)
                return berth_err_set(err, EBUSY, "remove bridge %s: ports left", base);
        bool exists = r != -ENODEV;
        r = net_tolerate(r, ENODEV, err);
        if (r >= 0)
                r = sweep_overflow(nl, base, err);
        if (r > 0)
                return berth_err_set(err, EBUSY, "remove bridge %s: its overflow bridges have ports", base);
        if (r < 0 || !exists)
                return r;
        r = remove_if_empty(nl, base, false, err);
        if (r > 0) /* a VPS came meanwhile */
                return berth_err_set(err, EBUSY, "remove bridge %s: ports left", base);
        return r < 0 ? r : remove_bridge_nat(base, nat, err);
}

int net_bridges_remove(struct berth_nl *nl, const char *base, const char *own, bool nat,
                       struct berth_err *err)
{
        _cleanup_close_ int lock = net_bridges_lock(LOCK_EX, err);
        return lock < 0 ? lock : bridges_remove_locked(nl, base, own, nat, err);
}
