/* SPDX-License-Identifier: GPL-2.0-or-later */
/* A VPS's disk limit behind one interface: the lifecycle verbs call these,
 * and the backend recorded in vps.json ("disk") answers.
 *
 *   project  a project quota on the data file system, where it enforces
 *            them (ext4/XFS mounted with prjquota): nothing to mount, grows
 *            and shrinks live (quota.c)
 *   image    otherwise, a sparse image loop-mounted as the directory
 *            holding the overlay's upper and work (image.c): btrfs where
 *            the host has it and no inode limit is asked for (grows and
 *            shrinks live, O(1) snapshots: btrfs.c), else ext4 (grows
 *            live, shrinks while stopped)
 *
 * The backend is chosen at create by what the data file system offers and
 * kept: a VPS does not move between them. */
#include <errno.h>
#include <limits.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"
#include "runtime/vps/disk.h"
#include "runtime/vps/snapshot.h"

/* A project id of its own: the user namespace range's first host id is
 * unique on the host; a privileged VPS takes a hash of its directory above
 * the ranges. */
static uint32_t project_id(const struct berth_vps_config *cfg, const char *dir)
{
        if (cfg->userns.enabled)
                return cfg->userns.host_id;
        uint32_t h = 2166136261u; /* FNV-1a */
        for (const char *p = dir; *p; p++)
                h = (h ^ (unsigned char)*p) * 16777619u;
        return BERTH_VPS_USERNS_LIMIT + h % (UINT32_MAX - BERTH_VPS_USERNS_LIMIT);
}

/* The image's file system: $BERTH_VPS_DISK_FS (ext4 or btrfs) when set;
 * else btrfs where the host has it, unless an inode limit is asked for
 * (btrfs has none: ext4 keeps one) or the disk is too small to resize. */
static int image_fs(const struct berth_vps_limits *l, enum berth_vps_disk_fs *fs, struct berth_err *err)
{
        const char *want = getenv("BERTH_VPS_DISK_FS");
        bool btrfs = vps_btrfs_available();
        if (want && *want && strcmp(want, "ext4") && strcmp(want, "btrfs"))
                return berth_err_set(err, EINVAL, "$BERTH_VPS_DISK_FS: ext4 or btrfs, not '%s'", want);
        if (want && !strcmp(want, "btrfs") && !btrfs)
                return berth_err_set(err, ENOTSUP,
                                     "$BERTH_VPS_DISK_FS=btrfs: the kernel has no btrfs or mkfs.btrfs is "
                                     "not installed (btrfs-progs)");
        if (want && !strcmp(want, "btrfs") && l->has_inodes)
                return berth_err_set(err, EINVAL,
                                     "--inodes: a btrfs disk image has no inode limit (drop --inodes, or "
                                     "BERTH_VPS_DISK_FS=ext4)");
        if (want && !strcmp(want, "btrfs") && l->disk < VPS_BTRFS_MIN)
                return berth_err_set(err, EINVAL, "--disk: a btrfs disk image is at least %lldM (or ext4)",
                                     VPS_BTRFS_MIN >> 20);
        if (want && *want)
                btrfs = !strcmp(want, "btrfs");
        *fs = btrfs && !l->has_inodes && l->disk >= VPS_BTRFS_MIN ? BERTH_VPS_DISK_FS_BTRFS
                                                                  : BERTH_VPS_DISK_FS_EXT4;
        return 0;
}

static int create_image(struct berth_vps_config *cfg, const char *dir, struct berth_err *err)
{
        struct berth_vps_limits *l = &cfg->limits;
        cfg->disk.backend = BERTH_VPS_DISK_IMAGE;
        int r = image_fs(l, &cfg->disk.fs, err);
        if (r < 0)
                return r;
        if (cfg->disk.fs == BERTH_VPS_DISK_FS_BTRFS)
                return vps_image_create(dir, l->disk, 0, cfg->disk.fs, err);
        if (!l->has_inodes) {
                l->has_inodes = true;
                l->inodes = l->disk / VPS_BYTES_PER_INODE;
        }
        r = vps_image_create(dir, l->disk, l->inodes, cfg->disk.fs, err);
        struct vps_disk_usage u;
        /* mke2fs rounds the inode count up to whole groups: keep what it made. */
        if (r >= 0 && vps_image_usage(dir, 0, cfg->disk.fs, &u, err) >= 0)
                l->inodes = (int64_t)u.inodes_total;
        return r;
}

