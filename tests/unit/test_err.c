/* SPDX-License-Identifier: GPL-2.0-or-later */
/* struct berth_err: context wrapping keeps the innermost cause when the
 * message outgrows the buffer, and ": strerror" is never dropped. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "berth/err.h"
#include "check_main.h"

static bool ends_with(const char *s, const char *suffix)
{
        size_t ls = strlen(s), lx = strlen(suffix);
        return ls >= lx && !strcmp(s + ls - lx, suffix);
}

START_TEST(wrap_short)
{
        struct berth_err err = {0};
        ck_assert_int_eq(berth_err_sys(&err, EPERM, "mount %s", "proc"), -EPERM);
        ck_assert_int_eq(berth_err_wrap(&err, "create container '%s'", "x"), -EPERM);
        ck_assert_str_eq(err.msg, "create container 'x': mount proc: Operation not permitted");
        ck_assert_int_eq(err.code, EPERM);
}
END_TEST

START_TEST(wrap_keeps_innermost_cause)
{
        struct berth_err err = {0};
        berth_err_sys(&err, ENOENT, "open /the/innermost/cause");
        char ctx[100];
        memset(ctx, 'c', sizeof(ctx) - 1);
        ctx[sizeof(ctx) - 1] = '\0';
        /* Each level adds ~110 bytes: after twenty the chain is twice the
         * buffer, and the cut must have come out of its middle. */
        for (int i = 0; i < 20; i++)
                berth_err_wrap(&err, "level%d %s", i, ctx);
        berth_err_wrap(&err, "create container 'outer'");
        ck_assert_uint_lt(strlen(err.msg), BERTH_ERR_MSG_MAX);
        ck_assert_msg(!strncmp(err.msg, "create container 'outer': ", 26), "head: %.60s", err.msg);
        ck_assert_msg(ends_with(err.msg, ": open /the/innermost/cause: No such file or directory"),
                      "tail: %s", err.msg + strlen(err.msg) - 60);
        ck_assert_int_eq(err.code, ENOENT);
        /* One cut, on a context boundary: "...: levelN ...", so no word is
         * split and repeated cuts do not pile up marks. */
        const char *cut = strstr(err.msg, "...");
        ck_assert_ptr_nonnull(cut);
        ck_assert_msg(!strncmp(cut, "...: level", 10), "cut: %.40s", cut);
        ck_assert_ptr_null(strstr(cut + 3, "..."));
        ck_assert_ptr_nonnull(strstr(err.msg, ": level0 c"));
}
END_TEST

START_TEST(wrap_long_prefix_is_capped)
{
        struct berth_err err = {0};
        berth_err_set(&err, EINVAL, "bad value");
        char big[BERTH_ERR_MSG_MAX];
        memset(big, 'p', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        berth_err_wrap(&err, "%s", big);
        ck_assert_uint_lt(strlen(err.msg), BERTH_ERR_MSG_MAX);
        ck_assert(ends_with(err.msg, "...: bad value") || ends_with(err.msg, "...bad value"));
        ck_assert_int_eq(err.msg[0], 'p');
}
END_TEST

START_TEST(sys_keeps_strerror)
{
        struct berth_err err = {0};
        char big[2 * BERTH_ERR_MSG_MAX];
        memset(big, 'x', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        berth_err_sys(&err, EACCES, "open %s", big);
        ck_assert_uint_eq(strlen(err.msg), BERTH_ERR_MSG_MAX - 1);
        ck_assert(!strncmp(err.msg, "open xxx", 8));
        ck_assert_msg(ends_with(err.msg, "x...: Permission denied"), "%s", err.msg + 900);
        /* Just fitting: nothing is cut. */
        size_t room = BERTH_ERR_MSG_MAX - 1 - strlen(": Permission denied");
        big[room] = '\0';
        berth_err_sys(&err, EACCES, "%s", big);
        ck_assert_uint_eq(strlen(err.msg), BERTH_ERR_MSG_MAX - 1);
        ck_assert(ends_with(err.msg, "x: Permission denied"));
        ck_assert_ptr_null(strstr(err.msg, "..."));
}
END_TEST

START_TEST(negative_and_zero_codes)
{
        struct berth_err err = {0};
        ck_assert_int_eq(berth_err_sys(&err, -ENOSPC, "write"), -ENOSPC);
        ck_assert_str_eq(err.msg, "write: No space left on device");
        berth_err_clear(&err);
        ck_assert_int_eq(berth_err_wrap(&err, "outer"), -EIO);
        ck_assert_str_eq(err.msg, "outer: ");
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("err");
        TCase *tc = tcase_create("err");
        tcase_add_test(tc, wrap_short);
        tcase_add_test(tc, wrap_keeps_innermost_cause);
        tcase_add_test(tc, wrap_long_prefix_is_capped);
        tcase_add_test(tc, sys_keeps_strerror);
        tcase_add_test(tc, negative_and_zero_codes);
        suite_add_tcase(s, tc);
        return s;
}
