// SPDX-License-Identifier: GPL-2.0-or-later
/* Namespaces joined by path are the container's own: a hostname may be set
 * in a joined uts namespace (runtime-tools and runc allow it). */
#include "harness.h"

#include <stdio.h>
#include <string.h>

START_TEST(hostname_in_joined_uts)
{
        struct itest_bundle a;
        struct itest_result r;
        char ns[64];

        itest_bundle_new(&a, "utsholder", itest_spec("probe", "sleep", NULL));
        itest_rt(&r, "create", "--bundle", a.dir, a.id, NULL);
        itest_assert_status(&r, 0);
        json_t *st = itest_state(a.id);
        ck_assert_msg(st, "no state for %s", a.id);
        snprintf(ns, sizeof(ns), "/proc/%lld/ns/uts",
                 (long long)json_integer_value(json_object_get(st, "pid")));

        json_t *cfg = itest_spec("probe", "hostname", NULL);
        itest_ns_set(cfg, "uts", ns);
        itest_set(cfg, "hostname", json_string("joined-host"));
        itest_run_cfg(&r, "utsjoin", cfg);
        struct itest_result d;
        itest_rt(&d, "delete", "--force", a.id, NULL);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "nodename", "joined-host");
        itest_assert_status(&d, 0);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = itest_suite("integration/ns_join");
        itest_add(s, "hostname_in_joined_uts", hostname_in_joined_uts);
        return s;
}
