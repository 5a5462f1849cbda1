/* SPDX-License-Identifier: GPL-2.0-or-later */
/* CVE-2024-21626: host fds leaked into the container, and a working
 * directory outside the container's root.
 *
 * The runtime is started with extra fds that a careless caller leaks
 * (no O_CLOEXEC): fd 3 is /sys/fs/cgroup, fd 4 a host directory holding a
 * marker file. The container must see only fds 0-2 (plus the ones
 * --preserve-fds asks for), and a process.cwd of "/proc/self/fd/N" -- the
 * original exploit -- must either make create fail or land inside the
 * root: the marker must never be readable from the container's cwd. */
#include "sec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MARKER "BERTH_SEC_HOST_MARKER"

struct leak {
        int fds[2];
        char hostdir[PATH_MAX];
};

static void leak_open(struct leak *l)
{
        snprintf(l->hostdir, sizeof(l->hostdir), "%s", itest_mkdtemp("hostdir"));
        char marker[PATH_MAX + 32];
        snprintf(marker, sizeof(marker), "%s/%s", l->hostdir, MARKER);
        sec_copy("/proc/self/stat", marker, 0644);
        /* Deliberately without O_CLOEXEC: what a sloppy caller leaks. */
        l->fds[0] = open("/sys/fs/cgroup", O_RDONLY | O_DIRECTORY);
        l->fds[1] = open(l->hostdir, O_RDONLY | O_DIRECTORY);
        ck_assert_int_ge(l->fds[0], 0);
        ck_assert_int_ge(l->fds[1], 0);
}

static int run_leaky(struct itest_result *r, const char *const *argv, struct leak *l)
{
        struct itest_opts o = ITEST_OPTS_DEFAULT;
        o.extra_fds = l->fds;
        o.n_extra_fds = 2;
        return itest_rt_opts(r, &o, argv);
}

START_TEST(only_stdio_reaches_container)
{
        sec_begin();
        struct leak l;
        leak_open(&l);
        struct itest_bundle b;
        struct itest_result r;
        itest_bundle_new(&b, "fds", itest_spec("probe", "fds", NULL));
        const char *argv[] = {"run", "--bundle", b.dir, b.id, NULL};
        run_leaky(&r, argv, &l);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "fds", "0,1,2");
        sec_assert_clean(b.id, b.dir);

        /* --preserve-fds 1 passes fd 3, and only fd 3. */
        itest_bundle_new(&b, "fds", itest_spec("probe", "fds", NULL));
        const char *argv2[] = {"run", "--preserve-fds", "1", "--bundle", b.dir, b.id, NULL};
        run_leaky(&r, argv2, &l);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "fds", "0,1,2,3");
        sec_assert_clean(b.id, b.dir);
}
END_TEST

START_TEST(exec_sees_only_stdio)
{
        sec_begin();
        struct leak l;
        leak_open(&l);
        struct itest_bundle b;
        struct itest_proc p;
        struct itest_result r, e;
        struct itest_opts o = ITEST_OPTS_DEFAULT;
        itest_bundle_new(&b, "execfds", itest_spec("probe", "sleep", NULL));
        const char *argv[] = {"run", "--bundle", b.dir, b.id, NULL};
        ck_assert_int_eq(itest_rt_spawn(&p, &o, argv), 0);
        ck_assert_msg(itest_wait_status(b.id, "running", 10000), "container never ran");
        const char *ex[] = {"exec", b.id, "/bin/probe", "fds", NULL};
        run_leaky(&e, ex, &l);
        itest_assert_status(&e, 0);
        itest_assert_kv(e.out, "fds", "0,1,2");
        /* A cwd through a leaked fd, given to exec. */
        for (int fd = 3; fd <= 12; fd++) {
                char cwd[64];
                snprintf(cwd, sizeof(cwd), "/proc/self/fd/%d", fd);
                const char *ex2[] = {"exec", "--cwd", cwd, b.id, "/bin/probe", "cwd", "read", MARKER, NULL};
                run_leaky(&e, ex2, &l);
                const char *got = itest_kv(e.out, "read:" MARKER);
                ck_assert_msg(e.status != 0 || !got || strcmp(got, "ok") != 0,
                              "exec --cwd %s reads the host's %s\n%s", cwd, MARKER, e.out);
                const char *c = itest_kv(e.out, "cwd");
                ck_assert_msg(e.status != 0 || (c && c[0] == '/'), "exec --cwd %s: cwd outside the root: %s",
                              cwd, c ? c : "(none)");
        }
        sec_delete(b.id);
        itest_proc_wait(&p, &r, 10000);
        sec_assert_clean(b.id, b.dir);
}
END_TEST

/* runc's exploit guessed the number of its own leaked cgroup fd; try them
 * all, with the caller's leaked fds present as well. */
START_TEST(cwd_through_proc_self_fd)
{
        sec_begin();
        struct leak l;
        leak_open(&l);
        for (int fd = 3; fd <= 12; fd++) {
                char cwd[64];
                snprintf(cwd, sizeof(cwd), "/proc/self/fd/%d", fd);
                json_t *cfg = itest_spec("probe", "cwd", "read", MARKER, "ls", ".", NULL);
                itest_set(cfg, "process.cwd", json_string(cwd));
                struct itest_bundle b;
                struct itest_result r;
                itest_bundle_new(&b, "cwd", cfg);
                const char *argv[] = {"run", "--bundle", b.dir, b.id, NULL};
                run_leaky(&r, argv, &l);
                const char *got = itest_kv(r.out, "read:" MARKER);
                ck_assert_msg(r.status != 0 || !got || strcmp(got, "ok") != 0,
                              "cwd %s reads the host's %s\n%s", cwd, MARKER, r.out);
                const char *c = itest_kv(r.out, "cwd");
                ck_assert_msg(r.status != 0 || (c && c[0] == '/'), "cwd %s: outside the root: %s\n%s", cwd,
                              c ? c : "(none)", r.err);
                sec_assert_clean(b.id, b.dir);
                json_decref(cfg);
        }
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = sec_suite("sec_fds");
        itest_add(s, "only_stdio_reaches_container", only_stdio_reaches_container);
        itest_add(s, "exec_sees_only_stdio", exec_sees_only_stdio);
        itest_add(s, "cwd_through_proc_self_fd", cwd_through_proc_self_fd);
        return s;
}
