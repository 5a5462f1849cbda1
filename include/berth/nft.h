/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Per-VPS network filters in nftables, in berth's own tables only:
 *
 *   table netdev berth   what a guest may send at all -- its own MAC, ARP
 *                        for its own IPv4 addresses, IPv4/IPv6 from its
 *                        own addresses (and the link-local address its
 *                        MAC derives), ND for its own addresses, no router
 *                        advertisements, redirects or DHCP server replies:
 *                        the rules of the regular chain "checks", shared;
 *                        a guest is elements of sets keyed by its
 *                        interface name (macs, addr4, addr6, ndtarget), so
 *                        that a start costs the same with 1 or 1000 VPS.
 *                        The base chain "guest" on the ingress hook of
 *                        every host-side veth end (its "devices") jumps to
 *                        "checks"; on older kernels (6.1), which cannot
 *                        add a device to a chain, each further guest has a
 *                        base chain of its own, "in_<host end>". The hook
 *                        sees every frame before the bridge or the IP
 *                        stack does, in bridged and routed mode alike.
 *   table inet berth     the host's protection: packets from guest-facing
 *                        interfaces (set "ifs": the bridges, routed host
 *                        ends) to the host's own addresses pass only as
 *                        replies to connections the host opened, ICMP echo,
 *                        neighbour discovery, and the allowed host ports
 *                        (set "ports").
 *
 * Each change is one nf_tables transaction (one netlink batch; libnftables
 * only makes the tables and rules when they are missing): a guest's
 * elements are replaced atomically. Nothing outside these two tables is
 * read or changed. */
#ifndef BERTH_NFT_H
#define BERTH_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "berth/err.h"
#include "berth/netns.h"

/* A port on the host's own addresses that guests may reach. */
struct berth_nft_port {
        uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
        uint16_t port;
};

/* "tcp/53", "udp/53" -> port. */
int berth_nft_port_parse(const char *s, struct berth_nft_port *out, struct berth_err *err);

struct berth_nft_guest {
        const char *host_if;   /* host end of the VPS's veth: the hook device and chain name */
        const char *host_side; /* where its packets to the host arrive: bridge or host_if */
        unsigned char mac[6];  /* the guest's MAC */
        const struct berth_ip_addr *addrs;
        size_t n_addrs;
        const struct berth_nft_port *ports; /* allowed host ports (replaces the set) */
        size_t n_ports;
};

/* The tables and the guest's elements as one nft script (malloc'ed; NULL
 * when out of memory): for tests and the documentation. */
char *berth_nft_guest_script(const struct berth_nft_guest *g);
/* Filters the guest: its elements (replacing old's, when not NULL) and its
 * interface among the hook's devices (with the base chain's rule, which the
 * kernel may have deleted with the chain's last device), in one
 * transaction; makes the tables first when they are missing. A host
 * without nf_tables gets -EOPNOTSUPP with a message saying so. */
int berth_nft_guest_apply(const struct berth_nft_guest *g, const struct berth_nft_guest *old,
                          struct berth_err *err);
/* Removes the guest's elements, its own base chain (kernels like 6.1) and,
 * when g->host_side is not NULL, that entry of the host's "ifs" set
 * (routed host ends; a bridge stays); idempotent. Its name may stay among
 * the devices of "guest" (nftables 1.0.6 cannot remove one): with no
 * elements, all its frames are dropped. */
int berth_nft_guest_remove(const struct berth_nft_guest *g, struct berth_err *err);
/* Removes ifname (an overflow bridge that goes) from the host's "ifs" set;
 * idempotent, a no-op without berth's tables or nf_tables. */
int berth_nft_ifs_remove(const char *ifname, struct berth_err *err);
/* Lets every frame of host_if pass (a VPS started --no-filter: set
 * "unfiltered", and no base chain of its own); a no-op without berth's
 * tables or nf_tables. */
int berth_nft_guest_open(const char *host_if, struct berth_err *err);

/* The guest's IPv6 link-local address from its MAC (EUI-64). */
void berth_nft_mac_link_local(const unsigned char mac[6], struct berth_ip_addr *out);

/* ---- the netlink encoding (netns/nft_elem.c) ----------------------------- */

/* The tables' families: NFPROTO_NETDEV and NFPROTO_INET (linux/netfilter.h,
 * whose linux/in.h clashes with glibc's netinet/in.h). */
#define BERTH_NFT_NETDEV 5
#define BERTH_NFT_INET   1

/* One set element: its table's family (BERTH_NFT_NETDEV or _INET), set
 * and key as the kernel compares it: each part of a concatenation padded to
 * 4 bytes, an interface name as 16 bytes (NUL-padded). */
struct berth_nft_elem {
        uint8_t family;
        const char *set;
        unsigned char key[32];
        size_t len;
};

/* Room for the elements of a guest with n addresses. */
#define BERTH_NFT_GUEST_ELEMS(n) (1 + 2 * ((n) + 1))
/* g's elements of the netdev table (macs, addr4, addr6 and ndtarget, its
 * link-local address included) into out; returns how many. */
size_t berth_nft_guest_elems(const struct berth_nft_guest *g, struct berth_nft_elem *out);
/* The element of a set of interface names (ifs, unfiltered). */
void berth_nft_elem_ifname(struct berth_nft_elem *e, uint8_t family, const char *set, const char *ifname);
/* The element of set "ports" (inet_proto . inet_service). */
void berth_nft_elem_port(struct berth_nft_elem *e, const struct berth_nft_port *p);

/* ---- outbound NAT of a bridge (netns/nat.c) ---------------------------- */

/* Table "ip berth_nat", chain "post_<bridge>": IPv4 from subnet (an
 * address with its prefix: the bridge's) to anywhere outside it that
 * leaves through the interface of the host's IPv4 default route is
 * masqueraded; IPv4 forwarding is turned on for the bridge and that
 * interface only (not net.ipv4.ip_forward). Replaces the chain's rule, so
 * a later call follows a changed default route. The uplink's name goes to
 * uplink (16 bytes) when not NULL. */
int berth_nat_apply(const char *bridge, const struct berth_ip_addr *subnet, char *uplink,
                    struct berth_err *err);
/* Removes the bridge's chain (0 when there is none). */
int berth_nat_remove(const char *bridge, struct berth_err *err);
/* 1 when the bridge has its NAT chain, 0 when not, -errno. */
int berth_nat_active(const char *bridge, struct berth_err *err);

#endif
