/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Network setup through rtnetlink (libmnl): links, addresses, routes,
 * neighbour proxy entries, per-netns sysctls, and the two VPS network modes.
 *
 * No `ip` command is ever forked: every change is one netlink request on a
 * socket the caller opened once for a whole sequence of operations. A socket
 * opened inside another network namespace stays bound to it, so work inside a
 * VPS needs one setns() round trip per sequence, not per request.
 *
 * Interface arguments are names (resolved by the kernel through IFLA_IFNAME)
 * so that error messages can name the object: "create veth bth1a2b/eth0: File
 * exists". */
#ifndef BERTH_NETNS_H
#define BERTH_NETNS_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "berth/cleanup.h"
#include "berth/err.h"
#include "berth/log.h"

struct nlmsghdr;

/* ---- addresses ------------------------------------------------------ */

struct berth_ip_addr {
        int family; /* AF_INET, AF_INET6, or 0 for "not set" */
        unsigned char prefixlen;
        union {
                struct in_addr v4;
                struct in6_addr v6;
                unsigned char raw[16];
        } u;
};

/* "10.0.0.2/24", "fd00::2/64"; without "/len" the prefix is a host prefix
 * (/32 or /128). */
int berth_ip_addr_parse(const char *s, struct berth_ip_addr *out, struct berth_err *err);

/* Enough for "ffff:ffff:...:ffff/128". */
#define BERTH_IP_ADDR_STRLEN 64

/* Writes "addr/len" (with_prefix) or "addr" into buf; returns buf. Never fails
 * on a valid address; an unset address is written as "-". */
const char *berth_ip_addr_format(const struct berth_ip_addr *a, bool with_prefix, char *buf, size_t len);

bool berth_ip_addr_equal(const struct berth_ip_addr *a, const struct berth_ip_addr *b);
bool berth_ip_addr_is_link_local(const struct berth_ip_addr *a);
/* Byte length of the address for its family (4, 16, or 0 when unset). */
size_t berth_ip_addr_len(const struct berth_ip_addr *a);

/* ---- netlink socket -------------------------------------------------- */

struct berth_nl; /* one NETLINK_ROUTE socket, its sequence and buffers */

/* Opens a socket in the calling thread's current network namespace. */
struct berth_nl *berth_nl_open(struct berth_err *err);
/* Opens a socket inside the network namespace `netns_fd` (the calling thread
 * enters it and comes back before this returns). */
struct berth_nl *berth_nl_open_netns(int netns_fd, struct berth_err *err);
void berth_nl_close(struct berth_nl *nl);
static inline void berth_nl_closep(struct berth_nl **nl)
{
        if (*nl)
                berth_nl_close(*nl);
}
#define _cleanup_nl_ _cleanup_(berth_nl_closep)

/* Builds a request header in the socket's buffer (NLM_F_REQUEST | flags,
 * next sequence number) followed by a zeroed family header of `hdrlen`. */
struct nlmsghdr *berth_nl_msg(struct berth_nl *nl, uint16_t type, uint16_t flags, size_t hdrlen);
/* Sends the message built with berth_nl_msg with NLM_F_ACK and waits for the
 * kernel's answer. Returns 0 or -errno; the kernel's extended-ack text (if
 * any) is kept for berth_nl_fail. */
int berth_nl_call(struct berth_nl *nl, struct nlmsghdr *nlh);
/* Like berth_nl_call, passing the answers that come before the ack (the
 * reply to a GET request) to cb. */
int berth_nl_query(struct berth_nl *nl, struct nlmsghdr *nlh, int (*cb)(const struct nlmsghdr *, void *),
                   void *data);
/* Sends a dump request and calls cb (a libmnl mnl_cb_t) for each answer. */
int berth_nl_dump(struct berth_nl *nl, struct nlmsghdr *nlh, int (*cb)(const struct nlmsghdr *, void *),
                  void *data);
/* berth_nl_dump that returns as soon as cb stops (returns MNL_CB_STOP) or
 * the dump ends, leaving the rest unread: the socket then serves no other
 * request (close it). For "is there any": one message, not the whole list. */
int berth_nl_dump_head(struct berth_nl *nl, struct nlmsghdr *nlh, int (*cb)(const struct nlmsghdr *, void *),
                       void *data);
/* Fills err with "<what>: strerror(-r)" plus the kernel's extended-ack text
 * of the last request; returns r. */
