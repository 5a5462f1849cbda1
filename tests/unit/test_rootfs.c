/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests of rootfs/'s pure helpers: mountinfo parsing, mount flag
 * translation, path resolution inside a root (no mounts, no root). The
 * mounts themselves: tests/component/test_rootfs.c. */
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check_main.h"
#include "berth/rootfs.h"

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
        (void)st;
        (void)ftw;
        if (type == FTW_DP)
                rmdir(path);
        else
                unlink(path);
        return 0;
}

START_TEST(test_mountinfo_parse)
{
        char line[] = "36 31 0:33 / /sys/fs/cgroup/a\\040b rw,relatime shared:5 master:1 - cgroup cgroup "
                      "rw,devices\n";
        struct berth_mountinfo_entry e;
        ck_assert_int_eq(berth_mountinfo_parse_line(line, &e), 0);
        ck_assert_uint_eq(e.id, 36);
        ck_assert_uint_eq(e.parent, 31);
        ck_assert_str_eq(e.root, "/");
        ck_assert_str_eq(e.mount_point, "/sys/fs/cgroup/a b");
        ck_assert_str_eq(e.options, "rw,relatime");
        ck_assert_str_eq(e.fstype, "cgroup");
        ck_assert_str_eq(e.source, "cgroup");
        ck_assert_str_eq(e.super_options, "rw,devices");
        char bad[] = "36 31 0:33 / /x rw";
        ck_assert_int_lt(berth_mountinfo_parse_line(bad, &e), 0);
}
END_TEST

START_TEST(test_flag_translation)
{
        bool atime;
        uint64_t a =
            berth_ms_to_mount_attr(MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_NOATIME, &atime);
        ck_assert(atime);
        ck_assert_uint_eq(a, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC |
                                 MOUNT_ATTR_NOATIME);
        a = berth_ms_to_mount_attr(MS_NODIRATIME, &atime);
        ck_assert(!atime);
        ck_assert_uint_eq(a, MOUNT_ATTR_NODIRATIME);
        ck_assert_uint_eq(berth_propagation_ms(BERTH_PROP_RSLAVE), MS_SLAVE | MS_REC);
        ck_assert_uint_eq(berth_propagation_ms(BERTH_PROP_NONE), 0);
}
END_TEST

/* mkdir_p and mount targets through symlinks, without mounting anything */
START_TEST(test_resolve_create)
{
        char dir[] = "/tmp/berth-resolve-XXXXXX";
        ck_assert_ptr_nonnull(mkdtemp(dir));
        char p[4096];
        snprintf(p, sizeof(p), "%s/inner", dir);
        ck_assert_int_eq(mkdir(p, 0755), 0);
        snprintf(p, sizeof(p), "%s/up", dir);
        ck_assert_int_eq(symlink("/../..", p), 0);
        int rootfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(rootfd, 0);
        int fd = berth_in_root_mkdir_p(rootfd, "/up/a/b", 0700);
        ck_assert_int_ge(fd, 0);
        close(fd);
        struct stat st;
        snprintf(p, sizeof(p), "%s/a/b", dir);
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert(S_ISDIR(st.st_mode));
        fd = berth_in_root_mount_target(rootfd, "/up/inner/file", false);
        ck_assert_int_ge(fd, 0);
        close(fd);
        snprintf(p, sizeof(p), "%s/inner/file", dir);
        ck_assert_int_eq(stat(p, &st), 0);
        ck_assert(S_ISREG(st.st_mode));
        close(rootfd);
        nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("rootfs");
        TCase *tc = tcase_create("helpers");
        tcase_add_test(tc, test_mountinfo_parse);
        tcase_add_test(tc, test_flag_translation);
        tcase_add_test(tc, test_resolve_create);
        suite_add_tcase(s, tc);
        return s;
}
