/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The VPS network modes, done from the host side only so that any guest
 * distribution works without scripts of its own:
 *
 *   bridged: host end of a veth pair on a host bridge holding the gateway
 *            address(es); the guest has its addresses with their prefixes.
 *   routed:  OpenVZ venet style; each guest address is a /32 or /128 route
 *            to the host end, the guest has only its own addresses and a
 *            default route via a link-local gateway on the host end
 *            (169.254.0.1 / fe80::1), which every host end carries, so the
 *            guest reaches the host and the other guests through the host.
 *
 * One socket on the host and one inside the guest serve a whole setup. The
 * veth peer is created directly inside the guest under its final name, so
 * there is no move and no rename. Everything a failed setup created is
 * removed again; nothing berth did not create is touched. */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/ip.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/file.h>
#include <sys/socket.h>

#include "berth/cleanup.h"
#include "berth/log.h"
#include "berth/netns.h"
#include "berth/nft.h"
#include "runtime/vps/net_bridges.h"

struct net_ctx {
        const struct berth_net_config *c;
        const char *guest_if;
        struct berth_ip_addr gw4, gw6; /* effective gateways (routed: defaults filled) */
        struct berth_nl *host;
        struct berth_nl *guest;
        bool created_bridge;
        bool created_veth;
        bool created_filter;
        char bridge_used[NET_IFNAMSIZ]; /* bridged: the bridge the host end went onto */
        unsigned char mac[6];           /* the guest's: c->mac, or a random one */
        size_t n_proxied;               /* c->addrs[0..n) have their host route and proxy entry */
};

static bool has_family(const struct berth_net_config *c, int family)
{
        for (size_t i = 0; i < c->n_addrs; i++)
                if (c->addrs[i].family == family)
                        return true;
        return false;
}

/* The address as the guest gets it: routed guests own only host prefixes. */
static struct berth_ip_addr guest_addr(const struct berth_net_config *c, const struct berth_ip_addr *a)
{
        struct berth_ip_addr g = *a;
        if (c->mode == BERTH_NET_ROUTED)
                g.prefixlen = a->family == AF_INET ? 32 : 128;
        return g;
}

static int check_ifname(const char *what, const char *name, struct berth_err *err)
{
        if (!berth_ifname_valid(name))
                return berth_err_set(err, EINVAL, "invalid %s interface name '%s'", what,
                                     name ? name : "(null)");
        return 0;
}

static int check_gateways(const struct berth_net_config *c, struct berth_err *err)
{
        if (c->gw4.family && c->gw4.family != AF_INET)
                return berth_err_set(err, EINVAL, "IPv4 gateway is not an IPv4 address");
        if (c->gw6.family && c->gw6.family != AF_INET6)
                return berth_err_set(err, EINVAL, "IPv6 gateway is not an IPv6 address");
        /* Every host end carries the routed gateway: only a link-scope
         * address can sit on many interfaces at once without ambiguity. */
        if (c->mode == BERTH_NET_ROUTED && c->gw6.family && !berth_ip_addr_is_link_local(&c->gw6))
                return berth_err_set(err, EINVAL, "routed IPv6 gateway must be link-local (fe80::/10)");
        return 0;
}

static int check_config(const struct berth_net_config *c, struct berth_err *err)
{
        int r = check_ifname("host", c->host_if, err);
        if (r >= 0 && c->guest_if)
                r = check_ifname("guest", c->guest_if, err);
        if (r >= 0 && c->mode == BERTH_NET_BRIDGED)
                r = check_ifname("bridge", c->bridge, err);
        if (r >= 0 && c->mode == BERTH_NET_ROUTED && c->proxy_if)
                r = check_ifname("proxy", c->proxy_if, err);
        if (r < 0)
                return r;
        if (c->mode != BERTH_NET_BRIDGED && c->mode != BERTH_NET_ROUTED)
                return berth_err_set(err, EINVAL, "unknown network mode %d", (int)c->mode);
        for (size_t i = 0; i < c->n_addrs; i++) {
                int f = c->addrs[i].family;
                if ((f != AF_INET && f != AF_INET6) || c->addrs[i].prefixlen > (f == AF_INET ? 32 : 128))
                        return berth_err_set(err, EINVAL, "invalid address #%zu", i + 1);
        }
        return check_gateways(c, err);
}

