// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests of a VPS's bandwidth and NAT settings: rate parsing and
 * vps.json (no root needed). */
#include <stdlib.h>
#include <string.h>

#include "berth/vps.h"
#include "check_main.h"

START_TEST(test_rates)
{
        uint64_t b;
        ck_assert_int_eq(berth_vps_parse_rate("100mbit", &b), 0);
        ck_assert_uint_eq(b, 100000000);
        ck_assert_int_eq(berth_vps_parse_rate("1.5Gbit", &b), 0);
        ck_assert_uint_eq(b, 1500000000);
        ck_assert_int_eq(berth_vps_parse_rate("500kbit", &b), 0);
        ck_assert_uint_eq(b, 500000);
        ck_assert_int_eq(berth_vps_parse_rate("64bit", &b), 0);
        ck_assert_uint_eq(b, 64);
        /* Bytes per second with --memory's binary suffixes. */
        ck_assert_int_eq(berth_vps_parse_rate("10M", &b), 0);
        ck_assert_uint_eq(b, 10ull * 1024 * 1024 * 8);
        ck_assert_int_eq(berth_vps_parse_rate("1250000", &b), 0);
        ck_assert_uint_eq(b, 10000000);
        const char *bad[] = {"",        "0",    "0mbit",   "-1mbit",  "fast",
                             "10 mbit", "mbit", "10mbits", "1e30bit", "0.1bit"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
                ck_assert_msg(berth_vps_parse_rate(bad[i], &b) < 0, "\"%s\" accepted", bad[i]);
}
END_TEST

static const char bridged[] =
    "{\"name\": \"w\", \"template\": \"bb\", \"hostname\": \"w\", \"limits\": {},"
    " \"net\": {\"mode\": \"bridged\", \"bridge\": \"berth0\", \"host_if\": \"bth01234567\","
    " \"gateway4\": \"10.77.0.1/16\", \"addresses\": [], \"nat\": true, \"rate_in\": 30000000,"
    " \"rate_out\": 20000000}}";

START_TEST(test_config)
{
        struct berth_vps_config cfg, again;
        struct berth_err err = {0};
        ck_assert_msg(berth_vps_config_parse(bridged, strlen(bridged), &cfg, &err) == 0, "%s", err.msg);
        ck_assert(cfg.net.nat);
        ck_assert_uint_eq(cfg.net.rate_in, 30000000);
        ck_assert_uint_eq(cfg.net.rate_out, 20000000);
        char *text = berth_vps_config_format(&cfg);
        ck_assert_ptr_nonnull(text);
        ck_assert_msg(berth_vps_config_parse(text, strlen(text), &again, &err) == 0, "%s", err.msg);
        ck_assert(again.net.nat);
        ck_assert_uint_eq(again.net.rate_in, 30000000);
        ck_assert_uint_eq(again.net.rate_out, 20000000);
        free(text);
        berth_vps_config_clear(&again);
        /* No key: no NAT, no limits. */
        cfg.net.nat = false;
        cfg.net.rate_in = cfg.net.rate_out = 0;
        text = berth_vps_config_format(&cfg);
        ck_assert_ptr_null(strstr(text, "nat"));
        ck_assert_ptr_null(strstr(text, "rate_"));
        free(text);
        berth_vps_config_clear(&cfg);
}
END_TEST

/* NAT is the bridge's: a routed VPS's vps.json with it is refused. */
START_TEST(test_config_invalid)
{
        static const char routed[] =
            "{\"name\": \"w\", \"template\": \"bb\", \"hostname\": \"w\", \"limits\": {},"
            " \"net\": {\"mode\": \"routed\", \"host_if\": \"bth01234567\","
            " \"addresses\": [], \"nat\": true}}";
        static const char rate[] =
            "{\"name\": \"w\", \"template\": \"bb\", \"hostname\": \"w\", \"limits\": {},"
            " \"net\": {\"mode\": \"routed\", \"host_if\": \"bth01234567\","
            " \"addresses\": [], \"rate_in\": \"fast\"}}";
        struct berth_vps_config cfg;
        struct berth_err err = {0};
        ck_assert_int_lt(berth_vps_config_parse(routed, strlen(routed), &cfg, &err), 0);
        ck_assert_ptr_nonnull(strstr(err.msg, "nat"));
        berth_vps_config_clear(&cfg);
        ck_assert_int_lt(berth_vps_config_parse(rate, strlen(rate), &cfg, &err), 0);
        ck_assert_ptr_nonnull(strstr(err.msg, "rate_in"));
        berth_vps_config_clear(&cfg);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("bandwidth");
        TCase *tc = tcase_create("core");
        tcase_add_test(tc, test_rates);
        tcase_add_test(tc, test_config);
        tcase_add_test(tc, test_config_invalid);
        suite_add_tcase(s, tc);
        return s;
}
