/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit tests for runtime/process/: executable lookup and rlimit names (no
 * root). berth_process_exec itself (ids, capabilities, rlimits):
 * tests/component/test_process_exec.c. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "berth/process.h"

#define BIT(c) (1ULL << (c))

/* ---- exe lookup --------------------------------------------------------- */

static char tmpdir[PATH_MAX];

static void make_file(const char *rel, mode_t mode)
{
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "%s/%s", tmpdir, rel);
        int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, mode);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, "#!/bin/sh\n", 10), 10);
        close(fd);
        ck_assert_int_eq(chmod(p, mode), 0);
}

static void lookup_setup(void)
{
        char p[PATH_MAX];
        snprintf(tmpdir, sizeof(tmpdir), "/tmp/berth-test-exe-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmpdir));
        snprintf(p, sizeof(p), "%s/bin", tmpdir);
        ck_assert_int_eq(mkdir(p, 0755), 0);
        snprintf(p, sizeof(p), "%s/bin/adir", tmpdir);
        ck_assert_int_eq(mkdir(p, 0755), 0);
        make_file("bin/prog", 0755);
        make_file("bin/noexec", 0644);
}

static void lookup_teardown(void)
{
        char cmd[PATH_MAX + 16];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
        ck_assert_int_eq(system(cmd), 0);
}

START_TEST(lookup_path_search)
{
        char path_env[PATH_MAX + 64], out[PATH_MAX], want[PATH_MAX];
        struct berth_err err = {0};
        snprintf(path_env, sizeof(path_env), "PATH=%s/nothing:%s/bin:/bin", tmpdir, tmpdir);
        char *env[] = {"HOME=/", path_env, NULL};

        ck_assert_int_eq(berth_exe_lookup("prog", env, out, sizeof(out), &err), 0);
        snprintf(want, sizeof(want), "%s/bin/prog", tmpdir);
        ck_assert_str_eq(out, want);

        /* A directory or a file without x bit in PATH is passed over. */
        ck_assert_int_eq(berth_exe_lookup("noexec", env, out, sizeof(out), &err), -ENOENT);
        ck_assert_str_eq(err.msg, "exec: \"noexec\": executable file not found in $PATH");
        ck_assert_int_eq(berth_exe_lookup("adir", env, out, sizeof(out), &err), -ENOENT);
        ck_assert_int_eq(berth_exe_lookup("no-such-prog", env, out, sizeof(out), &err), -ENOENT);
        ck_assert_int_eq(err.code, ENOENT);
        ck_assert_str_eq(err.msg, "exec: \"no-such-prog\": executable file not found in $PATH");

        /* Too small an output buffer. */
        ck_assert_int_eq(berth_exe_lookup("prog", env, out, 4, &err), -ENAMETOOLONG);
}
END_TEST

START_TEST(lookup_default_path)
{
        char out[PATH_MAX];
        struct berth_err err = {0};
        char *env[] = {"HOME=/", NULL};

        /* No PATH in env: the default one, where Debian has sh. */
        ck_assert_int_eq(berth_exe_lookup("sh", env, out, sizeof(out), &err), 0);
        ck_assert_int_eq(out[0], '/');
        ck_assert_str_eq(out + strlen(out) - 3, "/sh");
        ck_assert_int_eq(access(out, X_OK), 0);
        ck_assert_int_eq(berth_exe_lookup("sh", NULL, out, sizeof(out), &err), 0);
}
END_TEST

START_TEST(lookup_paths_as_is)
{
        char out[PATH_MAX], p[PATH_MAX], want[PATH_MAX + 64];
        struct berth_err err = {0};
        char *env[] = {"PATH=/nonexistent", NULL};

        ck_assert_int_eq(berth_exe_lookup("/x/y/z", env, out, sizeof(out), &err), -ENOENT);
        ck_assert_str_eq(err.msg, "exec: \"/x/y/z\": stat /x/y/z: no such file or directory");

        ck_assert_int_eq(berth_exe_lookup("/etc", env, out, sizeof(out), &err), -EACCES);
        ck_assert_str_eq(err.msg, "exec: \"/etc\": permission denied");

        snprintf(p, sizeof(p), "%s/bin/noexec", tmpdir);
        ck_assert_int_eq(berth_exe_lookup(p, env, out, sizeof(out), &err), -EACCES);
        snprintf(want, sizeof(want), "exec: \"%s\": permission denied", p);
        ck_assert_str_eq(err.msg, want);

        snprintf(p, sizeof(p), "%s/bin/prog", tmpdir);
        ck_assert_int_eq(berth_exe_lookup(p, env, out, sizeof(out), &err), 0);
        ck_assert_str_eq(out, p);
}
END_TEST

START_TEST(lookup_relative)
{
        char out[PATH_MAX], p[PATH_MAX];
        struct berth_err err = {0};
        char *env[] = {"PATH=:/nonexistent", NULL};

        snprintf(p, sizeof(p), "%s/bin", tmpdir);
        ck_assert_int_eq(chdir(p), 0);
        /* A name with a slash is relative to the cwd, not searched. */
        ck_assert_int_eq(berth_exe_lookup("./prog", env, out, sizeof(out), &err), 0);
        ck_assert_str_eq(out, "./prog");
        ck_assert_int_eq(berth_exe_lookup("../bin/prog", env, out, sizeof(out), &err), 0);
        ck_assert_str_eq(out, "../bin/prog");
        ck_assert_int_eq(berth_exe_lookup("./noexec", env, out, sizeof(out), &err), -EACCES);
        /* An empty PATH entry is the current directory. */
        ck_assert_int_eq(berth_exe_lookup("prog", env, out, sizeof(out), &err), 0);
        ck_assert_str_eq(out, "./prog");
        ck_assert_int_eq(chdir("/"), 0);
}
END_TEST

START_TEST(rlimit_names)
{
        ck_assert_str_eq(berth_rlimit_name(RLIMIT_NOFILE), "RLIMIT_NOFILE");
        ck_assert_str_eq(berth_rlimit_name(RLIMIT_RTTIME), "RLIMIT_RTTIME");
        ck_assert_ptr_null(berth_rlimit_name(12345));
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("process");
        TCase *lookup = tcase_create("exe_lookup");
        tcase_add_checked_fixture(lookup, lookup_setup, lookup_teardown);
        tcase_add_test(lookup, lookup_path_search);
        tcase_add_test(lookup, lookup_default_path);
        tcase_add_test(lookup, lookup_paths_as_is);
        tcase_add_test(lookup, lookup_relative);
        tcase_add_test(lookup, rlimit_names);
        suite_add_tcase(s, lookup);

        return s;
}
