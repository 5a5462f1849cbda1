// SPDX-License-Identifier: GPL-2.0-or-later
/* The image backend's btrfs: what differs from its ext4 (disk_image.c has
 * the loop device and the rest).
 *
 * Overlayfs makes a copy-up in its work directory and renames it into the
 * upper one, and btrfs refuses a rename (or a link) from one subvolume to
 * another (EXDEV): upper/ and work/ must be in one subvolume. So the
 * current layer is the subvolume cur/ holding cur/upper and cur/work, and
 * a snapshot is a read-only subvolume snapshot of cur/ (l/<id>/upper is
 * the layer): constant time whatever the size, the blocks shared until
 * either side changes them. A layer that is a plain directory (restored
 * from an archive) is its own content, as on ext4.
 *
 * btrfs keeps no inode count (df -i shows 0): an inode limit takes ext4.
 * It resizes a mounted file system with CAP_SYS_ADMIN (BTRFS_IOC_RESIZE),
 * so the image grows and shrinks live. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/btrfs.h>
#include <linux/loop.h>
#include <linux/magic.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "runtime/vps/disk.h"

#define FIRST_FREE_OBJECTID 256 /* a subvolume's root directory's inode number */
/* Below this, data and metadata share block groups (mkfs.btrfs --mixed):
 * what btrfs advises for small file systems. */
#define MIXED_BELOW (1LL << 30)

static bool has_tool(const char *name)
{
        static const char *const dirs[] = {"/usr/sbin", "/sbin", "/usr/bin", "/bin"};
        char p[PATH_MAX];
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
                snprintf(p, sizeof(p), "%s/%s", dirs[i], name);
                if (access(p, X_OK) == 0)
                        return true;
        }
        return false;
}

bool vps_btrfs_available(void)
{
        return has_tool("mkfs.btrfs") && vps_kernel_fs_open("btrfs") == 0;
}

bool vps_btrfs_is_subvol(int dirfd, const char *name)
{
        struct statfs f;
        struct stat sb;
        /* Inode 256 is any directory on another file system. */
        return fstatfs(dirfd, &f) == 0 && f.f_type == BTRFS_SUPER_MAGIC &&
               fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(sb.st_mode) &&
               sb.st_ino == FIRST_FREE_OBJECTID;
}

static int set_name(char *dst, size_t len, const char *name)
{
        if (strlen(name) >= len)
                return -ENAMETOOLONG;
        memset(dst, 0, len);
        memcpy(dst, name, strlen(name));
        return 0;
}

int vps_btrfs_subvol_create(int dirfd, const char *name)
{
        struct btrfs_ioctl_vol_args a;
        int r = set_name(a.name, sizeof(a.name), name);
        a.fd = 0;
        if (r < 0)
                return r;
        return ioctl(dirfd, BTRFS_IOC_SUBVOL_CREATE, &a) < 0 ? -errno : 0;
}

int vps_btrfs_snapshot(int src, int dirfd, const char *name, bool readonly)
{
        struct btrfs_ioctl_vol_args_v2 a;
        memset(&a, 0, sizeof(a));
        int r = set_name(a.name, sizeof(a.name), name);
        if (r < 0)
                return r;
        a.fd = src;
        a.flags = readonly ? BTRFS_SUBVOL_RDONLY : 0;
        return ioctl(dirfd, BTRFS_IOC_SNAP_CREATE_V2, &a) < 0 ? -errno : 0;
}