static void ctx_init(struct net_ctx *x, const struct berth_net_config *c)
{
        memset(x, 0, sizeof(*x));
        x->c = c;
        if (c->mac) {
                memcpy(x->mac, c->mac, sizeof(x->mac));
        } else {
                /* Up to 256 bytes getrandom() returns in full once the pool
                 * is ready, which it is long before anyone starts a VPS. */
                (void)!getrandom(x->mac, sizeof(x->mac), 0);
                x->mac[0] = (unsigned char)((x->mac[0] & 0xfe) | 0x02); /* unicast, locally administered */
        }
        x->guest_if = c->guest_if ? c->guest_if : "eth0";
        x->gw4 = c->gw4;
        x->gw6 = c->gw6;
        if (c->mode != BERTH_NET_ROUTED)
                return;
        if (!x->gw4.family)
                berth_ip_addr_parse(BERTH_NET_DEFAULT_GW4, &x->gw4, NULL);
        if (!x->gw6.family)
                berth_ip_addr_parse(BERTH_NET_DEFAULT_GW6, &x->gw6, NULL);
        x->gw4.prefixlen = 32;
        x->gw6.prefixlen = 64; /* like any link-local address */
}

static void ctx_close(struct net_ctx *x)
{
        berth_nl_close(x->host);
        berth_nl_close(x->guest);
        x->host = x->guest = NULL;
}

/* An undo step failed: what stays behind is named, never dropped. */
static void undo_failed(const struct net_ctx *x, const char *what, const struct berth_err *e)
{
        berth_log_warn(x->c->log, "network %s: could not undo %s: %s", x->c->host_if, what, e->msg);
}

/* ---- bridged ------------------------------------------------------------ */

static int bridge_addresses(struct net_ctx *x, struct berth_err *err)
{
        const char *br = x->c->bridge;
        int r = 0;
        if (x->gw4.family)
                r = berth_addr_add(x->host, br, &x->gw4, BERTH_ADDR_REPLACE, err);
        if (r >= 0 && x->gw6.family)
                r = berth_addr_add(x->host, br, &x->gw6, BERTH_ADDR_REPLACE | BERTH_ADDR_NODAD, err);
        return r;
}

/* Reuses the bridge when it exists; otherwise creates it up, with the
 * gateway addresses (added after "up": IPv6 drops addresses on "down"). */
static int ensure_bridge(struct net_ctx *x, struct berth_err *err)
{
        struct berth_link_info info;
        const char *br = x->c->bridge;
        int r = berth_link_get(x->host, br, &info, err);
        if (r >= 0) {
                if (strcmp(info.kind, "bridge") != 0)
                        return berth_err_set(err, EEXIST, "bridge %s: exists and is not a bridge", br);
                return 0;
        }
        if (r != -ENODEV)
                return r;
        r = berth_link_add_bridge(x->host, br, NULL, 0, err);
        if (r == -EEXIST) /* another berth made it a moment ago */
                return net_tolerate(r, EEXIST, err);
        if (r < 0)
                return r;
        x->created_bridge = true;
        /* Before "up": the host never learns routes from the guests' router
         * advertisements on its bridge. No IPv6 in the kernel: nothing to do. */
        r = net_tolerate(net_conf_sysctl("ipv6", br, "accept_ra", "0", err), ENOENT, err);
        if (r >= 0)
                r = berth_link_set_up(x->host, br, true, err);
        if (r >= 0)
                r = bridge_addresses(x, err);
        return r;
}

/* ---- routed, host side ------------------------------------------------------ */

