/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The set elements of a guest as the kernel stores them (see berth/nft.h):
 * what nft would make of "\"veth\" . 02:11:22:33:44:55". Pure, so that a
 * unit test pins the bytes. Also the guest's link-local address, one of
 * its elements. */
#include <string.h>
#include <sys/socket.h>

#include "berth/nft.h"

void berth_nft_mac_link_local(const unsigned char mac[6], struct berth_ip_addr *out)
{
        memset(out, 0, sizeof(*out));
        out->family = AF_INET6;
        out->prefixlen = 64;
        unsigned char *b = out->u.v6.s6_addr;
        b[0] = 0xfe;
        b[1] = 0x80;
        b[8] = mac[0] ^ 0x02;
        b[9] = mac[1];
        b[10] = mac[2];
        b[11] = 0xff;
        b[12] = 0xfe;
        b[13] = mac[3];
        b[14] = mac[4];
        b[15] = mac[5];
}

/* One part of a concatenation: its bytes, zero-padded to 4 (the kernel's
 * NFT_REG32 slots). */
static void put(struct berth_nft_elem *e, const void *p, size_t len, size_t room)
{
        memcpy(e->key + e->len, p, len);
        memset(e->key + e->len + len, 0, room - len);
        e->len += room;
}

static void start(struct berth_nft_elem *e, uint8_t family, const char *set)
{
        memset(e, 0, sizeof(*e));
        e->family = family;
        e->set = set;
}

/* An interface name is 16 bytes (IFNAMSIZ), NUL-padded. */
static void put_ifname(struct berth_nft_elem *e, const char *ifname)
{
        size_t n = strnlen(ifname, 15);
        put(e, ifname, n, 16);
}

void berth_nft_elem_ifname(struct berth_nft_elem *e, uint8_t family, const char *set, const char *ifname)
{
        start(e, family, set);
        put_ifname(e, ifname);
}

void berth_nft_elem_port(struct berth_nft_elem *e, const struct berth_nft_port *p)
{
        start(e, BERTH_NFT_INET, "ports");
        put(e, &p->proto, 1, 4);
        const unsigned char be[2] = {(unsigned char)(p->port >> 8), (unsigned char)p->port};
        put(e, be, 2, 4);
}

size_t berth_nft_guest_elems(const struct berth_nft_guest *g, struct berth_nft_elem *out)
{
        size_t n = 0;
        berth_nft_elem_ifname(&out[n], BERTH_NFT_NETDEV, "macs", g->host_if);
        put(&out[n++], g->mac, 6, 8);
        struct berth_ip_addr ll;
        berth_nft_mac_link_local(g->mac, &ll);
        for (size_t k = 0; k <= g->n_addrs; k++) {
                const struct berth_ip_addr *a = k < g->n_addrs ? &g->addrs[k] : &ll;
                bool v4 = a->family == AF_INET;
                berth_nft_elem_ifname(&out[n], BERTH_NFT_NETDEV, v4 ? "addr4" : "addr6", g->host_if);
                put(&out[n++], a->u.raw, v4 ? 4 : 16, v4 ? 4 : 16);
                if (v4)
                        continue;
                berth_nft_elem_ifname(&out[n], BERTH_NFT_NETDEV, "ndtarget", g->host_if);
                put(&out[n++], a->u.raw, 16, 16);
        }
        return n;
}
