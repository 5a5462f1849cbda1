/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Component tests of netns/ (root): links, addresses, routes, proxy
 * entries, sysctls and both VPS network modes. Address parsing is
 * unit-tested in tests/unit/test_netns.c.
 *
 * Every root test runs in its own forked process (Check's fork mode) that
 * first unshares a network namespace to play the "host"; guests are further
 * namespaces made by unshare and kept alive by an fd alone. Nothing leaves
 * those namespaces, and they vanish with the test process. Traffic is real:
 * ICMP echo over raw sockets opened inside a guest. */
#include <errno.h>
#include <fcntl.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "berth/netns.h"
#include "berth/nft.h"

/* ---- helpers ------------------------------------------------------------ */

static struct berth_ip_addr ip(const char *s)
{
        struct berth_ip_addr a;
        struct berth_err err = {0};
        ck_assert_msg(berth_ip_addr_parse(s, &a, &err) == 0, "parse %s: %s", s, err.msg);
        return a;
}

static int new_netns(void)
{
        int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(self, 0);
        ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
        int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(setns(self, CLONE_NEWNET), 0);
        close(self);
        return fd;
}

/* Fixture: this test process becomes the "host" in a private netns. */
static void host_setup(void)
{
        struct berth_err err = {0};
        SKIP_IF(unshare(CLONE_NEWNET) != 0, "cannot unshare a network namespace (needs root): %s",
                strerror(errno));
        struct berth_nl *nl = berth_nl_open(&err);
        ck_assert_msg(nl, "%s", err.msg);
        ck_assert_msg(berth_link_set_up(nl, "lo", true, &err) == 0, "%s", err.msg);
        berth_nl_close(nl);
}

static struct berth_nl *nl_in(int netns_fd)
{
        struct berth_err err = {0};
        struct berth_nl *nl = berth_nl_open_netns(netns_fd, &err);
        ck_assert_msg(nl, "%s", err.msg);
        return nl;
}

struct names {
        char list[64][IFNAMSIZ];
        int n;
};

static int names_cb(const struct nlmsghdr *nlh, void *data)
{
        struct names *nm = data;
        struct nlattr *attr;
        mnl_attr_for_each(attr, nlh, sizeof(struct ifinfomsg))
        {
                if (mnl_attr_get_type(attr) == IFLA_IFNAME && nm->n < 64)
                        snprintf(nm->list[nm->n++], IFNAMSIZ, "%s", mnl_attr_get_str(attr));
        }
        return MNL_CB_OK;
}

static int cmp_name(const void *a, const void *b)
{
        return strcmp(a, b);
}

/* Space separated, sorted by name: "lo tbr0 tvA". */
static void link_names(int netns_fd, char *buf, size_t len)
{
        struct names nm = {.n = 0};
        struct berth_nl *nl = nl_in(netns_fd);
        struct nlmsghdr *nlh = berth_nl_msg(nl, RTM_GETLINK, 0, sizeof(struct ifinfomsg));
        ck_assert_int_eq(berth_nl_dump(nl, nlh, names_cb, &nm), 0);
        berth_nl_close(nl);
        qsort(nm.list, (size_t)nm.n, IFNAMSIZ, cmp_name);
        buf[0] = '\0';
        for (int i = 0; i < nm.n; i++)
                snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? " " : "", nm.list[i]);
}

static bool has_addr(int netns_fd, const char *ifname, const char *addr)
{
        struct berth_err err = {0};
        struct berth_ip_addr list[32], want = ip(addr);
        struct berth_nl *nl = nl_in(netns_fd);
        int index = berth_link_index(nl, ifname, &err);
        ck_assert_msg(index > 0, "%s", err.msg);
        int n = berth_addr_list(nl, index, 0, list, 32, &err);
        berth_nl_close(nl);
        ck_assert_msg(n >= 0 && n <= 32, "%s", err.msg);
        for (int i = 0; i < n; i++)
                if (berth_ip_addr_equal(&list[i], &want))
                        return true;
        return false;
}

/* Every address of ifname, link-local ones included: their count. */
static int list_addrs(int netns_fd, const char *ifname, struct berth_ip_addr *list, int max)
{
        struct berth_err err = {0};
        struct berth_nl *nl = nl_in(netns_fd);
        int index = berth_link_index(nl, ifname, &err);
        ck_assert_msg(index > 0, "%s", err.msg);
        int n = berth_addr_list(nl, index, 0, list, (size_t)max, &err);
        berth_nl_close(nl);
        ck_assert_msg(n >= 0, "%s", err.msg);
        return n < max ? n : max;
}

static int count_addrs(int netns_fd, const char *ifname)
{
        struct berth_ip_addr list[32];
        return list_addrs(netns_fd, ifname, list, 32);
}

/* Addresses of ifname other than IPv6 link-local ones. */
static int count_global_addrs(int netns_fd, const char *ifname)
{
        struct berth_ip_addr list[32];
        int n = list_addrs(netns_fd, ifname, list, 32), count = 0;
        for (int i = 0; i < n; i++)
                count += !(list[i].family == AF_INET6 && berth_ip_addr_is_link_local(&list[i]));
        return count;
}

/* dst "default" or "a/len"; via NULL for none; dev NULL for any. */
static bool has_route(int netns_fd, int family, const char *dst, const char *via, const char *dev)
{
        struct berth_err err = {0};
        struct berth_route list[64];
        struct berth_ip_addr d = {.family = family}, v = {0};
        if (strcmp(dst, "default") != 0)
                d = ip(dst);
        if (via)
                v = ip(via);
        struct berth_nl *nl = nl_in(netns_fd);
        int oif = dev ? berth_link_index(nl, dev, &err) : 0;
        int n = berth_route_list(nl, family, list, 64, &err);
        berth_nl_close(nl);
        ck_assert_msg(n >= 0 && n <= 64, "%s", err.msg);
        for (int i = 0; i < n; i++) {
                struct berth_ip_addr got = list[i].via;
                got.prefixlen = v.prefixlen;
                if (berth_ip_addr_equal(&list[i].dst, &d) && (!dev || list[i].oif == oif) &&
                    (via ? berth_ip_addr_equal(&got, &v) : list[i].via.family == 0))
                        return true;
        }
        return false;
}

