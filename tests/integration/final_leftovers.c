/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runs after every other test (tests/CMakeLists.txt): nothing a suite
 * made may be left on the host (mounts, processes in berth-itest cgroups,
 * temp dirs, and the integration, component and VPS tests' cgroup dirs
 * under our own cgroup). */
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
