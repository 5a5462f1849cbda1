/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for the base primitives: whole-file read and write-all
 * (berth/file.h), the recursive delete that stays on one mount
 * (berth/rmtree.h) and the /proc/<pid>/cgroup and mountinfo iterators
 * (berth/proc.h).
 *
 * Each test works in its own directory under /tmp (tmpdir_util.h). The
 * recursive delete across mount points needs root: tests/component/
 * test_rmtree.c. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/proc.h"
#include "berth/rmtree.h"
#include "check_main.h"
#include "tmpdir_util.h"

/* ---- berth/file.h --------------------------------------------------------- */

START_TEST(read_file_whole)
{
        put("f", "hello\nworld\n");
        _cleanup_close_ int d = open_dir();
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        ck_assert_int_eq(berth_read_file_at(d, "f", 0, 100, &text, &len), 0);
        ck_assert_str_eq(text, "hello\nworld\n");
        ck_assert_uint_eq(len, 12);
        /* exactly max bytes is fine, one more is not */
        char *again = NULL;
        ck_assert_int_eq(berth_read_file_at(d, "f", 0, 12, &again, NULL), 0);
        free(again);
        again = NULL;
        ck_assert_int_eq(berth_read_file_at(d, "f", 0, 11, &again, NULL), -EFBIG);
        ck_assert_ptr_null(again);
        ck_assert_int_eq(berth_read_file_at(d, "missing", 0, 100, &again, NULL), -ENOENT);
        ck_assert_int_eq(symlinkat("f", d, "link"), 0);
        ck_assert_int_eq(berth_read_file_at(d, "link", O_NOFOLLOW, 100, &again, NULL), -ELOOP);
}
END_TEST

/* Files that report no size (/proc, pipes) and ones longer than the
 * first buffer are read to their end. */
START_TEST(read_fd_unsized)
{
        int p[2];
        ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
        static char big[100000];
        for (size_t i = 0; i < sizeof(big); i++)
                big[i] = (char)('a' + i % 26);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                close(p[0]);
                _exit(berth_write_all(p[1], big, sizeof(big)) < 0);
        }
        close(p[1]);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        ck_assert_int_eq(berth_read_fd(p[0], 1 << 20, &text, &len), 0);
        close(p[0]);
        ck_assert_uint_eq(len, sizeof(big));
        ck_assert(memcmp(text, big, sizeof(big)) == 0);
        ck_assert_int_eq(text[len], '\0');
        _cleanup_free_ char *status = NULL;
        ck_assert_int_eq(berth_read_file_at(AT_FDCWD, "/proc/self/status", 0, 1 << 20, &status, NULL), 0);
        ck_assert_ptr_nonnull(strstr(status, "\nPid:"));
}
END_TEST