static void link_info(int netns_fd, const char *name, struct berth_link_info *info)
{
        struct berth_err err = {0};
        struct berth_nl *nl = nl_in(netns_fd);
        int r = berth_link_get(nl, name, info, &err);
        berth_nl_close(nl);
        ck_assert_msg(r == 0, "%s", err.msg);
}

static bool link_exists(int netns_fd, const char *name)
{
        struct berth_err err = {0};
        struct berth_nl *nl = nl_in(netns_fd);
        int r = berth_link_index(nl, name, &err);
        berth_nl_close(nl);
        ck_assert_msg(r > 0 || r == -ENODEV, "%s", err.msg);
        return r > 0;
}

static int self_netns(void)
{
        int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        return fd;
}

static void sysctl_is(int netns_fd, const char *key, const char *want)
{
        struct berth_err err = {0};
        char buf[64];
        ck_assert_msg(berth_sysctl_net_read(netns_fd, key, buf, sizeof(buf), &err) == 0, "%s", err.msg);
        ck_assert_msg(strcmp(buf, want) == 0, "%s = %s, want %s", key, buf, want);
}

/* ---- ICMP echo from inside a namespace ------------------------------------ */

struct icmp_sock {
        int family;
        const char *scope_if;
        int fd;
        unsigned scope_id;
};

static int open_icmp_here(void *data, struct berth_err *err)
{
        struct icmp_sock *s = data;
        int proto = s->family == AF_INET ? IPPROTO_ICMP : IPPROTO_ICMPV6;
        s->fd = socket(s->family, SOCK_RAW | SOCK_CLOEXEC, proto);
        if (s->fd < 0)
                return berth_err_sys(err, errno, "raw socket");
        if (s->scope_if)
                s->scope_id = if_nametoindex(s->scope_if);
        return 0;
}

static uint16_t inet_csum(const void *p, size_t len)
{
        const uint8_t *b = p;
        uint32_t sum = 0;
        for (size_t i = 0; i + 1 < len; i += 2)
                sum += (uint32_t)(b[i] << 8 | b[i + 1]);
        if (len & 1)
                sum += (uint32_t)b[len - 1] << 8;
        while (sum >> 16)
                sum = (sum & 0xffff) + (sum >> 16);
        return htons((uint16_t)~sum);
}

static bool is_reply(const struct icmp_sock *s, const uint8_t *buf, ssize_t n, uint16_t id)
{
        if (s->family == AF_INET) {
                if (n < (ssize_t)sizeof(struct ip))
                        return false;
                size_t hl = (size_t)(buf[0] & 0x0f) * 4;
                const struct icmphdr *h = (const struct icmphdr *)(buf + hl);
                return (size_t)n >= hl + sizeof(*h) && h->type == ICMP_ECHOREPLY &&
                       ntohs(h->un.echo.id) == id;
        }
        const struct icmp6_hdr *h = (const struct icmp6_hdr *)buf;
        return n >= (ssize_t)sizeof(*h) && h->icmp6_type == ICMP6_ECHO_REPLY && ntohs(h->icmp6_id) == id;
}

static void send_echo(const struct icmp_sock *s, const struct sockaddr *to, socklen_t tolen, uint16_t id,
                      uint16_t seq)
{
        uint8_t pkt[32] = {0};
        if (s->family == AF_INET) {
                struct icmphdr *h = (struct icmphdr *)pkt;
                h->type = ICMP_ECHO;
                h->un.echo.id = htons(id);
                h->un.echo.sequence = htons(seq);
                h->checksum = inet_csum(pkt, sizeof(pkt));
        } else {
                struct icmp6_hdr *h = (struct icmp6_hdr *)pkt; /* kernel fills the checksum */
                h->icmp6_type = ICMP6_ECHO_REQUEST;
                h->icmp6_id = htons(id);
                h->icmp6_seq = htons(seq);
        }
        sendto(s->fd, pkt, sizeof(pkt), 0, to, tolen);
}

