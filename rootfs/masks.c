/* SPDX-License-Identifier: GPL-2.0-or-later */
/* maskedPaths, readonlyPaths and root.readonly; run after pivot_root, so
 * "/" is the container's root and every path resolves inside it. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mount.h>
#include <linux/magic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/statfs.h>
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

/* Where masked directories come from: with dev_dirs and a /dev tmpfs, a
 * new directory of that tmpfs for each, removed once every mask is
 * attached: nothing can be created in a removed directory (ENOENT), so the
 * masks stay empty whoever remounts them, and they cost no superblock.
 * One directory each, not clones of one: criu re-creates a removed
 * directory per mount that has one as its root. Else one tmpfs for all. */
struct mask_source {
        int dev;    /* /dev, when masks are made there */
        unsigned n; /* directories made there so far: .berth-mask-0 ... */
        int first;  /* the tmpfs, once attached: the others are its clones */
};

static void mask_source_open(struct mask_source *m, int rootfd, bool dev_dirs)
{
        *m = (struct mask_source){.dev = -EBADF, .first = -EBADF};
        _cleanup_close_ int dev =
            dev_dirs ? berth_in_root_open(rootfd, "/dev", O_PATH | O_DIRECTORY) : -EBADF;
        struct statfs sf;
        if (dev >= 0 && fstatfs(dev, &sf) == 0 && sf.f_type == TMPFS_MAGIC)
                m->dev = TAKE_FD(dev);
}

static void mask_dir_name(unsigned i, char *name, size_t len)
{
        snprintf(name, len, ".berth-mask-%u", i);
}

static int mask_source_close(struct mask_source *m, struct berth_err *err)
{
        int r = 0;
        char name[32];
        for (unsigned i = 0; m->dev >= 0 && i < m->n; i++) {
                mask_dir_name(i, name, sizeof(name));
                if (unlinkat(m->dev, name, AT_REMOVEDIR) < 0 && r >= 0)
                        r = berth_err_sys(err, errno, "rmdir /dev/%s", name);
        }
        berth_closep(&m->dev);
        berth_closep(&m->first);
        return r;
}

static int dev_dir(struct mask_source *m, struct berth_err *err)
{
        char name[32];
        mask_dir_name(m->n, name, sizeof(name));
        if (mkdirat(m->dev, name, 0755) < 0)
                return berth_err_sys(err, errno, "mkdir /dev/%s", name);
        m->n++;
        _cleanup_close_ int fd = open_tree(m->dev, name, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
        if (fd < 0)
                return berth_err_sys(err, errno, "clone /dev/%s", name);
        int r = berth_mount_set_attrs(
            fd, false, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0,
            false);
        if (r < 0)
                return berth_err_sys(err, -r, "make the mask read-only");
        return TAKE_FD(fd);
}

/* A read-only, empty directory mount to attach. */
static int empty_dir(struct mask_source *m, struct berth_err *err)
{
        if (m->dev >= 0)
                return dev_dir(m, err);
        if (m->first >= 0) {
                int fd = open_tree(m->first, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH);
                return fd < 0 ? berth_err_sys(err, errno, "clone the mask tmpfs") : fd;
        }
        return berth_fs_mount_new("tmpfs", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err);
}

static int mask_one(int rootfd, const char *path, int *nullfd, struct mask_source *src, struct berth_err *err)
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
                mnt = empty_dir(src, err);
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
        if (is_dir && src->dev < 0 && src->first < 0)
                src->first = TAKE_FD(mnt);
        return 0;
}

int berth_rootfs_mask_paths(char *const *paths, size_t n, bool dev_dirs, struct berth_err *err)
{
        if (n == 0)
                return 0;
        _cleanup_close_ int rootfd = open_root(err);
        if (rootfd < 0)
                return rootfd;
        _cleanup_close_ int nullfd = -EBADF;
        struct mask_source src;
        mask_source_open(&src, rootfd, dev_dirs);
        int r = 0;
        for (size_t i = 0; i < n && r >= 0; i++)
                r = mask_one(rootfd, paths[i], &nullfd, &src, err);
        struct berth_err ignore = {0};
        int rc = mask_source_close(&src, r < 0 ? &ignore : err);
        return r < 0 ? r : rc;
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
