/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Internal to runtime/vps/disk*.c: the two disk backends (a loop-mounted
 * ext4 image, a project quota) and the I/O device of a VPS. */
#ifndef BERTH_RUNTIME_VPS_DISK_H
#define BERTH_RUNTIME_VPS_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "berth/err.h"
#include "berth/vps.h"

#define VPS_DISK_MIN (16LL << 20) /* an ext4 with its journal needs some room */
/* btrfs resizes no file system to less (BTRFS_IOC_RESIZE: EINVAL): a
 * smaller disk is ext4. */
#define VPS_BTRFS_MIN  (256LL << 20)
#define VPS_DISK_MAX   (64LL << 40)
#define VPS_INODES_MIN 64
/* Inodes given with --disk alone: mke2fs's own default ratio. */
#define VPS_BYTES_PER_INODE 16384
#define VPS_DISK_IMAGE      "disk.img"  /* in the VPS's directory */
#define VPS_DISK_MOUNT      "disk"      /* its mount point there (holds upper/ and work/) */
#define VPS_DISK_LOOP_HINT  "disk.loop" /* the loop device it was last attached to (disk_loop.c) */
#define VPS_BTRFS_CUR       "cur"       /* btrfs image: the subvolume holding upper/ and work/ */

struct vps_disk_usage {
        uint64_t used, total, inodes_used, inodes_total;
};

/* Runs argv (argv[0] looked up in /usr/sbin, /sbin, then $PATH) with
 * stdout and stdin on /dev/null; its last line of stderr names a failure. */
int vps_storage_run(const char *const *argv, struct berth_err *err);

/* ---- image.c, loop.c: <dir>/disk.img, an ext4 or btrfs file system of its own ---- */
/* Makes the image of size bytes and inodes (ext4; 0: mke2fs's default)
 * holding dir's upper/ and work/ (moved into it; btrfs: into cur/). */
int vps_image_create(const char *dir, int64_t size, int64_t inodes, enum berth_vps_disk_fs fs,
                     struct berth_err *err);
/* 0 when this kernel can mount file system type (its module loaded on
 * the way), else -errno (-ENODEV: no such file system). */
int vps_kernel_fs_open(const char *type);
/* The loop device the image is attached to: 1 (dev, major, minor filled),
 * 0 when it is not attached, -errno. */
int vps_image_loop_find(const char *dir, char *dev, size_t len, unsigned *major, unsigned *minor);
/* Finds or attaches its loop device. */
int vps_image_loop_attach(const char *dir, char *dev, size_t len, unsigned *major, unsigned *minor,
                          struct berth_err *err);
/* Detaches the loop device now, or when its last user (a mount) goes. */
void vps_image_loop_release(const char *dev);
/* Mounts dev on dir/disk (in the caller's mount namespace). */
int vps_image_mount(const char *dir, const char *dev, enum berth_vps_disk_fs fs, struct berth_err *err);
/* Grows the image (and its file system, mounted or not) to size. */
int vps_image_grow(const char *dir, int64_t size, enum berth_vps_disk_fs fs, struct berth_err *err);
/* Shrinks the image to size: ext4 while stopped only (-EBUSY while
 * attached), btrfs mounted or not. */
int vps_image_shrink(const char *dir, int64_t size, enum berth_vps_disk_fs fs, struct berth_err *err);
/* Usage: from the running guest's root (pid > 0), else the superblock. */
int vps_image_usage(const char *dir, pid_t pid, enum berth_vps_disk_fs fs, struct vps_disk_usage *u,
                    struct berth_err *err);

/* ---- btrfs.c: the image's btrfs ---- */
/* The kernel has btrfs and mkfs.btrfs is installed. */
bool vps_btrfs_available(void);
int vps_btrfs_mkfs(const char *img, int64_t size, struct berth_err *err);
/* Makes cur/ (upper/ and work/ like dir's) in dir's freshly made image. */
int vps_btrfs_populate(const char *dir, struct berth_err *err);
/* Makes the subvolume base/cur with upper/ (owner and mode of upper_like)
 * and work/ (0700, owned by work_uid). */
int vps_btrfs_make_cur(const char *base, const char *upper_like, uid_t work_uid, gid_t work_gid);
/* (dirfd, name) is a subvolume's root. */
bool vps_btrfs_is_subvol(int dirfd, const char *name);
int vps_btrfs_subvol_create(int dirfd, const char *name);
/* A snapshot of subvolume src named name in dirfd. */
int vps_btrfs_snapshot(int src, int dirfd, const char *name, bool readonly);
int vps_btrfs_subvol_delete(int dirfd, const char *name);
/* What the guest wrote, synced and frozen in a read-only snapshot of the
 * subvolume cur named name in the directory layers (constant time). */
int vps_btrfs_snapshot_synced(const char *cur, const char *layers, const char *name, struct berth_err *err);
/* Resizes the mounted file system of fd to size (0: its device's size). */
int vps_btrfs_resize(int fd, int64_t size);
/* Grows or shrinks the image and its file system to size, mounted (the
 * running guest's super block) or not. */
int vps_btrfs_image_resize(const char *dir, int64_t size, struct berth_err *err);
/* Usage from the super block of the image (no inode count). */
int vps_btrfs_usage(const char *img, struct vps_disk_usage *u, struct berth_err *err);

/* ---- quota.c: a project quota on the data file system ---- */
/* True when the file system holding dir enforces project quotas. */
bool vps_quota_enforced(const char *dir);
/* Gives dir/upper and dir/work project id (inherited by what is made in
 * them) and the limits. */
int vps_quota_setup(const char *dir, uint32_t id, int64_t bytes, int64_t inodes, struct berth_err *err);
/* Gives one more directory (a snapshot layer's) project id id, inherited. */
int vps_quota_dir(const char *path, uint32_t id, struct berth_err *err);
int vps_quota_limit(const char *dir, uint32_t id, int64_t bytes, int64_t inodes, struct berth_err *err);
int vps_quota_usage(const char *dir, uint32_t id, struct vps_disk_usage *u, struct berth_err *err);

/* ---- io.c: the block device of the VPS's data, I/O done on it ---- */
/* The whole disk holding path's file system: 1 and major:minor, 0 when it
 * is not on a block device. */
int vps_io_dev_of(const char *path, unsigned *major, unsigned *minor);
/* Bytes and operations done by pid's cgroup on major:minor (v1 blkio
 * throttle statistics or v2 io.stat): 0, or -errno. */
int vps_io_stats(pid_t pid, unsigned major, unsigned minor, uint64_t out[4]);

#endif
