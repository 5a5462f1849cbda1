/* Unit tests of netns/'s pure parts: addresses and interface names (no
 * root). Links, routes and the VPS network modes for real:
 * tests/component/test_netns.c. */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "check_main.h"
#include "berth/netns.h"

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

Suite *test_suite(void)
{
        Suite *s = suite_create("netns");
        TCase *tc = tcase_create("pure");
        tcase_add_test(tc, test_addr_parse);
        tcase_add_test(tc, test_ifname_valid);
        suite_add_tcase(s, tc);
        return s;
}
