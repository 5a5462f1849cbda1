/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of netns/'s pure parts: addresses and interface names (no
 * root). Links, routes and the VPS network modes for real:
 * tests/component/test_netns.c. */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "check_main.h"
#include "berth/netns.h"
#include "berth/nft.h"

static struct berth_ip_addr ip(const char *s)
{
        struct berth_ip_addr a;
        struct berth_err err = {0};
        ck_assert_msg(berth_ip_addr_parse(s, &a, &err) == 0, "parse %s: %s", s, err.msg);
        return a;
}

START_TEST(test_addr_parse)
{
        struct berth_err err = {0};
        struct berth_ip_addr a;
        char buf[BERTH_IP_ADDR_STRLEN];
        ck_assert_int_eq(berth_ip_addr_parse("10.0.0.2/24", &a, &err), 0);
        ck_assert_int_eq(a.family, AF_INET);
        ck_assert_int_eq(a.prefixlen, 24);
        ck_assert_str_eq(berth_ip_addr_format(&a, true, buf, sizeof(buf)), "10.0.0.2/24");
        ck_assert_int_eq(berth_ip_addr_parse("fd00::2/64", &a, &err), 0);
        ck_assert_int_eq(a.family, AF_INET6);
        ck_assert_int_eq(a.prefixlen, 64);
        ck_assert_str_eq(berth_ip_addr_format(&a, false, buf, sizeof(buf)), "fd00::2");
        ck_assert_int_eq(berth_ip_addr_parse("192.168.1.1", &a, &err), 0);
        ck_assert_int_eq(a.prefixlen, 32);
        ck_assert_int_eq(berth_ip_addr_parse("fe80::1", &a, &err), 0);
        ck_assert_int_eq(a.prefixlen, 128);
        ck_assert(berth_ip_addr_is_link_local(&a));
        ck_assert(berth_ip_addr_is_link_local(&(struct berth_ip_addr){0}) == false);
        ck_assert(berth_ip_addr_equal(&a, &(struct berth_ip_addr){0}) == false);
        const char *bad[] = {
            "",           "10.0.0.2/33", "fd00::/129",    "10.0.0.2/",  "10.0.0.2/-1", "10.0.0.2/024",
            "10.0.0.256", "hello",       "10.0.0.2/24/1", "fd00::2/6x", "1.2.3.4 /8"};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(bad); i++) {
                ck_assert_msg(berth_ip_addr_parse(bad[i], &a, &err) == -EINVAL, "accepted '%s'", bad[i]);
                ck_assert_ptr_nonnull(strstr(err.msg, bad[i]));
        }
        ck_assert_str_eq(berth_ip_addr_format(&(struct berth_ip_addr){0}, true, buf, sizeof(buf)), "-");
}
END_TEST

/* berth/nft.h: host ports, the derived link-local address, and the script
 * (what a guest is: elements keyed by its interface, and that interface
 * among the devices of the base chain, sent with the chain's one rule, a
 * jump to the shared checks). */
