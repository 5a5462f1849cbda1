/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container's filesystem: mounts and their flags, /proc and /sys,
 * devices, masked and read-only paths, a read-only root, sysctls. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void write_host_file(const char *path, const char *text)
{
        FILE *f = fopen(path, "we");
        ck_assert_msg(f, "open %s: %s", path, strerror(errno));
        fputs(text, f);
        fclose(f);
}

START_TEST(tmpfs_flags)
{
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "mounts", "/mnt/tmpfs", "write", "/mnt/tmpfs/f", NULL);

        itest_push(cfg, "mounts",
                   json_pack("{s:s,s:s,s:s,s:[s,s,s,s]}", "destination", "/mnt/tmpfs", "type", "tmpfs",
                             "source", "tmpfs", "options", "nosuid", "nodev", "noexec", "size=1m"));
        itest_run_cfg(&r, "tmpfs", cfg);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "mount:/mnt/tmpfs.fstype", "tmpfs");
        itest_assert_kv(r.out, "mount:/mnt/tmpfs.ro", "0");
        itest_assert_kv(r.out, "mount:/mnt/tmpfs.nosuid", "1");
        itest_assert_kv(r.out, "mount:/mnt/tmpfs.nodev", "1");
        itest_assert_kv(r.out, "mount:/mnt/tmpfs.noexec", "1");
        itest_assert_kv(r.out, "mount:/mnt/tmpfs.size", "1048576");
        itest_assert_kv(r.out, "write:/mnt/tmpfs/f", "ok");
}
END_TEST

/* A seed tree in the host: a file with its own owner and mode, a
 * subdirectory, a symlink. */
static const char *make_seed(void)
{
        const char *seed = itest_mkdtemp("seed");
        char path[PATH_MAX + 16];

        snprintf(path, sizeof(path), "%s/a", seed);
        write_host_file(path, "seed-data\n");
        ck_assert_int_eq(chown(path, 1234, 5678), 0);
        ck_assert_int_eq(chmod(path, 0604), 0);
        snprintf(path, sizeof(path), "%s/d", seed);
        ck_assert_int_eq(mkdir(path, 0711), 0);
        snprintf(path, sizeof(path), "%s/d/b", seed);
        write_host_file(path, "deep\n");
        snprintf(path, sizeof(path), "%s/l", seed);
        ck_assert_int_eq(symlink("a", path), 0);
        ck_assert_int_eq(chmod(seed, 0750), 0);
        return seed;
}

/* tmpcopyup (podman --read-only): the tmpfs starts with a copy of what it
 * covers, owners and modes kept, and writes stay in the tmpfs. */
static void run_copyup(struct itest_result *r, const char *seed, const char *extra_option)
{
        const char *script = "cd /seed && stat -c '%n %a %u:%g' . a d && cat a d/b && readlink l && "
                             "grep ' /seed ' /proc/mounts | cut -d' ' -f3,4 | cut -d, -f1 | tail -n 1 && "
                             "(echo new > new && echo written || echo refused)";
        json_t *cfg = itest_spec("sh", "-c", script, NULL);

        itest_push(cfg, "mounts",
                   json_pack("{s:s,s:s,s:s,s:[s,s]}", "destination", "/seed", "type", "bind", "source", seed,
                             "options", "rbind", "ro"));
        itest_push(cfg, "mounts",
                   json_pack("{s:s,s:s,s:s,s:[s,s,s]}", "destination", "/seed", "type", "tmpfs", "source",
                             "tmpfs", "options", "nosuid", "tmpcopyup", extra_option));
        itest_run_cfg(r, "copyup", cfg);
}

START_TEST(tmpfs_copyup)
{
        struct itest_result r;
        const char *seed = make_seed();
        char host_new[PATH_MAX + 8];

        run_copyup(&r, seed, "rw");
        itest_assert_status(&r, 0);
        ck_assert_str_eq(r.out,
                         ". 750 0:0\na 604 1234:5678\nd 711 0:0\nseed-data\ndeep\na\ntmpfs rw\nwritten\n");
        snprintf(host_new, sizeof(host_new), "%s/new", seed);
        ck_assert_msg(access(host_new, F_OK) != 0, "a write into the tmpfs reached the host's seed");

        run_copyup(&r, seed, "ro");
        itest_assert_status(&r, 0);
        ck_assert_str_eq(r.out,
                         ". 750 0:0\na 604 1234:5678\nd 711 0:0\nseed-data\ndeep\na\ntmpfs ro\nrefused\n");
}
END_TEST

