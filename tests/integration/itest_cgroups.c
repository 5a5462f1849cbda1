/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A container's cgroups seen from inside and from the host: every process
 * of the container is in its cgroup in every hierarchy before anything of
 * the user's runs, its cgroup namespace is rooted there, its cgroupfs shows
 * its own limits; and a failure while the cgroups are still being made
 * (the init mounts meanwhile) leaves nothing behind. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define MEMORY_LIMIT (64LL << 20)
#define PIDS_LIMIT   32

/* The spec with a cgroup namespace, /sys/fs/cgroup mounted, and limits. */
static json_t *cgroup_spec(const char *script)
{
        json_t *cfg = itest_spec("sh", "-c", script, NULL);
        itest_ns_set(cfg, "cgroup", NULL);
        itest_push(cfg, "mounts",
                   json_pack("{s:s,s:s,s:s,s:[s,s,s,s]}", "destination", "/sys/fs/cgroup", "type", "cgroup",
                             "source", "cgroup", "options", "nosuid", "noexec", "nodev", "ro"));
        itest_set(cfg, "linux.resources",
                  json_pack("{s:{s:I},s:{s:i}}", "memory", "limit", (json_int_t)MEMORY_LIMIT, "pids", "limit",
                            PIDS_LIMIT));
        return cfg;
}

/* Prints the container's view: its /proc/self/cgroup, then its limits
 * from the v1 files or else the v2 ones. */
static const char *const VIEW_SCRIPT =
    "cat /proc/self/cgroup; "
    "for f in memory/memory.limit_in_bytes memory.max; do "
    "  [ -r /sys/fs/cgroup/$f ] && echo memory.limit=$(cat /sys/fs/cgroup/$f) && break; done; "
    "for f in pids/pids.max pids.max; do "
    "  [ -r /sys/fs/cgroup/$f ] && echo pids.limit=$(cat /sys/fs/cgroup/$f) && break; done";

/* Does text have a line that is exactly `line`? */
static bool has_line(const char *text, const char *line)
{
        size_t n = strlen(line);
        for (const char *p = text; p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
                if (strncmp(p, line, n) == 0 && (p[n] == '\n' || p[n] == '\0'))
                        return true;
        return false;
}

START_TEST(inside_view)
{
        struct itest_result r;
        itest_run_cfg(&r, "cgview", cgroup_spec(VIEW_SCRIPT));
        itest_assert_status(&r, 0);
        /* Rooted at its own cgroup in every hierarchy: joined before the
         * namespace was made, and before the shell ran. */
        char *copy = strdup(r.out), *save = NULL;
        int hierarchies = 0;
        for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                if (!strncmp(line, "memory.limit=", 13) || !strncmp(line, "pids.limit=", 11))
                        continue;
                const char *path = strrchr(line, ':');
                ck_assert_msg(path && strcmp(path, ":/") == 0, "not at its cgroup's root: %s\n%s", line,
                              r.out);
                hierarchies++;
        }
        free(copy);
        ck_assert_msg(hierarchies > 0, "no /proc/self/cgroup lines:\n%s", r.out);
        char want[32];
        snprintf(want, sizeof(want), "%lld", MEMORY_LIMIT);
        itest_assert_kv(r.out, "memory.limit", want);
        snprintf(want, sizeof(want), "%d", PIDS_LIMIT);
        itest_assert_kv(r.out, "pids.limit", want);
}
END_TEST

/* The host's view of a running init: the container's cgroup in every
 * hierarchy where our own cgroup is, named ones (name=systemd) too, as
 * with runc (systemd-in-container setups bind the container's own part of
 * it; without the join the container would see the caller's tree). */
START_TEST(host_view)
{
        struct itest_result r;
        struct itest_bundle b;
        json_t *cfg = cgroup_spec("exec sleep 60");
        itest_bundle_new(&b, "cghost", cfg);
        itest_rt(&r, "run", "--detach", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        json_t *st = itest_state(b.id);
        ck_assert_ptr_nonnull(st);
        int pid = (int)json_integer_value(json_object_get(st, "pid"));
        char rel[256];
        snprintf(rel, sizeof(rel), "%s/%s", itest()->cgparent, b.id);
        size_t n;
        char **dirs = itest_cgroup_dirs(rel, &n);
        int checked = 0;
        for (size_t i = 0; i < n; i++) {
                char procs[PATH_MAX + 16], want[32];
                snprintf(procs, sizeof(procs), "%s/cgroup.procs", dirs[i]);
                snprintf(want, sizeof(want), "%d", pid);
                checked++;
                char *text = itest_read_file(procs);
                ck_assert_msg(has_line(text, want), "init %d is not in %s: %s", pid, dirs[i], text);
                free(text);
                free(dirs[i]);
        }
        free(dirs);
        ck_assert_int_gt(checked, 0);
        itest_rt(&r, "delete", "--force", b.id, NULL);
        itest_assert_status(&r, 0);
        itest_assert_clean(b.id, b.dir);
}
END_TEST

/* A mount that fails while the parent may still be making the cgroups:
 * the mount's error, and no cgroup, state or mount left. */
START_TEST(mount_fails_before_join)
{
        struct itest_result r;
        struct itest_bundle b;
        json_t *cfg = cgroup_spec("true");
        json_t *mounts = json_object_get(cfg, "mounts");
        json_array_insert_new(mounts, 1,
                              json_pack("{s:s,s:s,s:s,s:[s]}", "destination", "/mnt", "type", "bind",
                                        "source", "/nonexistent-berth-itest", "options", "bind"));
        itest_bundle_new(&b, "cgmount", cfg);
        itest_rt(&r, "run", "--bundle", b.dir, b.id, NULL);
        ck_assert_msg(r.status != 0, "a bind of a missing source succeeded");
        ck_assert_msg(strstr(r.err, "/nonexistent-berth-itest"), "error does not name the source: %s", r.err);
        itest_assert_clean(b.id, b.dir);
}
END_TEST

/* A limit the kernel refuses, found while the init already mounts: the
 * error names the file, and nothing is left. */
START_TEST(limit_rejected)
{
        struct itest_result r;
        struct itest_bundle b;
        json_t *cfg = cgroup_spec("true");
        itest_set(cfg, "linux.resources.cpu",
                  json_pack("{s:I,s:I}", "quota", (json_int_t)100, "period", (json_int_t)100000));
        itest_bundle_new(&b, "cglimit", cfg);
        itest_rt(&r, "run", "--bundle", b.dir, b.id, NULL);
        ck_assert_msg(r.status != 0, "a 100 us cpu quota was accepted");
        ck_assert_msg(strstr(r.err, "cpu.cfs_quota_us") || strstr(r.err, "cpu.max"),
                      "error does not name the file: %s", r.err);
        itest_assert_clean(b.id, b.dir);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = itest_suite("integration/cgroups");
        itest_add(s, "inside_view", inside_view);
        itest_add(s, "host_view", host_view);
        itest_add(s, "mount_fails_before_join", mount_fails_before_join);
        itest_add(s, "limit_rejected", limit_rejected);
        return s;
}
