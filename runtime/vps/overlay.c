/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The copy-on-write root of a VPS: an overlay of the template (lower,
 * read-only) and the VPS's own upper and work directories.
 *
 * The overlay is never mounted in the host's mount namespace: `vps start`
 * first moves itself into a private mount namespace (berth_private_mount_ns),
 * mounts the overlay there, and creates the container from there. The
 * container's new mount namespace copies the mount; when `vps start` exits,
 * its namespace and its copy go away, the container keeps its own. So a
 * crash at any point leaves no mount on the host to clean up. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/rootfs.h"
#include "berth/vps.h"

int berth_private_mount_ns(struct berth_err *err)
{
        if (unshare(CLONE_NEWNS) < 0)
                return berth_err_sys(err, errno, "unshare mount namespace");
        /* Slave, not private: host mounts still show up here, ours never
         * propagate out. */
        if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return berth_err_sys(err, errno, "make / rslave");
        return 0;
}

static int check_option_path(const char *what, const char *p, struct berth_err *err)
{
        if (!p || p[0] != '/')
                return berth_err_set(err, EINVAL, "overlay %s: not an absolute path", what);
        if (strpbrk(p, ",:\\"))
                return berth_err_set(err, EINVAL, "overlay %s \"%s\": ',', ':' and '\\' are not allowed",
                                     what, p);
        return 0;
}

int berth_overlay_mount(const char *lower, const char *upper, const char *work, const char *target,
                        struct berth_err *err)
{
        int r;
        if ((r = check_option_path("lowerdir", lower, err)) < 0 ||
            (r = check_option_path("upperdir", upper, err)) < 0 ||
            (r = check_option_path("workdir", work, err)) < 0)
                return r;
        char data[3 * PATH_MAX + 64];
        /* index=off, xino=off: the upper directory must stay usable after
         * the template directory is moved or restored from a backup (index
         * would pin the lower layer's file handles). */
        int n = snprintf(data, sizeof(data), "lowerdir=%s,upperdir=%s,workdir=%s,index=off,xino=off", lower,
                         upper, work);
        if (n < 0 || (size_t)n >= sizeof(data))
                return berth_err_set(err, ENAMETOOLONG, "overlay options too long");
        _cleanup_close_ int mnt = berth_fs_mount_new("overlay", "berth-vps", 0, data, err);
        if (mnt < 0)
                return berth_err_wrap(err, "mount overlay on %s", target);
        _cleanup_close_ int tfd = open(target, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (tfd < 0)
                return berth_err_sys(err, errno, "mount overlay: open %s", target);
        r = berth_mount_attach(mnt, tfd);
        if (r < 0)
                return berth_err_sys(err, -r, "mount overlay on %s", target);
        return 0;
}