static int routed_host_ipv4(struct net_ctx *x, struct berth_err *err)
{
        const char *hif = x->c->host_if;
        int r = berth_addr_add(x->host, hif, &x->gw4, BERTH_ADDR_REPLACE, err);
        if (r >= 0)
                r = net_conf_sysctl("ipv4", hif, "forwarding", "1", err);
        /* Answers the guest's ARP for any address routed elsewhere, for
         * guests whose own scripts put a wider prefix on eth0. */
        if (r >= 0)
                r = net_conf_sysctl("ipv4", hif, "proxy_arp", "1", err);
        if (r >= 0 && (x->c->flags & BERTH_NET_F_HOST_FORWARDING))
                r = berth_sysctl_net_write(-1, "ipv4/ip_forward", "1", err);
        return r;
}

/* Only the host end forwards unless asked for the host-wide switch; on
 * kernels before 6.17 IPv6 has no per-interface switch, and
 * berth_ipv6_forward_from falls back to all.forwarding (see there). */
static int routed_ipv6_forwarding(struct net_ctx *x, struct berth_err *err)
{
        if (x->c->flags & BERTH_NET_F_HOST_FORWARDING)
                return berth_sysctl_net_write(-1, "ipv6/conf/all/forwarding", "1", err);
        return berth_ipv6_forward_from(x->c->host_if, err);
}

static int routed_host_ipv6(struct net_ctx *x, struct berth_err *err)
{
        const char *hif = x->c->host_if;
        /* NODAD: a tentative gateway would neither answer the guest nor let
         * the host solicit the guest's addresses for a second or more. */
        int r = berth_addr_add(x->host, hif, &x->gw6, BERTH_ADDR_REPLACE | BERTH_ADDR_NODAD, err);
        if (r >= 0)
                r = net_conf_sysctl("ipv6", hif, "forwarding", "1", err);
        if (r >= 0)
                r = routed_ipv6_forwarding(x, err);
        if (r >= 0 && x->c->proxy_if)
                r = net_conf_sysctl("ipv6", x->c->proxy_if, "proxy_ndp", "1", err);
        return r;
}

static int routed_host_family(struct net_ctx *x, int family, struct berth_err *err)
{
        return family == AF_INET ? routed_host_ipv4(x, err) : routed_host_ipv6(x, err);
}

static struct berth_route host_route(struct net_ctx *x, const struct berth_ip_addr *a)
{
        struct berth_route rt = {.dst = guest_addr(x->c, a), .dev = x->c->host_if};
        return rt;
}

/* The host route and proxy entry of one guest address. */
static int routed_host_addr(struct net_ctx *x, const struct berth_ip_addr *a, struct berth_err *err)
{
        struct berth_route rt = host_route(x, a);
        /* EEXIST here means another VPS has the address: refuse it. */
        int r = berth_route_add(x->host, &rt, err);
        if (r < 0 || !x->c->proxy_if)
                return r;
        r = berth_neigh_proxy_add(x->host, x->c->proxy_if, a, err);
        if (r < 0) {
                struct berth_err scratch = {0};
                if (berth_route_del(x->host, &rt, &scratch) < 0)
                        undo_failed(x, "a host route", &scratch);
        }
        return r;
}

static int routed_host(struct net_ctx *x, struct berth_err *err)
{
        int r = 0;
        if (has_family(x->c, AF_INET))
                r = routed_host_family(x, AF_INET, err);
        if (r >= 0 && has_family(x->c, AF_INET6))
                r = routed_host_family(x, AF_INET6, err);
        for (size_t i = 0; r >= 0 && i < x->c->n_addrs; i++) {
                r = routed_host_addr(x, &x->c->addrs[i], err);
                if (r >= 0)
                        x->n_proxied = i + 1;
        }
        return r;
}

/* ---- guest side ------------------------------------------------------------ */

static int guest_default_route(struct net_ctx *x, int family, struct berth_err *err)
{
        const struct berth_ip_addr *gw = family == AF_INET ? &x->gw4 : &x->gw6;
        if (!gw->family)
                return 0;
        struct berth_route rt = {.dst = {.family = family}, .via = *gw, .dev = x->guest_if};
        /* Routed: the gateway is in none of the guest's prefixes. */
        rt.onlink = x->c->mode == BERTH_NET_ROUTED && family == AF_INET;
        rt.via.prefixlen = 0;
        return net_tolerate(berth_route_add(x->guest, &rt, err), EEXIST, err);
}