int vps_btrfs_snapshot_synced(const char *cur, const char *layers, const char *name, struct berth_err *err)
{
        _cleanup_close_ int cfd = open(cur, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int lfd = open(layers, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cfd < 0 || lfd < 0)
                return berth_err_sys(err, errno, "open %s", cfd < 0 ? cur : layers);
        if (syncfs(cfd) < 0)
                return berth_err_sys(err, errno, "sync %s", cur);
        int r = vps_btrfs_snapshot(cfd, lfd, name, true);
        return r < 0 ? berth_err_sys(err, -r, "snapshot the subvolume %s", cur) : 0;
}

int vps_btrfs_subvol_delete(int dirfd, const char *name)
{
        struct btrfs_ioctl_vol_args_v2 a;
        memset(&a, 0, sizeof(a));
        int r = set_name(a.name, sizeof(a.name), name);
        if (r < 0)
                return r;
        if (ioctl(dirfd, BTRFS_IOC_SNAP_DESTROY_V2, &a) == 0)
                return 0;
        if (errno != ENOTTY && errno != EOPNOTSUPP)
                return -errno;
        /* Kernels before 5.7: the first version (by name, as root). */
        struct btrfs_ioctl_vol_args v1;
        set_name(v1.name, sizeof(v1.name), name);
        v1.fd = 0;
        return ioctl(dirfd, BTRFS_IOC_SNAP_DESTROY, &v1) < 0 ? -errno : 0;
}

int vps_btrfs_resize(int fd, int64_t size)
{
        struct btrfs_ioctl_vol_args a;
        memset(&a, 0, sizeof(a));
        if (size > 0)
                snprintf(a.name, sizeof(a.name), "%lld", (long long)size);
        else
                snprintf(a.name, sizeof(a.name), "max");
        return ioctl(fd, BTRFS_IOC_RESIZE, &a) < 0 ? -errno : 0;
}

int vps_btrfs_mkfs(const char *img, int64_t size, struct berth_err *err)
{
        /* -K: the file is sparse already, nothing to discard. */
        const char *argv[] = {"mkfs.btrfs",
                              "-q",
                              "-f",
                              "-K",
                              "-L",
                              "berth-vps",
                              size < MIXED_BELOW ? "-M" : img,
                              size < MIXED_BELOW ? img : NULL,
                              NULL};
        int r = vps_storage_run(argv, err);
        return r < 0 ? berth_err_wrap(err, "make the btrfs disk image %s", img) : 0;
}

/* mkdir at (dirfd, name) with like's owner and mode. */
static int mkdir_like(int dirfd, const char *name, const char *like)
{
        struct stat sb;
        if (stat(like, &sb) < 0)
                return -errno;
        if (mkdirat(dirfd, name, 0700) < 0 && errno != EEXIST)
                return -errno;
        if (fchownat(dirfd, name, sb.st_uid, sb.st_gid, AT_SYMLINK_NOFOLLOW) < 0 ||
            fchmodat(dirfd, name, sb.st_mode & 07777, 0) < 0)
                return -errno;
        return 0;
}

int vps_btrfs_make_cur(const char *base, const char *upper_like, uid_t work_uid, gid_t work_gid)
{
        _cleanup_close_ int fd = open(base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        int r = vps_btrfs_subvol_create(fd, VPS_BTRFS_CUR);
        if (r < 0 && r != -EEXIST)
                return r;
        _cleanup_close_ int cur = openat(fd, VPS_BTRFS_CUR, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (cur < 0)
                return -errno;
        if ((r = mkdir_like(cur, "upper", upper_like)) < 0)
                return r;
        if ((mkdirat(cur, "work", 0700) < 0 && errno != EEXIST) ||
            fchownat(cur, "work", work_uid, work_gid, AT_SYMLINK_NOFOLLOW) < 0)
                return -errno;
        return syncfs(cur) < 0 ? -errno : 0;
}

/* In the child, in a mount namespace of its own: the image mounted, cur/
 * made after dir's upper/ and work/. */
static int populate_child(const char *dir)
{
        char dev[64], mnt[PATH_MAX], up[PATH_MAX], wk[PATH_MAX];
        unsigned major, minor;
        struct berth_err e = {0};
        snprintf(mnt, sizeof(mnt), "%s/" VPS_DISK_MOUNT, dir);
        snprintf(up, sizeof(up), "%s/upper", dir);
        snprintf(wk, sizeof(wk), "%s/work", dir);
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return 1;
        if (vps_image_loop_attach(dir, dev, sizeof(dev), &major, &minor, &e) < 0)
                return 2;
        int r = vps_image_mount(dir, dev, BERTH_VPS_DISK_FS_BTRFS, &e);
        vps_image_loop_release(dev); /* detached with our mount */
        if (r < 0)
                return 3;
        struct stat sb;
        r = stat(wk, &sb) < 0 ? -errno : vps_btrfs_make_cur(mnt, up, sb.st_uid, sb.st_gid);
        umount2(mnt, 0);
        return r < 0 ? 8 + (-r < 100 ? -r : 0) : 0;
}

int vps_btrfs_populate(const char *dir, struct berth_err *err)
{
        pid_t pid = fork();
        if (pid < 0)
                return berth_err_sys(err, errno, "fork");
        if (pid == 0)
                _exit(populate_child(dir));
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return berth_err_sys(err, errno, "wait");
        static const char *const what[] = {"", "a mount namespace", "attach the image", "mount the image"};
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 4;
        if (code >= 8)
                return berth_err_sys(err, code - 8 ? code - 8 : EIO, "make the subvolume of the upper layer");
        if (code)
                return berth_err_set(err, EIO, "fill the btrfs disk image: %s failed",
                                     code < 4 ? what[code] : "the child");
        return 0;
}

int vps_btrfs_usage(const char *img, struct vps_disk_usage *u, struct berth_err *err)
{
        unsigned char b[0x80];
        _cleanup_close_ int fd = open(img, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_err_sys(err, errno, "open %s", img);
        /* The super block at 64 KiB: magic at 0x40, total_bytes at 0x70,
         * bytes_used at 0x78 (little-endian). */
        if (pread(fd, b, sizeof(b), 0x10000) != (ssize_t)sizeof(b))
                return berth_err_set(err, EIO, "%s: short read", img);
        if (memcmp(b + 0x40, "_BHRfS_M", 8))
                return berth_err_set(err, EINVAL, "%s: not a btrfs file system", img);
        uint64_t total = 0, used = 0;
        for (int i = 7; i >= 0; i--) {
                total = total << 8 | b[0x70 + i];
                used = used << 8 | b[0x78 + i];
        }
        *u = (struct vps_disk_usage){.used = used, .total = total};
        return 0;
}

/* In a child with a mount namespace of its own: the image mounted (the
 * running guest's super block when it runs: one per device) and resized.
 * Exits 8 + errno of the resize. */
static int resize_child(const char *dir, const char *dev, bool found, int64_t size)
{
        char mnt[PATH_MAX], d[64];
        unsigned major, minor;
        struct berth_err e = {0};
        snprintf(mnt, sizeof(mnt), "%s/" VPS_DISK_MOUNT, dir);
        snprintf(d, sizeof(d), "%s", dev);
        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                return 1;
        if (!found && vps_image_loop_attach(dir, d, sizeof(d), &major, &minor, &e) < 0)
                return 2;
        int r = vps_image_mount(dir, d, BERTH_VPS_DISK_FS_BTRFS, &e);
        if (!found)
                vps_image_loop_release(d);
        if (r < 0)
                return 3;
        int fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return 3;
        r = vps_btrfs_resize(fd, size);
        close(fd);
        umount2(mnt, 0);
        return r < 0 ? 8 + (-r < 100 ? -r : EIO) : 0;
}

static int resize_fs(const char *dir, const char *dev, bool found, int64_t size, struct berth_err *err)
{
        pid_t pid = fork();
        if (pid < 0)
                return berth_err_sys(err, errno, "fork");
        if (pid == 0)
                _exit(resize_child(dir, dev, found, size));
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return berth_err_sys(err, errno, "wait");
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 4;
        if (code == 8 + ENOSPC)
                return berth_err_set(err, ENOSPC, "btrfs could not move its data below %lld bytes",
                                     (long long)size);
        if (code >= 8)
                return berth_err_sys(err, code - 8, "resize the btrfs file system");
        static const char *const what[] = {"", "a mount namespace", "attach the image", "mount the image",
                                           "the child"};
        return code ? berth_err_set(err, EIO, "resize the disk image: %s failed", what[code < 5 ? code : 4])
                    : 0;
}

static int set_capacity(const char *dev, bool found, struct berth_err *err)
{
        if (!found)
                return 0;
        _cleanup_close_ int fd = open(dev, O_RDWR | O_CLOEXEC);
        if (fd < 0 || ioctl(fd, LOOP_SET_CAPACITY, 0) < 0)
                return berth_err_sys(err, errno, "%s: set capacity", dev);
        return 0;
}

/* Grow: the file, the loop device, then the file system to fill it.
 * Shrink: the file system first (btrfs moves what lies beyond), then the
 * loop device and the file. */
int vps_btrfs_image_resize(const char *dir, int64_t size, struct berth_err *err)
{
        char img[PATH_MAX], dev[64] = "";
        unsigned major, minor;
        snprintf(img, sizeof(img), "%s/" VPS_DISK_IMAGE, dir);
        int found = vps_image_loop_find(dir, dev, sizeof(dev), &major, &minor);
        if (found < 0)
                return berth_err_sys(err, -found, "find the loop device of %s", img);
        struct stat sb;
        _cleanup_close_ int fd = open(img, O_RDWR | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &sb) < 0)
                return berth_err_sys(err, errno, "open %s", img);
        bool grow = size > sb.st_size;
        int r = 0;
        if (grow) {
                if (ftruncate(fd, size) < 0)
                        return berth_err_sys(err, errno, "grow %s", img);
                r = set_capacity(dev, found, err);
                if (r >= 0)
                        r = resize_fs(dir, dev, found, 0, err);
                /* A failed grow leaves the file as it was. */
                if (r < 0 && ftruncate(fd, sb.st_size) == 0)
                        set_capacity(dev, found, &(struct berth_err){0});
                return r;
        }
        if ((r = resize_fs(dir, dev, found, size, err)) < 0)
                return r;
        if (ftruncate(fd, size) < 0)
                return berth_err_sys(err, errno, "shrink %s", img);
        return set_capacity(dev, found, err);
}
