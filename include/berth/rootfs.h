/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container's root filesystem, set up by the container init.
 *
 * The init (already in its new mount namespace, and in its user namespace
 * with maps written when the spec asks for one) calls, in this order:
 *
 *   berth_rootfs_prepare()   before pivot: propagation of "/", the root bound
 *                            onto itself, every spec mount in order, /dev
 *   (createContainer hooks)
 *   berth_rootfs_enter()     pivot_root (or MS_MOVE + chroot), old root gone
 *   (/dev/console, sysctls)
 *   berth_rootfs_finalize()  readonlyPaths, maskedPaths, root.readonly and
 *                            the final propagation of "/"
 *
 * Every mount destination is resolved inside the root with openat2
 * (RESOLVE_IN_ROOT): symlinks are followed inside the root, never out, and
 * mounts are attached to the resolved fd (new mount API), so a symlink
 * swapped after the check cannot redirect a mount (CVE-2021-30465).
 * Needs Linux >= 5.12 (openat2, fsopen/fsmount, open_tree, mount_setattr). */
#ifndef BERTH_ROOTFS_H
#define BERTH_ROOTFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "berth/err.h"
#include "berth/proc.h"
#include "berth/oci.h"

struct berth_cgroup_mount; /* berth/cgroup.h */

/* run.berth.dev-tmpfs=shared (every VPS has it): the container's /dev
 * tmpfs also holds /dev/shm (a directory, where no spec mount is) and the
 * empty directories that mask maskedPaths, rather than a tmpfs each.
 * Every mount of a new file system is a superblock, and the kernel keeps
 * state for every superblock in every memory cgroup on the host: with
 * thousands of containers that memory grows with the square of their
 * number (docs/performance.md, "Limits"). */
#define BERTH_DEV_TMPFS_ANNOTATION "run.berth.dev-tmpfs"
#define BERTH_DEV_TMPFS_SHARED     "shared"

struct berth_rootfs_opts {
        const struct berth_spec *spec;
        const char *bundle; /* absolute bundle dir; relative mount sources resolve against it */
        const char *rootfs; /* absolute path of the root directory (spec root.path resolved) */
        bool no_pivot;      /* --no-pivot: MS_MOVE + chroot instead of pivot_root (initramfs roots) */
        bool in_userns;     /* a new user namespace: devices are bind-mounted from the host, not mknod'ed */
        bool new_cgroupns;  /* cgroup mounts: mount cgroup2/cgroup fs (inside a cgroupns) vs bind */
        bool dev_tmpfs_shared; /* BERTH_DEV_TMPFS_ANNOTATION is "shared" */
        /* Detached idmapped mounts made by the parent (berth/idmap.h), one
         * per idmap/ridmap mount in spec order; NULL when there are none. */
        const int *idmap_fds;
        size_t n_idmap_fds;
        /* The host's cgroup hierarchies as the init sees them after joining
         * its cgroups (berth_cgroup_mounts), for a "cgroup" mount; NULL:
         * read from mountinfo and /proc/self/cgroup. */
        const struct berth_cgroup_mount *cgroup_mounts;
        size_t n_cgroup_mounts;
        /* Called once before the first "cgroup" mount, and after the spec
         * mounts if there is none (before the /dev nodes), when the init
         * joins its cgroups late (see runtime/child.c); NULL: joined already. */
        int (*join_cgroups)(void *arg, struct berth_err *err);
        void *join_cgroups_arg;
};

/* 1. Before pivot. Makes "/" private/slave per linux.rootfsPropagation
 * (default rprivate: mounts never propagate back to the host), binds the root
 * onto itself, performs every spec mount in order, calls join_cgroups,
 * then /dev (default device nodes and symlinks when /dev is a non-bind spec
 * mount, and linux.devices unless /dev is bind-mounted). */
int berth_rootfs_prepare(const struct berth_rootfs_opts *o, struct berth_err *err);

/* 2. pivot_root into the root (or MS_MOVE + chroot with no_pivot), detach the
 * old root, chdir("/"). */
int berth_rootfs_enter(const struct berth_rootfs_opts *o, struct berth_err *err);

/* 3. After pivot: readonlyPaths, maskedPaths, root.readonly, then the final
 * propagation of "/" (shared, slave, unbindable). */
int berth_rootfs_finalize(const struct berth_rootfs_opts *o, struct berth_err *err);

/* After pivot: makes /dev read-only when the spec mounts it so (it was
 * mounted writable, so that the mounts and nodes below it could be made). */
int berth_rootfs_dev_readonly(const struct berth_spec *spec, struct berth_err *err);

/* ---- building blocks, shared by the rootfs files and usable by the runtime ---- */

