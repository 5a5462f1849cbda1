// SPDX-License-Identifier: GPL-2.0-or-later
/* Pre-existing cgroups the runtime meets as runc does: a frozen one is
 * refused (not joined, which would hang), a v1 cpuset parent with empty
 * cpus and mems is filled in, and exec --cgroup stays below the
 * container's cgroup. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool write_file(const char *dir, const char *file, const char *value)
{
        char path[PATH_MAX + 64];
        snprintf(path, sizeof(path), "%s/%s", dir, file);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return false;
        bool ok = write(fd, value, strlen(value)) == (ssize_t)strlen(value);
        close(fd);
        return ok;
}

/* mkdir -p of rel (below our own cgroup) in every hierarchy. */
static char **make_cgroup(const char *rel, size_t *n)
{
        char **dirs = itest_cgroup_dirs(rel, n);
        for (size_t i = 0; i < *n; i++) {
                char *p = dirs[i] + strlen(dirs[i]) - strlen(rel);
                for (char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
                        *s = '\0';
                        mkdir(dirs[i], 0755);
                        *s = '/';
                }
                ck_assert_msg(mkdir(dirs[i], 0755) == 0 || errno == EEXIST, "mkdir %s: %s", dirs[i],
                              strerror(errno));
        }
        return dirs;
}

/* The hierarchy to freeze: the v1 freezer where there is one (as runc's
 * test on a v1 or hybrid host), else cgroup v2. */
static const char *freezer_dir(char **dirs, size_t n, bool *v1)
{
        for (size_t i = 0; i < n; i++)
                if (strstr(dirs[i], "/freezer/")) {
                        *v1 = true;
                        return dirs[i];
                }
        for (size_t i = 0; i < n; i++) {
                char path[PATH_MAX + 32];
                snprintf(path, sizeof(path), "%s/cgroup.freeze", dirs[i]);
                if (access(path, F_OK) == 0) {
                        *v1 = false;
                        return dirs[i];
                }
        }
        return NULL;
}

START_TEST(frozen_cgroup_refused)
{
        struct itest_result r;
        char rel[128];
        size_t n;
        bool v1 = false;

        snprintf(rel, sizeof(rel), "%s/ocicore-frozen", itest()->cgparent);
        char **dirs = make_cgroup(rel, &n);
        const char *fz = freezer_dir(dirs, n, &v1);
        ck_assert_msg(fz, "no freezer on this host");
        ck_assert(write_file(fz, v1 ? "freezer.state" : "cgroup.freeze", v1 ? "FROZEN" : "1"));

        json_t *cfg = itest_spec("probe", "exit", "0", NULL);
        itest_set(cfg, "linux.cgroupsPath", json_string(rel));
        struct itest_bundle b;
        itest_bundle_new(&b, "frozen", cfg);
        struct itest_opts o = ITEST_OPTS_DEFAULT;
        o.timeout_ms = 10000;
        const char *argv[] = {"run", "--bundle", b.dir, b.id, NULL};
        itest_rt_opts(&r, &o, argv);
        write_file(fz, v1 ? "freezer.state" : "cgroup.freeze", v1 ? "THAWED" : "0");

        ck_assert_msg(r.status != -1, "run hung in the frozen cgroup");
        ck_assert_msg(r.status != 0, "run succeeded in a frozen cgroup");
        ck_assert_msg(strstr(r.err, "unexpectedly frozen"), "unexpected error: %s", r.err);
        itest_rt(&r, "delete", "--force", b.id, NULL);
        for (size_t i = 0; i < n; i++)
                rmdir(dirs[i]);
}
END_TEST

/* A v1 cpuset parent someone made and left empty: the container's
 * cgroup below it still gets cpus and mems (runc copies them down). */
START_TEST(empty_cpuset_parent_filled)
{
        struct itest_result r;
        char parent[128], rel[160];
        size_t n;

        snprintf(parent, sizeof(parent), "%s/ocicore-cpuset", itest()->cgparent);
        char **dirs = make_cgroup(parent, &n);
        const char *cs = NULL;
        for (size_t i = 0; i < n; i++)
                if (strstr(dirs[i], "/cpuset/"))
                        cs = dirs[i];
        SKIP_IF(!cs, "no v1 cpuset hierarchy");
        char path[PATH_MAX + 32];
        snprintf(path, sizeof(path), "%s/cpuset.cpus", cs);
        char *cpus = itest_read_file(path);
        ck_assert_msg(cpus[strspn(cpus, " \n")] == '\0', "the new parent is not empty: %s", cpus);

        snprintf(rel, sizeof(rel), "%s/child", parent);
        json_t *cfg = itest_spec("probe", "exit", "0", NULL);
        itest_set(cfg, "linux.cgroupsPath", json_string(rel));
        itest_run_cfg(&r, "cpuset", cfg);
        itest_assert_status(&r, 0);
        cpus = itest_read_file(path);
        ck_assert_msg(cpus[strspn(cpus, " \n")] != '\0', "the parent's cpuset.cpus stayed empty");
        for (size_t i = 0; i < n; i++)
                rmdir(dirs[i]);
}
END_TEST

