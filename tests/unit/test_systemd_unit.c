/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cgroupsPath "slice:prefix:name" -> systemd unit and cgroup path
 * (berth_systemd_unit_parse), by runc's rules. */
#include <errno.h>
#include <string.h>

#include "berth/systemd.h"
#include "check_main.h"

static struct berth_systemd_unit u;
static struct berth_err err;

static int parse(const char *path, const char *id)
{
        memset(&err, 0, sizeof(err));
        return berth_systemd_unit_parse(path, id, &u, &err);
}

START_TEST(scope_in_system_slice)
{
        ck_assert_int_eq(parse("system.slice:cri-containerd:abc", "x"), 0);
        ck_assert_str_eq(u.name, "cri-containerd-abc.scope");
        ck_assert_str_eq(u.slice, "system.slice");
        ck_assert_str_eq(u.path, "/system.slice/cri-containerd-abc.scope");
        ck_assert(!u.is_slice);
        ck_assert_str_eq(berth_systemd_unit_of_path(u.path), "cri-containerd-abc.scope");
}
END_TEST

START_TEST(defaults)
{
        /* No cgroupsPath: ":berth:ID"; an empty slice: system.slice. */
        ck_assert_int_eq(parse(NULL, "c1"), 0);
        ck_assert_str_eq(u.path, "/system.slice/berth-c1.scope");
        ck_assert_int_eq(parse("", "c2"), 0);
        ck_assert_str_eq(u.name, "berth-c2.scope");
        ck_assert_int_eq(parse("::n", "x"), 0);
        ck_assert_str_eq(u.path, "/system.slice/n.scope");
        /* "-" is the root slice. */
        ck_assert_int_eq(parse("-:p:n", "x"), 0);
        ck_assert_str_eq(u.slice, "-.slice");
        ck_assert_str_eq(u.path, "/p-n.scope");
}
END_TEST

START_TEST(nested_slice)
{
        ck_assert_int_eq(parse("user-1000-app.slice:berth:id", "x"), 0);
        ck_assert_str_eq(u.path, "/user.slice/user-1000.slice/user-1000-app.slice/berth-id.scope");
        ck_assert_str_eq(u.slice, "user-1000-app.slice");
}
END_TEST

START_TEST(slice_unit)
{
        ck_assert_int_eq(parse("system.slice:ignored:pod-abc.slice", "x"), 0);
        ck_assert(u.is_slice);
        ck_assert_str_eq(u.name, "pod-abc.slice");
        ck_assert_str_eq(u.path, "/pod.slice/pod-abc.slice");
}
END_TEST

START_TEST(malformed)
{
        static const char *const bad[] = {"berth/x", "a:b", "a:b:c:d", "/system.slice/x"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                ck_assert_int_eq(parse(bad[i], "x"), -EINVAL);
                ck_assert_msg(strstr(err.msg, "expected cgroupsPath to be of format \"slice:prefix:name\""),
                              "%s: %s", bad[i], err.msg);
        }
        static const char *const bad_slice[] = {"system:p:n", "a--b.slice:p:n", "-a.slice:p:n",
                                                "a-.slice:p:n", "a/b.slice:p:n"};
        for (size_t i = 0; i < sizeof(bad_slice) / sizeof(bad_slice[0]); i++) {
                ck_assert_int_eq(parse(bad_slice[i], "x"), -EINVAL);
                ck_assert_msg(strstr(err.msg, "invalid slice name"), "%s: %s", bad_slice[i], err.msg);
        }
        ck_assert_int_eq(parse("system.slice:p:", "x"), -EINVAL);
        ck_assert_int_eq(parse("system.slice:p:a b", "x"), -EINVAL);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("systemd_unit");
        TCase *tc = tcase_create("parse");
        tcase_add_test(tc, scope_in_system_slice);
        tcase_add_test(tc, defaults);
        tcase_add_test(tc, nested_slice);
        tcase_add_test(tc, slice_unit);
        tcase_add_test(tc, malformed);
        suite_add_tcase(s, tc);
        return s;
}
