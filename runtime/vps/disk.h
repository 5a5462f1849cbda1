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

#define VPS_DISK_MIN   (16LL << 20) /* an ext4 with its journal needs some room */
#define VPS_DISK_MAX   (64LL << 40)
#define VPS_INODES_MIN 64
/* Inodes given with --disk alone: mke2fs's own default ratio. */
#define VPS_BYTES_PER_INODE 16384
#define VPS_DISK_IMAGE      "disk.img" /* in the VPS's directory */
#define VPS_DISK_MOUNT      "disk"     /* its mount point there (holds upper/ and work/) */

struct vps_disk_usage {
        uint64_t used, total, inodes_used, inodes_total;
};

/* Runs argv (argv[0] looked up in /usr/sbin, /sbin, then $PATH) with
 * stdout and stdin on /dev/null; its last line of stderr names a failure. */
int vps_storage_run(const char *const *argv, struct berth_err *err);

/* ---- image.c: <dir>/disk.img, an ext4 file system of its own ---- */
/* Makes the image of size bytes and inodes (0: mke2fs's default) holding
 * dir's upper/ and work/ (moved into it). */
int vps_image_create(const char *dir, int64_t size, int64_t inodes, struct berth_err *err);
/* The loop device the image is attached to: 1 (dev, major, minor filled),
 * 0 when it is not attached, -errno. */
int vps_image_loop_find(const char *dir, char *dev, size_t len, unsigned *major, unsigned *minor);
/* Finds or attaches its loop device. */
int vps_image_loop_attach(const char *dir, char *dev, size_t len, unsigned *major, unsigned *minor,
                          struct berth_err *err);
/* Detaches the loop device now, or when its last user (a mount) goes. */
void vps_image_loop_release(const char *dev);
/* Mounts dev on dir/disk (in the caller's mount namespace). */
int vps_image_mount(const char *dir, const char *dev, struct berth_err *err);
/* Grows the image (and its file system, mounted or not) to size. */
int vps_image_grow(const char *dir, int64_t size, struct berth_err *err);
/* Shrinks the image of a stopped VPS to size (-EBUSY while attached). */
int vps_image_shrink(const char *dir, int64_t size, struct berth_err *err);
/* Usage: from the running guest's root (pid > 0), else the superblock. */
int vps_image_usage(const char *dir, pid_t pid, struct vps_disk_usage *u, struct berth_err *err);

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
