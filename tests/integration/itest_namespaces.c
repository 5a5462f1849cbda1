/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Namespaces: joined by path, a path of the wrong type, absent ones
 * inherited from the caller. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static unsigned long long ns_ino(int pid, const char *type)
{
        char path[64];
        struct stat st;
        snprintf(path, sizeof(path), "/proc/%d/ns/%s", pid, type);
        ck_assert_msg(stat(path, &st) == 0, "stat %s", path);
        return st.st_ino;
}

static unsigned long long kv_ull(const char *out, const char *key)
{
        const char *v = itest_kv(out, key);
        ck_assert_msg(v, "%s missing:\n%s", key, out);
        return strtoull(v, NULL, 10);
}

/* Creates and starts a long-running container A; returns its host pid. */
static int start_sleeper(struct itest_bundle *a)
{
        struct itest_result r;

        itest_bundle_new(a, "nsowner", itest_spec("probe", "sleep", NULL));
        itest_rt(&r, "create", "--bundle", a->dir, a->id, NULL);
        itest_assert_status(&r, 0);
        itest_rt(&r, "start", a->id, NULL);
        itest_assert_status(&r, 0);
        json_t *st = itest_state(a->id);
        int pid = (int)json_integer_value(json_object_get(st, "pid"));
        ck_assert_msg(pid > 0, "no pid in state of %s", a->id);
        return pid;
}

START_TEST(join_by_path)
{
        struct itest_bundle a;
        struct itest_result r;
        char net[64], uts[64];
        int pid = start_sleeper(&a);
        json_t *cfg = itest_spec("probe", "ns", "hostname", NULL);

        snprintf(net, sizeof(net), "/proc/%d/ns/net", pid);
        snprintf(uts, sizeof(uts), "/proc/%d/ns/uts", pid);
        itest_ns_set(cfg, "network", net);
        itest_ns_set(cfg, "uts", uts);
        /* Setting a hostname would change A's: the joiner leaves it alone. */
        json_object_del(cfg, "hostname");
        itest_run_cfg(&r, "nsjoin", cfg);
        itest_assert_status(&r, 0);
        ck_assert_uint_eq(kv_ull(r.out, "ns.net"), ns_ino(pid, "net"));
        ck_assert_uint_eq(kv_ull(r.out, "ns.uts"), ns_ino(pid, "uts"));
        ck_assert_uint_ne(kv_ull(r.out, "ns.mnt"), ns_ino(pid, "mnt"));
        ck_assert_uint_ne(kv_ull(r.out, "ns.pid"), ns_ino(pid, "pid"));
        itest_assert_kv(r.out, "nodename", "itest");
        itest_rt(&r, "delete", "--force", a.id, NULL);
        itest_assert_status(&r, 0);
        itest_assert_clean(a.id, a.dir);
}
END_TEST

START_TEST(join_wrong_type)
{
        struct itest_bundle a, b;
        struct itest_result r;
        char uts[64];
        int pid = start_sleeper(&a);
        json_t *cfg = itest_spec("probe", "ns", NULL);

        snprintf(uts, sizeof(uts), "/proc/%d/ns/uts", pid);
        itest_ns_set(cfg, "network", uts);
        itest_bundle_new(&b, "nswrong", cfg);
        itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
        ck_assert_msg(r.status != 0, "joining a uts namespace as network succeeded");
        itest_assert_clean(b.id, b.dir);
        ck_assert_str_eq(itest_state_status(a.id), "running");
}
END_TEST

START_TEST(absent_is_inherited)
{
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "ns", NULL);

        itest_ns_remove(cfg, "network");
        itest_ns_remove(cfg, "ipc");
        itest_run_cfg(&r, "nsinherit", cfg);
        itest_assert_status(&r, 0);
        ck_assert_uint_eq(kv_ull(r.out, "ns.net"), itest_host_ns("net"));
        ck_assert_uint_eq(kv_ull(r.out, "ns.ipc"), itest_host_ns("ipc"));
        ck_assert_uint_eq(kv_ull(r.out, "ns.cgroup"), itest_host_ns("cgroup"));
        ck_assert_uint_eq(kv_ull(r.out, "ns.user"), itest_host_ns("user"));
        ck_assert_uint_ne(kv_ull(r.out, "ns.pid"), itest_host_ns("pid"));
        ck_assert_uint_ne(kv_ull(r.out, "ns.uts"), itest_host_ns("uts"));
        ck_assert_uint_ne(kv_ull(r.out, "ns.mnt"), itest_host_ns("mnt"));
}
END_TEST

/* Whether any line of the host's mountinfo names path. */
static bool host_mounts_under(const char *path)
{
        char *info = itest_read_file("/proc/self/mountinfo");
        ck_assert_msg(info, "read mountinfo");
        return strstr(info, path) != NULL;
}

/* No mount namespace in the config: the container inherits the runtime's
 * (the spec's rule for an absent namespace), is chrooted into its root, and
 * nothing is mounted on the host's table for it, exec included. */
START_TEST(no_mount_namespace)
{
        struct itest_bundle b;
        struct itest_result r;
        char path[64], root[PATH_MAX];
        json_t *cfg = itest_spec("probe", "sleep", NULL);

        itest_ns_remove(cfg, "mount");
        itest_bundle_new(&b, "nsnomnt", cfg);
        itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        ck_assert_msg(strstr(r.err, "no mount namespace"), "no warning about the mounts left out: %s", r.err);
        json_t *st = itest_state(b.id);
        ck_assert_msg(st, "no state for %s", b.id);
        int pid = (int)json_integer_value(json_object_get(st, "pid"));
        ck_assert_uint_eq(ns_ino(pid, "mnt"), itest_host_ns("mnt"));
        snprintf(path, sizeof(path), "/proc/%d/root", pid);
        ssize_t n = readlink(path, root, sizeof(root) - 1);
        ck_assert_msg(n > 0, "readlink %s", path);
        root[n] = '\0';
        ck_assert_str_eq(root, itest()->rootfs);
        ck_assert_msg(!host_mounts_under(itest()->rootfs), "a mount was made under %s", root);

        itest_rt(&r, "exec", b.id, "probe", "read", "/etc/hostname", NULL);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "read:/etc/hostname.data", "itest");
        itest_rt(&r, "delete", "--force", b.id, NULL);
        itest_assert_status(&r, 0);
        itest_assert_clean(b.id, b.dir);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = itest_suite("integration/namespaces");

        itest_add(s, "join_by_path", join_by_path);
        itest_add(s, "join_wrong_type", join_wrong_type);
        itest_add(s, "absent_is_inherited", absent_is_inherited);
        itest_add(s, "no_mount_namespace", no_mount_namespace);
        return s;
}