/* Opens `path` (absolute or relative; always taken inside the root) below
 * `rootfd` with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS): symlinks are
 * followed but ".." and absolute targets stop at the root. `flags` as for
 * open(2), O_CLOEXEC is added. Returns the fd or -errno (no err: callers name
 * the object in their own message). */
int berth_in_root_open(int rootfd, const char *path, int flags);

/* Like berth_in_root_open(O_PATH | O_DIRECTORY) but creates each missing
 * directory of `path` (mode) inside the root first. */
int berth_in_root_mkdir_p(int rootfd, const char *path, mode_t mode);

/* Opens the mount target `path` inside the root as an O_PATH fd, creating it
 * when missing: a directory (want_dir) or an empty file, parents 0755. */
int berth_in_root_mount_target(int rootfd, const char *path, bool want_dir);

/* Mount attributes (MOUNT_ATTR_*) of the MS_* flags that are per-mount, and
 * the atime mode; `*atime_set` tells whether an atime mode was asked for. */
uint64_t berth_ms_to_mount_attr(unsigned long ms, bool *atime_set);

/* MS_PRIVATE/MS_SHARED/... (| MS_REC for the r* kinds); 0 for NONE. */
unsigned long berth_propagation_ms(enum berth_propagation p);

/* Creates a detached mount of a new filesystem (fsopen/fsconfig/fsmount):
 * `data` is the comma-separated option string, `flags` the MS_* flags (per-mount
 * ones become mount attributes, sync/dirsync/lazytime superblock flags).
 * Returns the mount fd or -errno; err gets the filesystem's own log message. */
int berth_fs_mount_new(const char *type, const char *source, unsigned long flags, const char *data,
                       struct berth_err *err);

/* Sets mount attributes on the mount (tree with `recursive`) behind `mntfd`.
 * When clearing fails with EPERM (flags locked by a user namespace), retries
 * keeping the flags the mount already has, as a remount in runc would. */
int berth_mount_set_attrs(int mntfd, bool recursive, uint64_t set, uint64_t clr, bool atime_set);

/* Applies propagation (MS_* from berth_propagation_ms) to the attached mount `mntfd`. */
int berth_mount_set_propagation(int mntfd, unsigned long prop_ms);

/* move_mount() of the detached mount `mntfd` onto the resolved target fd. */
int berth_mount_attach(int mntfd, int targetfd);

/* True for bind/rbind mounts (or type "bind"). */
bool berth_mount_is_bind(const struct berth_mount *m);

/* Performs spec->mounts in order below the root (rootfs/mounts.c). */
int berth_rootfs_do_mounts(const struct berth_rootfs_opts *o, int rootfd, struct berth_err *err);

/* o->join_cgroups, if set (it must be idempotent). */
int berth_rootfs_join_cgroups(const struct berth_rootfs_opts *o, struct berth_err *err);

/* tmpcopyup: copies the directory behind `targetfd` (the not yet covered
 * destination) into the detached tmpfs `mntfd`, whose root then takes the
 * directory's owner and mode unless m->data sets them (rootfs/copyup.c). */
int berth_tmpfs_copyup(int targetfd, int mntfd, const struct berth_mount *m, struct berth_err *err);

/* The "cgroup" spec mount onto the resolved target (rootfs/cgroup.c). */
int berth_rootfs_mount_cgroup(const struct berth_rootfs_opts *o, const struct berth_mount *m, int targetfd,
                              struct berth_err *err);

/* The path of the i-th default device node (/dev/null, ...), NULL past
 * the last: in a user namespace they are binds of the host's nodes, which
 * a checkpoint must declare external. */
const char *berth_rootfs_default_device(size_t i);

/* /dev: linux.devices and the default nodes and symlinks (rootfs/dev.c). */
int berth_rootfs_setup_dev(const struct berth_rootfs_opts *o, int rootfd, struct berth_err *err);

/* Propagation of "/" before the mounts, and the private parent mount of the
 * root that pivot_root needs (rootfs/propagation.c). */
int berth_rootfs_prepare_propagation(const struct berth_rootfs_opts *o, struct berth_err *err);
int berth_rootfs_final_propagation(const struct berth_rootfs_opts *o, struct berth_err *err);

/* maskedPaths, readonlyPaths and root.readonly, after pivot (rootfs/masks.c).
 * dev_dirs: directories are masked with a removed directory of the /dev
 * tmpfs (BERTH_DEV_TMPFS_ANNOTATION) where /dev is one. */
int berth_rootfs_mask_paths(char *const *paths, size_t n, bool dev_dirs, struct berth_err *err);
int berth_rootfs_readonly_paths(char *const *paths, size_t n, struct berth_err *err);
int berth_rootfs_make_root_readonly(struct berth_err *err);

#endif
