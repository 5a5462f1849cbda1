/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Mount-destination symlink attacks (CVE-2021-30465 and relatives).
 *
 * The bundle's rootfs is the attacker's: its mount targets are symlinks to
 * "/", "../../../etc" or an absolute host path (a canary directory outside
 * the root), or they flip between a directory and such a symlink while the
 * runtime sets the container up. The containers use rootfsPropagation
 * "rshared", so any mount that landed on a host path would show up in the
 * host's own mount table. Asserted: no mount point appears outside the
 * rootfs, the canary stays untouched, and the container sees each mount
 * where an in-root resolution puts it. */
#include "sec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RACE_ROUNDS 25

struct evil {
        char dir[PATH_MAX]; /* bundle-ish dir holding rootfs/ */
        char rootfs[PATH_MAX];
        char canary[PATH_MAX]; /* host dir outside the root */
        struct stat canary_st;
};

static void mk(const char *base, const char *rel, bool dir)
{
        char p[PATH_MAX * 2];
        snprintf(p, sizeof(p), "%s/%s", base, rel);
        if (dir)
                ck_assert_msg(mkdir(p, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", p, strerror(errno));
        else
                sec_copy("/proc/self/stat", p, 0644);
}

static void ln(const char *target, const char *base, const char *rel)
{
        char p[PATH_MAX * 2];
        snprintf(p, sizeof(p), "%s/%s", base, rel);
        ck_assert_msg(symlink(target, p) == 0, "symlink %s: %s", p, strerror(errno));
}

/* A minimal writable rootfs with the static binaries and the traps. */
static void evil_new(struct evil *e)
{
        snprintf(e->dir, sizeof(e->dir), "%s", itest_mkdtemp("evil"));
        snprintf(e->rootfs, sizeof(e->rootfs), "%s/rootfs", e->dir);
        snprintf(e->canary, sizeof(e->canary), "%s", itest_mkdtemp("canary"));
        mk(e->canary, "CANARY", false);
        ck_assert_int_eq(stat(e->canary, &e->canary_st), 0);
        static const char *const dirs[] = {"", "bin", "proc", "dev", "sys", "tmp", "etc", "mnt", "mnt/extra"};
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
                mk(e->rootfs, dirs[i], true);
        char src[PATH_MAX + 16], dst[PATH_MAX + 16];
        for (int i = 0; i < 2; i++) {
                const char *name = i ? "probe" : "attacker";
                snprintf(src, sizeof(src), "%s/bin/%s", itest()->rootfs, name);
                snprintf(dst, sizeof(dst), "%s/bin/%s", e->rootfs, name);
                sec_copy(src, dst, 0755);
        }
        mk(e->rootfs, "etc/inside", false);
        ln("/", e->rootfs, "tmp/x");
        ln("../../../etc", e->rootfs, "evil");
        ln(e->canary, e->rootfs, "canarylink");
        char far[PATH_MAX + 64];
        snprintf(far, sizeof(far), "../../../../../../../../..%s", e->canary);
        ln(far, e->rootfs, "dotdot");
}

static json_t *evil_spec(const struct evil *e, const char *arg0, ...)
{
        json_t *cfg = itest_spec("probe", NULL);
        json_t *args = json_array();
        va_list ap;
        va_start(ap, arg0);
        for (const char *a = arg0; a; a = va_arg(ap, const char *))
                json_array_append_new(args, json_string(a));
        va_end(ap);
        itest_set(cfg, "process.args", args);
        itest_set(cfg, "root.path", json_string(e->rootfs));
        itest_set(cfg, "root.readonly", json_false());
        itest_set(cfg, "linux.rootfsPropagation", json_string("rshared"));
        return cfg;
}

/* The canary holds exactly its one file and is still the same directory
 * on the same filesystem (nothing mounted over it). */
static void assert_canary(const struct evil *e)
{
        struct stat st;
        ck_assert_int_eq(stat(e->canary, &st), 0);
        ck_assert_msg(st.st_dev == e->canary_st.st_dev && st.st_ino == e->canary_st.st_ino,
                      "something is mounted over the canary %s", e->canary);
        char cmd[PATH_MAX + 64];
        snprintf(cmd, sizeof(cmd), "test \"$(ls -A '%s')\" = CANARY", e->canary);
        ck_assert_msg(system(cmd) == 0, "the canary %s was changed", e->canary);
}

/* rshared propagates the container's own mounts (inside the rootfs) to
 * the host: take them away before the leftovers check. */
static void umount_under(const char *prefix)
{
        for (int round = 0; round < 8; round++) {
                char *mounts = sec_host_mounts();
                bool any = false;
                size_t pl = strlen(prefix);
                for (char *save = NULL, *l = strtok_r(mounts, "\n", &save); l;
                     l = strtok_r(NULL, "\n", &save))
                        if (!strncmp(l, prefix, pl) && (l[pl] == '/' || l[pl] == '\0')) {
                                umount2(l, MNT_DETACH);
                                any = true;
                        }
                free(mounts);
                if (!any)
                        return;
        }
}

/* One create with these extra mounts: asserts no mount escaped and the
 * canary is intact while the container exists; returns create's status. */
static int create_checked(const struct evil *e, json_t *cfg)
{
        char *before = sec_host_mounts();
        struct itest_bundle b;
        struct itest_result r;
        itest_bundle_new(&b, "symlinks", cfg);
        itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
        char *during = sec_host_mounts();
        const char *bad = sec_escaped_mount(before, during, e->rootfs);
        ck_assert_msg(!bad, "a container mount landed outside the root: %s", bad);
        assert_canary(e);
        if (r.status == 0)
                sec_delete(b.id);
        assert_canary(e);
        umount_under(e->rootfs);
        sec_assert_clean(b.id, b.dir);
        free(before);
        free(during);
        json_decref(cfg);
        return r.status;
}

START_TEST(symlinked_targets_stay_inside)
{
        sec_begin();
        struct evil e;
        evil_new(&e);
        /* Links that resolve to existing dirs inside the root: must work. */
        json_t *cfg = evil_spec(&e, "/bin/attacker", "noop", NULL);
        sec_mount(cfg, "/evil", "tmpfs", "tmpfs", "mode=755", NULL);
        sec_mount(cfg, "/tmp/x/mnt/extra", "tmpfs", "tmpfs", "size=1m", NULL);
        ck_assert_int_eq(create_checked(&e, cfg), 0);
        /* Links to the host canary, absolute or through "..": inside the
         * root they dangle, so create may fail -- but never escape. */
        cfg = evil_spec(&e, "/bin/attacker", "noop", NULL);
        sec_mount(cfg, "/canarylink", "bind", e.canary, "rbind", "ro", NULL);
        create_checked(&e, cfg);
        cfg = evil_spec(&e, "/bin/attacker", "noop", NULL);
        sec_mount(cfg, "/dotdot", "tmpfs", "tmpfs", "size=1m", NULL);
        create_checked(&e, cfg);
        cfg = evil_spec(&e, "/bin/attacker", "noop", NULL);
        sec_mount(cfg, "/dotdot/sub", "tmpfs", "tmpfs", "size=1m", NULL);
        create_checked(&e, cfg);

        /* From the inside: "/evil" -> "../../../etc" is the container's
         * /etc, shadowed by the tmpfs. */
        struct itest_result r;
        cfg = evil_spec(&e, "/bin/probe", "mounts", "/etc", "read", "/etc/inside", NULL);
        sec_mount(cfg, "/evil", "tmpfs", "tmpfs", "mode=755", NULL);
        itest_run_cfg(&r, "inside", cfg);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "mount:/etc.fstype", "tmpfs");
        itest_assert_kv(r.out, "read:/etc/inside", "ENOENT");
        assert_canary(&e);
        umount_under(e.rootfs);
        json_decref(cfg);
}
END_TEST

/* Flips rootfs/race between a directory and a symlink to the canary. */
__attribute__((noreturn)) static void flipper(const char *rootfs, const char *canary)
{
        char a[PATH_MAX + 16], l[PATH_MAX + 16];
        snprintf(a, sizeof(a), "%s/race", rootfs);
        snprintf(l, sizeof(l), "%s/race_link", rootfs);
        mkdir(a, 0755);
        if (symlink(canary, l) < 0)
                _exit(1);
        for (;;)
                renameat2(AT_FDCWD, a, AT_FDCWD, l, RENAME_EXCHANGE);
}

START_TEST(swapped_targets_during_setup)
{
        sec_begin();
        struct evil e;
        evil_new(&e);
        pid_t flip = fork();
        ck_assert_int_ge(flip, 0);
        if (flip == 0)
                flipper(e.rootfs, e.canary);
        int created = 0;
        for (int i = 0; i < RACE_ROUNDS; i++) {
                json_t *cfg = evil_spec(&e, "/bin/attacker", "noop", NULL);
                sec_mount(cfg, "/race", "tmpfs", "tmpfs", "size=1m", NULL);
                sec_mount(cfg, "/race/sub", "bind", e.canary, "bind", NULL);
                char *before = sec_host_mounts();
                struct itest_bundle b;
                struct itest_result r;
                itest_bundle_new(&b, "race", cfg);
                itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
                created += r.status == 0;
                char *during = sec_host_mounts();
                const char *bad = sec_escaped_mount(before, during, e.rootfs);
                if (bad)
                        kill(flip, SIGKILL);
                ck_assert_msg(!bad, "round %d: a container mount landed outside the root: %s", i, bad);
                assert_canary(&e);
                if (r.status == 0)
                        sec_delete(b.id);
                kill(flip, SIGSTOP); /* no renames while the propagated mounts go */
                umount_under(e.rootfs);
                kill(flip, SIGCONT);
                sec_assert_clean(b.id, b.dir);
                free(before);
                free(during);
                json_decref(cfg);
        }
        kill(flip, SIGKILL);
        waitpid(flip, NULL, 0);
        assert_canary(&e);
        printf("race: %d of %d creates succeeded, no mount escaped\n", created, RACE_ROUNDS);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = sec_suite("sec_mounts");
        itest_add(s, "symlinked_targets_stay_inside", symlinked_targets_stay_inside);
        itest_add(s, "swapped_targets_during_setup", swapped_targets_during_setup);
        return s;
}