START_TEST(write_all_errors)
{
        ck_assert_int_eq(berth_write_all(-1, "x", 1), -EBADF);
        _cleanup_close_ int d = open_dir();
        _cleanup_close_ int fd = openat(d, "w", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
        ck_assert_int_eq(berth_write_all(fd, "", 0), 0);
        ck_assert_int_eq(berth_write_all(fd, "abc", 3), 0);
        _cleanup_free_ char *text = NULL;
        ck_assert_int_eq(berth_read_file_at(d, "w", 0, 10, &text, NULL), 0);
        ck_assert_str_eq(text, "abc");
}
END_TEST

START_TEST(write_file_atomic)
{
        _cleanup_close_ int d = open_dir();
        struct iovec iov[] = {{"one", 3}, {"\n", 1}};
        struct berth_atomic_opts o = {.tmp = "f.tmp", .mode = 0600, .fsync = true};
        ck_assert_int_eq(berth_write_file_atomic_at(d, "f", iov, 2, &o), 0);
        _cleanup_free_ char *text = NULL;
        ck_assert_int_eq(berth_read_file_at(d, "f", 0, 100, &text, NULL), 0);
        ck_assert_str_eq(text, "one\n");
        ck_assert(!exists("f.tmp"));
        /* exact_mode: the mode as given, whatever the umask */
        mode_t old = umask(077);
        struct iovec two = {"two", 3};
        o = (struct berth_atomic_opts){.tmp = "f.tmp", .mode = 0644, .exact_mode = true};
        ck_assert_int_eq(berth_write_file_atomic_at(d, "f", &two, 1, &o), 0);
        umask(old);
        struct stat st;
        ck_assert_int_eq(fstatat(d, "f", &st, 0), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0644);
        free(text);
        text = NULL;
        ck_assert_int_eq(berth_read_file_at(d, "f", 0, 100, &text, NULL), 0);
        ck_assert_str_eq(text, "two");
        /* a symlink or FIFO planted as the temp file is replaced, never
         * followed or opened; a directory there is refused */
        put("victim", "keep");
        ck_assert_int_eq(symlinkat("victim", d, "f.tmp"), 0);
        ck_assert_int_eq(berth_write_file_atomic_at(d, "f", &two, 1, &o), 0);
        free(text);
        text = NULL;
        ck_assert_int_eq(berth_read_file_at(d, "victim", 0, 100, &text, NULL), 0);
        ck_assert_str_eq(text, "keep");
        ck_assert(!exists("f.tmp"));
        ck_assert_int_eq(mkfifoat(d, "f.tmp", 0600), 0);
        ck_assert_int_eq(berth_write_file_atomic_at(d, "f", &two, 1, &o), 0);
        ck_assert(!exists("f.tmp"));
        mkd("f.tmp");
        ck_assert_int_eq(berth_write_file_atomic_at(d, "f", &two, 1, &o), -EISDIR);
}
END_TEST

/* ---- berth/rmtree.h -------------------------------------------------------- */

/* A tree with files, nested directories and symlinks that point out of
 * it: the links go, what they point at stays. */
START_TEST(rmtree_tree_and_symlinks)
{
        mkd("keep");
        put("keep/precious", "x");
        mkd("t");
        mkd("t/a");
        mkd("t/a/b");
        put("t/a/b/f", "1");
        put("t/g", "2");
        char target[256];
        pathf(target, sizeof(target), "%s/keep", dir);
        char p[256];
        pathf(p, sizeof(p), "%s/t/a/to_dir", dir);
        ck_assert_int_eq(symlink(target, p), 0);
        pathf(target, sizeof(target), "%s/keep/precious", dir);
        pathf(p, sizeof(p), "%s/t/to_file", dir);
        ck_assert_int_eq(symlink(target, p), 0);
        _cleanup_close_ int d = open_dir();
        struct berth_err err = {0};
        ck_assert_int_eq(berth_rmtree_at(d, "t", &err), 0);
        ck_assert(!exists("t"));
        ck_assert(exists("keep/precious"));
        /* missing is success; a file or a symlink alone is removed too */
        ck_assert_int_eq(berth_rmtree_at(d, "t", &err), 0);
        put("lone", "y");
        ck_assert_int_eq(symlinkat("keep", d, "lone_link"), 0);
        ck_assert_int_eq(berth_rmtree_at(d, "lone", &err), 0);
        ck_assert_int_eq(berth_rmtree_at(d, "lone_link", &err), 0);
        ck_assert(!exists("lone") && !exists("lone_link") && exists("keep/precious"));
}
END_TEST

static bool keep_named_keep(void *data, const char *name, bool is_dir)
{
        ++*(int *)data;
        return is_dir && strcmp(name, "keep") == 0;
}

START_TEST(rmtree_children_keep)
{
        mkd("keep");
        put("keep/x", "x");
        mkd("gone");
        put("gone/y", "y");
        put("file", "z");
        _cleanup_close_ int d = open_dir();
        int calls = 0;
        ck_assert_int_eq(berth_rmtree_children(d, keep_named_keep, &calls, NULL), 0);
        ck_assert_int_eq(calls, 3); /* asked about the top entries only */
        ck_assert(exists("keep/x") && !exists("gone") && !exists("file"));
        ck_assert_int_eq(berth_rmtree_children(d, NULL, NULL, NULL), 0);
        ck_assert(!exists("keep"));
        ck_assert(exists("."));
}
END_TEST

/* ---- berth/proc.h ------------------------------------------------------------ */

START_TEST(proc_cgroup_entries)
{
        const char *text = "12:cpu,cpuacct:/user.slice\n"
                           "garbage line\n"
                           "1:name=systemd:/a:b (deleted)\n"
                           "0::/user.slice/x\n"
                           "3:memory:";
        const char *cur = text;
        struct berth_proc_cgroup_entry e;
        ck_assert(berth_proc_cgroup_next(&cur, &e));
        ck_assert(!e.v2);
        ck_assert_int_eq((int)e.controllers_len, 11);
        ck_assert(strncmp(e.controllers, "cpu,cpuacct", 11) == 0);
        ck_assert(e.path_len == 11 && strncmp(e.path, "/user.slice", 11) == 0);
        ck_assert(berth_proc_cgroup_next(&cur, &e));
        ck_assert(e.controllers_len == 12 && strncmp(e.controllers, "name=systemd", 12) == 0);
        ck_assert(e.path_len == 14 && strncmp(e.path, "/a:b (deleted)", 14) == 0);
        ck_assert(berth_proc_cgroup_next(&cur, &e));
        ck_assert(e.v2 && e.controllers_len == 0);
        ck_assert(e.path_len == 13 && strncmp(e.path, "/user.slice/x", 13) == 0);
        ck_assert(berth_proc_cgroup_next(&cur, &e));
        ck_assert(!e.v2 && e.path_len == 0);
        ck_assert(!berth_proc_cgroup_next(&cur, &e));
        cur = "10::/not-v2-without-id-0\n";
        ck_assert(berth_proc_cgroup_next(&cur, &e));
        ck_assert(!e.v2);
}
END_TEST

START_TEST(proc_status_sigmask)
{
        const char *text = "Name:\tsystemd\nSigQ:\t0/3413\nSigPnd:\t0000000000000000\n"
                           "SigBlk:\t7be3c0fe28014a03\nSigIgn:\t0000000000001000\n"
                           "SigCgt:\t00000001800004ec\nCapInh:\t0000000000000000\n";
        uint64_t m = 0;
        ck_assert_int_eq(berth_proc_status_sigmask(text, "SigCgt", &m), 0);
        ck_assert(m == 0x1800004ecULL);
        ck_assert(m & (1ULL << (11 - 1))); /* SIGSEGV */
        ck_assert(!(m & (1ULL << (15 - 1))));
        ck_assert_int_eq(berth_proc_status_sigmask(text, "SigBlk", &m), 0);
        ck_assert(m == 0x7be3c0fe28014a03ULL);
        ck_assert(m & (1ULL << (37 - 1))); /* SIGRTMIN+3 (glibc), systemd's halt */
        ck_assert_int_eq(berth_proc_status_sigmask(text, "SigIgn", &m), 0);
        ck_assert(m == 0x1000);
        ck_assert_int_eq(berth_proc_status_sigmask(text, "Sig", &m), -ENOENT);
        ck_assert_int_eq(berth_proc_status_sigmask("SigCgt:\t\n", "SigCgt", &m), -EINVAL);
        ck_assert_int_eq(berth_proc_status_sigmask("SigCgt:\t12zz\n", "SigCgt", &m), -EINVAL);
        ck_assert_int_eq(berth_proc_status_sigmask("SigCgt:\t00000000000000001\n", "SigCgt", &m), -EINVAL);
        ck_assert_int_eq(berth_proc_status_sigmask("SigCgt:\tABCDEF", "SigCgt", &m), 0);
        ck_assert(m == 0xabcdef);
        ck_assert_int_eq(berth_proc_status_sigmask("", "SigCgt", &m), -ENOENT);
}
END_TEST

START_TEST(mountinfo_iterator)
{
        char text[] = "25 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
                      "not a mountinfo line\n"
                      "33 25 0:28 / /sys/fs/cgroup/cpu\\054cpuacct rw - cgroup cgroup rw,cpu,cpuacct\n"
                      "34 25 0:29 /sub /mnt/a\\040b rw master:2 - cgroup2 cgroup2";
        char *cur = text;
        struct berth_mountinfo_entry e;
        ck_assert(berth_mountinfo_next(&cur, &e));
        ck_assert_str_eq(e.mount_point, "/");
        ck_assert_str_eq(e.fstype, "ext4");
        ck_assert(berth_mountinfo_next(&cur, &e));
        ck_assert_uint_eq(e.id, 33);
        ck_assert_str_eq(e.mount_point, "/sys/fs/cgroup/cpu,cpuacct");
        ck_assert_str_eq(e.super_options, "rw,cpu,cpuacct");
        ck_assert(berth_mountinfo_next(&cur, &e));
        ck_assert_str_eq(e.root, "/sub");
        ck_assert_str_eq(e.mount_point, "/mnt/a b");
        ck_assert_str_eq(e.super_options, "");
        ck_assert(!berth_mountinfo_next(&cur, &e));
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("base");
        struct {
                const char *name;
                const TTest *test;
        } cases[] = {
            {"read_file_whole", read_file_whole},
            {"read_fd_unsized", read_fd_unsized},
            {"write_all_errors", write_all_errors},
            {"write_file_atomic", write_file_atomic},
            {"rmtree_tree_and_symlinks", rmtree_tree_and_symlinks},
            {"rmtree_children_keep", rmtree_children_keep},
            {"proc_cgroup_entries", proc_cgroup_entries},
            {"mountinfo_iterator", mountinfo_iterator},
            {"proc_status_sigmask", proc_status_sigmask},
        };
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
                TCase *tc = tcase_create(cases[i].name);
                tcase_add_unchecked_fixture(tc, tmpdir_setup, tmpdir_teardown);
                tcase_add_test(tc, cases[i].test);
                suite_add_tcase(s, tc);
        }
        return s;
}