static bool wait_reply(const struct icmp_sock *s, const struct sockaddr_storage *to, uint16_t id, int ms)
{
        uint8_t buf[1500];
        struct pollfd pfd = {.fd = s->fd, .events = POLLIN};
        while (poll(&pfd, 1, ms) > 0) {
                struct sockaddr_storage from;
                socklen_t fl = sizeof(from);
                ssize_t n = recvfrom(s->fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
                bool same = s->family == AF_INET
                                ? ((struct sockaddr_in *)&from)->sin_addr.s_addr ==
                                      ((const struct sockaddr_in *)to)->sin_addr.s_addr
                                : memcmp(&((struct sockaddr_in6 *)&from)->sin6_addr,
                                         &((const struct sockaddr_in6 *)to)->sin6_addr, 16) == 0;
                if (same && is_reply(s, buf, n, id))
                        return true;
        }
        return false;
}

/* Three echo requests, one second each, from inside netns_fd. */
static bool ping_from(int netns_fd, const char *target, const char *scope_if)
{
        struct berth_err err = {0};
        struct berth_ip_addr t = ip(target);
        struct icmp_sock s = {.family = t.family, .scope_if = scope_if, .fd = -1};
        ck_assert_msg(berth_netns_run(netns_fd, open_icmp_here, &s, &err) == 0, "%s", err.msg);
        struct sockaddr_storage to = {0};
        if (t.family == AF_INET) {
                struct sockaddr_in *sin = (struct sockaddr_in *)&to;
                sin->sin_family = AF_INET;
                sin->sin_addr = t.u.v4;
        } else {
                struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&to;
                sin6->sin6_family = AF_INET6;
                sin6->sin6_addr = t.u.v6;
                sin6->sin6_scope_id = s.scope_id;
        }
        uint16_t id = (uint16_t)(getpid() ^ rand());
        bool ok = false;
        for (uint16_t seq = 1; seq <= 3 && !ok; seq++) {
                send_echo(&s, (struct sockaddr *)&to, sizeof(to), id, seq);
                ok = wait_reply(&s, &to, id, 1000);
        }
        close(s.fd);
        return ok;
}

#define ck_ping(ns, target, scope)                                                                           \
        ck_assert_msg(ping_from(ns, target, scope), "no echo reply from %s", target)

/* ---- low level (root) ------------------------------------------------------- */

START_TEST(test_links)
{
        struct berth_err err = {0};
        struct berth_link_info info;
        int host = self_netns(), guest = new_netns();
        struct berth_nl *nl = nl_in(-1);
        struct berth_veth_opts o = {.mtu = 1400, .peer_netns_fd = -1};
        ck_assert_msg(berth_link_add_veth(nl, "tl0", "tl1", &o, &err) == 0, "%s", err.msg);
        ck_assert_int_eq(berth_link_add_veth(nl, "tl0", "tl9", &o, &err), -EEXIST);
        ck_assert_str_eq(err.msg, "create veth tl0/tl9: File exists");
        link_info(host, "tl0", &info);
        ck_assert_str_eq(info.kind, "veth");
        ck_assert_uint_eq(info.mtu, 1400);
        ck_assert(!(info.flags & IFF_UP));
        ck_assert_msg(berth_link_set_up(nl, "tl0", true, &err) == 0, "%s", err.msg);
        ck_assert_msg(berth_link_set_mtu(nl, "tl0", 1300, &err) == 0, "%s", err.msg);
        link_info(host, "tl0", &info);
        ck_assert(info.flags & IFF_UP);
        ck_assert_uint_eq(info.mtu, 1300);
        ck_assert_msg(berth_link_rename(nl, "tl1", "tl2", &err) == 0, "%s", err.msg);
        ck_assert(!link_exists(host, "tl1"));
        ck_assert_msg(berth_link_add_bridge(nl, "tlbr", NULL, 0, &err) == 0, "%s", err.msg);
        link_info(host, "tlbr", &info);
        ck_assert_str_eq(info.kind, "bridge");
        ck_assert_int_eq(info.mac[0] & 0x03, 0x02); /* unicast, locally administered */
        int br = info.ifindex;
        ck_assert_msg(berth_link_set_master(nl, "tl0", "tlbr", &err) == 0, "%s", err.msg);
        link_info(host, "tl0", &info);
        ck_assert_int_eq(info.master, br);
        ck_assert_int_eq(berth_link_has_ports(nl, "tlbr", &err), 1);
        /* has_ports leaves nl itself usable (its dump runs on its own socket). */
        ck_assert_int_eq(berth_link_count_ports(nl, "tlbr", &err), 1);
        ck_assert_msg(berth_link_set_master(nl, "tl0", NULL, &err) == 0, "%s", err.msg);
        ck_assert_int_eq(berth_link_count_ports(nl, "tlbr", &err), 0);
        ck_assert_int_eq(berth_link_has_ports(nl, "tlbr", &err), 0);
        ck_assert_int_eq(berth_link_has_ports(nl, "nosuch0", &err), -ENODEV);
        ck_assert_msg(berth_link_move_netns_fd(nl, "tl2", guest, &err) == 0, "%s", err.msg);
        ck_assert(!link_exists(host, "tl2"));
        ck_assert(link_exists(guest, "tl2"));
        ck_assert_msg(berth_link_add_macvlan(nl, "tlmv", "tl0", BERTH_MACVLAN_BRIDGE, guest, &err) == 0, "%s",
                      err.msg);
        link_info(guest, "tlmv", &info);
        ck_assert_str_eq(info.kind, "macvlan");
        ck_assert_int_eq(berth_link_get(nl, "nosuch0", &info, &err), -ENODEV);
        ck_assert_ptr_nonnull(strstr(err.msg, "nosuch0"));
        ck_assert_int_eq(berth_link_set_up(nl, "bad/name", true, &err), -EINVAL);
        ck_assert_msg(berth_link_del(nl, "tl0", &err) == 0, "%s", err.msg); /* tl2 and tlmv go too */
        ck_assert_msg(berth_link_del(nl, "tlbr", &err) == 0, "%s", err.msg);
        ck_assert_int_eq(berth_link_del(nl, "tlbr", &err), -ENODEV);
        char names[256];
        link_names(host, names, sizeof(names));
        ck_assert_str_eq(names, "lo");
        link_names(guest, names, sizeof(names));
        ck_assert_str_eq(names, "lo");
        berth_nl_close(nl);
}
END_TEST

/* A child that sits in a fresh netns until killed; moves by pid target it. */
static pid_t netns_child(void)
{
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                if (unshare(CLONE_NEWNET) < 0)
                        _exit(1);
                ck_assert_int_eq(write(p[1], "x", 1), 1);
                pause();
                _exit(0);
        }
        char c;
        close(p[1]);
        ck_assert_int_eq(read(p[0], &c, 1), 1);
        close(p[0]);
        return pid;
}