/* Announce at link up and at a MAC change (gratuitous ARP, unsolicited
 * neighbour advertisements), so that neighbours learn a restarted guest at
 * once; keep secondaries when the primary IPv4 address goes. IPv4's over
 * netlink; IPv6 has no netlink for it, and its /proc/sys/net file costs
 * ~5 ms at 2500 VPS on the host (berth_link_set_ipv4_conf), so only a
 * guest with an IPv6 address pays it (guest_ndisc_notify). */
static int guest_ipv4_conf(struct net_ctx *x, struct berth_err *err)
{
        static const struct berth_ipv4_conf conf[] = {{IPV4_DEVCONF_ARP_NOTIFY, 1},
                                                      {IPV4_DEVCONF_PROMOTE_SECONDARIES, 1}};
        return berth_link_set_ipv4_conf(x->guest, x->guest_if, conf, BERTH_ARRAY_SIZE(conf), err);
}

/* No IPv6 in the guest's kernel: its sysctls are missing, which is fine. */
static int guest_ndisc_notify(struct net_ctx *x, int netns_fd, struct berth_err *err)
{
        char key[128];
        snprintf(key, sizeof(key), "ipv6/conf/%s/ndisc_notify", x->guest_if);
        return net_tolerate(berth_sysctl_net_write(netns_fd, key, "1", err), ENOENT, err);
}

static int guest_addrs(struct net_ctx *x, int family, struct berth_err *err)
{
        int r = 0;
        for (size_t i = 0; r >= 0 && i < x->c->n_addrs; i++) {
                if (x->c->addrs[i].family != family)
                        continue;
                struct berth_ip_addr a = guest_addr(x->c, &x->c->addrs[i]);
                r = berth_addr_add(x->guest, x->guest_if, &a, BERTH_ADDR_NODAD | BERTH_ADDR_REPLACE, err);
        }
        return r;
}

static int guest_setup(struct net_ctx *x, int netns_fd, struct berth_err *err)
{
        x->guest = berth_nl_open_netns(netns_fd, err);
        if (!x->guest)
                return berth_err_wrap(err, "guest network");
        int r = berth_link_set_up(x->guest, "lo", true, err);
        if (r >= 0)
                r = guest_ipv4_conf(x, err);
        if (r >= 0 && has_family(x->c, AF_INET6))
                r = guest_ndisc_notify(x, netns_fd, err);
        /* IPv4 before "up": arp_notify announces the addresses at "up";
         * IPv6 after: each is announced as it becomes usable. */
        if (r >= 0)
                r = guest_addrs(x, AF_INET, err);
        if (r >= 0)
                r = berth_link_set_up(x->guest, x->guest_if, true, err);
        if (r >= 0)
                r = guest_addrs(x, AF_INET6, err);
        if (r >= 0 && has_family(x->c, AF_INET))
                r = guest_default_route(x, AF_INET, err);
        if (r >= 0 && has_family(x->c, AF_INET6))
                r = guest_default_route(x, AF_INET6, err);
        return r < 0 ? berth_err_wrap(err, "guest network") : r;
}

/* ---- filter (berth/nft.h) ------------------------------------------------------- */

/* bridge: the one the host end is on, when known (NULL: c->bridge). */
static void guest_filter(const struct berth_net_config *c, const unsigned char *mac, const char *bridge,
                         struct berth_nft_guest *g)
{
        *g = (struct berth_nft_guest){.host_if = c->host_if,
                                      .host_side = c->mode != BERTH_NET_BRIDGED ? c->host_if
                                                   : bridge && bridge[0]        ? bridge
                                                                                : c->bridge,
                                      .addrs = c->addrs,
                                      .n_addrs = c->n_addrs,
                                      .ports = c->host_ports,
                                      .n_ports = c->n_host_ports};
        memcpy(g->mac, mac, sizeof(g->mac));
}