int berth_nl_fail(struct berth_nl *nl, struct berth_err *err, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ---- network namespaces ---------------------------------------------- */

/* Opens /proc/<pid>/ns/net (O_RDONLY|O_CLOEXEC). */
int berth_netns_open_pid(pid_t pid, struct berth_err *err);
/* Runs fn in the network namespace netns_fd on the calling thread and moves
 * the thread back to its namespace before returning fn's result. */
int berth_netns_run(int netns_fd, int (*fn)(void *data, struct berth_err *err), void *data,
                    struct berth_err *err);

/* ---- links ------------------------------------------------------------ */

/* A valid Linux interface name: 1..15 bytes, no '/', ':' or white space,
 * not "." or "..". */
bool berth_ifname_valid(const char *name);

struct berth_link_info {
        int ifindex;
        unsigned flags; /* IFF_* */
        unsigned mtu;
        int master; /* ifindex of the master, 0 when none */
        unsigned char mac[6];
        char kind[16]; /* "veth", "bridge", ... or "" */
};

/* Fills info for `name`; -ENODEV when it does not exist (err is set). */
int berth_link_get(struct berth_nl *nl, const char *name, struct berth_link_info *info,
                   struct berth_err *err);
/* ifindex (> 0) or -errno. */
int berth_link_index(struct berth_nl *nl, const char *name, struct berth_err *err);

struct berth_veth_opts {
        const char *master;            /* attach the first end to this bridge, or NULL */
        unsigned mtu;                  /* both ends; 0 = kernel default */
        bool up;                       /* bring the first end up */
        int peer_netns_fd;             /* create the peer directly in this netns; < 0 = here */
        pid_t peer_netns_pid;          /* or in the netns of this pid (when > 0 and no fd) */
        const unsigned char *peer_mac; /* the peer's MAC address (6 bytes), or NULL: random */
};
/* Creates the pair name <-> peer in one request. */
int berth_link_add_veth(struct berth_nl *nl, const char *name, const char *peer,
                        const struct berth_veth_opts *o, struct berth_err *err);
/* Creates a bridge (STP off, so ports forward at once) with a fixed MAC
 * (mac may be NULL: then a random locally administered one is chosen, so the
 * bridge's address does not change as ports come and go). */
int berth_link_add_bridge(struct berth_nl *nl, const char *name, const unsigned char *mac, unsigned mtu,
                          struct berth_err *err);
enum berth_macvlan_mode {
        BERTH_MACVLAN_BRIDGE,
        BERTH_MACVLAN_PRIVATE,
        BERTH_MACVLAN_VEPA,
        BERTH_MACVLAN_PASSTHRU,
};
/* Creates a macvlan on `parent`; netns_fd >= 0 creates it in that netns. */
int berth_link_add_macvlan(struct berth_nl *nl, const char *name, const char *parent,
                           enum berth_macvlan_mode mode, int netns_fd, struct berth_err *err);
int berth_link_set_up(struct berth_nl *nl, const char *name, bool up, struct berth_err *err);
int berth_link_rename(struct berth_nl *nl, const char *name, const char *newname, struct berth_err *err);
/* master NULL releases the link from its master. */
int berth_link_set_master(struct berth_nl *nl, const char *name, const char *master, struct berth_err *err);
int berth_link_set_mac(struct berth_nl *nl, const char *name, const unsigned char mac[6],
                       struct berth_err *err);
int berth_link_set_mtu(struct berth_nl *nl, const char *name, unsigned mtu, struct berth_err *err);
/* One IPv4 per-device setting: key is an IPV4_DEVCONF_* of <linux/ip.h>
 * (net.ipv4.conf.<dev>.* by its kernel index). */
struct berth_ipv4_conf {
        int key;
        uint32_t value;
};
/* Sets them over netlink (IFLA_INET_CONF), not through /proc/sys/net: the
 * first lookup of a /proc/sys/net file in a network namespace costs time
 * in proportion to the namespaces on the host (~5 ms at 2500 VPS). */
int berth_link_set_ipv4_conf(struct berth_nl *nl, const char *name, const struct berth_ipv4_conf *conf,
                             size_t n, struct berth_err *err);
/* IFLA_INET6_ADDR_GEN_MODE (an IN6_ADDR_GEN_MODE_* of <linux/if_link.h>),
 * before the link is up: IN6_ADDR_GEN_MODE_NONE gives it no link-local
 * address. -EAFNOSUPPORT without IPv6 in the kernel. */
int berth_link_set_ipv6_addr_gen(struct berth_nl *nl, const char *name, uint8_t mode, struct berth_err *err);
int berth_link_move_netns_fd(struct berth_nl *nl, const char *name, int netns_fd, struct berth_err *err);
int berth_link_move_netns_pid(struct berth_nl *nl, const char *name, pid_t pid, struct berth_err *err);
int berth_link_del(struct berth_nl *nl, const char *name, struct berth_err *err);
/* Number of links whose master is `master` (>= 0), or -errno. */
int berth_link_count_ports(struct berth_nl *nl, const char *master, struct berth_err *err);
/* 1 if any link has `master` as its master, 0 if none, or -errno: costs
 * one message where counting costs one per port (a dump on a netlink
 * socket of its own, left unfinished). */
int berth_link_has_ports(struct berth_nl *nl, const char *master, struct berth_err *err);

/* ---- bridge groups: a bridge and its overflow bridges ------------------- */

/* A Linux bridge takes at most 1023 ports (BR_MAX_PORTS 1024, port 0 being
 * reserved); the next port fails with EXFULL. A bridged VPS whose bridge is
 * full goes onto overflow bridge 1, 2, ... (BERTH_BRIDGE_OVERFLOW_MAX at
 * most), which carry the gateway as a host address and are joined to the
 * bridge by host routes and proxy ARP (runtime/vps/net_bridges.c). */
#define BERTH_BRIDGE_OVERFLOW_MAX 64
/* The name of overflow bridge n (1..BERTH_BRIDGE_OVERFLOW_MAX) of base:
 * "<base>-<n>", or where that exceeds 15 bytes, base cut short followed by
 * four hex digits of a hash of the whole base and "-<n>", so that two long
 * names with one beginning get different overflow bridges. out has 16
 * bytes. -EINVAL for an invalid base or n. */
int berth_bridge_overflow_name(const char *base, unsigned n, char *out, struct berth_err *err);
/* n when name is overflow bridge n of base, else 0. */
unsigned berth_bridge_overflow_index(const char *base, const char *name);

/* An IFB device (the shaper of a host end's inbound traffic, netns/tc.c). */
int berth_link_add_ifb(struct berth_nl *nl, const char *name, struct berth_err *err);

/* ---- interface addresses ---------------------------------------------- */

#define BERTH_ADDR_NODAD   0x1u /* IPv6: usable at once, no duplicate detection */
#define BERTH_ADDR_REPLACE 0x2u /* succeed when the address already exists */

int berth_addr_add(struct berth_nl *nl, const char *ifname, const struct berth_ip_addr *a, unsigned flags,
                   struct berth_err *err);
int berth_addr_del(struct berth_nl *nl, const char *ifname, const struct berth_ip_addr *a,
                   struct berth_err *err);
/* Addresses of ifindex (family 0 = both) into out[0..max); returns the
 * total count, which may exceed max. IPv6 link-local addresses included. */
int berth_addr_list(struct berth_nl *nl, int ifindex, int family, struct berth_ip_addr *out, size_t max,
                    struct berth_err *err);

/* ---- routes ------------------------------------------------------------ */

struct berth_route {
        struct berth_ip_addr dst; /* family required; prefixlen 0 = default route */
        struct berth_ip_addr via; /* gateway, family 0 = directly on the device */
        const char *dev;          /* output device name (for add/del), or NULL */
        int oif;                  /* output ifindex (filled by berth_route_list) */
        bool onlink;              /* gateway is on the link whatever the prefixes say */
        /* Add: the route's protocol (0 = RTPROT_STATIC). Delete: only a
         * route of this protocol (0 = any); with a protocol, a delete needs
         * neither device nor gateway. */
        unsigned char protocol;
};

/* The protocol of the host routes berth adds for guests on overflow
 * bridges (unused by iproute2's /etc/iproute2/rt_protos): found and
 * deleted by it, whichever bridge they point to. */
#define BERTH_RTPROT_BRIDGE 98

int berth_route_add(struct berth_nl *nl, const struct berth_route *r, struct berth_err *err);
int berth_route_del(struct berth_nl *nl, const struct berth_route *r, struct berth_err *err);
/* The output interface (ifindex > 0, 0 for none) of the route the host
 * takes to dst, as `ip route get`; -ENETUNREACH and the like when none. */
int berth_route_get_oif(struct berth_nl *nl, const struct berth_ip_addr *dst, struct berth_err *err);
/* Unicast routes of the main table (family 0 = both) into out[0..max);
 * returns the total count. `dev` of listed routes is NULL. */
int berth_route_list(struct berth_nl *nl, int family, struct berth_route *out, size_t max,
                     struct berth_err *err);

/* ---- neighbour entries -------------------------------------------------- */

/* Proxy entries: the host answers ARP / neighbour solicitations for `a`
 * received on ifname (with proxy_ndp for IPv6, forwarding on ifname). */
int berth_neigh_proxy_add(struct berth_nl *nl, const char *ifname, const struct berth_ip_addr *a,
                          struct berth_err *err);
int berth_neigh_proxy_del(struct berth_nl *nl, const char *ifname, const struct berth_ip_addr *a,
                          struct berth_err *err);
/* 1 when a proxy entry for `a` exists on ifindex (0 = any), 0 when not,
 * or -errno. */
int berth_neigh_proxy_exists(struct berth_nl *nl, int ifindex, const struct berth_ip_addr *a,
                             struct berth_err *err);

/* Gratuitous ARP for IPv4 address a from ifname's own MAC (netns/garp.c):
 * the host answers for a there now (proxy ARP); neighbours holding
 * another MAC for it take this one. A no-op for IPv6. */
int berth_neigh_announce(struct berth_nl *nl, const char *ifname, const struct berth_ip_addr *a,
                         struct berth_err *err);

/* ---- per-netns sysctls ---------------------------------------------------- */

/* key is relative to /proc/sys/net, e.g. "ipv4/conf/bth1/proxy_arp"; the file
 * is opened inside netns_fd (< 0: the current netns). */
int berth_sysctl_net_write(int netns_fd, const char *key, const char *value, struct berth_err *err);
/* Reads the value (trailing newline removed) into buf. */
int berth_sysctl_net_read(int netns_fd, const char *key, char *buf, size_t len, struct berth_err *err);

/* IPv6 forwarding of the packets that enter ifname (current netns): its
 * force_forwarding where the kernel has it (6.17+), else the netns-wide
 * net.ipv6.conf.all.forwarding -- after raising accept_ra from 1 to 2 on
 * every interface that accepts router advertisements now, so that the
 * switch takes no interface's RA-learned routes away. */
int berth_ipv6_forward_from(const char *ifname, struct berth_err *err);

/* ---- bandwidth (netns/tc.c) ------------------------------------------------- */

/* Bandwidth limits on a host end ifname, in bits per second (0: none):
 * in_bps what goes to the guest (a TBF on ifname), out_bps what comes from
 * it (handed, after berth's filter, to the IFB device ifb, which the call
 * makes, with a TBF; removed with out_bps 0). Replaces what was there, so
 * it serves start and a live change alike. */
int berth_tc_rate_set(struct berth_nl *nl, const char *ifname, const char *ifb, uint64_t in_bps,
                      uint64_t out_bps, struct berth_err *err);
/* Removes the IFB device ifb of host end ifname and what hands it frames
 * (0 when there is none). */
int berth_tc_ifb_remove(struct berth_nl *nl, const char *ifname, const char *ifb, struct berth_err *err);

struct berth_tc_stats {
        bool limited;            /* a TBF of berth's is there */
        uint64_t bps;            /* its rate, bits per second */
        uint64_t bytes, packets; /* sent through it */
        uint64_t drops, overlimits;
};
/* The counters of both directions' shapers (as berth_tc_rate_set names
 * them); -ENODEV when ifname does not exist. */
int berth_tc_rate_stats(struct berth_nl *nl, const char *ifname, const char *ifb, struct berth_tc_stats *in,
                        struct berth_tc_stats *out, struct berth_err *err);

/* ---- VPS network modes ------------------------------------------------------ */

enum berth_net_mode {
        /* Host end on a bridge that holds the gateway address(es); the guest
         * gets its addresses with their prefixes and default routes via the
         * gateways. */
        BERTH_NET_BRIDGED,
        /* OpenVZ venet style: no bridge; the host routes each guest address
         * (/32, /128) to the host end; the guest has only its own addresses
         * and a default route via a gateway that lives on the host end
         * (169.254.0.1 and fe80::1 unless set). */
        BERTH_NET_ROUTED,
};

#define BERTH_NET_DEFAULT_GW4 "169.254.0.1"
#define BERTH_NET_DEFAULT_GW6 "fe80::1"

/* Routed mode: also set the host's global net.ipv4.ip_forward and
 * net.ipv6.conf.all.forwarding (traffic to and from other host interfaces).
 * Without it only the host ends forward -- for IPv6 on kernels before 6.17
 * all.forwarding is turned on all the same (berth_ipv6_forward_from). */
#define BERTH_NET_F_HOST_FORWARDING 0x1u
/* No per-VPS nftables filter (berth/nft.h): the guest may spoof addresses
 * and reach every host service. For hosts without nf_tables. */
#define BERTH_NET_F_NO_FILTER 0x2u
/* Bridged: the bridge masquerades its IPv4 subnet (gw4) out of the host's
 * default route (berth_nat_apply); the NAT goes with the bridge. */
#define BERTH_NET_F_NAT 0x4u

struct berth_nft_port;

struct berth_net_config {
        enum berth_net_mode mode;
        const char *bridge;   /* bridged: host bridge, created on first use */
        const char *host_if;  /* host end of the veth pair */
        const char *guest_if; /* name inside the guest; NULL = "eth0" */
        const struct berth_ip_addr *addrs;
        size_t n_addrs;
        /* Bridged: the bridge's addresses (with prefix; set on creation) and
         * the guest's default gateways; family 0 = no default route of that
         * family. Routed: the gateway put on every host end and given to
         * the guest as onlink default gateway; family 0 = the defaults
         * above. An IPv6 routed gateway must be link-local. */
        struct berth_ip_addr gw4, gw6;
        unsigned mtu; /* 0 = kernel default */
        /* Routed: host uplink on which proxy ARP/NDP entries publish the
         * guest's addresses to the LAN; NULL = none. */
        const char *proxy_if;
        unsigned flags; /* BERTH_NET_F_* */
        /* Where a failed undo (rollback of a half setup) is reported as a
         * warning; NULL: nowhere. */
        const struct berth_log *log;
        /* The guest's MAC address (6 bytes), kept across restarts so that
         * neighbours' caches and the filter hold; NULL = a random one for
         * this setup (berth_net_filter_apply then needs it given). */
        const unsigned char *mac;
        /* Ports on the host's own addresses guests may reach (filter). */
        const struct berth_nft_port *host_ports;
        size_t n_host_ports;
        /* Bridged: ports a bridge takes before the next VPS goes onto an
         * overflow bridge; 0 = as many as the kernel takes (1023). */
        unsigned bridge_ports_max;
        /* Bridged: the bridge the host end was on at the VPS's last start,
         * "" when it never ran (a new VPS: no neighbour knows its MAC), or
         * NULL (not known). A guest that lands on an overflow bridge is
         * announced on the group's other bridges, where neighbours may hold
         * its MAC from a life among them, unless it was on this same bridge
         * last time or never ran: each announcement is a broadcast that
         * every port of a bridge gets (~5 ms at 1023 ports, once per
         * bridge of the group). */
        const char *last_bridge;
        /* Bridged, out: when not NULL, berth_net_setup writes the bridge the
         * host end is on there (IFNAMSIZ bytes). */
        char *bridge_used;
};

/* Creates the VPS network; netns_fd is the guest's network namespace (see
 * berth_netns_open_pid). On failure everything created here is removed. */
int berth_net_setup(const struct berth_net_config *c, int netns_fd, struct berth_err *err);

/* Also remove the bridge when no port is left on it. */
#define BERTH_NET_TEARDOWN_BRIDGE 0x1u
/* Leave the filter (berth/nft.h): a setup of the same config follows, whose
 * filter transaction replaces the same elements anyway (one transaction
 * fewer per start). */
#define BERTH_NET_TEARDOWN_KEEP_FILTER 0x2u
/* Removes the host end (its peer goes with it, and so do the host routes on
 * it) and the proxy entries berth made; idempotent. */
int berth_net_teardown(const struct berth_net_config *c, unsigned flags, struct berth_err *err);

/* One more / one less address on a running VPS (inside; routed also host
 * route and proxy entry). The address lists in c are the ones after the
 * change: a delete puts the default route back while c has another address
 * of the family. The filter is not changed (berth_net_filter_apply). */
int berth_net_addr_add(const struct berth_net_config *c, int netns_fd, const struct berth_ip_addr *a,
                       struct berth_err *err);
int berth_net_addr_del(const struct berth_net_config *c, int netns_fd, const struct berth_ip_addr *a,
                       struct berth_err *err);

/* Replaces the VPS's filter elements of old (NULL: none) with c's, after
 * a live address, MAC or --no-filter change. */
int berth_net_filter_update(const struct berth_net_config *old, const struct berth_net_config *c,
                            struct berth_err *err);
/* Removes the VPS's filter elements (idempotent). */
int berth_net_filter_remove(const struct berth_net_config *c, struct berth_err *err);
/* Gives the guest end a new MAC (c->mac): the filter first, then the link,
 * which announces itself (arp_notify / ndisc_notify). */
int berth_net_set_mac(const struct berth_net_config *old, const struct berth_net_config *c, int netns_fd,
                      struct berth_err *err);

/* Removes the bridge if no port is left on it (-EBUSY otherwise; 0 when it
 * does not exist). */
int berth_net_bridge_remove(const char *bridge, struct berth_err *err);

#endif
