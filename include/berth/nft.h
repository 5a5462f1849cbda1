/* Per-VPS network filters through libnftables, in berth's own tables only:
 *
 *   table netdev berth   one base chain per VPS on the ingress hook of its
 *                        host-side veth end (named like it): what the guest
 *                        may send at all -- its own MAC, ARP for its own
 *                        IPv4 addresses, IPv4/IPv6 from its own addresses
 *                        (and the link-local address its MAC derives), ND
 *                        for its own addresses, no router advertisements,
 *                        redirects or DHCP server replies. The hook sees
 *                        every frame before the bridge or the IP stack
 *                        does, in bridged and routed mode alike.
 *   table inet berth     the host's protection: packets from guest-facing
 *                        interfaces (set "ifs": the bridges, routed host
 *                        ends) to the host's own addresses pass only as
 *                        replies to connections the host opened, ICMP echo,
 *                        neighbour discovery, and the allowed host ports
 *                        (set "ports").
 *
 * Each change is one nft transaction (libnftables, one batch), so a VPS's
 * chain is replaced atomically. Nothing outside these two tables is read or
 * changed. */
#ifndef BERTH_NFT_H
#define BERTH_NFT_H

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

/* The nft script that berth_nft_guest_apply runs (malloc'ed; NULL when out
 * of memory). For tests and --debug. */
char *berth_nft_guest_script(const struct berth_nft_guest *g);
/* Creates or replaces the guest's filter (and the shared host chains) in
 * one transaction. A host without nf_tables gets -EOPNOTSUPP with a message
 * saying so. */
int berth_nft_guest_apply(const struct berth_nft_guest *g, struct berth_err *err);
/* Removes the guest's chain and, when host_side is not NULL, that entry of
 * the host's "ifs" set (routed host ends; a bridge stays while it exists);
 * idempotent. */
int berth_nft_guest_remove(const char *host_if, const char *host_side, struct berth_err *err);

/* The guest's IPv6 link-local address from its MAC (EUI-64). */
void berth_nft_mac_link_local(const unsigned char mac[6], struct berth_ip_addr *out);

#endif
