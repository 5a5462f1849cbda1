/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The recursive delete (berth/rmtree.h) against real mounts: it refuses to
 * enter a mount point, names it, and leaves what is mounted intact. Root:
 * each test mounts in a private mount namespace of its own process (Check
 * forks one per test) and unmounts before it ends. */
#include <check.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/rmtree.h"
#include "check_main.h"
#include "tmpdir_util.h"

/* A private mount namespace of this test process: its mounts go away
 * with it even when an assertion ends it early. */
static void private_mounts(void)
{
        ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
        ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
}

static void bind(const char *from_rel, const char *to_rel)
{
        char from[256], to[256];
        pathf(from, sizeof(from), "%s/%s", dir, from_rel);
        pathf(to, sizeof(to), "%s/%s", dir, to_rel);
        ck_assert_int_eq(mount(from, to, NULL, MS_BIND, NULL), 0);
}

static void unbind(const char *rel)
{
        char p[256];
        pathf(p, sizeof(p), "%s/%s", dir, rel);
        ck_assert_int_eq(umount2(p, MNT_DETACH), 0);
}

/* A bind mount of the same file system inside the tree (what `vps
 * destroy` once walked into, comparing st_dev only): refused, named, its
 * content intact; the tree deletes once it is unmounted. */
START_TEST(rmtree_refuses_bind_mount)
{
        SKIP_IF(geteuid() != 0, "needs root (mounts)");
        private_mounts();
        mkd("data");
        put("data/guest-file", "precious");
        mkd("t");
        mkd("t/sub");
        mkd("t/sub/mnt");
        put("t/sub/before", "1");
        bind("data", "t/sub/mnt");
        _cleanup_close_ int d = open_dir();
        struct berth_err err = {0};
        ck_assert_int_eq(berth_rmtree_at(d, "t", &err), -EBUSY);
        ck_assert_int_eq(err.code, EBUSY);
        ck_assert_msg(strstr(err.msg, "t/sub/mnt") && strstr(err.msg, "mount point"), "message: %s", err.msg);
        ck_assert(exists("data/guest-file"));
        ck_assert(exists("t/sub/mnt/guest-file"));
        /* the mount point itself as the name, and the walk helper */
        ck_assert_int_eq(berth_rmtree_at(d, "t/sub/mnt", &err), -EBUSY);
        ck_assert_int_eq(berth_open_dir_nomount(d, "t/sub/mnt"), -EBUSY);
        _cleanup_close_ int sub = berth_open_dir_nomount(d, "t/sub");
        ck_assert_int_ge(sub, 0);
        unbind("t/sub/mnt");
        ck_assert_int_eq(berth_rmtree_at(d, "t", &err), 0);
        ck_assert(!exists("t"));
        ck_assert(exists("data/guest-file"));
}
END_TEST

/* A mount of another file system (a tmpfs) and a bind-mounted file. */
START_TEST(rmtree_refuses_other_mounts)
{
        SKIP_IF(geteuid() != 0, "needs root (mounts)");
        private_mounts();
        mkd("t");
        mkd("t/tmp");
        char p[256];
        pathf(p, sizeof(p), "%s/t/tmp", dir);
        ck_assert_int_eq(mount("prim-tmpfs", p, "tmpfs", 0, "size=64k"), 0);
        put("t/tmp/in-tmpfs", "1");
        _cleanup_close_ int d = open_dir();
        struct berth_err err = {0};
        ck_assert_int_eq(berth_rmtree_at(d, "t", &err), -EBUSY);
        ck_assert_msg(strstr(err.msg, "t/tmp"), "message: %s", err.msg);
        ck_assert(exists("t/tmp/in-tmpfs"));
        unbind("t/tmp");
        put("src", "file content");
        put("t/file", "");
        bind("src", "t/file");
        ck_assert_int_eq(berth_rmtree_at(d, "t", &err), -EBUSY);
        ck_assert_msg(strstr(err.msg, "t/file"), "message: %s", err.msg);
        unbind("t/file");
        ck_assert_int_eq(berth_rmtree_at(d, "t", &err), 0);
        ck_assert(exists("src"));
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("rmtree");
        TCase *tc = tcase_create("mounts");
        tcase_add_unchecked_fixture(tc, tmpdir_setup, tmpdir_teardown);
        tcase_add_test(tc, rmtree_refuses_bind_mount);
        tcase_add_test(tc, rmtree_refuses_other_mounts);
        suite_add_tcase(s, tc);
        return s;
}
