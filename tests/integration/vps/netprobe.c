/* SPDX-License-Identifier: GPL-2.0-or-later */
/* netprobe: the network attacks and observations of vps_net_test.sh, run
 * inside busybox guests (static: the guest has no libc) and on the host.
 *
 *   netprobe garp IFACE IPV4             gratuitous ARP claiming IPV4 for IFACE's MAC
 *   netprobe ra IFACE                    router advertisement: default router and
 *                                        prefix 2001:db8:bad::/64 to ff02::1
 *   netprobe udp-send SRC DST PORT       one UDP datagram from any source (raw socket)
 *   netprobe udp-recv PORT SECONDS       prints the source of each datagram to PORT;
 *                                        exit 0 when one came, 1 when none
 *   netprobe tcp-listen ADDR PORT        accepts and closes connections until killed
 *   netprobe tcp-connect ADDR PORT SECS  exit 0 when connected, 1 when not (prints why)
 *   netprobe tcp-sink ADDR PORT SECS     one connection within SECS: prints "listening",
 *                                        then "from PEER bytes N ms T bps R" with the
 *                                        rate from its first byte to its end
 *   netprobe tcp-send ADDR PORT BYTES    sends BYTES and waits for the peer to close
 *
 * Exit 2 on a usage or setup error, so that "the attack failed" is never
 * confused with "the probe could not run". */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip6.h>
#include <netinet/udp.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static _Noreturn void die(const char *what)
{
        fprintf(stderr, "netprobe: %s: %s\n", what, strerror(errno));
        exit(2);
}

static int if_mac(const char *ifname, unsigned char mac[6])
{
        struct ifreq ifr = {0};
        int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
        if (fd < 0 || ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
                die("SIOCGIFHWADDR");
        memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
        close(fd);
        return 0;
}

static int garp(const char *ifname, const char *ip)
{
        unsigned char mac[6], frame[28];
        struct in_addr a;
        if (inet_pton(AF_INET, ip, &a) != 1)
                return fprintf(stderr, "netprobe: bad IPv4 %s\n", ip), 2;
        if_mac(ifname, mac);
        int fd = socket(AF_PACKET, SOCK_DGRAM | SOCK_CLOEXEC, htons(ETH_P_ARP));
        if (fd < 0)
                die("packet socket");
        /* ARP request, sender = target = the claimed address. */
        static const unsigned char head[8] = {0, 1, 8, 0, 6, 4, 0, 1};
        memcpy(frame, head, 8);
        memcpy(frame + 8, mac, 6);
        memcpy(frame + 14, &a, 4);
        memset(frame + 18, 0, 6);
        memcpy(frame + 24, &a, 4);
        struct sockaddr_ll ll = {.sll_family = AF_PACKET,
                                 .sll_protocol = htons(ETH_P_ARP),
                                 .sll_ifindex = (int)if_nametoindex(ifname),
                                 .sll_halen = 6};
        memset(ll.sll_addr, 0xff, 6);
        for (int i = 0; i < 3; i++)
                if (sendto(fd, frame, sizeof(frame), 0, (struct sockaddr *)&ll, sizeof(ll)) < 0)
                        die("send ARP");
        return 0;
}

static int ra(const char *ifname)
{
        int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_ICMPV6);
        if (fd < 0)
                die("ICMPv6 socket");
        int hops = 255;
        unsigned idx = if_nametoindex(ifname);
        if (setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_HOPS, &hops, sizeof(hops)) < 0 ||
            setsockopt(fd, IPPROTO_IPV6, IPV6_MULTICAST_IF, &idx, sizeof(idx)) < 0)
                die("setsockopt");
        unsigned char m[16 + 32 + 8] = {0};
        struct nd_router_advert *h = (struct nd_router_advert *)m;
        h->nd_ra_type = ND_ROUTER_ADVERT;
        h->nd_ra_curhoplimit = 64;
        h->nd_ra_router_lifetime = htons(1800);
        struct nd_opt_prefix_info *p = (struct nd_opt_prefix_info *)(m + 16);
        p->nd_opt_pi_type = ND_OPT_PREFIX_INFORMATION;
        p->nd_opt_pi_len = 4;
        p->nd_opt_pi_prefix_len = 64;
        p->nd_opt_pi_flags_reserved = ND_OPT_PI_FLAG_ONLINK | ND_OPT_PI_FLAG_AUTO;
        p->nd_opt_pi_valid_time = htonl(86400);
        p->nd_opt_pi_preferred_time = htonl(14400);
        inet_pton(AF_INET6, "2001:db8:bad::", &p->nd_opt_pi_prefix);
        unsigned char *sl = m + 48; /* source link-layer address */
        sl[0] = ND_OPT_SOURCE_LINKADDR;
        sl[1] = 1;
        if_mac(ifname, sl + 2);
        struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_scope_id = idx};
        inet_pton(AF_INET6, "ff02::1", &to.sin6_addr);
        for (int i = 0; i < 3; i++)
                if (sendto(fd, m, sizeof(m), 0, (struct sockaddr *)&to, sizeof(to)) < 0)
                        die("send RA");
        return 0;
}

