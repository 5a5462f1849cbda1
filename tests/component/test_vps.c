/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Component test of the VPS store (root): `vps create` against a
 * concurrent `template rm`, through the real create (which chowns the
 * VPS's upper dir to its user namespace's root). The rest of the store:
 * tests/unit/test_vps.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check_main.h"
#include "berth/template.h"
#include "berth/vps.h"

static void need_root(void)
{
        SKIP_IF(geteuid() != 0, "needs root (vps create chowns the VPS's upper dir)");
}

/* ---- vps create vs template rm ------------------------------------------ */

/* True once /proc/locks shows `pid` waiting ("->") for a flock on inode ino. */
static bool waits_for_flock(pid_t pid, ino_t ino)
{
        FILE *f = fopen("/proc/locks", "re");
        char line[256], want[64];
        bool found = false;
        snprintf(want, sizeof(want), ":%lu ", (unsigned long)ino);
        while (f && !found && fgets(line, sizeof(line), f)) {
                int lpid = 0;
                char *arrow = strstr(line, "-> FLOCK");
                found = arrow && sscanf(arrow, "-> FLOCK %*s %*s %d", &lpid) == 1 && lpid == pid &&
                        strstr(line, want);
        }
        if (f)
                fclose(f);
        return found;
}

static void mkdir_or_fail(const char *path)
{
        ck_assert_msg(mkdir(path, 0755) == 0 || errno == EEXIST, "mkdir %s: %s", path, strerror(errno));
}

/* While `template rm` holds the template's lock, `vps create` waits for it;
 * when the template is gone by then, create fails and leaves nothing. */
START_TEST(test_create_waits_for_template_lock)
{
        char data[] = "/tmp/berth-vps-unit.XXXXXX", path[512];
        ck_assert(mkdtemp(data) != NULL);
        /* The host-wide id registry and defaults file: the test's own. */
        snprintf(path, sizeof(path), "%s/id-ranges", data);
        ck_assert_int_eq(setenv("BERTH_ID_REGISTRY", path, 1), 0);
        ck_assert_int_eq(setenv("BERTH_CONFIG_DIR", data, 1), 0);
        snprintf(path, sizeof(path), "%s/templates", data);
        mkdir_or_fail(path);
        snprintf(path, sizeof(path), "%s/templates/base", data);
        mkdir_or_fail(path);
        snprintf(path, sizeof(path), "%s/templates/base/rootfs", data);
        mkdir_or_fail(path);
        snprintf(path, sizeof(path), "%s/templates/base", data);
        int tfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct stat st;
        ck_assert(tfd >= 0 && fstat(tfd, &st) == 0);
        ck_assert_int_eq(flock(tfd, LOCK_EX), 0); /* what berth_template_remove holds */

        pid_t pid = fork();
        ck_assert(pid >= 0);
        if (pid == 0) {
                close(tfd); /* a flock belongs to the open file: the copy would hold it too */
                struct berth_vps_ctx v = {.data_dir = data};
                struct berth_vps_create_opts o = {.name = "web1", .template_name = "base"};
                struct berth_err err = {0};
                int r = berth_vps_create(&v, &o, &err);
                if (r < 0 && r != -ENOENT)
                        fprintf(stderr, "vps create: %s\n", err.msg);
                _exit(r == 0 ? 0 : r == -ENOENT ? 3 : 1);
        }
        bool waiting = false;
        int status = 0;
        for (int i = 0; i < 1000 && !waiting; i++) {
                ck_assert_msg(waitpid(pid, &status, WNOHANG) == 0,
                              "vps create finished while the template was locked (exit %d)",
                              WEXITSTATUS(status));
                waiting = waits_for_flock(pid, st.st_ino);
                nanosleep(&(struct timespec){.tv_nsec = 10 * 1000 * 1000}, NULL);
        }
        ck_assert_msg(waiting, "vps create does not wait for the template lock");
        /* template rm's rename, then its unlock. */
        char gone[512];
        snprintf(gone, sizeof(gone), "%s/templates/.rm-base", data);
        ck_assert_int_eq(rename(path, gone), 0);
        close(tfd);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 3, "create: status %d", status);
        snprintf(path, sizeof(path), "%s/vps/web1", data);
        ck_assert_msg(access(path, F_OK) != 0, "the failed create left %s", path);
        snprintf(path, sizeof(path), "%s/users/web1", gone);
        ck_assert_msg(access(path, F_OK) != 0, "a marker in the removed template");

        /* Unlocked and present: create marks the template, rm refuses. */
        snprintf(path, sizeof(path), "%s/templates/base", data);
        ck_assert_int_eq(rename(gone, path), 0);
        struct berth_vps_ctx v = {.data_dir = data};
        struct berth_vps_create_opts o = {.name = "web1", .template_name = "base"};
        struct berth_err err = {0};
        ck_assert_msg(berth_vps_create(&v, &o, &err) == 0, "%s", err.msg);
        ck_assert_int_eq(berth_template_remove(data, "base", &err), -EBUSY);
        char cmd[600];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", data);
        ck_assert_int_eq(system(cmd), 0);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = suite_create("vps_root");
        TCase *tc = tcase_create("create");
        tcase_add_checked_fixture(tc, need_root, NULL);
        tcase_add_test(tc, test_create_waits_for_template_lock);
        suite_add_tcase(s, tc);
        return s;
}
