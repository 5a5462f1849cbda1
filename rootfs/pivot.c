/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Entering the root: pivot_root, or MS_MOVE + chroot for roots where
 * pivot_root is impossible (an initramfs "/" cannot be unmounted). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "berth/proc.h"
#include "berth/rootfs.h"

/* pivot_root(".", ".") stacks the old root on top of the new one, so no
 * directory for it is needed inside the container (runc's trick). */
static int pivot(const char *rootfs, struct berth_err *err)
{
        _cleanup_close_ int oldroot = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (oldroot < 0)
                return berth_err_sys(err, errno, "open /");
        _cleanup_close_ int newroot = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (newroot < 0)
                return berth_err_sys(err, errno, "open the root %s", rootfs);
        if (fchdir(newroot) < 0)
                return berth_err_sys(err, errno, "chdir %s", rootfs);
        if (syscall(SYS_pivot_root, ".", ".") < 0)
                return berth_err_sys(err, errno, "pivot_root %s", rootfs);
        /* "." from the new root's cwd would name the new root; the old
         * root's own fd names the mount stacked on top. Make it a slave
         * first so that detaching it cannot propagate unmounts anywhere. */
        if (fchdir(oldroot) < 0)
                return berth_err_sys(err, errno, "chdir to the old root");
        if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
                return berth_err_sys(err, errno, "make the old root rslave");
        if (umount2(".", MNT_DETACH) < 0)
                return berth_err_sys(err, errno, "detach the old root");
        if (chdir("/") < 0)
                return berth_err_sys(err, errno, "chdir /");
        return 0;
}

static bool under(const char *path, const char *dir)
{
        size_t n = strlen(dir);
        while (n > 1 && dir[n - 1] == '/')
                n--;
        return strncmp(path, dir, n) == 0 && (path[n] == '/' || path[n] == '\0');
}

/* One full procfs or sysfs of the host: detached, or covered where it
 * cannot be (locked in a user namespace). ENOENT: a parent went already. */
static int hide_mount(const char *p, struct berth_err *err)
{
        /* Slave first: the unmount must not propagate to the host. */
        if (mount(NULL, p, NULL, MS_SLAVE | MS_REC, NULL) < 0)
                return errno == ENOENT ? 0 : berth_err_sys(err, errno, "no-pivot: make %s rslave", p);
        if (umount2(p, MNT_DETACH) == 0)
                return 0;
        if (errno != EINVAL && errno != EPERM)
                return berth_err_sys(err, errno, "no-pivot: detach %s", p);
        if (mount("tmpfs", p, "tmpfs", 0, NULL) < 0)
                return berth_err_sys(err, errno, "no-pivot: cover %s", p);
        return 0;
}

/* Without pivot_root the host's mounts stay in the namespace, below the
 * chroot; the kernel lets a user namespace mount a new procfs or sysfs as
 * long as one full, uncovered mount of it is there, so a container could
 * mount a bare /proc (no masked paths) of its own. Hide the host's, as
 * runc does before it moves the root. */
static int hide_host_pseudo_fs(const char *rootfs, struct berth_err *err)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = berth_read_file_at(AT_FDCWD, "/proc/self/mountinfo", O_RDONLY, 16u << 20, &text, &len);
        if (r < 0)
                return berth_err_sys(err, -r, "no-pivot: read /proc/self/mountinfo");
        /* Collected first: hiding /proc ends our reading of it. */
        char **points = calloc(len / 16 + 1, sizeof(char *));
        size_t n = 0;
        if (!points)
                return berth_err_sys(err, ENOMEM, "no-pivot");
        struct berth_mountinfo_entry e;
        for (char *cur = text; berth_mountinfo_next(&cur, &e);)
                if (!strcmp(e.root, "/") && (!strcmp(e.fstype, "proc") || !strcmp(e.fstype, "sysfs")) &&
                    !under(e.mount_point, rootfs))
                        points[n++] = e.mount_point;
        r = 0;
        for (size_t i = 0; i < n && r >= 0; i++)
                r = hide_mount(points[i], err);
        free(points);
        return r;
}

/* The root (bound onto itself in prepare, so a mount) moves over "/";
 * chroot(".") then makes it the process root. */
static int move_root(const char *rootfs, struct berth_err *err)
{
        int r = hide_host_pseudo_fs(rootfs, err);
        if (r < 0)
                return r;
        if (chdir(rootfs) < 0)
                return berth_err_sys(err, errno, "chdir %s", rootfs);
        if (mount(rootfs, "/", NULL, MS_MOVE, NULL) < 0)
                return berth_err_sys(err, errno, "move the root %s onto /", rootfs);
        if (chroot(".") < 0)
                return berth_err_sys(err, errno, "chroot %s", rootfs);
        if (chdir("/") < 0)
                return berth_err_sys(err, errno, "chdir /");
        return 0;
}

int berth_rootfs_enter(const struct berth_rootfs_opts *o, struct berth_err *err)
{
        if (o->no_pivot)
                return move_root(o->rootfs, err);
        return pivot(o->rootfs, err);
}
