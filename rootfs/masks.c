/* SPDX-License-Identifier: GPL-2.0-or-later */
/* maskedPaths, readonlyPaths and root.readonly; run after pivot_root, so
 * "/" is the container's root and every path resolves inside it. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/rootfs.h"

static int open_root(struct berth_err *err)
{
        int fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return berth_err_sys(err, errno, "open /");
        return fd;
}

/* The container's /dev/null, checked to be the real null device: masking
 * with whatever the image put there would expose that file instead. */
static int open_null(int rootfd, struct berth_err *err)
{
        _cleanup_close_ int fd = berth_in_root_open(rootfd, "/dev/null", O_PATH | O_NOFOLLOW);
        if (fd < 0)
                return berth_err_sys(err, -fd, "masked paths: /dev/null");
        struct stat st;
        if (fstat(fd, &st) < 0)
                return berth_err_sys(err, errno, "masked paths: /dev/null");
        if (!S_ISCHR(st.st_mode) || st.st_rdev != makedev(1, 3))
                return berth_err_set(err, EINVAL, "masked paths: /dev/null is not the null device");
        return TAKE_FD(fd);
}

/* A read-only, empty tmpfs; after the first one is attached, later
 * directories get a clone of it (one superblock for all masks). */
static int empty_tmpfs(int *first, struct berth_err *err)
{
        if (*first >= 0) {
                int fd = open_tree(*first, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
                return fd < 0 ? berth_err_sys(err, errno, "clone the mask tmpfs") : fd;
        }
        return berth_fs_mount_new("tmpfs", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err);
}

static int mask_one(int rootfd, const char *path, int *nullfd, int *tmpfs, struct berth_err *err)
{
        _cleanup_close_ int target = berth_in_root_open(rootfd, path, O_PATH);
        if (target == -ENOENT)
                return 0;
        if (target < 0)
                return berth_err_sys(err, -target, "masked path %s", path);
        struct stat st;
        if (fstat(target, &st) < 0)
                return berth_err_sys(err, errno, "masked path %s", path);
        _cleanup_close_ int mnt = -EBADF;
        bool is_dir = S_ISDIR(st.st_mode);
        if (is_dir) {
                mnt = empty_tmpfs(tmpfs, err);
        } else {
                if (*nullfd < 0 && (*nullfd = open_null(rootfd, err)) < 0)
                        return *nullfd;
                mnt = open_tree(*nullfd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
                if (mnt < 0)
                        mnt = berth_err_sys(err, errno, "bind /dev/null");
        }
        if (mnt < 0)
                return berth_err_wrap(err, "masked path %s", path);
        int r = berth_mount_attach(mnt, target);
        if (r < 0)
                return berth_err_sys(err, -r, "masked path %s", path);
        if (is_dir && *tmpfs < 0)
                *tmpfs = TAKE_FD(mnt);
        return 0;
}

int berth_rootfs_mask_paths(char *const *paths, size_t n, struct berth_err *err)
{
        if (n == 0)
                return 0;
        _cleanup_close_ int rootfd = open_root(err);
        if (rootfd < 0)
                return rootfd;
        _cleanup_close_ int nullfd = -EBADF, tmpfs = -EBADF;
        for (size_t i = 0; i < n; i++) {
                int r = mask_one(rootfd, paths[i], &nullfd, &tmpfs, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Binds the path onto itself (with what is mounted below it) and makes the
 * bind read-only; nosuid/nodev/noexec it already had stay as they are. */
static int readonly_one(int rootfd, const char *path, struct berth_err *err)
{
        _cleanup_close_ int target = berth_in_root_open(rootfd, path, O_PATH);
        if (target == -ENOENT)
                return 0;
        if (target < 0)
                return berth_err_sys(err, -target, "readonly path %s", path);
        _cleanup_close_ int mnt =
            open_tree(target, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);
        if (mnt < 0)
                return berth_err_sys(err, errno, "readonly path %s: bind", path);
        int r = berth_mount_set_attrs(mnt, true, MOUNT_ATTR_RDONLY, 0, false);
        if (r >= 0)
                r = berth_mount_attach(mnt, target);
        if (r < 0)
                return berth_err_sys(err, -r, "readonly path %s", path);
        return 0;
}

int berth_rootfs_readonly_paths(char *const *paths, size_t n, struct berth_err *err)
{
        if (n == 0)
                return 0;
        _cleanup_close_ int rootfd = open_root(err);
        if (rootfd < 0)
                return rootfd;
        for (size_t i = 0; i < n; i++) {
                int r = readonly_one(rootfd, paths[i], err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* "/" is the root bound onto itself in prepare, so it is a mount root and
 * mount_setattr can flip it read-only in place; only the top mount, like
 * runc's remount of "/". */
int berth_rootfs_make_root_readonly(struct berth_err *err)
{
        _cleanup_close_ int rootfd = open_root(err);
        if (rootfd < 0)
                return rootfd;
        int r = berth_mount_set_attrs(rootfd, false, MOUNT_ATTR_RDONLY, 0, false);
        if (r < 0)
                return berth_err_sys(err, -r, "make the root read-only");
        return 0;
}
