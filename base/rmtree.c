/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Recursive delete that stays on one mount (berth/rmtree.h).
 *
 * Two users used to have two copies with different rules: the template
 * store refused mount roots (statx STATX_ATTR_MOUNT_ROOT), `vps destroy`
 * compared st_dev and so walked into a bind mount of the same file
 * system, deleting what it showed. Here a directory is entered only when
 * statx says it is not a mount root (st_dev where the kernel cannot say),
 * and then opened with RESOLVE_NO_XDEV, which also refuses a mount that
 * appears between the two calls. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/rmtree.h"

struct walk {
        struct berth_err *err;
        char path[PATH_MAX]; /* of the entry at hand, from the name the caller gave */
        size_t len;
};

static int rm_children(struct walk *w, int fd, dev_t dev, berth_rmtree_keep_fn keep, void *data);

/* Appends "/name" to w->path (or "name" at the top); returns the old length. */
static size_t push(struct walk *w, const char *name)
{
        size_t old = w->len;
        int n = snprintf(w->path + old, sizeof(w->path) - old, "%s%s", old ? "/" : "", name);
        w->len = n < 0 || (size_t)n >= sizeof(w->path) - old ? sizeof(w->path) - 1 : old + (size_t)n;
        return old;
}

static bool is_mount_root(const struct statx *stx, dev_t parent_dev)
{
        if (stx->stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)
                return stx->stx_attributes & STATX_ATTR_MOUNT_ROOT;
        /* Kernels before 5.8: only a mount of another file system shows. */
        return makedev(stx->stx_dev_major, stx->stx_dev_minor) != parent_dev;
}

/* Opens a directory of the walk without crossing a mount or following a
 * symlink; plain O_NOFOLLOW where openat2 is missing (before 5.6). */
static int open_dir(int dir_fd, const char *name)
{
        struct open_how how = {
            .flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC,
            .resolve = RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
        };
        int fd = (int)syscall(SYS_openat2, dir_fd, name, &how, sizeof(how));
        if (fd < 0 && errno == ENOSYS)
                fd = openat(dir_fd, name, (int)how.flags);
        return fd < 0 ? -errno : fd;
}

static int rm_dir(struct walk *w, int dir_fd, const char *name, dev_t dev)
{
        _cleanup_close_ int fd = open_dir(dir_fd, name);
        if (fd == -ENOENT)
                return 0;
        if (fd == -EXDEV)
                return berth_err_set(w->err, EXDEV, "remove %s: became a mount point, not entered", w->path);
        if (fd < 0)
                return berth_err_sys(w->err, -fd, "open %s", w->path);
        int r = rm_children(w, fd, dev, NULL, NULL);
        if (r < 0)
                return r;
        if (unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
                return berth_err_sys(w->err, errno, "remove %s", w->path);
        return 0;
}

/* One entry of a directory on device parent_dev. */
static int rm_entry(struct walk *w, int dir_fd, const char *name, dev_t parent_dev, berth_rmtree_keep_fn keep,
                    void *data)
{
        struct statx stx;
        if (statx(dir_fd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE, &stx) < 0)
                return errno == ENOENT ? 0 : berth_err_sys(w->err, errno, "stat %s", w->path);
        bool is_dir = S_ISDIR(stx.stx_mode);
        if (keep && keep(data, name, is_dir))
                return 0;
        if (is_mount_root(&stx, parent_dev))
                return berth_err_set(w->err, EBUSY, "remove %s: a mount point, not entered", w->path);
        if (is_dir)
                return rm_dir(w, dir_fd, name, makedev(stx.stx_dev_major, stx.stx_dev_minor));
        if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
                return berth_err_sys(w->err, errno, "remove %s", w->path);
        return 0;
}

static int rm_children(struct walk *w, int fd, dev_t dev, berth_rmtree_keep_fn keep, void *data)
{
        /* A fresh open of "." for readdir: its own offset, the caller's
         * fd stays untouched. */
        int own = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (own < 0)
                return berth_err_sys(w->err, errno, "open %s", w->len ? w->path : ".");
        _cleanup_closedir_ DIR *d = fdopendir(own);
        if (!d) {
                close(own);
                return berth_err_sys(w->err, errno, "open %s", w->len ? w->path : ".");
        }
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
                        continue;
                size_t old = push(w, de->d_name);
                int r = rm_entry(w, fd, de->d_name, dev, keep, data);
                w->path[w->len = old] = '\0';
                if (r < 0)
                        return r;
        }
        return errno ? berth_err_sys(w->err, errno, "read %s", w->len ? w->path : ".") : 0;
}

int berth_open_dir_nomount(int dir_fd, const char *name)
{
        struct statx stx;
        if (statx(dir_fd, name, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, STATX_TYPE, &stx) < 0)
                return -errno;
        if (!(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)) {
                struct stat parent;
                if (fstatat(dir_fd, ".", &parent, 0) < 0)
                        return -errno;
                if (is_mount_root(&stx, parent.st_dev))
                        return -EBUSY;
        } else if (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) {
                return -EBUSY;
        }
        return open_dir(dir_fd, name);
}

int berth_rmtree_at(int dir_fd, const char *name, struct berth_err *err)
{
        struct walk w = {.err = err};
        struct stat st;
        if (fstatat(dir_fd, ".", &st, 0) < 0) /* dir_fd may be AT_FDCWD */
                return berth_err_sys(err, errno, "remove %s: stat parent", name);
        push(&w, name);
        return rm_entry(&w, dir_fd, name, st.st_dev, NULL, NULL);
}

int berth_rmtree_children(int dir_fd, berth_rmtree_keep_fn keep, void *data, struct berth_err *err)
{
        struct walk w = {.err = err};
        struct stat st;
        if (fstat(dir_fd, &st) < 0)
                return berth_err_sys(err, errno, "remove: stat");
        return rm_children(&w, dir_fd, st.st_dev, keep, data);
}