START_TEST(test_move_by_pid)
{
        struct berth_err err = {0};
        pid_t child = netns_child();
        int guest = berth_netns_open_pid(child, &err);
        ck_assert_msg(guest >= 0, "%s", err.msg);
        struct berth_nl *nl = nl_in(-1);
        struct berth_veth_opts o = {.peer_netns_pid = child, .peer_netns_fd = -1};
        ck_assert_msg(berth_link_add_veth(nl, "tp0", "tp1", &o, &err) == 0, "%s", err.msg);
        ck_assert(link_exists(guest, "tp1"));
        ck_assert_msg(
            berth_link_add_veth(nl, "tq0", "tq1", &(struct berth_veth_opts){.peer_netns_fd = -1}, &err) == 0,
            "%s", err.msg);
        ck_assert_msg(berth_link_move_netns_pid(nl, "tq1", child, &err) == 0, "%s", err.msg);
        ck_assert(link_exists(guest, "tq1"));
        ck_assert_int_lt(berth_netns_open_pid(0, &err), 0);
        berth_nl_close(nl);
        kill(child, SIGKILL);
        waitpid(child, NULL, 0);
        close(guest);
}
END_TEST

START_TEST(test_addr_route_neigh)
{
        struct berth_err err = {0};
        int host = self_netns();
        struct berth_nl *nl = nl_in(-1);
        struct berth_veth_opts o = {.up = true, .peer_netns_fd = -1};
        ck_assert_msg(berth_link_add_veth(nl, "ta0", "ta1", &o, &err) == 0, "%s", err.msg);
        struct berth_ip_addr a4 = ip("10.99.0.1/24"), a6 = ip("fd99::1/64");
        ck_assert_msg(berth_addr_add(nl, "ta0", &a4, 0, &err) == 0, "%s", err.msg);
        ck_assert_int_eq(berth_addr_add(nl, "ta0", &a4, 0, &err), -EEXIST);
        ck_assert_ptr_nonnull(strstr(err.msg, "add address 10.99.0.1/24 to ta0"));
        ck_assert_msg(berth_addr_add(nl, "ta0", &a4, BERTH_ADDR_REPLACE, &err) == 0, "%s", err.msg);
        ck_assert_msg(berth_addr_add(nl, "ta0", &a6, BERTH_ADDR_NODAD, &err) == 0, "%s", err.msg);
        ck_assert(has_addr(host, "ta0", "10.99.0.1/24"));
        ck_assert(has_addr(host, "ta0", "fd99::1/64"));
        ck_assert(has_route(host, AF_INET, "10.99.0.0/24", NULL, "ta0")); /* prefix route */
        struct berth_route r4 = {.dst = ip("10.98.0.0/16"), .via = ip("10.99.0.2"), .dev = "ta0"};
        struct berth_route h6 = {.dst = ip("fd98::5/128"), .dev = "ta0"};
        struct berth_route d4 = {
            .dst = {.family = AF_INET}, .via = ip("169.254.3.3"), .dev = "ta0", .onlink = true};
        ck_assert_msg(berth_route_add(nl, &r4, &err) == 0, "%s", err.msg);
        ck_assert_msg(berth_route_add(nl, &h6, &err) == 0, "%s", err.msg);
        ck_assert_msg(berth_route_add(nl, &d4, &err) == 0, "%s", err.msg);
        ck_assert(has_route(host, AF_INET, "10.98.0.0/16", "10.99.0.2", "ta0"));
        ck_assert(has_route(host, AF_INET6, "fd98::5/128", NULL, "ta0"));
        ck_assert(has_route(host, AF_INET, "default", "169.254.3.3", "ta0"));
        struct berth_route bad = {.dst = {.family = AF_INET}, .via = ip("172.16.0.1"), .dev = "ta0"};
        ck_assert_int_lt(berth_route_add(nl, &bad, &err), 0); /* gateway not on link */
        ck_assert_ptr_nonnull(strstr(err.msg, "add route default via 172.16.0.1 dev ta0"));
        ck_assert_msg(berth_route_del(nl, &r4, &err) == 0, "%s", err.msg);
        ck_assert_msg(berth_route_del(nl, &h6, &err) == 0, "%s", err.msg);
        ck_assert(!has_route(host, AF_INET, "10.98.0.0/16", NULL, NULL));
        ck_assert(!has_route(host, AF_INET6, "fd98::5/128", NULL, NULL));
        ck_assert_int_eq(berth_route_del(nl, &h6, &err), -ESRCH);
        struct berth_ip_addr p4 = ip("10.97.0.7"), p6 = ip("fd97::7");
        ck_assert_msg(berth_neigh_proxy_add(nl, "ta0", &p4, &err) == 0, "%s", err.msg);
        ck_assert_msg(berth_neigh_proxy_add(nl, "ta0", &p6, &err) == 0, "%s", err.msg);
        int idx = berth_link_index(nl, "ta0", &err);
        ck_assert_int_eq(berth_neigh_proxy_exists(nl, idx, &p4, &err), 1);
        ck_assert_int_eq(berth_neigh_proxy_exists(nl, idx, &p6, &err), 1);
        ck_assert_msg(berth_neigh_proxy_del(nl, "ta0", &p4, &err) == 0, "%s", err.msg);
        ck_assert_int_eq(berth_neigh_proxy_exists(nl, 0, &p4, &err), 0);
        ck_assert_int_eq(berth_neigh_proxy_del(nl, "ta0", &p4, &err), -ENOENT);
        ck_assert_msg(berth_addr_del(nl, "ta0", &a4, &err) == 0, "%s", err.msg);
        ck_assert(!has_addr(host, "ta0", "10.99.0.1/24"));
        ck_assert_int_eq(berth_addr_del(nl, "ta0", &a4, &err), -EADDRNOTAVAIL);
        ck_assert_msg(berth_link_del(nl, "ta0", &err) == 0, "%s", err.msg);
        berth_nl_close(nl);
}
END_TEST