/* exec --cgroup: ".." is refused; on v1 the controller:path form puts the
 * process in that controller's sub-cgroup only. */
START_TEST(exec_sub_cgroups)
{
        struct itest_bundle b;
        struct itest_result r;
        char rel[160];
        size_t n;

        itest_bundle_new(&b, "execcg", itest_spec("probe", "sleep", NULL));
        itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        itest_rt(&r, "start", b.id, NULL);
        itest_assert_status(&r, 0);

        itest_rt(&r, "exec", "--cgroup", "..", b.id, "true", NULL);
        ck_assert_msg(r.status != 0, "exec --cgroup .. left the container's cgroup");
        ck_assert_msg(strstr(r.err, ".. is not a sub cgroup path"), "unexpected error: %s", r.err);
        itest_rt(&r, "exec", "--cgroup", "a/../..", b.id, "true", NULL);
        ck_assert_msg(r.status != 0, "exec --cgroup a/../.. left the container's cgroup");

        snprintf(rel, sizeof(rel), "%s/%s", itest()->cgparent, b.id);
        char **dirs = itest_cgroup_dirs(rel, &n);
        const char *mem = NULL;
        for (size_t i = 0; i < n; i++)
                if (strstr(dirs[i], "/memory/"))
                        mem = dirs[i];
        if (mem) {
                char sub[PATH_MAX + 16];
                snprintf(sub, sizeof(sub), "%s/submem", mem);
                ck_assert_int_eq(mkdir(sub, 0755), 0);
                itest_rt(&r, "exec", "--cgroup", "memory:submem", b.id, "cat", "/proc/self/cgroup", NULL);
                itest_assert_status(&r, 0);
                const char *line = strstr(r.out, ":memory:");
                ck_assert_msg(line && strstr(line, "/submem\n"), "not in memory:submem:\n%s", r.out);
                const char *pids = strstr(r.out, ":pids:");
                ck_assert_msg(!pids || strncmp(strchr(pids, '\n') - 7, "/submem", 7) != 0,
                              "pids joined memory's sub-cgroup:\n%s", r.out);
                itest_rt(&r, "exec", "--cgroup", "whaaat:/", b.id, "true", NULL);
                ck_assert_msg(r.status != 0 && strstr(r.err, "unknown controller"), "unexpected: %d %s",
                              r.status, r.err);
        }
        itest_rt(&r, "delete", "--force", b.id, NULL);
        itest_assert_status(&r, 0);
        itest_assert_clean(b.id, b.dir);
}
END_TEST

/* memory.kernelTCP lands in the v1 file where the kernel still has it. */
START_TEST(kernel_tcp_applied)
{
        struct itest_bundle b;
        struct itest_result r;
        char rel[160], path[PATH_MAX + 64];
        size_t n;

        json_t *cfg = itest_spec("probe", "sleep", NULL);
        itest_set(cfg, "linux.resources.memory", json_pack("{s:I}", "kernelTCP", (json_int_t)(64 << 20)));
        itest_bundle_new(&b, "ktcp", cfg);
        itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        snprintf(rel, sizeof(rel), "%s/%s", itest()->cgparent, b.id);
        char **dirs = itest_cgroup_dirs(rel, &n);
        const char *mem = NULL;
        for (size_t i = 0; i < n; i++)
                if (strstr(dirs[i], "/memory/"))
                        mem = dirs[i];
        if (mem)
                snprintf(path, sizeof(path), "%s/memory.kmem.tcp.limit_in_bytes", mem);
        bool have = mem && access(path, F_OK) == 0;
        char *got = have ? itest_read_file(path) : NULL;
        itest_rt(&r, "delete", "--force", b.id, NULL);
        itest_assert_status(&r, 0);
        SKIP_IF(!have, "no v1 memory.kmem.tcp.limit_in_bytes on this host");
        ck_assert_str_eq(got, "67108864\n");
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = itest_suite("integration/cgroup_edge");
        itest_add(s, "frozen_cgroup_refused", frozen_cgroup_refused);
        itest_add(s, "empty_cpuset_parent_filled", empty_cpuset_parent_filled);
        itest_add(s, "exec_sub_cgroups", exec_sub_cgroups);
        itest_add(s, "kernel_tcp_applied", kernel_tcp_applied);
        return s;
}