/* old: the configuration whose elements this one replaces, or NULL. */
static int filter_apply(const struct berth_net_config *c, const unsigned char *mac, const char *bridge,
                        const struct berth_net_config *old, struct berth_err *err)
{
        if (c->flags & BERTH_NET_F_NO_FILTER)
                return berth_nft_guest_open(c->host_if, err);
        if (!mac)
                return berth_err_set(err, EINVAL, "network filter %s: no guest MAC address", c->host_if);
        /* Without its MAC, old was never filtered (a VPS from before). */
        if (old && !old->mac)
                old = NULL;
        struct berth_nft_guest g, o;
        guest_filter(c, mac, bridge, &g);
        if (old)
                guest_filter(old, old->mac, NULL, &o);
        return berth_nft_guest_apply(&g, old ? &o : NULL, err);
}

/* Bridged: the bridge stays in the host's interface set while it exists.
 * Without the MAC (callers other than vps) only the addresses go. */
static int filter_remove(const struct berth_net_config *c, const unsigned char *mac, struct berth_err *err)
{
        struct berth_nft_guest g;
        guest_filter(c, mac ? mac : (const unsigned char[6]){0x02}, NULL, &g);
        if (c->mode == BERTH_NET_BRIDGED)
                g.host_side = NULL;
        int r = berth_nft_guest_remove(&g, err);
        if (r < 0 && (c->flags & BERTH_NET_F_NO_FILTER))
                return net_tolerate(r, -r, err); /* a host without nf_tables */
        return r;
}

int berth_net_filter_update(const struct berth_net_config *old, const struct berth_net_config *c,
                            struct berth_err *err)
{
        int r = check_config(c, err);
        if (r >= 0 && old && !(old->flags & BERTH_NET_F_NO_FILTER) && (c->flags & BERTH_NET_F_NO_FILTER))
                r = filter_remove(old, old->mac, err);
        if (r >= 0)
                r = filter_apply(c, c->mac, NULL, old && !(old->flags & BERTH_NET_F_NO_FILTER) ? old : NULL,
                                 err);
        return r;
}

int berth_net_filter_remove(const struct berth_net_config *c, struct berth_err *err)
{
        int r = check_config(c, err);
        return r < 0 ? r : filter_remove(c, c->mac, err);
}

int berth_net_set_mac(const struct berth_net_config *old, const struct berth_net_config *c, int netns_fd,
                      struct berth_err *err)
{
        if (!c->mac)
                return berth_err_set(err, EINVAL, "set MAC address: none given");
        int r = berth_net_filter_update(old, c, err);
        if (r < 0)
                return r;
        _cleanup_nl_ struct berth_nl *guest = berth_nl_open_netns(netns_fd, err);
        if (!guest)
                return -(err && err->code ? err->code : EIO);
        return berth_link_set_mac(guest, c->guest_if ? c->guest_if : "eth0", c->mac, err);
}

/* ---- setup / teardown ---------------------------------------------------------- */

static void rollback(struct net_ctx *x)
{
        struct berth_err scratch = {0};
        for (size_t i = 0; x->c->proxy_if && i < x->n_proxied; i++)
                if (berth_neigh_proxy_del(x->host, x->c->proxy_if, &x->c->addrs[i], &scratch) < 0)
                        undo_failed(x, "a proxy ARP/NDP entry", &scratch);
        /* The peer, the host routes and the host end's sysctls go with it. */
        if (x->created_filter && filter_remove(x->c, x->mac, &scratch) < 0)
                undo_failed(x, "the filter entries", &scratch);
        if (x->created_veth && berth_link_del(x->host, x->c->host_if, &scratch) < 0)
                undo_failed(x, "the veth pair", &scratch);
        if (x->created_veth && x->c->mode == BERTH_NET_BRIDGED &&
            net_bridge_routes_del(x->host, x->c, NULL, &scratch) < 0)
                undo_failed(x, "the host routes to an overflow bridge", &scratch);
        /* The bridges this setup made, or left without ports. */
        if (x->c->mode == BERTH_NET_BRIDGED && (x->created_bridge || x->created_veth) &&
            net_bridges_remove(x->host, x->c->bridge, x->bridge_used, x->c->flags & BERTH_NET_F_NAT,
                               &scratch) < 0 &&
            scratch.code != EBUSY)
                undo_failed(x, "the bridge", &scratch);
}