START_TEST(test_sysctl)
{
        struct berth_err err = {0};
        int guest = new_netns();
        /* New namespaces inherit IPv4 settings from the machine's own
         * (net.core.devconf_inherit_init_net): start from a known value in
         * this test's private "host" namespace and the guest. */
        ck_assert_int_eq(berth_sysctl_net_write(-1, "ipv4/ip_forward", "0", &err), 0);
        ck_assert_int_eq(berth_sysctl_net_write(guest, "ipv4/ip_forward", "0", &err), 0);
        sysctl_is(guest, "ipv4/ip_forward", "0");
        ck_assert_msg(berth_sysctl_net_write(guest, "ipv4/ip_forward", "1", &err) == 0, "%s", err.msg);
        sysctl_is(guest, "ipv4/ip_forward", "1");
        sysctl_is(-1, "ipv4/ip_forward", "0"); /* the host's own is untouched */
        ck_assert_int_eq(berth_sysctl_net_write(guest, "../kernel/hostname", "x", &err), -EINVAL);
        ck_assert_int_eq(berth_sysctl_net_write(guest, "/ipv4/ip_forward", "1", &err), -EINVAL);
        ck_assert_int_eq(berth_sysctl_net_write(guest, "ipv4/conf/nosuch0/forwarding", "1", &err), -ENOENT);
        ck_assert_ptr_nonnull(strstr(err.msg, "nosuch0"));
}
END_TEST

/* ---- bridged mode ------------------------------------------------------------- */

/* A MAC of its own per host end ("tvA", "trB", ...): the filter's. */
static const unsigned char *test_mac(const char *host_if)
{
        static unsigned char macs[26][6];
        unsigned char *mac = macs[(host_if[2] - 'A') % 26];
        mac[0] = 0x02;
        mac[4] = (unsigned char)host_if[1];
        mac[5] = (unsigned char)host_if[2];
        return mac;
}

/* The filter of c widened to c's addresses plus extra (after
 * berth_net_addr_add), so that the guest may answer from it. */
static void filter_add(const struct berth_net_config *c, const struct berth_ip_addr *extra, size_t n)
{
        struct berth_err err = {0};
        struct berth_ip_addr more[8];
        ck_assert(c->n_addrs + n <= 8);
        memcpy(more, c->addrs, c->n_addrs * sizeof(*more));
        memcpy(more + c->n_addrs, extra, n * sizeof(*more));
        struct berth_net_config c2 = *c;
        c2.addrs = more;
        c2.n_addrs = c->n_addrs + n;
        ck_assert_msg(berth_net_filter_update(c, &c2, &err) == 0, "%s", err.msg);
}

static struct berth_net_config bridged_cfg(const char *host_if, struct berth_ip_addr *addrs, size_t n)
{
        struct berth_net_config c = {
            .mac = test_mac(host_if),
            .mode = BERTH_NET_BRIDGED,
            .bridge = "tbr0",
            .host_if = host_if,
            .addrs = addrs,
            .n_addrs = n,
            .gw4 = ip("10.77.0.1/24"),
            .gw6 = ip("fd77::1/64"),
        };
        return c;
}

static void check_bridged_guest(int host, int guest, const char *host_if, const char *a4, const char *a6)
{
        struct berth_link_info hi, br, eth;
        link_info(host, host_if, &hi);
        link_info(host, "tbr0", &br);
        link_info(guest, "eth0", &eth);
        ck_assert_int_eq(hi.master, br.ifindex);
        ck_assert(hi.flags & IFF_UP);
        ck_assert(eth.flags & IFF_UP);
        struct berth_link_info lo;
        link_info(guest, "lo", &lo);
        ck_assert(lo.flags & IFF_UP);
        ck_assert(has_addr(guest, "eth0", a4));
        ck_assert(has_addr(guest, "eth0", a6));
        ck_assert_int_eq(count_global_addrs(guest, "eth0"), 2);
        ck_assert(has_route(guest, AF_INET, "default", "10.77.0.1", "eth0"));
        ck_assert(has_route(guest, AF_INET6, "default", "fd77::1", "eth0"));
        /* Announced at up (arp_notify, set over netlink; ndisc_notify
         * with an IPv6 address), secondaries kept. */
        sysctl_is(guest, "ipv4/conf/eth0/arp_notify", "1");
        sysctl_is(guest, "ipv4/conf/eth0/promote_secondaries", "1");
        sysctl_is(guest, "ipv6/conf/eth0/ndisc_notify", "1");
        /* The bridge port has no address, not even IPv6 link-local: no
         * routes or multicast memberships of its own on the host. */
        char key[64];
        snprintf(key, sizeof(key), "ipv6/conf/%s/addr_gen_mode", host_if);
        sysctl_is(-1, key, "1");
        ck_assert_int_eq(count_addrs(host, host_if), 0);
}

