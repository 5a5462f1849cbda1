/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Idmapped mounts (rootfs/idmap.c): a bind of a temp dir, idmapped through
 * a user namespace, shows the remapped owners from the host and the
 * original ones from inside that namespace; berth_idmap_prepare follows the
 * mount's own maps or the container's; the fds survive the trip over the
 * sync socket and rootfs/mounts.c attaches them inside the root.
 *
 * Needs root. Every test runs in its own forked process (Check), which first
 * makes a private mount namespace, so no mount reaches the host. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check_main.h"
#include "berth/idmap.h"
#include "berth/rootfs.h"

#define HOST_BASE 100000u
#define RANGE     65536u

static char tmp[64];

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
        (void)st, (void)flag, (void)ftw;
        remove(path);
        return 0;
}

/* Private mount namespace + a temp dir with files of known owners:
 *   tmp/data/root (0:0), tmp/data/user (1000:1000), tmp/data/far (70000:70000) */
static void setup(void)
{
        SKIP_IF(geteuid() != 0, "needs root (mount namespaces, user namespaces, mount_setattr)");
        ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
        ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
        snprintf(tmp, sizeof(tmp), "/tmp/berth-idmap.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmp));
        char p[128];
        snprintf(p, sizeof(p), "%s/data", tmp);
        ck_assert_int_eq(mkdir(p, 0755), 0);
        const struct {
                const char *name;
                uid_t id;
        } files[] = {{"root", 0}, {"user", 1000}, {"far", 70000}};
        for (size_t i = 0; i < 3; i++) {
                snprintf(p, sizeof(p), "%s/data/%s", tmp, files[i].name);
                int fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
                ck_assert_int_ge(fd, 0);
                ck_assert_int_eq(fchown(fd, files[i].id, files[i].id), 0);
                close(fd);
        }
}

static void teardown(void)
{
        char p[128];
        snprintf(p, sizeof(p), "%s/root/mnt", tmp);
        umount2(p, MNT_DETACH);
        snprintf(p, sizeof(p), "%s/data/sub", tmp);
        umount2(p, MNT_DETACH);
        nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const struct berth_id_mapping container_map = {0, HOST_BASE, RANGE};

static int container_userns(void)
{
        struct berth_err err = {0};
        int fd = berth_userns_new(&container_map, 1, &container_map, 1, &err);
        ck_assert_msg(fd >= 0, "berth_userns_new: %s", err.msg);
        return fd;
}

static void assert_owner(int dfd, const char *name, uid_t uid, gid_t gid)
{
        struct stat st;
        ck_assert_msg(fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0, "stat %s: %s", name,
                      strerror(errno));
        ck_assert_msg(st.st_uid == uid && st.st_gid == gid, "%s owned by %u:%u, want %u:%u", name,
                      (unsigned)st.st_uid, (unsigned)st.st_gid, (unsigned)uid, (unsigned)gid);
}

static char *data_path(void)
{
        static char p[128];
        snprintf(p, sizeof(p), "%s/data", tmp);
        return p;
}

START_TEST(test_clone_shows_remapped_owners)
{
        int userns = container_userns();
        struct berth_err err = {0};
        int mfd = berth_idmap_clone(AT_FDCWD, data_path(), false, false, userns, &err);
        ck_assert_msg(mfd >= 0, "berth_idmap_clone: %s", err.msg);
        /* From the host: on-disk 0 is the container's root, host 100000. */
        assert_owner(mfd, "root", HOST_BASE, HOST_BASE);
        assert_owner(mfd, "user", HOST_BASE + 1000, HOST_BASE + 1000);
        /* Outside the namespace's range: shown as the overflow id. */
        struct stat st;
        ck_assert_int_eq(fstatat(mfd, "far", &st, 0), 0);
        ck_assert_uint_eq(st.st_uid, 65534);
        /* The source itself is untouched. */
        int dfd = open(data_path(), O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_owner(dfd, "root", 0, 0);
        close(dfd);

        /* Seen from inside the user namespace: the original owners. */
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                if (setns(userns, CLONE_NEWUSER) < 0)
                        _exit(2);
                struct stat a, b;
                if (fstatat(mfd, "root", &a, 0) < 0 || fstatat(mfd, "user", &b, 0) < 0)
                        _exit(3);
                _exit(a.st_uid == 0 && a.st_gid == 0 && b.st_uid == 1000 && b.st_gid == 1000 ? 0 : 4);
        }
        int status;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "inside the userns: status %d", status);
        close(mfd);
        close(userns);
}
END_TEST

/* The mount's own maps win over the container's; ridmap reaches submounts,
 * mount flags are applied, plain mounts are skipped. */
START_TEST(test_prepare)
{
        char sub[128];
        snprintf(sub, sizeof(sub), "%s/data/sub", tmp);
        ck_assert_int_eq(mkdir(sub, 0755), 0);
        ck_assert_int_eq(mount("tmpfs", sub, "tmpfs", 0, "mode=755"), 0);
        char f[160];
        snprintf(f, sizeof(f), "%s/file", sub);
        close(open(f, O_CREAT | O_WRONLY | O_CLOEXEC, 0644));

        struct berth_id_mapping um = {0, 5000, 10}, gm = {0, 6000, 10};
        struct berth_mount mounts[3] = {
            {.destination = "/plain", .source = "data", .bind = true},
            {.destination = "/own",
             .source = "data",
             .bind = true,
             .idmap = true,
             .flags = MS_RDONLY,
             .uid_mappings = &um,
             .gid_mappings = &gm,
             .n_uid_mappings = 1,
             .n_gid_mappings = 1},
            {.destination = "/tree", .source = data_path(), .bind = true, .recursive = true, .ridmap = true},
        };
        struct berth_spec spec = {.mounts = mounts, .n_mounts = 3};
        ck_assert_uint_eq(berth_idmap_count(&spec), 2);
        int userns = container_userns();
        int *fds = NULL;
        size_t n = 0;
        struct berth_err err = {0};
        int r = berth_idmap_prepare(&spec, tmp, userns, &fds, &n, &err);
        ck_assert_msg(r == 0, "berth_idmap_prepare: %s", err.msg);
        ck_assert_uint_eq(n, 2);
        assert_owner(fds[0], "root", 5000, 6000);
        assert_owner(fds[0], "user", 65534, 65534); /* outside the mount's 10 ids */
        struct statvfs sv;
        ck_assert_int_eq(fstatvfs(fds[0], &sv), 0);
        ck_assert(sv.f_flag & ST_RDONLY);
        assert_owner(fds[1], "root", HOST_BASE, HOST_BASE);
        assert_owner(fds[1], "sub/file", HOST_BASE, HOST_BASE);
        berth_idmap_fds_free(fds, n);
        close(userns);
}
END_TEST

START_TEST(test_prepare_errors)
{
        struct berth_id_mapping um = {0, 5000, 10};
        struct berth_mount m = {.destination = "/x", .source = "/tmp", .bind = true, .idmap = true};
        struct berth_spec spec = {.mounts = &m, .n_mounts = 1};
        int *fds = (int *)&spec;
        size_t n = 7;
        struct berth_err err = {0};
        /* No user namespace and no maps of its own: nothing to map through. */
        ck_assert_int_eq(berth_idmap_prepare(&spec, "/", -1, &fds, &n, &err), -EINVAL);
        ck_assert_ptr_null(fds);
        ck_assert_uint_eq(n, 0);
        ck_assert_msg(strstr(err.msg, "/x") && strstr(err.msg, "user namespace"), "message: %s", err.msg);
        /* Uid maps without gid maps. */
        m.uid_mappings = &um;
        m.n_uid_mappings = 1;
        ck_assert_int_eq(berth_idmap_prepare(&spec, "/", -1, &fds, &n, &err), -EINVAL);
        /* A missing source names the mount. */
        m.n_uid_mappings = 0;
        m.source = "/nonexistent/berth-idmap";
        int userns = container_userns();
        ck_assert_int_eq(berth_idmap_prepare(&spec, "/", userns, &fds, &n, &err), -ENOENT);
        ck_assert_msg(strstr(err.msg, "/nonexistent/berth-idmap"), "message: %s", err.msg);
        /* No idmapped mounts at all: nothing to do. */
        m.idmap = false;
        ck_assert_int_eq(berth_idmap_prepare(&spec, "/", userns, &fds, &n, &err), 0);
        ck_assert_ptr_null(fds);
        ck_assert_uint_eq(n, 0);
        close(userns);
}
END_TEST

START_TEST(test_send_recv)
{
        int sv[2], p1[2], p2[2];
        ck_assert_int_eq(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
        ck_assert_int_eq(pipe2(p1, O_CLOEXEC), 0);
        ck_assert_int_eq(pipe2(p2, O_CLOEXEC), 0);
        int out[2] = {p1[1], p2[1]};
        struct berth_err err = {0};
        ck_assert_int_eq(berth_idmap_send_fds(sv[0], out, 2, &err), 0);
        int *in = NULL;
        ck_assert_msg(berth_idmap_recv_fds(sv[1], 2, &in, &err) == 0, "recv: %s", err.msg);
        ck_assert_int_eq(fcntl(in[0], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
        ck_assert_int_eq(write(in[1], "x", 1), 1);
        char c = 0;
        ck_assert_int_eq(read(p2[0], &c, 1), 1);
        ck_assert_int_eq(c, 'x');
        berth_idmap_fds_free(in, 2);
        /* A count mismatch is a protocol error, and no fd leaks. */
        ck_assert_int_eq(berth_idmap_send_fds(sv[0], out, 1, &err), 0);
        ck_assert_int_eq(berth_idmap_recv_fds(sv[1], 2, &in, &err), -EPROTO);
        ck_assert_ptr_null(in);
        /* Zero fds: no message at all. */
        ck_assert_int_eq(berth_idmap_send_fds(sv[0], out, 0, &err), 0);
        ck_assert_int_eq(berth_idmap_recv_fds(sv[1], 0, &in, &err), 0);
        ck_assert_ptr_null(in);
}
END_TEST

/* The child side: rootfs/mounts.c attaches the prepared fd inside the root;
 * without one it refuses. */
START_TEST(test_rootfs_attaches)
{
        char root[128], mnt[160];
        snprintf(root, sizeof(root), "%s/root", tmp);
        snprintf(mnt, sizeof(mnt), "%s/mnt", root);
        ck_assert_int_eq(mkdir(root, 0755), 0);
        ck_assert_int_eq(mkdir(mnt, 0755), 0);
        struct berth_mount m = {.destination = "/mnt", .source = data_path(), .bind = true, .idmap = true};
        struct berth_spec spec = {.mounts = &m, .n_mounts = 1};
        struct berth_rootfs_opts o = {.spec = &spec, .bundle = tmp, .rootfs = root};
        int rootfd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(rootfd, 0);
        struct berth_err err = {0};
        ck_assert_int_eq(berth_rootfs_do_mounts(&o, rootfd, &err), -EOPNOTSUPP);
        ck_assert_msg(strstr(err.msg, "/mnt"), "message: %s", err.msg);

        int userns = container_userns();
        int *fds = NULL;
        size_t n = 0;
        ck_assert_msg(berth_idmap_prepare(&spec, tmp, userns, &fds, &n, &err) == 0, "prepare: %s", err.msg);
        o.idmap_fds = fds;
        o.n_idmap_fds = n;
        ck_assert_msg(berth_rootfs_do_mounts(&o, rootfd, &err) == 0, "do_mounts: %s", err.msg);
        int dfd = open(mnt, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_owner(dfd, "root", HOST_BASE, HOST_BASE);
        assert_owner(dfd, "user", HOST_BASE + 1000, HOST_BASE + 1000);
        close(dfd);
        close(rootfd);
        berth_idmap_fds_free(fds, n);
        close(userns);
}
END_TEST

Suite *test_suite(void)
{
        /* Each test unshares its mount namespace: a process of its own. */
        check_main_force_fork();
        Suite *s = suite_create("idmap");
        TCase *tc = tcase_create("idmap");
        tcase_set_timeout(tc, 30);
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_clone_shows_remapped_owners);
        tcase_add_test(tc, test_prepare);
        tcase_add_test(tc, test_prepare_errors);
        tcase_add_test(tc, test_send_recv);
        tcase_add_test(tc, test_rootfs_attaches);
        suite_add_tcase(s, tc);
        return s;
}
