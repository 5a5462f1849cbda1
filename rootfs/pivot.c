/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Entering the root: pivot_root, or MS_MOVE + chroot for roots where
 * pivot_root is impossible (an initramfs "/" cannot be unmounted). */
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/cleanup.h"
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

/* The root (bound onto itself in prepare, so a mount) moves over "/";
 * chroot(".") then makes it the process root. */
static int move_root(const char *rootfs, struct berth_err *err)
{
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