START_TEST(test_bridged)
{
        struct berth_err err = {0};
        int host = self_netns(), ga = new_netns(), gb = new_netns();
        struct berth_ip_addr aa[] = {ip("10.77.0.2/24"), ip("fd77::2/64")};
        struct berth_ip_addr ab[] = {ip("10.77.0.3/24"), ip("fd77::3/64")};
        struct berth_net_config ca = bridged_cfg("tvA", aa, 2), cb = bridged_cfg("tvB", ab, 2);
        ck_assert_msg(berth_net_setup(&ca, ga, &err) == 0, "%s", err.msg);
        ck_assert_msg(berth_net_setup(&cb, gb, &err) == 0, "%s", err.msg);
        struct berth_link_info br;
        link_info(host, "tbr0", &br);
        ck_assert_str_eq(br.kind, "bridge");
        ck_assert(br.flags & IFF_UP);
        ck_assert(has_addr(host, "tbr0", "10.77.0.1/24"));
        ck_assert(has_addr(host, "tbr0", "fd77::1/64"));
        sysctl_is(-1, "ipv6/conf/tbr0/accept_ra", "0"); /* no routes from guests' RAs */
        check_bridged_guest(host, ga, "tvA", "10.77.0.2/24", "fd77::2/64");
        check_bridged_guest(host, gb, "tvB", "10.77.0.3/24", "fd77::3/64");
        ck_ping(ga, "10.77.0.3", NULL);
        ck_ping(ga, "10.77.0.1", NULL);
        ck_ping(ga, "fd77::3", NULL);
        ck_ping(ga, "fd77::1", NULL);
        ck_ping(gb, "10.77.0.2", NULL);
        ck_ping(gb, "fd77::2", NULL);
        /* The bridge keeps its MAC as ports come and go. */
        struct berth_link_info br2;
        link_info(host, "tbr0", &br2);
        ck_assert_mem_eq(br.mac, br2.mac, 6);

        struct berth_ip_addr extra = ip("10.77.0.12/24");
        ck_assert_msg(berth_net_addr_add(&ca, ga, &extra, &err) == 0, "%s", err.msg);
        filter_add(&ca, &extra, 1);
        ck_ping(gb, "10.77.0.12", NULL);
        ck_assert_msg(berth_net_addr_del(&ca, ga, &extra, &err) == 0, "%s", err.msg);
        ck_assert(!has_addr(ga, "eth0", "10.77.0.12/24"));
        ck_assert(has_addr(ga, "eth0", "10.77.0.2/24"));

        ck_assert_msg(berth_net_teardown(&ca, BERTH_NET_TEARDOWN_BRIDGE, &err) == 0, "%s", err.msg);
        ck_assert(!link_exists(host, "tvA"));
        ck_assert(!link_exists(ga, "eth0"));
        ck_assert(link_exists(host, "tbr0")); /* B still uses it */
        ck_assert_int_eq(berth_net_bridge_remove("tbr0", &err), -EBUSY);
        ck_ping(gb, "10.77.0.1", NULL);
        ck_assert_msg(berth_net_teardown(&ca, 0, &err) == 0, "%s", err.msg); /* idempotent */
        ck_assert_msg(berth_net_teardown(&cb, BERTH_NET_TEARDOWN_BRIDGE, &err) == 0, "%s", err.msg);
        char names[256];
        link_names(host, names, sizeof(names));
        ck_assert_str_eq(names, "lo");
        link_names(gb, names, sizeof(names));
        ck_assert_str_eq(names, "lo");
}
END_TEST

START_TEST(test_bridged_reuse_and_rollback)
{
        struct berth_err err = {0};
        int host = self_netns(), g = new_netns();
        struct berth_nl *nl = nl_in(-1);
        /* A bridge the admin made: reused as is, never given our addresses,
         * never removed by us. */
        ck_assert_msg(berth_link_add_bridge(nl, "tbr0", NULL, 0, &err) == 0, "%s", err.msg);
        struct berth_ip_addr aa[] = {ip("10.77.0.2/24")};
        struct berth_net_config c = bridged_cfg("tvA", aa, 1);
        ck_assert_msg(berth_net_setup(&c, g, &err) == 0, "%s", err.msg);
        ck_assert_int_eq(count_global_addrs(host, "tbr0"), 0);
        ck_assert_msg(berth_net_teardown(&c, 0, &err) == 0, "%s", err.msg);
        ck_assert_msg(berth_link_del(nl, "tbr0", &err) == 0, "%s", err.msg);

        /* The guest already has an eth0: the veth cannot be made, and the
         * bridge this setup created goes away again. */
        struct berth_nl *gnl = nl_in(g);
        struct berth_veth_opts o = {.peer_netns_fd = -1};
        ck_assert_msg(berth_link_add_veth(gnl, "eth0", "x0", &o, &err) == 0, "%s", err.msg);
        berth_nl_close(gnl);
        ck_assert_int_eq(berth_net_setup(&c, g, &err), -EEXIST);
        ck_assert_msg(strstr(err.msg, "create veth tvA/eth0: File exists"), "%s", err.msg);
        char names[256];
        link_names(host, names, sizeof(names));
        ck_assert_str_eq(names, "lo");

        /* A non-bridge under the bridge's name is refused. */
        o.peer_netns_fd = -1;
        ck_assert_msg(berth_link_add_veth(nl, "tbr0", "tbr1", &o, &err) == 0, "%s", err.msg);
        ck_assert_int_eq(berth_net_setup(&c, g, &err), -EEXIST);
        ck_assert_msg(strstr(err.msg, "not a bridge"), "%s", err.msg);
        ck_assert(!link_exists(host, "tvA"));
        berth_nl_close(nl);
}
END_TEST

/* A start holds the bridges' lock shared (flock on the network namespace's
 * inode) from making its bridge until its port is on it: a teardown that
 * finds the bridge without ports meanwhile waits, and removes it only
 * once the lock is free, never under the start. */
START_TEST(test_bridge_removal_waits_for_start)
{
        struct berth_err err = {0};
        int host = self_netns();
        struct berth_nl *nl = nl_in(-1);
        ck_assert_msg(berth_link_add_bridge(nl, "tbr0", NULL, 0, &err) == 0, "%s", err.msg);
        berth_nl_close(nl);
        int start = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        ck_assert_int_eq(flock(start, LOCK_SH), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                close(start);
                _exit(berth_net_bridge_remove("tbr0", &err) == 0 ? 0 : 1);
        }
        struct timespec pause = {.tv_nsec = 300 * 1000 * 1000};
        nanosleep(&pause, NULL);
        int status;
        ck_assert_int_eq(waitpid(pid, &status, WNOHANG), 0);
        ck_assert(link_exists(host, "tbr0"));
        close(start);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        ck_assert(!link_exists(host, "tbr0"));
}
END_TEST