START_TEST(bind_mounts)
{
        struct itest_result r;
        const char *ro = itest_mkdtemp("ro-src"), *rw = itest_mkdtemp("rw-src");
        char hello[PATH_MAX + 16], created[PATH_MAX + 16];
        json_t *cfg = itest_spec("probe", "mounts", "/mnt/ro", "read", "/mnt/ro/hello", "write",
                                 "/mnt/ro/new", "mounts", "/mnt/rw", "write", "/mnt/rw/new", NULL);

        snprintf(hello, sizeof(hello), "%s/hello", ro);
        snprintf(created, sizeof(created), "%s/new", rw);
        write_host_file(hello, "hello from the host\n");
        itest_push(cfg, "mounts",
                   json_pack("{s:s,s:s,s:s,s:[s,s]}", "destination", "/mnt/ro", "type", "bind", "source", ro,
                             "options", "rbind", "ro"));
        itest_push(cfg, "mounts",
                   json_pack("{s:s,s:s,s:s,s:[s,s]}", "destination", "/mnt/rw", "type", "bind", "source", rw,
                             "options", "rbind", "rw"));
        itest_run_cfg(&r, "binds", cfg);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "mount:/mnt/ro.ro", "1");
        itest_assert_kv(r.out, "read:/mnt/ro/hello.data", "hello from the host");
        itest_assert_kv(r.out, "write:/mnt/ro/new", "EROFS");
        itest_assert_kv(r.out, "mount:/mnt/rw.ro", "0");
        itest_assert_kv(r.out, "write:/mnt/rw/new", "ok");
        ck_assert_msg(access(created, F_OK) == 0, "file written in the rw bind is not on the host");
}
END_TEST

/* A bind source only host root can reach (under a 0700 dir of root's) in
 * a container with a user namespace: the runtime opens it before the init
 * becomes root of that namespace only, as runc does. */
START_TEST(bind_root_only_source_in_userns)
{
        struct itest_result r;
        const char *hidden = itest_mkdtemp("hidden");
        char data[PATH_MAX + 16], hello[PATH_MAX + 32];
        json_t *cfg = itest_spec("probe", "ids", "read", "/mnt/ro/hello", NULL);

        ck_assert_int_eq(chmod(hidden, 0700), 0);
        snprintf(data, sizeof(data), "%s/data", hidden);
        ck_assert_int_eq(mkdir(data, 0755), 0);
        snprintf(hello, sizeof(hello), "%s/hello", data);
        write_host_file(hello, "only root gets here\n");
        itest_ns_set(cfg, "user", NULL);
        json_t *map = json_pack("[{s:i, s:i, s:i}]", "containerID", 0, "hostID", 100000, "size", 65536);
        itest_set(cfg, "linux.uidMappings", json_deep_copy(map));
        itest_set(cfg, "linux.gidMappings", map);
        itest_push(cfg, "mounts",
                   json_pack("{s:s,s:s,s:s,s:[s,s]}", "destination", "/mnt/ro", "type", "bind", "source",
                             data, "options", "rbind", "ro"));
        itest_run_cfg(&r, "hiddenbind", cfg);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "read:/mnt/ro/hello.data", "only root gets here");
}
END_TEST

START_TEST(proc_and_sys)
{
        struct itest_result r;

        itest_run_cfg(&r, "procsys",
                      itest_spec("probe", "mounts", "/proc", "mounts", "/sys", "write",
                                 "/sys/kernel/uevent_helper", "read", "/proc/self/stat", NULL));
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "mount:/proc.fstype", "proc");
        itest_assert_kv(r.out, "mount:/sys.fstype", "sysfs");
        itest_assert_kv(r.out, "mount:/sys.ro", "1");
        itest_assert_kv(r.out, "write:/sys/kernel/uevent_helper", "EROFS");
        /* /proc belongs to the container's pid namespace. */
        ck_assert_msg(!strncmp(itest_kv(r.out, "read:/proc/self/stat.data"), "1 (probe)", 9), "%s", r.out);
}
END_TEST

START_TEST(devices)
{
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "dev", "/dev/null", "dev", "/dev/zero", "dev", "/dev/full", "dev",
                                 "/dev/random", "dev", "/dev/urandom", "dev", "/dev/tty", "dev", "/dev/ptmx",
                                 "dev", "/dev/fd", "dev", "/dev/stdin", "dev", "/dev/stdout", "dev",
                                 "/dev/stderr", "dev", "/dev/myfull", "write", "/dev/null", "read",
                                 "/dev/zero", "write", "/dev/myfull", "read", "/dev/urandom", NULL);

        itest_push(cfg, "linux.devices",
                   json_pack("{s:s,s:s,s:i,s:i,s:i,s:i,s:i}", "path", "/dev/myfull", "type", "c", "major", 1,
                             "minor", 7, "fileMode", 0640, "uid", 0, "gid", 0));
        itest_run_cfg(&r, "devices", cfg);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "dev:/dev/null", "c 1 3 0666");
        itest_assert_kv(r.out, "dev:/dev/zero", "c 1 5 0666");
        itest_assert_kv(r.out, "dev:/dev/full", "c 1 7 0666");
        itest_assert_kv(r.out, "dev:/dev/random", "c 1 8 0666");
        itest_assert_kv(r.out, "dev:/dev/urandom", "c 1 9 0666");
        itest_assert_kv(r.out, "dev:/dev/tty", "c 5 0 0666");
        itest_assert_kv(r.out, "dev:/dev/ptmx", "l pts/ptmx");
        itest_assert_kv(r.out, "dev:/dev/fd", "l /proc/self/fd");
        itest_assert_kv(r.out, "dev:/dev/stdin", "l /proc/self/fd/0");
        itest_assert_kv(r.out, "dev:/dev/stdout", "l /proc/self/fd/1");
        itest_assert_kv(r.out, "dev:/dev/stderr", "l /proc/self/fd/2");
        itest_assert_kv(r.out, "dev:/dev/myfull", "c 1 7 0640");
        itest_assert_kv(r.out, "write:/dev/null", "ok");
        itest_assert_kv(r.out, "read:/dev/zero", "ok");
        itest_assert_kv(r.out, "read:/dev/urandom", "ok");
        /* The device cgroup lets the configured device through: the write
         * reaches the "full" driver. */
        itest_assert_kv(r.out, "write:/dev/myfull", "ENOSPC");
}
END_TEST

