// SPDX-License-Identifier: GPL-2.0-or-later
/* vps migrate's pieces that need no root: the template checksum (what
 * makes two trees "identical") and the control channel's JSON lines. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utime.h>

#include "check_main.h"
#include "runtime/vps/migrate.h"
#include "tmpdir_util.h"

static void sum_of(const char *rel, char out[33])
{
        char path[256];
        struct berth_err err = {0};
        pathf(path, sizeof(path), "%s/%s", dir, rel);
        ck_assert_msg(vps_tree_sum(path, NULL, out, &err) == 0, "%s", err.msg);
}

static void tree(const char *top)
{
        char p[128];
        mkd(top);
        snprintf(p, sizeof(p), "%s/etc", top);
        mkd(p);
        snprintf(p, sizeof(p), "%s/etc/motd", top);
        put(p, "hello\n");
        snprintf(p, sizeof(p), "%s/bin", top);
        mkd(p);
        snprintf(p, sizeof(p), "%s/bin/sh", top);
        put(p, "#!/bin/true\n");
        char target[256];
        pathf(target, sizeof(target), "%s/%s/bin/link", dir, top);
        ck_assert_int_eq(symlink("sh", target), 0);
}

START_TEST(test_sum_identical_copies)
{
        tree("a");
        tree("b");
        char sa[33], sb[33];
        sum_of("a", sa);
        sum_of("b", sb);
        ck_assert_str_eq(sa, sb);
        ck_assert_uint_eq(strlen(sa), 32);
        /* Times are not part of it: a copy made later is the same. */
        char p[256];
        pathf(p, sizeof(p), "%s/b/etc/motd", dir);
        struct utimbuf t = {.actime = 12345, .modtime = 12345};
        ck_assert_int_eq(utime(p, &t), 0);
        sum_of("b", sb);
        ck_assert_str_eq(sa, sb);
}
END_TEST

START_TEST(test_sum_sees_differences)
{
        tree("c");
        char base[33], s[33], p[256];
        sum_of("c", base);
        put("c/etc/motd", "hellO\n"); /* content, same size */
        sum_of("c", s);
        ck_assert_str_ne(base, s);
        put("c/etc/motd", "hello\n");
        sum_of("c", s);
        ck_assert_str_eq(base, s);
        pathf(p, sizeof(p), "%s/c/bin/sh", dir);
        ck_assert_int_eq(chmod(p, 0755), 0); /* mode */
        sum_of("c", s);
        ck_assert_str_ne(base, s);
        ck_assert_int_eq(chmod(p, 0644), 0);
        sum_of("c", s);
        ck_assert_str_eq(base, s);
        pathf(p, sizeof(p), "%s/c/bin/link", dir); /* a link's target */
        ck_assert_int_eq(unlink(p), 0);
        ck_assert_int_eq(symlink("sH", p), 0);
        sum_of("c", s);
        ck_assert_str_ne(base, s);
        ck_assert_int_eq(unlink(p), 0);
        ck_assert_int_eq(symlink("sh", p), 0);
        put("c/etc/new", ""); /* a new empty file */
        sum_of("c", s);
        ck_assert_str_ne(base, s);
        /* The file beside the tree (template.json) counts too. */
        pathf(p, sizeof(p), "%s/c/etc/new", dir);
        ck_assert_int_eq(unlink(p), 0);
        put("t1.json", "{\"init\": \"/sbin/init\"}");
        char with[33], path[256];
        struct berth_err err = {0};
        pathf(path, sizeof(path), "%s/c", dir);
        pathf(p, sizeof(p), "%s/t1.json", dir);
        ck_assert_int_eq(vps_tree_sum(path, p, with, &err), 0);
        ck_assert_str_ne(with, base);
}
END_TEST

START_TEST(test_sum_missing_tree)
{
        char s[33], p[256];
        struct berth_err err = {0};
        pathf(p, sizeof(p), "%s/nothing-here", dir);
        ck_assert_int_lt(vps_tree_sum(p, NULL, s, &err), 0);
        ck_assert_int_eq(err.code, ENOENT);
        ck_assert_ptr_nonnull(strstr(err.msg, "nothing-here"));
}
END_TEST

START_TEST(test_lines_round_trip)
{
        int fds[2];
        ck_assert_int_eq(pipe(fds), 0);
        struct berth_err err = {0};
        json_t *msg = json_pack("{s:s, s:i}", "op", "preflight", "format", VPS_MIGRATE_FORMAT);
        ck_assert_int_eq(vps_line_send(fds[1], msg, &err), 0);
        ck_assert_int_eq(vps_line_send(fds[1], msg, &err), 0);
        json_decref(msg);
        ck_assert_int_eq(write(fds[1], "not json\n", 9), 9);
        close(fds[1]);
        for (int i = 0; i < 2; i++) {
                json_t *got = vps_line_recv(fds[0], &err);
                ck_assert_msg(got != NULL, "%s", err.msg);
                ck_assert_str_eq(json_string_value(json_object_get(got, "op")), "preflight");
                json_decref(got);
        }
        ck_assert_ptr_null(vps_line_recv(fds[0], &err));
        ck_assert_int_eq(err.code, EPROTO);
        ck_assert_ptr_null(vps_line_recv(fds[0], &err)); /* the end */
        ck_assert_int_eq(err.code, EPIPE);
        close(fds[0]);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("vps_migrate");
        TCase *tc = tcase_create("core");
        tcase_add_unchecked_fixture(tc, tmpdir_setup, tmpdir_teardown);
        tcase_add_test(tc, test_sum_identical_copies);
        tcase_add_test(tc, test_sum_sees_differences);
        tcase_add_test(tc, test_sum_missing_tree);
        tcase_add_test(tc, test_lines_round_trip);
        suite_add_tcase(s, tc);
        return s;
}