/* ---- routed mode --------------------------------------------------------------- */

static struct berth_net_config routed_cfg(const char *host_if, struct berth_ip_addr *addrs, size_t n)
{
        struct berth_net_config c = {
            .mode = BERTH_NET_ROUTED,
            .host_if = host_if,
            .addrs = addrs,
            .n_addrs = n,
            .proxy_if = "tup0",
            .mac = test_mac(host_if),
        };
        return c;
}

static void check_routed(int host, int guest, const char *host_if, const char *a4, const char *a6)
{
        char buf[64];
        ck_assert(has_addr(guest, "eth0", a4));
        ck_assert(has_addr(guest, "eth0", a6));
        ck_assert_int_eq(count_global_addrs(guest, "eth0"), 2); /* only its own */
        ck_assert(has_route(guest, AF_INET, "default", "169.254.0.1", "eth0"));
        ck_assert(has_route(guest, AF_INET6, "default", "fe80::1", "eth0"));
        ck_assert(has_route(host, AF_INET, a4, NULL, host_if));
        ck_assert(has_route(host, AF_INET6, a6, NULL, host_if));
        ck_assert(has_addr(host, host_if, "169.254.0.1/32"));
        ck_assert(has_addr(host, host_if, "fe80::1/64"));
        snprintf(buf, sizeof(buf), "ipv4/conf/%s/proxy_arp", host_if);
        sysctl_is(-1, buf, "1");
        snprintf(buf, sizeof(buf), "ipv4/conf/%s/forwarding", host_if);
        sysctl_is(-1, buf, "1");
        snprintf(buf, sizeof(buf), "ipv6/conf/%s/force_forwarding", host_if);
        sysctl_is(-1, buf, "1");
}

static bool proxied(const char *addr)
{
        struct berth_err err = {0};
        struct berth_ip_addr a = ip(addr);
        struct berth_nl *nl = nl_in(-1);
        int idx = berth_link_index(nl, "tup0", &err);
        int r = berth_neigh_proxy_exists(nl, idx, &a, &err);
        berth_nl_close(nl);
        ck_assert_msg(r >= 0, "%s", err.msg);
        return r == 1;
}

static bool have_force_forwarding(void)
{
        return access("/proc/sys/net/ipv6/conf/all/force_forwarding", F_OK) == 0;
}

/* An address another VPS already has is refused, and nothing of the failed
 * setup stays. */
static void check_duplicate_refused(int host)
{
        struct berth_err err = {0};
        int gc = new_netns();
        struct berth_ip_addr ac[] = {ip("10.88.0.9"), ip("10.88.0.3")};
        struct berth_net_config cc = routed_cfg("trC", ac, 2);
        ck_assert_int_eq(berth_net_setup(&cc, gc, &err), -EEXIST);
        ck_assert_msg(strstr(err.msg, "add route 10.88.0.3/32 dev trC"), "%s", err.msg);
        ck_assert(!link_exists(host, "trC") && !link_exists(gc, "eth0"));
        ck_assert(!has_route(host, AF_INET, "10.88.0.9/32", NULL, NULL) && !proxied("10.88.0.9"));
        ck_assert(proxied("10.88.0.3") && has_route(host, AF_INET, "10.88.0.3/32", NULL, "trB"));
}

static void routed_addr_add_del(int host, int ga, int gb, const struct berth_net_config *cb)
{
        struct berth_err err = {0};
        struct berth_ip_addr extra = ip("10.88.0.12"), extra6 = ip("fd88::12");
        ck_assert_msg(berth_net_addr_add(cb, gb, &extra, &err) == 0, "%s", err.msg);
        ck_assert_msg(berth_net_addr_add(cb, gb, &extra6, &err) == 0, "%s", err.msg);
        filter_add(cb, (struct berth_ip_addr[]){extra, extra6}, 2);
        ck_assert(has_route(host, AF_INET, "10.88.0.12/32", NULL, "trB") && proxied("10.88.0.12"));
        ck_ping(ga, "10.88.0.12", NULL);
        ck_ping(ga, "fd88::12", NULL);
        ck_assert_msg(berth_net_addr_del(cb, gb, &extra, &err) == 0, "%s", err.msg);
        ck_assert_msg(berth_net_addr_del(cb, gb, &extra6, &err) == 0, "%s", err.msg);
        ck_assert(!has_route(host, AF_INET, "10.88.0.12/32", NULL, NULL) && !proxied("10.88.0.12"));
        ck_assert(!has_route(host, AF_INET6, "fd88::12/128", NULL, NULL) && !proxied("fd88::12"));
        ck_assert(!has_addr(gb, "eth0", "10.88.0.12/32"));
}