int vps_disk_create(const struct berth_vps_ctx *v, struct berth_vps_config *cfg, const char *dir,
                    struct berth_err *err)
{
        struct berth_vps_limits *l = &cfg->limits;
        if (!l->has_disk)
                return 0;
        int r;
        /* $BERTH_VPS_DISK_BACKEND=image takes the image even where project
         * quotas are enforced (tests of the image on such a host, a
         * provider who wants a VPS's blocks in one file). */
        const char *want = getenv("BERTH_VPS_DISK_BACKEND");
        if (want && *want && strcmp(want, "image") && strcmp(want, "project"))
                return berth_err_set(err, EINVAL, "$BERTH_VPS_DISK_BACKEND: image or project, not '%s'",
                                     want);
        bool project = vps_quota_enforced(dir);
        if (want && !strcmp(want, "project") && !project)
                return berth_err_set(err, ENOTSUP,
                                     "$BERTH_VPS_DISK_BACKEND=project: the data file system enforces no "
                                     "project quotas (ext4 or XFS mounted with prjquota)");
        if (want && !strcmp(want, "image"))
                project = false;
        if (project && !l->has_inodes) {
                l->has_inodes = true;
                l->inodes = l->disk / VPS_BYTES_PER_INODE;
        }
        if (project) {
                cfg->disk.backend = BERTH_VPS_DISK_PROJECT;
                cfg->disk.project_id = project_id(cfg, dir);
                r = vps_quota_setup(dir, cfg->disk.project_id, l->disk, l->inodes, err);
        } else {
                r = create_image(cfg, dir, err);
        }
        if (r < 0)
                return berth_err_wrap(err, "disk (%s backend)",
                                      berth_vps_disk_backend_name(cfg->disk.backend));
        vps_trace(v, "VPS %s: disk of %lld bytes, %lld inodes (%s backend%s%s)", cfg->name,
                  (long long)l->disk, l->has_inodes ? (long long)l->inodes : 0LL,
                  berth_vps_disk_backend_name(cfg->disk.backend),
                  cfg->disk.backend == BERTH_VPS_DISK_IMAGE ? ", " : "",
                  cfg->disk.backend == BERTH_VPS_DISK_IMAGE ? berth_vps_disk_fs_name(cfg->disk.fs) : "");
        return 0;
}

void vps_disk_destroy(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg)
{
        char dir[PATH_MAX];
        struct berth_err e = {0};
        berth_vps_path(v, cfg->name, NULL, dir, sizeof(dir));
        /* A start that crashed between attach and mount left the image
         * attached: it goes now (or with a dying guest's last mount). */
        vps_disk_detach(v, cfg);
        if (cfg->disk.backend != BERTH_VPS_DISK_PROJECT)
                return;
        if (vps_quota_limit(dir, cfg->disk.project_id, 0, 0, &e) < 0)
                vps_warn(v, "VPS %s: could not clear its project quota: %s", cfg->name, e.msg);
}

/* The data file system's device; for the image, its loop device when
 * attached. */
static void io_dev(const struct berth_vps_ctx *v, struct berth_vps_config *cfg, bool attach,
                   struct berth_err *err, int *r)
{
        char dir[PATH_MAX], dev[64];
        unsigned major = 0, minor = 0;
        berth_vps_path(v, cfg->name, NULL, dir, sizeof(dir));
        int found;
        if (cfg->disk.backend == BERTH_VPS_DISK_IMAGE && attach) {
                *r = vps_image_loop_attach(dir, dev, sizeof(dev), &major, &minor, err);
                found = *r < 0 ? 0 : 1;
        } else if (cfg->disk.backend == BERTH_VPS_DISK_IMAGE) {
                found = vps_image_loop_find(dir, dev, sizeof(dev), &major, &minor);
        } else {
                found = vps_io_dev_of(dir, &major, &minor);
        }
        cfg->limits.io_major = found > 0 ? major : 0;
        cfg->limits.io_minor = found > 0 ? minor : 0;
}

int vps_disk_attach(const struct berth_vps_ctx *v, struct berth_vps_config *cfg, struct berth_err *err)
{
        int r = 0;
        io_dev(v, cfg, cfg->disk.backend == BERTH_VPS_DISK_IMAGE, err, &r);
        if (r < 0)
                return berth_err_wrap(err, "attach the disk image");
        if (vps_storage_has_io(&cfg->limits) && !cfg->limits.io_major)
                berth_warn(v->ctx, "VPS %s: its data is on no block device: the I/O limits do not apply",
                           cfg->name);
        if (cfg->limits.io_major)
                vps_trace(v, "VPS %s: data on block device %u:%u", cfg->name, cfg->limits.io_major,
                          cfg->limits.io_minor);
        return 0;
}

