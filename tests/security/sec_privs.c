/* SPDX-License-Identifier: GPL-2.0-or-later */
/* /proc and /sys tricks, capabilities, devices and the user namespace:
 * what a container with the default (runc) spec must not be able to do.
 * Every attempt is made from inside by /bin/attacker. */
#include "sec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static void assert_failed(const char *out, const char *key)
{
        const char *v = itest_kv(out, key);
        ck_assert_msg(v && strcmp(v, "ok") != 0, "%s: got '%s', expected a failure\n%s", key,
                      v ? v : "(missing)", out);
}

static void assert_masked(const char *out, const char *key)
{
        const char *v = itest_kv(out, key);
        /* A masked file reads as /dev/null (0 bytes) or cannot be opened; a
         * masked dir is an empty read-only tmpfs or absent. */
        ck_assert_msg(v && (!strcmp(v, "0") || v[0] == 'E'), "%s is not masked: %s\n%s", key,
                      v ? v : "(missing)", out);
}

START_TEST(proc_and_sys_protected)
{
        sec_begin();
        char canary[PATH_MAX + 32];
        snprintf(canary, sizeof(canary), "%s/HOST_ONLY_CANARY", itest()->tmp);
        sec_copy("/proc/self/stat", canary, 0644);
        struct itest_result r;
        itest_run_cfg(&r, "proc", sec_spec("proc", canary, NULL));
        itest_assert_status(&r, 0);
        const char *files[] = {"read:/proc/kcore", "read:/proc/keys", "read:/proc/timer_list",
                               "read:/proc/sched_debug", "read:/proc/latency_stats"};
        for (size_t i = 0; i < (sizeof(files) / sizeof(files[0])); i++)
                assert_masked(r.out, files[i]);
        const char *dirs[] = {"ls:/proc/acpi", "ls:/proc/scsi", "ls:/sys/firmware"};
        for (size_t i = 0; i < (sizeof(dirs) / sizeof(dirs[0])); i++)
                assert_masked(r.out, dirs[i]);
        /* Read-only: /proc/sys, sysrq-trigger, all of /sys. */
        /* sysrq-trigger only exists with CONFIG_MAGIC_SYSRQ. */
        if (access("/proc/sysrq-trigger", F_OK) == 0)
                itest_assert_kv(r.out, "openw:/proc/sysrq-trigger", "EROFS");
        else
                assert_failed(r.out, "openw:/proc/sysrq-trigger");
        itest_assert_kv(r.out, "openw:/proc/sys/kernel/hostname", "EROFS");
        itest_assert_kv(r.out, "openw:/proc/sys/vm/drop_caches", "EROFS");
        assert_failed(r.out, "openw:/sys/kernel/mm/transparent_hugepage/enabled");
        assert_failed(r.out, "openw:/sys/fs/cgroup/cgroup.procs");
        /* No CAP_SYS_ADMIN: no remount, no unmasking, no fresh procfs. */
        const char *mounts[] = {"remount:/proc/sys", "remount:/sys", "umount:/proc/kcore", "umount:/proc/sys",
                                "mount:proc",        "mount:proc2",  "fsopen:proc"};
        for (size_t i = 0; i < (sizeof(mounts) / sizeof(mounts[0])); i++)
                assert_failed(r.out, mounts[i]);
        /* Its own pid namespace: pid 1 is the attacker, no host pids. */
        itest_assert_kv(r.out, "pid", "1");
        itest_assert_kv(r.out, "pid1.exe", "/bin/attacker");
        itest_assert_kv(r.out, "pid1.root", "/");
        itest_assert_kv(r.out, "pids", "1");
        /* The host's root and mount namespace stay out of reach. */
        itest_assert_kv(r.out, "canary.via_pid1", "ENOENT");
        itest_assert_kv(r.out, "canary.direct", "ENOENT");
        const char *mntns = itest_kv(r.out, "mntns");
        char host[32];
        snprintf(host, sizeof(host), "%llu", itest_host_ns("mnt"));
        ck_assert_msg(mntns && strcmp(mntns, host) != 0, "the container is in the host's mount namespace");
        assert_failed(r.out, "setns:mnt");
}
END_TEST

START_TEST(no_sys_admin_no_mount)
{
        sec_begin();
        struct itest_result r;
        itest_run_cfg(&r, "caps", sec_spec("caps", NULL));
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "mount", "EPERM");
        itest_assert_kv(r.out, "bind", "EPERM");
        itest_assert_kv(r.out, "unshare_ns", "EPERM");
}
END_TEST

