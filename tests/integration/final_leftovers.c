/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runs after every other integration test: nothing named berth-itest may be
 * left on the host (mounts, processes in such cgroups, cgroup dirs under our
 * own cgroup, temp dirs). */
#include "harness.h"

START_TEST(nothing_left_on_host)
{
        char why[4096];
        ck_assert_msg(itest_host_clean(why, sizeof(why)), "left on the host: %s", why);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = itest_suite("integration/final");
        itest_add(s, "nothing_left_on_host", nothing_left_on_host);
        return s;
}