static uint32_t sum16(const void *data, size_t len, uint32_t s)
{
        const unsigned char *b = data;
        for (size_t i = 0; i + 1 < len; i += 2)
                s += (uint32_t)(b[i] << 8 | b[i + 1]);
        if (len & 1)
                s += (uint32_t)b[len - 1] << 8;
        return s;
}

static uint16_t fold(uint32_t s)
{
        while (s >> 16)
                s = (s & 0xffff) + (s >> 16);
        return htons((uint16_t)~s);
}

static int udp_send(const char *src, const char *dst, int port)
{
        unsigned char pkt[128] = {0};
        const char payload[] = "spoof";
        struct udphdr *u;
        size_t ulen = sizeof(*u) + sizeof(payload);
        if (strchr(dst, ':')) {
                struct ip6_hdr *h = (struct ip6_hdr *)pkt;
                if (inet_pton(AF_INET6, src, &h->ip6_src) != 1 || inet_pton(AF_INET6, dst, &h->ip6_dst) != 1)
                        return fprintf(stderr, "netprobe: bad IPv6 address\n"), 2;
                h->ip6_flow = htonl(6u << 28);
                h->ip6_plen = htons((uint16_t)ulen);
                h->ip6_nxt = IPPROTO_UDP;
                h->ip6_hops = 64;
                u = (struct udphdr *)(pkt + sizeof(*h));
                u->uh_sport = htons(40000);
                u->uh_dport = htons((uint16_t)port);
                u->uh_ulen = htons((uint16_t)ulen);
                memcpy(u + 1, payload, sizeof(payload));
                uint32_t s = sum16(&h->ip6_src, 32, 0) + (uint32_t)ulen + IPPROTO_UDP;
                u->uh_sum = fold(sum16(u, ulen, s));
                struct sockaddr_in6 to = {.sin6_family = AF_INET6, .sin6_addr = h->ip6_dst};
                int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
                if (fd < 0 || sendto(fd, pkt, sizeof(*h) + ulen, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
                        die("send IPv6");
                return 0;
        }
        struct ip *h = (struct ip *)pkt;
        if (inet_pton(AF_INET, src, &h->ip_src) != 1 || inet_pton(AF_INET, dst, &h->ip_dst) != 1)
                return fprintf(stderr, "netprobe: bad IPv4 address\n"), 2;
        h->ip_v = 4;
        h->ip_hl = 5;
        h->ip_len = htons((uint16_t)(sizeof(*h) + ulen));
        h->ip_ttl = 64;
        h->ip_p = IPPROTO_UDP;
        u = (struct udphdr *)(pkt + sizeof(*h));
        u->uh_sport = htons(40000);
        u->uh_dport = htons((uint16_t)port);
        u->uh_ulen = htons((uint16_t)ulen);
        memcpy(u + 1, payload, sizeof(payload));
        struct sockaddr_in to = {.sin_family = AF_INET, .sin_addr = h->ip_dst};
        int fd = socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_RAW);
        if (fd < 0 || sendto(fd, pkt, sizeof(*h) + ulen, 0, (struct sockaddr *)&to, sizeof(to)) < 0)
                die("send IPv4");
        return 0;
}

static int udp_recv(int port, int secs)
{
        int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int off = 0;
        struct sockaddr_in6 a = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
        if (fd < 0 || setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)) < 0 ||
            bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0)
                die("bind UDP");
        printf("listening\n");
        fflush(stdout);
        int got = 0;
        time_t end = time(NULL) + secs;
        for (time_t now; (now = time(NULL)) < end;) {
                struct pollfd p = {.fd = fd, .events = POLLIN};
                if (poll(&p, 1, (int)(end - now) * 1000) <= 0)
                        continue;
                char buf[256], text[INET6_ADDRSTRLEN];
                struct sockaddr_in6 from;
                socklen_t fl = sizeof(from);
                if (recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl) < 0)
                        continue;
                printf("from %s\n", inet_ntop(AF_INET6, &from.sin6_addr, text, sizeof(text)));
                fflush(stdout);
                got = 1;
        }
        return got ? 0 : 1;
}

static int sockaddr_of(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *len)
{
        memset(ss, 0, sizeof(*ss));
        struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
        if (inet_pton(AF_INET, addr, &a4->sin_addr) == 1) {
                a4->sin_family = AF_INET;
                a4->sin_port = htons((uint16_t)port);
                *len = sizeof(*a4);
                return AF_INET;
        }
        if (inet_pton(AF_INET6, addr, &a6->sin6_addr) == 1) {
                a6->sin6_family = AF_INET6;
                a6->sin6_port = htons((uint16_t)port);
                *len = sizeof(*a6);
                return AF_INET6;
        }
        fprintf(stderr, "netprobe: bad address %s\n", addr);
        exit(2);
}