/* A block device the host itself may open (an unbound loop device reads
 * as empty, so nothing is read from a real disk): mknod works with
 * CAP_MKNOD, opening must not without a device rule. A writable tmpfs
 * without nodev holds the node. */
static json_t *dev_spec(const char *maj, const char *min)
{
        json_t *cfg = sec_spec("dev", maj, min, NULL);
        sec_add_cap(cfg, "CAP_MKNOD");
        sec_mount(cfg, "/tmp", "tmpfs", "tmpfs", "mode=1777", "size=1m", NULL);
        return cfg;
}

static bool host_block_device(struct stat *st)
{
        for (int i = 0; i < 8; i++) {
                char path[32];
                snprintf(path, sizeof(path), "/dev/loop%d", i);
                int fd = open(path, O_RDONLY | O_CLOEXEC);
                if (fd < 0)
                        continue;
                bool ok = fstat(fd, st) == 0 && S_ISBLK(st->st_mode);
                close(fd);
                if (ok)
                        return true;
        }
        return false;
}

START_TEST(block_device_not_openable)
{
        sec_begin();
        struct stat st;
        ck_assert_msg(host_block_device(&st), "no /dev/loopN that this host lets us open to test with");
        char maj[16], min[16];
        snprintf(maj, sizeof(maj), "%u", major(st.st_rdev));
        snprintf(min, sizeof(min), "%u", minor(st.st_rdev));
        struct itest_result r;
        itest_run_cfg(&r, "dev", dev_spec(maj, min));
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "open", "EPERM");

        /* Control: with a rule allowing it, the same open works, so the
         * EPERM above came from the device cgroup, not from the setup. */
        json_t *cfg = dev_spec(maj, min);
        itest_push(cfg, "linux.resources.devices",
                   json_pack("{s:b, s:s, s:I, s:I, s:s}", "allow", 1, "type", "b", "major",
                             (json_int_t)major(st.st_rdev), "minor", (json_int_t)minor(st.st_rdev), "access",
                             "rwm"));
        itest_run_cfg(&r, "devok", cfg);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "mknod", "ok");
        itest_assert_kv(r.out, "open", "ok");
}
END_TEST

/* Container root is host uid 100000: what it creates in a bind-mounted
 * host dir is owned by 100000, and a host root-only file stays closed. */
START_TEST(userns_root_is_unprivileged)
{
        sec_begin();
        const char *shared = itest_mkdtemp("shared");
        ck_assert_int_eq(chmod(shared, 0777), 0);
        char secret[PATH_MAX + 32];
        snprintf(secret, sizeof(secret), "%s/secret", itest_mkdtemp("secret"));
        sec_copy("/proc/self/stat", secret, 0600);
        json_t *cfg = sec_spec("userns", "/mnt/rw/made-inside", "/mnt/ro/secret", NULL);
        itest_ns_set(cfg, "user", NULL);
        json_t *map = json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID", 100000, "size", 65536);
        itest_set(cfg, "linux.uidMappings", json_deep_copy(map));
        itest_set(cfg, "linux.gidMappings", map);
        sec_mount(cfg, "/mnt/rw", "bind", shared, "rbind", "rw", NULL);
        char dir[PATH_MAX];
        snprintf(dir, sizeof(dir), "%.*s", (int)(strrchr(secret, '/') - secret), secret);
        sec_mount(cfg, "/mnt/ro", "bind", dir, "rbind", "ro", NULL);
        struct itest_result r;
        itest_run_cfg(&r, "userns", cfg);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "uid", "0");
        itest_assert_kv(r.out, "create", "ok");
        itest_assert_kv(r.out, "secret", "EACCES");
        char made[PATH_MAX + 32];
        snprintf(made, sizeof(made), "%s/made-inside", shared);
        struct stat st;
        ck_assert_int_eq(stat(made, &st), 0);
        ck_assert_uint_eq(st.st_uid, 100000);
        ck_assert_uint_eq(st.st_gid, 100000);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = sec_suite("sec_privs");
        itest_add(s, "proc_and_sys_protected", proc_and_sys_protected);
        itest_add(s, "no_sys_admin_no_mount", no_sys_admin_no_mount);
        itest_add(s, "block_device_not_openable", block_device_not_openable);
        itest_add(s, "userns_root_is_unprivileged", userns_root_is_unprivileged);
        return s;
}
