/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Mount propagation of the container's "/".
 *
 * A fresh mount namespace starts with copies of the host's mounts in the
 * host's peer groups: until they are made private or slave, every mount we
 * make would show up on the host. linux.rootfsPropagation is applied in two
 * steps, as runc does: before the mounts (so nothing leaks), and for the
 * kinds that must hold on the container's own "/" (shared, slave,
 * unbindable), again after pivot_root. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "berth/cleanup.h"
#include "berth/rootfs.h"

static bool is_mount_root(const char *path)
{
        struct statx stx;
        if (statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT, 0, &stx) < 0)
                return false;
        return (stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) &&
               (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT);
}

/* pivot_root refuses a new root whose parent mount is shared, and a bind
 * of the root under a shared mount would propagate to the host: make the
 * mount holding the root directory private. Walks up from the root with
 * statx(STATX_ATTR_MOUNT_ROOT) instead of reading mountinfo. */
static int make_root_parent_private(const char *rootfs, struct berth_err *err)
{
        _cleanup_free_ char *path = realpath(rootfs, NULL);
        if (!path)
                return berth_err_sys(err, errno, "root %s", rootfs);
        for (;;) {
                if (strcmp(path, "/") == 0 || is_mount_root(path))
                        break;
                char *slash = strrchr(path, '/');
                if (slash == path)
                        slash[1] = '\0';
                else
                        *slash = '\0';
        }
        if (mount(NULL, path, NULL, MS_PRIVATE, NULL) < 0)
                return berth_err_sys(err, errno, "make the mount %s of the root private", path);
        return 0;
}

static const char *propagation_name(unsigned long ms)
{
        const char *r = (ms & MS_REC) ? "r" : "";
        if (ms & MS_SHARED)
                return *r ? "rshared" : "shared";
        if (ms & MS_SLAVE)
                return *r ? "rslave" : "slave";
        if (ms & MS_UNBINDABLE)
                return *r ? "runbindable" : "unbindable";
        return *r ? "rprivate" : "private";
}

int berth_rootfs_prepare_propagation(const struct berth_rootfs_opts *o, struct berth_err *err)
{
        enum berth_propagation p = o->spec->rootfs_propagation;
        unsigned long ms = berth_propagation_ms(p);
        /* Unbindable would forbid binding the root onto itself; the final
         * flag is applied after pivot. */
        if (ms == 0 || (ms & MS_UNBINDABLE))
                ms = MS_PRIVATE | MS_REC;
        if (mount(NULL, "/", NULL, ms, NULL) < 0)
                return berth_err_sys(err, errno, "make / %s", propagation_name(ms));
        /* After rprivate or rslave no mount is shared any more. */
        if ((ms & MS_REC) && !(ms & MS_SHARED))
                return 0;
        return make_root_parent_private(o->rootfs, err);
}

int berth_rootfs_final_propagation(const struct berth_rootfs_opts *o, struct berth_err *err)
{
        unsigned long ms = berth_propagation_ms(o->spec->rootfs_propagation);
        /* Private is what pivot_root left us with already. */
        if (ms == 0 || (ms & MS_PRIVATE))
                return 0;
        if (mount(NULL, "/", NULL, ms, NULL) < 0)
                return berth_err_sys(err, errno, "make / %s", propagation_name(ms));
        return 0;
}