static _Noreturn void tcp_listen(const char *addr, int port)
{
        struct sockaddr_storage ss;
        socklen_t len;
        int fam = sockaddr_of(addr, port, &ss, &len), one = 1;
        int fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 16) < 0)
                die("listen");
        for (;;) {
                int c = accept(fd, NULL, NULL);
                if (c >= 0) {
                        (void)!write(c, "ok\n", 3);
                        close(c);
                }
        }
}

static int tcp_connect(const char *addr, int port, int secs)
{
        struct sockaddr_storage ss;
        socklen_t len;
        int fam = sockaddr_of(addr, port, &ss, &len);
        int fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0)
                die("socket");
        if (connect(fd, (struct sockaddr *)&ss, len) < 0 && errno != EINPROGRESS) {
                printf("refused: %s\n", strerror(errno));
                return 1;
        }
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        if (poll(&p, 1, secs * 1000) <= 0) {
                printf("timeout\n");
                return 1;
        }
        int e = 0;
        socklen_t el = sizeof(e);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
        if (e) {
                printf("refused: %s\n", strerror(e));
                return 1;
        }
        printf("connected\n");
        return 0;
}

static double now_ms(void)
{
        struct timespec t;
        clock_gettime(CLOCK_MONOTONIC, &t);
        return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int tcp_sink(const char *addr, int port, int secs)
{
        struct sockaddr_storage ss, peer;
        socklen_t len, plen = sizeof(peer);
        int fam = sockaddr_of(addr, port, &ss, &len), one = 1;
        int fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
            bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, 1) < 0)
                die("listen");
        printf("listening\n");
        fflush(stdout);
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, secs * 1000) <= 0) {
                printf("timeout\n");
                return 1;
        }
        int c = accept(fd, (struct sockaddr *)&peer, &plen);
        if (c < 0)
                die("accept");
        static char buf[1 << 16];
        unsigned long long total = 0;
        double first = 0;
        for (;;) {
                ssize_t n = read(c, buf, sizeof(buf));
                if (n < 0)
                        die("read");
                if (n == 0)
                        break;
                if (!total)
                        first = now_ms();
                total += (unsigned long long)n;
        }
        double ms = now_ms() - first;
        char host[INET6_ADDRSTRLEN] = "?";
        if (peer.ss_family == AF_INET)
                inet_ntop(AF_INET, &((struct sockaddr_in *)&peer)->sin_addr, host, sizeof(host));
        else
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&peer)->sin6_addr, host, sizeof(host));
        printf("from %s bytes %llu ms %.0f bps %.0f\n", host, total, ms,
               ms > 0 ? total * 8 * 1000.0 / ms : 0);
        return 0;
}

static int tcp_send(const char *addr, int port, unsigned long long bytes)
{
        struct sockaddr_storage ss;
        socklen_t len;
        int fam = sockaddr_of(addr, port, &ss, &len);
        int fd = socket(fam, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&ss, len) < 0)
                die("connect");
        static char buf[1 << 16];
        while (bytes) {
                size_t n = bytes < sizeof(buf) ? (size_t)bytes : sizeof(buf);
                ssize_t w = write(fd, buf, n);
                if (w <= 0)
                        die("write");
                bytes -= (unsigned long long)w;
        }
        shutdown(fd, SHUT_WR);
        while (read(fd, buf, sizeof(buf)) > 0)
                ;
        return 0;
}

int main(int argc, char **argv)
{
        const char *cmd = argc > 1 ? argv[1] : "";
        if (!strcmp(cmd, "garp") && argc == 4)
                return garp(argv[2], argv[3]);
        if (!strcmp(cmd, "ra") && argc == 3)
                return ra(argv[2]);
        if (!strcmp(cmd, "udp-send") && argc == 5)
                return udp_send(argv[2], argv[3], atoi(argv[4]));
        if (!strcmp(cmd, "udp-recv") && argc == 4)
                return udp_recv(atoi(argv[2]), atoi(argv[3]));
        if (!strcmp(cmd, "tcp-listen") && argc == 4)
                tcp_listen(argv[2], atoi(argv[3]));
        if (!strcmp(cmd, "tcp-connect") && argc == 5)
                return tcp_connect(argv[2], atoi(argv[3]), atoi(argv[4]));
        if (!strcmp(cmd, "tcp-sink") && argc == 5)
                return tcp_sink(argv[2], atoi(argv[3]), atoi(argv[4]));
        if (!strcmp(cmd, "tcp-send") && argc == 5)
                return tcp_send(argv[2], atoi(argv[3]), strtoull(argv[4], NULL, 10));
        fprintf(stderr,
                "usage: netprobe garp|ra|udp-send|udp-recv|tcp-listen|tcp-connect|tcp-sink|tcp-send ... "
                "(see source)\n");
        return 2;
}
