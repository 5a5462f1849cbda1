// SPDX-License-Identifier: GPL-2.0-or-later
/* Namespaces joined by path are the container's own: a hostname may be set
 * in a joined uts namespace, and a joined mount namespace gets the root set
 * up in it (runtime-tools, runc and crun). */
#include "harness.h"

#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* A process holding a private mount namespace of its own, killed with the
 * test case whatever happens to it. */
static pid_t mount_ns_holder(void)
{
        int p[2];
        ck_assert_int_eq(pipe(p), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                prctl(PR_SET_PDEATHSIG, SIGKILL);
                char ok = unshare(CLONE_NEWNS) == 0 && mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0;
                if (write(p[1], &ok, 1) != 1 || !ok)
                        _exit(1);
                for (;;)
                        pause();
        }
        char ok = 0;
        close(p[1]);
        ck_assert_msg(read(p[0], &ok, 1) == 1 && ok, "the holder could not make its mount namespace");
        close(p[0]);
        return pid;
}

START_TEST(rootfs_in_joined_mount_ns)
{
        struct itest_result r;
        char ns[64];
        struct stat st;
        pid_t holder = mount_ns_holder();

        snprintf(ns, sizeof(ns), "/proc/%d/ns/mnt", (int)holder);
        ck_assert_int_eq(stat(ns, &st), 0);
        json_t *cfg = itest_spec("probe", "ns", "read", "/etc/hostname", NULL);
        itest_ns_set(cfg, "mount", ns);
        itest_run_cfg(&r, "mntjoin", cfg);
        kill(holder, SIGKILL);
        itest_assert_status(&r, 0);
        const char *mnt = itest_kv(r.out, "ns.mnt");
        ck_assert_msg(mnt, "no /proc in the container (no rootfs setup?):\n%s", r.out);
        ck_assert_uint_eq(strtoull(mnt, NULL, 10), (unsigned long long)st.st_ino);
        itest_assert_kv(r.out, "read:/etc/hostname.data", "itest");
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = itest_suite("integration/ns_join");
        itest_add(s, "hostname_in_joined_uts", hostname_in_joined_uts);
        itest_add(s, "rootfs_in_joined_mount_ns", rootfs_in_joined_mount_ns);
        return s;
}
