// SPDX-License-Identifier: GPL-2.0-or-later
/* Mount semantics runc has and runtime-spec 1.1 names: recursive
 * attributes, a read-only /dev with mounts below it, procfs refused on a
 * symlink, and no bare procfs reachable with --no-pivot. */
#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* rbind + rro/rnosuid: the submount below the bind is read-only and
 * nosuid too, not only the top. */
START_TEST(recursive_attributes)
{
        struct itest_result r;
        const char *dir = itest_mkdtemp("rro");
        char sub[PATH_MAX + 8];

        snprintf(sub, sizeof(sub), "%s/sub", dir);
        ck_assert_int_eq(mkdir(sub, 0755), 0);
        ck_assert_msg(mount("tmpfs", sub, "tmpfs", 0, "size=1m") == 0, "mount tmpfs: %s", strerror(errno));
        json_t *cfg = itest_spec("probe", "mounts", "/mnt/rro/sub", "write", "/mnt/rro/sub/f", NULL);
        itest_push(cfg, "mounts",
                   json_pack("{s:s,s:s,s:s,s:[s,s,s]}", "destination", "/mnt/rro", "type", "bind", "source",
                             dir, "options", "rbind", "rro", "rnosuid"));
        itest_run_cfg(&r, "rro", cfg);
        umount2(sub, MNT_DETACH);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "mount:/mnt/rro/sub.ro", "1");
        itest_assert_kv(r.out, "mount:/mnt/rro/sub.nosuid", "1");
        itest_assert_kv(r.out, "write:/mnt/rro/sub/f", "EROFS");
}
END_TEST

/* A read-only /dev tmpfs still gets /dev/pts, /dev/shm and /dev/mqueue
 * below it, and ends read-only. */
START_TEST(readonly_dev)
{
        struct itest_result r;
        json_t *cfg =
            itest_spec("probe", "mounts", "/dev", "mounts", "/dev/pts", "write", "/dev/itest", NULL);
        json_t *mounts = json_object_get(cfg, "mounts");
        for (size_t i = 0; i < json_array_size(mounts); i++) {
                json_t *m = json_array_get(mounts, i);
                if (!strcmp(json_string_value(json_object_get(m, "destination")), "/dev"))
                        json_array_append_new(json_object_get(m, "options"), json_string("ro"));
        }
        itest_run_cfg(&r, "rodev", cfg);
        itest_assert_status(&r, 0);
        itest_assert_kv(r.out, "mount:/dev.ro", "1");
        itest_assert_kv(r.out, "mount:/dev/pts.fstype", "devpts");
        itest_assert_kv(r.out, "write:/dev/itest", "EROFS");
}
END_TEST

/* procfs on a destination that is a symlink: refused, not mounted where
 * the symlink points. */
START_TEST(proc_on_symlink_refused)
{
        struct itest_result r;
        const char *dir = itest_mkdtemp("procsym");
        char link[PATH_MAX + 8];

        snprintf(link, sizeof(link), "%s/proc", dir);
        ck_assert_int_eq(symlink("/tmp", link), 0);
        json_t *cfg = itest_spec("probe", "exit", "0", NULL);
        itest_push(cfg, "mounts",
                   json_pack("{s:s,s:s,s:s,s:[s,s]}", "destination", "/mnt/d", "type", "bind", "source", dir,
                             "options", "rbind", "rw"));
        itest_push(
            cfg, "mounts",
            json_pack("{s:s,s:s,s:s}", "destination", "/mnt/d/proc", "type", "proc", "source", "proc"));
        itest_run_cfg(&r, "procsym", cfg);
        ck_assert_msg(r.status != 0, "procfs was mounted through a symlink");
        ck_assert_msg(strstr(r.err, "must be mounted on ordinary directory"), "unexpected error: %s", r.err);
}
END_TEST

/* runc's no-pivot test: a new user and pid namespace inside the container
 * must not be able to mount a procfs of its own (the host's full /proc,
 * still in the mount namespace below the chroot, would allow it). */
START_TEST(no_pivot_no_bare_proc)
{
        struct itest_bundle b;
        struct itest_result r;
        json_t *cfg =
            itest_spec("unshare", "-mrpf", "sh", "-c", "mount -t proc none /proc && echo mounted=1", NULL);
        itest_set(cfg, "root.readonly", json_false());
        /* Mapping uid 0 into the new user namespace needs CAP_SETFCAP
         * (Linux 5.12); with it, only the mount itself may fail. */
        static const char *const sets[] = {"bounding", "effective", "permitted"};
        for (size_t i = 0; i < 3; i++) {
                char key[64];
                snprintf(key, sizeof(key), "process.capabilities.%s", sets[i]);
                itest_push(cfg, key, json_string("CAP_SETFCAP"));
        }
        itest_bundle_new(&b, "nopivot", cfg);
        itest_rt(&r, "run", "--no-pivot", "--bundle", b.dir, b.id, NULL);
        ck_assert_msg(!strstr(r.out, "mounted=1"), "a bare procfs was mountable:\n%s%s", r.out, r.err);
        ck_assert_msg(r.status == 1, "exit %d: %s%s", r.status, r.out, r.err);
        ck_assert_msg(strstr(r.err, "mount: permission denied"), "unexpected failure: %s", r.err);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = itest_suite("integration/mounts_spec");
        itest_add(s, "recursive_attributes", recursive_attributes);
        itest_add(s, "readonly_dev", readonly_dev);
        itest_add(s, "proc_on_symlink_refused", proc_on_symlink_refused);
        itest_add(s, "no_pivot_no_bare_proc", no_pivot_no_bare_proc);
        return s;
}