START_TEST(test_nft_pure)
{
        struct berth_err err = {0};
        struct berth_nft_port p;
        ck_assert_int_eq(berth_nft_port_parse("udp/53", &p, &err), 0);
        ck_assert(p.proto == IPPROTO_UDP && p.port == 53);
        ck_assert_int_eq(berth_nft_port_parse("tcp/65535", &p, &err), 0);
        ck_assert(p.proto == IPPROTO_TCP && p.port == 65535);
        static const char *const bad[] = {"53", "sctp/53", "tcp/0", "tcp/65536", "tcp/", "tcp/5x", "udp53"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ck_assert_msg(berth_nft_port_parse(bad[i], &p, &err) == -EINVAL, "%s accepted", bad[i]);
        const unsigned char mac[6] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55};
        struct berth_ip_addr ll, want = ip("fe80::11:22ff:fe33:4455/64");
        berth_nft_mac_link_local(mac, &ll);
        ck_assert(berth_ip_addr_equal(&ll, &want));
        struct berth_ip_addr addrs[] = {ip("10.77.0.2/16"), ip("fd77::2/64")};
        struct berth_nft_guest g = {.host_if = "bthx", .host_side = "berth0", .addrs = addrs, .n_addrs = 2};
        memcpy(g.mac, mac, 6);
        char *text = berth_nft_guest_script(&g);
        ck_assert(text);
        ck_assert(strstr(text, "add element netdev berth macs { \"bthx\" . 02:11:22:33:44:55 }"));
        ck_assert(strstr(text, "add element netdev berth addr4 { \"bthx\" . 10.77.0.2 }"));
        ck_assert(strstr(text, "add element netdev berth addr6 { \"bthx\" . fe80::11:22ff:fe33:4455 }"));
        ck_assert(strstr(
            text, "add element netdev berth ndtarget { \"bthx\" . 0xfd770000000000000000000000000002 }"));
        ck_assert(strstr(text, "add element inet berth ifs { \"berth0\" }"));
        ck_assert(!strstr(text, "add rule netdev berth bthx"));
        ck_assert(strstr(text, "add chain netdev berth guest { type filter hook ingress devices = { \"bthx\" "
                               "} priority 0; policy accept; }\nflush chain netdev berth guest\n"
                               "add rule netdev berth guest jump checks\n"));
        ck_assert(strstr(text, "add rule netdev berth checks iifname . ether saddr != @macs counter drop"));
        /* No rule of the filter in a base chain: the kernel deletes those
         * with their last device. */
        ck_assert(!strstr(text, "add rule netdev berth guest iifname"));
        free(text);
}
END_TEST

/* The set elements' key bytes, as nft 1.0.6 sends them (nft --debug=mnl):
 * each part padded to 4 bytes, the interface name to 16. */
START_TEST(test_nft_elems)
{
        struct berth_ip_addr addrs[] = {ip("10.1.2.3/24"), ip("fd77::2/64")};
        struct berth_nft_guest g = {
            .host_if = "nflh1", .addrs = addrs, .n_addrs = 2, .mac = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55}};
        struct berth_nft_elem e[BERTH_NFT_GUEST_ELEMS(2)];
        ck_assert_uint_eq(berth_nft_guest_elems(&g, e), 6);
        static const unsigned char name[16] = "nflh1";
        static const char *const sets[] = {"macs", "addr4", "addr6", "ndtarget", "addr6", "ndtarget"};
        static const unsigned char mac[8] = {0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0, 0};
        static const unsigned char v4[4] = {10, 1, 2, 3};
        static const unsigned char v6[16] = {0xfd, 0x77, [15] = 2};
        static const unsigned char ll[16] = {0xfe, 0x80, [9] = 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55};
        const unsigned char *tail[] = {mac, v4, v6, v6, ll, ll};
        const size_t tlen[] = {8, 4, 16, 16, 16, 16};
        for (size_t i = 0; i < 6; i++) {
                ck_assert_int_eq(e[i].family, BERTH_NFT_NETDEV);
                ck_assert_str_eq(e[i].set, sets[i]);
                ck_assert_uint_eq(e[i].len, 16 + tlen[i]);
                ck_assert_msg(!memcmp(e[i].key, name, 16), "element %zu: name", i);
                ck_assert_msg(!memcmp(e[i].key + 16, tail[i], tlen[i]), "element %zu: %s", i, sets[i]);
        }
        /* 15 bytes: no NUL left, still 16 bytes. */
        berth_nft_elem_ifname(&e[0], BERTH_NFT_INET, "ifs", "bth0123456789ab");
        ck_assert_uint_eq(e[0].len, 16);
        ck_assert(!memcmp(e[0].key, "bth0123456789ab", 16));
        struct berth_nft_port p = {.proto = IPPROTO_TCP, .port = 53};
        berth_nft_elem_port(&e[0], &p);
        static const unsigned char port[8] = {6, 0, 0, 0, 0, 53, 0, 0};
        ck_assert_str_eq(e[0].set, "ports");
        ck_assert_uint_eq(e[0].len, 8);
        ck_assert(!memcmp(e[0].key, port, 8));
}
END_TEST

