// SPDX-License-Identifier: GPL-2.0-or-later
/* Gratuitous ARP on behalf of a guest (berth/netns.h): where a guest's
 * address moved behind a proxy (onto another bridge of its group), the
 * neighbours that still hold its old MAC learn the proxy's at once,
 * instead of after their entry's reachable time and probes. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if_arp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/netns.h"

struct arp_frame {
        struct arphdr h;
        unsigned char sha[6], spa[4], tha[6], tpa[4];
} __attribute__((packed));

int berth_neigh_announce(struct berth_nl *nl, const char *ifname, const struct berth_ip_addr *a,
                         struct berth_err *err)
{
        if (a->family != AF_INET)
                return 0;
        struct berth_link_info info;
        int r = berth_link_get(nl, ifname, &info, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return berth_err_sys(err, errno, "announce on %s: packet socket", ifname);
        /* A request whose sender and target are the address: what Linux's
         * arp_notify sends, and what neighbours take as an update. */
        struct arp_frame f = {.h = {.ar_hrd = htons(ARPHRD_ETHER),
                                    .ar_pro = htons(ETH_P_IP),
                                    .ar_hln = 6,
                                    .ar_pln = 4,
                                    .ar_op = htons(ARPOP_REQUEST)}};
        memcpy(f.sha, info.mac, 6);
        memcpy(f.spa, a->u.raw, 4);
        memcpy(f.tpa, a->u.raw, 4);
        struct sockaddr_ll to = {.sll_family = AF_PACKET,
                                 .sll_protocol = htons(ETH_P_ARP),
                                 .sll_ifindex = info.ifindex,
                                 .sll_halen = 6};
        memset(to.sll_addr, 0xff, 6);
        if (sendto(fd, &f, sizeof(f), 0, (struct sockaddr *)&to, sizeof(to)) != (ssize_t)sizeof(f))
                return berth_err_sys(err, errno, "announce on %s", ifname);
        return 0;
}
