/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The three steps the container init runs (see include/berth/rootfs.h). */
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>

#include "berth/cleanup.h"
#include "berth/rootfs.h"

int berth_rootfs_prepare(const struct berth_rootfs_opts *o, struct berth_err *err)
{
        int r = berth_rootfs_prepare_propagation(o, err);
        if (r < 0)
                return r;
        /* pivot_root and MS_MOVE need the root to be a mount; the bind is
         * also what root.readonly flips later. */
        if (mount(o->rootfs, o->rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
                return berth_err_sys(err, errno, "bind the root %s onto itself", o->rootfs);
        _cleanup_close_ int rootfd = open(o->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (rootfd < 0)
                return berth_err_sys(err, errno, "open the root %s", o->rootfs);
        r = berth_rootfs_do_mounts(o, rootfd, err);
        if (r < 0 || (r = berth_rootfs_join_cgroups(o, err)) < 0)
                return r;
        return berth_rootfs_setup_dev(o, rootfd, err);
}

int berth_rootfs_finalize(const struct berth_rootfs_opts *o, struct berth_err *err)
{
        const struct berth_spec *s = o->spec;
        int r = berth_rootfs_readonly_paths(s->readonly_paths, s->n_readonly_paths, err);
        if (r < 0)
                return r;
        r = berth_rootfs_mask_paths(s->masked_paths, s->n_masked_paths, o->dev_tmpfs_shared, err);
        if (r < 0 || (r = berth_rootfs_dev_readonly(s, err)) < 0)
                return r;
        if (s->root_readonly) {
                r = berth_rootfs_make_root_readonly(err);
                if (r < 0)
                        return r;
        }
        return berth_rootfs_final_propagation(o, err);
}