void vps_disk_detach(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg)
{
        if (cfg->disk.backend != BERTH_VPS_DISK_IMAGE)
                return;
        char dir[PATH_MAX], dev[64];
        unsigned major, minor;
        berth_vps_path(v, cfg->name, NULL, dir, sizeof(dir));
        if (vps_image_loop_find(dir, dev, sizeof(dev), &major, &minor) > 0) {
                vps_image_loop_release(dev);
                vps_trace(v, "VPS %s: %s released (detached with its last mount)", cfg->name, dev);
        }
}

void vps_disk_io_dev(const struct berth_vps_ctx *v, struct berth_vps_config *cfg)
{
        int r = 0;
        io_dev(v, cfg, false, NULL, &r);
}

/* capset(2) on our own effective set: CAP_SYS_RESOURCE off (on=false) or
 * back on. */
static int resource_cap(bool on)
{
        struct __user_cap_header_struct h = {.version = _LINUX_CAPABILITY_VERSION_3};
        struct __user_cap_data_struct d[2];
        if (syscall(SYS_capget, &h, d) < 0)
                return -errno;
        if (!(d[0].permitted & (1u << CAP_SYS_RESOURCE)))
                return 0; /* nothing to drop (or to take back) */
        if (on)
                d[0].effective |= 1u << CAP_SYS_RESOURCE;
        else
                d[0].effective &= ~(1u << CAP_SYS_RESOURCE);
        return syscall(SYS_capset, &h, d) < 0 ? -errno : 0;
}

int vps_disk_overlay_mount(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                           const char *lower, const char *target, struct berth_err *err)
{
        char dir[PATH_MAX], layers[PATH_MAX], dev[64];
        berth_vps_path(v, cfg->name, NULL, dir, sizeof(dir));
        snprintf(layers, sizeof(layers), "%s%s", dir,
                 cfg->disk.backend == BERTH_VPS_DISK_IMAGE ? "/" VPS_DISK_MOUNT : "");
        int r = 0;
        unsigned major, minor;
        if (cfg->disk.backend == BERTH_VPS_DISK_IMAGE) {
                r = vps_image_loop_find(dir, dev, sizeof(dev), &major, &minor);
                r = r < 0    ? berth_err_sys(err, -r, "find the loop device of the disk image")
                    : r == 0 ? berth_err_set(err, ENODEV, "the disk image is not attached")
                             : vps_image_mount(dir, dev, cfg->disk.fs, err);
                if (r < 0)
                        return r;
                vps_trace(v, "VPS %s: disk image %s mounted on %s", cfg->name, dev, layers);
        }
        /* A snapshot operation a crash interrupted; the upper after a live snapshot. */
        if ((r = vps_snap_start_prepare(v, cfg, layers, err)) < 0)
                return r;
        /* The overlay keeps its maker's credentials for every write it makes
         * on the guest's behalf: without CAP_SYS_RESOURCE, quotas (and ext4's
         * reserved blocks) hold for them. */
        if ((r = resource_cap(false)) < 0)
                return berth_err_sys(err, -r, "drop CAP_SYS_RESOURCE");
        r = vps_snap_overlay_mount(v, cfg, layers, lower, target, err);
        int rc = resource_cap(true);
        if (r >= 0 && rc < 0)
                r = berth_err_sys(err, -rc, "take CAP_SYS_RESOURCE back");
        return r;
}

static int set_image(const char *dir, const struct berth_vps_config *old, const struct berth_vps_config *cfg,
                     pid_t running, struct berth_err *err)
{
        const struct berth_vps_limits *o = &old->limits, *l = &cfg->limits;
        bool btrfs = old->disk.fs == BERTH_VPS_DISK_FS_BTRFS;
        if (l->has_inodes && l->inodes != o->inodes)
                return berth_err_set(err, EINVAL,
                                     "--inodes: the image backend fixes the inode count at create (%lld; it "
                                     "grows in proportion with --disk)",
                                     (long long)o->inodes);
        if (l->disk == o->disk)
                return 0;
        if (btrfs && l->disk < VPS_BTRFS_MIN)
                return berth_err_set(err, EINVAL, "--disk: a btrfs disk image is at least %lldM",
                                     VPS_BTRFS_MIN >> 20);
        if (l->disk > o->disk)
                return vps_image_grow(dir, l->disk, old->disk.fs, err);
        if (running && !btrfs)
                return berth_err_set(err, EBUSY, "--disk: ext4 shrinks only offline: stop the VPS first");
        return vps_image_shrink(dir, l->disk, old->disk.fs, err);
}