/* Onto the bridge, or where it is full (the kernel's EXFULL, or the test
 * knob's count) onto an overflow bridge (net_bridges.c). */
static int attach_port(struct net_ctx *x, int full, struct berth_err *err)
{
        int r = full ? -EXFULL : berth_link_set_master(x->host, x->c->host_if, x->c->bridge, err);
        if (r >= 0)
                snprintf(x->bridge_used, sizeof(x->bridge_used), "%s", x->c->bridge);
        if (r != -EXFULL)
                return r;
        berth_err_clear(err);
        return net_bridge_overflow_attach(x->host, x->c, &x->gw4, &x->gw6, x->bridge_used, err);
}

/* A bridge port needs no address of its own. Without IPv6 link-local
 * addresses the ports add no routes to the host's IPv6 table and no
 * multicast memberships: each port's removal walks that table
 * (fib6_ifdown), and each address's duplicate detection and MLD reports
 * are kernel work per start and stop, thousands of times over. */
static int port_no_ipv6_address(struct net_ctx *x, struct berth_err *err)
{
        int r = berth_link_set_ipv6_addr_gen(x->host, x->c->host_if, IN6_ADDR_GEN_MODE_NONE, err);
        return net_tolerate(r, EAFNOSUPPORT, err);
}

/* Bridged, the pair is made down and put on the bridge after: a pair made
 * onto a full bridge is unmade by the kernel, which waits for an RCU
 * grace period (~20 ms here), while a refused "master" costs nothing. */
static int create_veth(struct net_ctx *x, int netns_fd, struct berth_err *err)
{
        bool bridged = x->c->mode == BERTH_NET_BRIDGED;
        struct berth_veth_opts o = {
            .mtu = x->c->mtu,
            .up = !bridged,
            .peer_netns_fd = netns_fd,
            .peer_mac = x->mac,
        };
        int full = bridged ? net_bridge_full(x->host, x->c->bridge, x->c->bridge_ports_max, err) : 0;
        if (full < 0)
                return full;
        int r = berth_link_add_veth(x->host, x->c->host_if, x->guest_if, &o, err);
        if (r < 0)
                return r;
        x->created_veth = true;
        if (!bridged)
                return 0;
        r = port_no_ipv6_address(x, err);
        if (r >= 0)
                r = attach_port(x, full, err);
        if (r >= 0)
                r = berth_link_set_up(x->host, x->c->host_if, true, err);
        return r;
}

/* The bridge, its NAT and the VPS's veth pair on it, under the bridges'
 * lock held shared: no teardown removes the bridge before the port is on
 * it (net_bridges_lock). */
static int bridge_and_port(struct net_ctx *x, int netns_fd, struct berth_err *err)
{
        if (x->c->mode != BERTH_NET_BRIDGED)
                return create_veth(x, netns_fd, err);
        _cleanup_close_ int lock = net_bridges_lock(LOCK_SH, err);
        int r = lock < 0 ? lock : ensure_bridge(x, err);
        /* Also on a bridge made without it: the first --nat VPS adds it. */
        if (r >= 0 && (x->c->flags & BERTH_NET_F_NAT))
                r = berth_nat_apply(x->c->bridge, &x->gw4, NULL, err);
        return r < 0 ? r : create_veth(x, netns_fd, err);
}

static int setup_steps(struct net_ctx *x, int netns_fd, struct berth_err *err)
{
        x->host = berth_nl_open(err);
        if (!x->host)
                return -(err && err->code ? err->code : EIO);
        int r = bridge_and_port(x, netns_fd, err);
        /* Before the guest's link is up: its first frame meets the filter. */
        if (r >= 0 && (r = filter_apply(x->c, x->mac, x->bridge_used, NULL, err)) >= 0)
                x->created_filter = true;
        if (r >= 0 && x->c->mode == BERTH_NET_ROUTED)
                r = routed_host(x, err);
        if (r >= 0)
                r = guest_setup(x, netns_fd, err);
        return r;
}