START_TEST(test_routed)
{
        struct berth_err err = {0};
        int host = self_netns(), ga = new_netns(), gb = new_netns();
        /* Known start: new namespaces inherit the machine's ip_forward. */
        ck_assert_int_eq(berth_sysctl_net_write(-1, "ipv4/ip_forward", "0", &err), 0);
        sysctl_is(-1, "ipv6/conf/all/forwarding", "0"); /* IPv6 starts from the defaults */
        struct berth_nl *nl = nl_in(-1);
        struct berth_veth_opts up = {.up = true, .peer_netns_fd = -1};
        ck_assert_msg(berth_link_add_veth(nl, "tup0", "tup1", &up, &err) == 0, "%s",
                      err.msg); /* the "uplink" */
        ck_assert_int_eq(berth_sysctl_net_write(-1, "ipv6/conf/tup1/accept_ra", "0", &err), 0);
        struct berth_ip_addr aa[] = {ip("10.88.0.2/24"), ip("fd88::2/64")};
        struct berth_ip_addr ab[] = {ip("10.88.0.3"), ip("fd88::3")};
        struct berth_net_config ca = routed_cfg("trA", aa, 2), cb = routed_cfg("trB", ab, 2);
        ck_assert_msg(berth_net_setup(&ca, ga, &err) == 0, "%s", err.msg);
        ck_assert_msg(berth_net_setup(&cb, gb, &err) == 0, "%s", err.msg);
        if (have_force_forwarding()) {
                check_routed(host, ga, "trA", "10.88.0.2/32", "fd88::2/128");
                check_routed(host, gb, "trB", "10.88.0.3/32", "fd88::3/128");
                sysctl_is(-1, "ipv6/conf/all/forwarding", "0");
                sysctl_is(-1, "ipv6/conf/tup0/accept_ra", "1");
        } else {
                /* Before 6.17 the netns-wide switch, and the interfaces that
                 * learned from router advertisements still do. */
                sysctl_is(-1, "ipv6/conf/all/forwarding", "1");
                sysctl_is(-1, "ipv6/conf/tup0/accept_ra", "2");
        }
        sysctl_is(-1, "ipv6/conf/tup1/accept_ra", "0");
        ck_assert(proxied("10.88.0.2") && proxied("fd88::2") && proxied("10.88.0.3") && proxied("fd88::3"));
        check_duplicate_refused(host);
        sysctl_is(-1, "ipv6/conf/tup0/proxy_ndp", "1");
        sysctl_is(-1, "ipv4/ip_forward", "0"); /* host-wide switches untouched */
        ck_ping(ga, "10.88.0.3", NULL);
        ck_ping(ga, "fd88::3", NULL);
        ck_ping(ga, "169.254.0.1", NULL);
        ck_ping(ga, "fe80::1", "eth0");
        ck_ping(gb, "10.88.0.2", NULL);
        ck_ping(gb, "fd88::2", NULL);

        routed_addr_add_del(host, ga, gb, &cb);

        ck_assert_msg(berth_net_teardown(&ca, 0, &err) == 0, "%s", err.msg);
        ck_assert(!link_exists(host, "trA") && !link_exists(ga, "eth0"));
        ck_assert(!has_route(host, AF_INET, "10.88.0.2/32", NULL, NULL));
        ck_assert(!has_route(host, AF_INET6, "fd88::2/128", NULL, NULL));
        ck_assert(!proxied("10.88.0.2") && !proxied("fd88::2") && proxied("10.88.0.3"));
        /* The gateway lived on both host ends; B keeps it. */
        ck_ping(gb, "169.254.0.1", NULL);
        ck_ping(gb, "fe80::1", "eth0");
        ck_assert_msg(!ping_from(gb, "10.88.0.2", NULL), "A answers after its teardown");
        ck_assert_msg(berth_net_teardown(&cb, 0, &err) == 0, "%s", err.msg);
        ck_assert(!proxied("10.88.0.3") && !proxied("fd88::3"));
        char names[256];
        link_names(host, names, sizeof(names));
        ck_assert_str_eq(names, "lo tup0 tup1");
        berth_nl_close(nl);
}
END_TEST

START_TEST(test_routed_rollback)
{
        struct berth_err err = {0};
        int host = self_netns(), g = new_netns();
        struct berth_ip_addr aa[] = {ip("10.88.0.2"), ip("fd88::2")};
        struct berth_net_config c = routed_cfg("trA", aa, 2);
        c.proxy_if = "nosuch0";
        c.n_addrs = 1; /* IPv4 only: fails at the proxy entry, after the veth and a host route */
        ck_assert_int_eq(berth_net_setup(&c, g, &err), -ENODEV);
        ck_assert_msg(strstr(err.msg, "add proxy entry 10.88.0.2 on nosuch0"), "%s", err.msg);
        char names[256];
        link_names(host, names, sizeof(names));
        ck_assert_str_eq(names, "lo");
        link_names(g, names, sizeof(names));
        ck_assert_str_eq(names, "lo");
        ck_assert(!has_route(host, AF_INET, "10.88.0.2/32", NULL, NULL));
        c.n_addrs = 2; /* with IPv6 it fails earlier, at proxy_ndp of the uplink */
        ck_assert_int_eq(berth_net_setup(&c, g, &err), -ENOENT);
        ck_assert_msg(strstr(err.msg, "nosuch0"), "%s", err.msg);
        link_names(host, names, sizeof(names));
        ck_assert_str_eq(names, "lo");
        /* A global IPv6 routed gateway is refused before anything is made. */
        c.proxy_if = NULL;
        c.gw6 = ip("fd88::1");
        ck_assert_int_eq(berth_net_setup(&c, g, &err), -EINVAL);
        ck_assert_msg(strstr(err.msg, "link-local"), "%s", err.msg);
        c.gw6 = (struct berth_ip_addr){0};
        c.host_if = "way-too-long-name0";
        ck_assert_int_eq(berth_net_setup(&c, g, &err), -EINVAL);
        ck_assert_msg(strstr(err.msg, "way-too-long-name0"), "%s", err.msg);
}
END_TEST

/* ---- runner ---------------------------------------------------------------------- */

Suite *test_suite(void)
{
        /* Each test must run in its own process: it unshares its netns. */
        check_main_force_fork();
        Suite *s = suite_create("netns");
        TCase *tc = tcase_create("root");
        tcase_add_checked_fixture(tc, host_setup, NULL);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_links);
        tcase_add_test(tc, test_move_by_pid);
        tcase_add_test(tc, test_addr_route_neigh);
        tcase_add_test(tc, test_sysctl);
        tcase_add_test(tc, test_bridged);
        tcase_add_test(tc, test_bridged_reuse_and_rollback);
        tcase_add_test(tc, test_bridge_removal_waits_for_start);
        tcase_add_test(tc, test_routed);
        tcase_add_test(tc, test_routed_rollback);
        suite_add_tcase(s, tc);
        return s;
}