START_TEST(masked_paths)
{
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "read", "/proc/kcore", "ls", "/mnt/masked", "read",
                                 "/mnt/masked/secret", "read", "/etc/masked-file", NULL);

        itest_push(cfg, "linux.maskedPaths", json_string("/mnt/masked"));
        itest_push(cfg, "linux.maskedPaths", json_string("/etc/masked-file"));
        itest_run_cfg(&r, "masked", cfg);
        itest_assert_status(&r, 0);
        /* Not every kernel has /proc/kcore; where it exists it must read empty. */
        if (access("/proc/kcore", F_OK) == 0) {
                itest_assert_kv(r.out, "read:/proc/kcore", "ok");
                itest_assert_kv(r.out, "read:/proc/kcore.len", "0");
        }
        itest_assert_kv(r.out, "read:/etc/masked-file", "ok");
        itest_assert_kv(r.out, "read:/etc/masked-file.len", "0");
        itest_assert_kv(r.out, "ls:/mnt/masked", "0");
        itest_assert_kv(r.out, "read:/mnt/masked/secret", "ENOENT");
}
END_TEST

START_TEST(readonly_paths)
{
        struct itest_result r;
        const char *rw = itest_mkdtemp("rw-src");
        json_t *cfg =
            itest_spec("probe", "write", "/proc/sys/kernel/domainname", "write", "/proc/sysrq-trigger",
                       "write", "/mnt/rw/x", "read", "/proc/sys/kernel/ostype", NULL);

        itest_push(cfg, "mounts",
                   json_pack("{s:s,s:s,s:s,s:[s,s]}", "destination", "/mnt/rw", "type", "bind", "source", rw,
                             "options", "rbind", "rw"));
        itest_push(cfg, "linux.readonlyPaths", json_string("/mnt/rw"));
        itest_run_cfg(&r, "ropaths", cfg);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "write:/proc/sys/kernel/domainname", "EROFS");
        if (access("/proc/sysrq-trigger", F_OK) == 0)
                itest_assert_kv(r.out, "write:/proc/sysrq-trigger", "EROFS");
        itest_assert_kv(r.out, "write:/mnt/rw/x", "EROFS");
        itest_assert_kv(r.out, "read:/proc/sys/kernel/ostype.data", "Linux");
}
END_TEST

START_TEST(root_readonly)
{
        struct itest_result r;

        itest_run_cfg(&r, "rootro", itest_spec("probe", "mounts", "/", "write", "/newfile", NULL));
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "mount:/.ro", "1");
        itest_assert_kv(r.out, "write:/newfile", "EROFS");
}
END_TEST

START_TEST(sysctl)
{
        struct itest_result r;
        char *host_fwd = itest_read_file("/proc/sys/net/ipv4/ip_forward");
        char *host_shm = itest_read_file("/proc/sys/kernel/shmmax");
        json_t *cfg = itest_spec("probe", "read", "/proc/sys/net/ipv4/ip_forward", "read",
                                 "/proc/sys/kernel/shmmax", NULL);

        itest_set(cfg, "linux.sysctl",
                  json_pack("{s:s,s:s}", "net.ipv4.ip_forward", "1", "kernel.shmmax", "123456789"));
        itest_run_cfg(&r, "sysctl", cfg);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "read:/proc/sys/net/ipv4/ip_forward.data", "1");
        itest_assert_kv(r.out, "read:/proc/sys/kernel/shmmax.data", "123456789");
        /* Namespaced: the host keeps its values. */
        ck_assert_str_eq(itest_read_file("/proc/sys/net/ipv4/ip_forward"), host_fwd);
        ck_assert_str_eq(itest_read_file("/proc/sys/kernel/shmmax"), host_shm);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = itest_suite("integration/mounts");

        itest_add(s, "tmpfs_flags", tmpfs_flags);
        itest_add(s, "tmpfs_copyup", tmpfs_copyup);
        itest_add(s, "bind_mounts", bind_mounts);
        itest_add(s, "bind_root_only_source_in_userns", bind_root_only_source_in_userns);
        itest_add(s, "proc_and_sys", proc_and_sys);
        itest_add(s, "devices", devices);
        itest_add(s, "masked_paths", masked_paths);
        itest_add(s, "readonly_paths", readonly_paths);
        itest_add(s, "root_readonly", root_readonly);
        itest_add(s, "sysctl", sysctl);
        return s;
}