int berth_net_setup(const struct berth_net_config *c, int netns_fd, struct berth_err *err)
{
        struct net_ctx x;
        int r = check_config(c, err);
        if (r < 0)
                return berth_err_wrap(err, "network setup");
        if (netns_fd < 0)
                return berth_err_set(err, EBADF, "network setup %s: no guest network namespace", c->host_if);
        ctx_init(&x, c);
        r = setup_steps(&x, netns_fd, err);
        if (r < 0 && x.host)
                rollback(&x);
        if (r >= 0 && c->bridge_used)
                snprintf(c->bridge_used, NET_IFNAMSIZ, "%s", x.bridge_used);
        ctx_close(&x);
        return r < 0 ? berth_err_wrap(err, "network setup %s", c->host_if) : 0;
}

int berth_net_bridge_remove(const char *bridge, struct berth_err *err)
{
        _cleanup_nl_ struct berth_nl *nl = berth_nl_open(err);
        if (!nl)
                return -(err && err->code ? err->code : EIO);
        return net_bridges_remove(nl, bridge, NULL, false, err);
}

int berth_net_teardown(const struct berth_net_config *c, unsigned flags, struct berth_err *err)
{
        int r = check_config(c, err);
        if (r < 0)
                return berth_err_wrap(err, "network teardown");
        _cleanup_nl_ struct berth_nl *nl = berth_nl_open(err);
        if (!nl)
                return berth_err_wrap(err, "network teardown %s", c->host_if);
        for (size_t i = 0; r >= 0 && c->mode == BERTH_NET_ROUTED && c->proxy_if && i < c->n_addrs; i++) {
                r = net_tolerate(berth_neigh_proxy_del(nl, c->proxy_if, &c->addrs[i], err), ENOENT, err);
                r = net_tolerate(r, ENODEV, err); /* the uplink itself is gone */
        }
        char own[NET_IFNAMSIZ] = "";
        bool bridged = c->mode == BERTH_NET_BRIDGED;
        if (r >= 0 && bridged)
                r = net_bridge_of_vps(nl, c, own, err);
        if (r >= 0)
                r = net_tolerate(berth_link_del(nl, c->host_if, err), ENODEV, err);
        if (r >= 0 && !(flags & BERTH_NET_TEARDOWN_KEEP_FILTER))
                r = filter_remove(c, c->mac, err);
        /* Also where a killed run left them, the host end gone. */
        if (r >= 0 && bridged)
                r = net_bridge_routes_del(nl, c, NULL, err);
        if (r >= 0 && bridged && (flags & BERTH_NET_TEARDOWN_BRIDGE)) {
                r = net_bridges_remove(nl, c->bridge, own, c->flags & BERTH_NET_F_NAT, err);
                r = net_tolerate(r, EBUSY, err); /* other VPS still use it */
        }
        return r < 0 ? berth_err_wrap(err, "network teardown %s", c->host_if) : 0;
}

/* ---- one address on a running VPS ----------------------------------------------- */

static int addr_ctx_open(struct net_ctx *x, const struct berth_net_config *c, int netns_fd,
                         const struct berth_ip_addr *a, struct berth_err *err)
{
        int r = check_config(c, err);
        if (r < 0)
                return r;
        if (!a || (a->family != AF_INET && a->family != AF_INET6))
                return berth_err_set(err, EAFNOSUPPORT, "address without a family");
        ctx_init(x, c);
        x->host = berth_nl_open(err);
        if (x->host)
                x->guest = berth_nl_open_netns(netns_fd, err);
        if (!x->host || !x->guest)
                return -(err && err->code ? err->code : EIO);
        return 0;
}

/* Bridged: the host route of an address of a guest on an overflow bridge. */
static int overflow_route_add(struct net_ctx *x, const struct berth_ip_addr *a, struct berth_err *err)
{
        int r = net_bridge_of(x->host, x->c->host_if, x->bridge_used, err);
        if (r < 0 || !berth_bridge_overflow_index(x->c->bridge, x->bridge_used))
                return r;
        return net_bridge_route_add(x->host, x->bridge_used, a, err);
}