START_TEST(test_ifname_valid)
{
        ck_assert(berth_ifname_valid("eth0"));
        ck_assert(berth_ifname_valid("bth0123456789ab")); /* 15 bytes */
        ck_assert(berth_ifname_valid("vlan.10"));
        ck_assert(!berth_ifname_valid("bth0123456789abc"));
        ck_assert(!berth_ifname_valid(""));
        ck_assert(!berth_ifname_valid(NULL));
        ck_assert(!berth_ifname_valid("."));
        ck_assert(!berth_ifname_valid(".."));
        ck_assert(!berth_ifname_valid("a/b"));
        ck_assert(!berth_ifname_valid("a b"));
        ck_assert(!berth_ifname_valid("eth0:1"));
}
END_TEST

/* Overflow bridge names stay valid interface names, and long bridge
 * names with one beginning get different ones. */
START_TEST(test_bridge_overflow_name)
{
        char a[16], b[16];
        struct berth_err err = {0};
        ck_assert_int_eq(berth_bridge_overflow_name("berth0", 1, a, &err), 0);
        ck_assert_str_eq(a, "berth0-1");
        ck_assert_int_eq(berth_bridge_overflow_name("berth0", BERTH_BRIDGE_OVERFLOW_MAX, a, &err), 0);
        ck_assert_str_eq(a, "berth0-64");
        ck_assert_int_eq(berth_bridge_overflow_name("abcdefghijkl", 9, a, &err), 0);
        ck_assert_str_eq(a, "abcdefghijkl-9"); /* 14 bytes: fits */
        ck_assert_int_eq(berth_bridge_overflow_name("abcdefghijkl", 10, a, &err), 0);
        ck_assert_int_eq(strlen(a), 15);
        ck_assert(berth_ifname_valid(a));
        ck_assert(!strncmp(a, "abcdefgh", 8) && !strcmp(a + 12, "-10"));
        ck_assert_int_eq(berth_bridge_overflow_name("provider-br-aa", 3, a, &err), 0);
        ck_assert_int_eq(berth_bridge_overflow_name("provider-br-ab", 3, b, &err), 0);
        ck_assert_int_eq(strlen(a), 15);
        ck_assert_str_ne(a, b);
        ck_assert_uint_eq(berth_bridge_overflow_index("provider-br-aa", a), 3);
        ck_assert_uint_eq(berth_bridge_overflow_index("provider-br-ab", a), 0);
        ck_assert_uint_eq(berth_bridge_overflow_index("berth0", "berth0"), 0);
        ck_assert_uint_eq(berth_bridge_overflow_index("berth0", "berth0-65"), 0);
        ck_assert_uint_eq(berth_bridge_overflow_index("berth0", "berth0-12"), 12);
        ck_assert_int_eq(berth_bridge_overflow_name("berth0", 0, a, &err), -EINVAL);
        ck_assert_int_eq(berth_bridge_overflow_name("berth0", BERTH_BRIDGE_OVERFLOW_MAX + 1, a, &err),
                         -EINVAL);
        ck_assert_int_eq(berth_bridge_overflow_name("bad/name", 1, a, &err), -EINVAL);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("netns");
        TCase *tc = tcase_create("pure");
        tcase_add_test(tc, test_addr_parse);
        tcase_add_test(tc, test_ifname_valid);
        tcase_add_test(tc, test_bridge_overflow_name);
        tcase_add_test(tc, test_nft_pure);
        tcase_add_test(tc, test_nft_elems);
        suite_add_tcase(s, tc);
        return s;
}