int vps_disk_set(const struct berth_vps_ctx *v, const struct berth_vps_config *old,
                 const struct berth_vps_config *cfg, pid_t running, struct berth_err *err)
{
        const struct berth_vps_limits *o = &old->limits, *l = &cfg->limits;
        if (running && !vps_storage_has_io(o) && vps_storage_has_io(l))
                berth_warn(v->ctx, "VPS %s: started without I/O limits, it gets them at its next start",
                           cfg->name);
        if (l->has_disk == o->has_disk && l->disk == o->disk && l->has_inodes == o->has_inodes &&
            l->inodes == o->inodes)
                return 0;
        if (cfg->disk.backend == BERTH_VPS_DISK_NONE)
                return berth_err_set(err, EINVAL,
                                     "--disk/--inodes: VPS %s was created without a disk limit "
                                     "(give --disk at create)",
                                     cfg->name);
        bool no_inodes = cfg->disk.backend == BERTH_VPS_DISK_IMAGE && cfg->disk.fs == BERTH_VPS_DISK_FS_BTRFS;
        if (no_inodes && l->has_inodes)
                return berth_err_set(err, EINVAL,
                                     "--inodes: VPS %s's disk image is btrfs, which has no inode limit",
                                     cfg->name);
        if (!l->has_disk || (!l->has_inodes && !no_inodes))
                return berth_err_set(err, EINVAL, "--disk/--inodes: the disk limit of a VPS stays");
        char dir[PATH_MAX];
        berth_vps_path(v, cfg->name, NULL, dir, sizeof(dir));
        struct vps_disk_usage u;
        int r = cfg->disk.backend == BERTH_VPS_DISK_PROJECT
                    ? vps_quota_usage(dir, old->disk.project_id, &u, err)
                    : vps_image_usage(dir, running, cfg->disk.fs, &u, err);
        if (r < 0)
                return r;
        if ((uint64_t)l->disk < u.used)
                return berth_err_set(err, ENOSPC, "--disk %lld: VPS %s uses %llu bytes already",
                                     (long long)l->disk, cfg->name, (unsigned long long)u.used);
        if (l->has_inodes && (uint64_t)l->inodes < u.inodes_used)
                return berth_err_set(err, ENOSPC, "--inodes %lld: VPS %s uses %llu inodes already",
                                     (long long)l->inodes, cfg->name, (unsigned long long)u.inodes_used);
        r = cfg->disk.backend == BERTH_VPS_DISK_PROJECT
                ? vps_quota_limit(dir, cfg->disk.project_id, l->disk, l->inodes, err)
                : set_image(dir, old, cfg, running, err);
        if (r >= 0)
                vps_trace(v, "VPS %s: disk now %lld bytes, %lld inodes%s", cfg->name, (long long)l->disk,
                          (long long)l->inodes, running ? " (live)" : "");
        return r;
}

void vps_disk_status(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg, pid_t pid,
                     struct berth_vps_status *st)
{
        char dir[PATH_MAX];
        berth_vps_path(v, cfg->name, NULL, dir, sizeof(dir));
        struct vps_disk_usage u;
        struct berth_err e = {0};
        int r = -ENOENT;
        if (cfg->disk.backend == BERTH_VPS_DISK_PROJECT)
                r = vps_quota_usage(dir, cfg->disk.project_id, &u, &e);
        else if (cfg->disk.backend == BERTH_VPS_DISK_IMAGE)
                r = vps_image_usage(dir, pid, cfg->disk.fs, &u, &e);
        if (r >= 0) {
                st->has_disk = true;
                st->disk_used = u.used, st->disk_total = u.total;
                st->inodes_used = u.inodes_used, st->inodes_total = u.inodes_total;
        } else if (cfg->disk.backend != BERTH_VPS_DISK_NONE) {
                vps_trace(v, "VPS %s: disk usage unavailable: %s", cfg->name, e.msg);
        }
        char hits[PATH_MAX];
        uint64_t n[2];
        berth_vps_path(v, cfg->name, "disk-hits", hits, sizeof(hits));
        if (cfg->disk.backend != BERTH_VPS_DISK_NONE && vps_disk_hits_read(hits, n, NULL) == 0) {
                st->has_disk_hits = true;
                st->disk_limit_hits = n[0], st->inode_limit_hits = n[1];
                st->hits_counted = vps_disk_hits_kind(cfg->disk.backend);
        }
        struct berth_vps_config c = *cfg;
        vps_disk_io_dev(v, &c);
        uint64_t io[4];
        if (pid > 0 && c.limits.io_major &&
            vps_io_stats(pid, c.limits.io_major, c.limits.io_minor, io) == 0) {
                st->has_io = true;
                st->io_read_bytes = io[0], st->io_write_bytes = io[1];
                st->io_read_ops = io[2], st->io_write_ops = io[3];
        }
}