static int addr_add_steps(struct net_ctx *x, const struct berth_ip_addr *a, struct berth_err *err)
{
        int r = 0;
        bool routed = x->c->mode == BERTH_NET_ROUTED;
        if (routed)
                r = routed_host_family(x, a->family, err);
        if (r >= 0 && routed)
                r = routed_host_addr(x, a, err);
        if (r >= 0 && !routed)
                r = overflow_route_add(x, a, err);
        if (r < 0)
                return r;
        struct berth_ip_addr g = guest_addr(x->c, a);
        r = berth_addr_add(x->guest, x->guest_if, &g, BERTH_ADDR_NODAD | BERTH_ADDR_REPLACE, err);
        if (r >= 0)
                r = guest_default_route(x, a->family, err);
        if (r < 0 && routed) {
                struct berth_err scratch = {0};
                struct berth_route rt = host_route(x, a);
                if (berth_route_del(x->host, &rt, &scratch) < 0)
                        undo_failed(x, "a host route", &scratch);
                if (x->c->proxy_if && berth_neigh_proxy_del(x->host, x->c->proxy_if, a, &scratch) < 0)
                        undo_failed(x, "a proxy ARP/NDP entry", &scratch);
        }
        struct berth_err scratch = {0};
        if (r < 0 && !routed && net_bridge_routes_del(x->host, x->c, a, &scratch) < 0)
                undo_failed(x, "a host route", &scratch);
        return r;
}

int berth_net_addr_add(const struct berth_net_config *c, int netns_fd, const struct berth_ip_addr *a,
                       struct berth_err *err)
{
        char text[BERTH_IP_ADDR_STRLEN];
        struct net_ctx x = {0};
        int r = addr_ctx_open(&x, c, netns_fd, a, err);
        /* The first IPv6 address of a guest started without one. */
        if (r >= 0 && a->family == AF_INET6)
                r = guest_ndisc_notify(&x, netns_fd, err);
        if (r >= 0)
                r = addr_add_steps(&x, a, err);
        ctx_close(&x);
        if (r < 0)
                return berth_err_wrap(err, "add address %s to %s",
                                      berth_ip_addr_format(a, true, text, sizeof(text)), c->host_if);
        return 0;
}

static int addr_del_steps(struct net_ctx *x, const struct berth_ip_addr *a, struct berth_err *err)
{
        struct berth_ip_addr g = guest_addr(x->c, a);
        int r = net_tolerate(berth_addr_del(x->guest, x->guest_if, &g, err), EADDRNOTAVAIL, err);
        if (r >= 0 && x->c->mode == BERTH_NET_ROUTED) {
                struct berth_route rt = host_route(x, a);
                r = net_tolerate(berth_route_del(x->host, &rt, err), ESRCH, err);
        }
        if (r >= 0 && x->c->mode == BERTH_NET_ROUTED && x->c->proxy_if)
                r = net_tolerate(berth_neigh_proxy_del(x->host, x->c->proxy_if, a, err), ENOENT, err);
        if (r >= 0 && x->c->mode == BERTH_NET_BRIDGED)
                r = net_bridge_routes_del(x->host, x->c, a, err);
        /* The kernel drops the default route with the last address of its
         * subnet; the guest keeps one while it has an address of the family. */
        for (size_t i = 0; r >= 0 && i < x->c->n_addrs; i++)
                if (x->c->addrs[i].family == a->family && !berth_ip_addr_equal(&x->c->addrs[i], a)) {
                        r = guest_default_route(x, a->family, err);
                        break;
                }
        return r;
}

int berth_net_addr_del(const struct berth_net_config *c, int netns_fd, const struct berth_ip_addr *a,
                       struct berth_err *err)
{
        char text[BERTH_IP_ADDR_STRLEN];
        struct net_ctx x = {0};
        int r = addr_ctx_open(&x, c, netns_fd, a, err);
        if (r >= 0)
                r = addr_del_steps(&x, a, err);
        ctx_close(&x);
        if (r < 0)
                return berth_err_wrap(err, "delete address %s from %s",
                                      berth_ip_addr_format(a, true, text, sizeof(text)), c->host_if);
        return 0;
}
