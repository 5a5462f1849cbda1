/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The image backend: the VPS's upper and work directories live in an ext4
 * file system of their own, a sparse file <dir>/disk.img (OpenVZ's ploop
 * idea on a stock kernel). Its size is a hard limit that holds against
 * anyone (made with no reserved blocks: overlay writes run with the
 * mounter's credentials), mke2fs's inode count is the inode limit, and
 * since an overlay reports its upper file system's statfs, df in the guest
 * shows the VPS's own size and usage.
 *
 * The image is attached to a loop device only while the VPS runs: `vps
 * start` attaches it, mounts it in its private mount namespace below the
 * overlay, and releases its own hold, so the loop device is detached by
 * the kernel when the guest's mount namespace (the last user) goes. It is
 * never mounted in the host's namespace. Growing a running VPS mounts it
 * again, briefly, in a namespace of its own (ext4 shares the super block
 * between mounts of one device, so the online resize reaches the guest's);
 * the kernel allows that only with CAP_SYS_RESOURCE. A stopped VPS's image
 * is grown or shrunk by resize2fs on the file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/loop.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "runtime/vps/disk.h"

#ifndef EXT4_IOC_RESIZE_FS
#define EXT4_IOC_RESIZE_FS _IOW('f', 16, uint64_t)
#endif
#define BLOCK 4096

static void paths(const char *dir, char *img, char *mnt)
{
        snprintf(img, PATH_MAX, "%s/" VPS_DISK_IMAGE, dir);
        snprintf(mnt, PATH_MAX, "%s/" VPS_DISK_MOUNT, dir);
}

/* btrfs: made empty, then cur/ is made in it, mounted in a child's mount
 * namespace of its own (a subvolume needs the kernel). */
static int create_btrfs(const char *dir, const char *img, int64_t size, struct berth_err *err)
{
        _cleanup_close_ int fd = open(img, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return berth_err_sys(err, errno, "create %s", img);
        if (ftruncate(fd, size) < 0)
                return berth_err_sys(err, errno, "size %s", img);
        int r = vps_btrfs_mkfs(img, size, err);
        if (r >= 0)
                r = vps_btrfs_populate(dir, err);
        if (r < 0)
                return r;
        static const char *const sub[] = {"upper", "work"};
        for (size_t i = 0; i < 2; i++) {
                char p[PATH_MAX];
                snprintf(p, sizeof(p), "%s/%s", dir, sub[i]);
                if (rmdir(p) < 0)
                        return berth_err_sys(err, errno, "rmdir %s", p);
        }
        return 0;
}

/* upper/ and work/ (made by create with their owners and modes) go into
 * the image through mke2fs -d: nothing is mounted at create. */
int vps_image_create(const char *dir, int64_t size, int64_t inodes, enum berth_vps_disk_fs fs,
                     struct berth_err *err)
{
        char img[PATH_MAX], mnt[PATH_MAX], from[PATH_MAX], to[PATH_MAX];
        paths(dir, img, mnt);
        if (mkdir(mnt, 0700) < 0)
                return berth_err_sys(err, errno, "mkdir %s", mnt);
        if (fs == BERTH_VPS_DISK_FS_BTRFS)
                return create_btrfs(dir, img, size, err);
        static const char *const sub[] = {"upper", "work"};
        for (size_t i = 0; i < 2; i++) {
                snprintf(from, sizeof(from), "%s/%s", dir, sub[i]);
                snprintf(to, sizeof(to), "%s/%s", mnt, sub[i]);
                if (rename(from, to) < 0)
                        return berth_err_sys(err, errno, "rename %s", from);
        }
        _cleanup_close_ int fd = open(img, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0)
                return berth_err_sys(err, errno, "create %s", img);
        if (ftruncate(fd, size) < 0)
                return berth_err_sys(err, errno, "size %s", img);
        char n[32];
        snprintf(n, sizeof(n), "%lld", (long long)inodes);
        /* -m 0: no blocks reserved for root (the overlay writes as root);
         * 4K blocks; nodiscard: the file is sparse already. */
        const char *argv[] = {"mke2fs",
                              "-t",
                              "ext4",
                              "-q",
                              "-F",
                              "-m",
                              "0",
                              "-b",
                              "4096",
                              "-L",
                              "berth-vps",
                              "-E",
                              "nodiscard",
                              "-d",
                              mnt,
                              inodes > 0 ? "-N" : img,
                              inodes > 0 ? n : NULL,
                              inodes > 0 ? img : NULL,
                              NULL};
        int r = vps_storage_run(argv, err);
        if (r < 0)
                return berth_err_wrap(err, "make the disk image %s", img);
        for (size_t i = 0; i < 2; i++) {
                snprintf(to, sizeof(to), "%s/%s", mnt, sub[i]);
                if (rmdir(to) < 0)
                        return berth_err_sys(err, errno, "rmdir %s", to);
        }
        return 0;
}

/* In a child with a mount namespace of its own: mount the device (the
 * super block is the running guest's, if any) and resize it online. */
static int resize_online(const char *dir, const char *dev, uint64_t blocks, struct berth_err *err)
{
        pid_t pid = fork();
        if (pid < 0)
                return berth_err_sys(err, errno, "fork");
        if (pid == 0) {
                char img[PATH_MAX], mnt[PATH_MAX];
                paths(dir, img, mnt);
                if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0)
                        _exit(1);
                if (mount(dev, mnt, "ext4", MS_NOATIME, NULL) < 0)
                        _exit(2);
                int fd = open(mnt, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
                if (fd < 0)
                        _exit(3);
                if (ioctl(fd, EXT4_IOC_RESIZE_FS, &blocks) < 0)
                        _exit(errno < 120 ? 8 + errno : 4);
                _exit(0);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return berth_err_sys(err, errno, "wait");
        static const char *const what[] = {"", "a new mount namespace", "mount the image", "open the mount",
                                           "resize"};
        int code = WIFEXITED(status) ? WEXITSTATUS(status) : 4;
        if (code == 8 + EPERM)
                return berth_err_set(err, EPERM,
                                     "growing a mounted ext4 needs CAP_SYS_RESOURCE, which berth lacks here: "
                                     "stop the VPS and grow it then");
        if (code >= 8)
                return berth_err_sys(err, code - 8, "resize the mounted file system");
        if (code)
                return berth_err_set(err, EIO, "grow the disk image: %s failed", what[code < 5 ? code : 4]);
        return 0;
}

/* resize2fs on the image file wants a checked file system. */
static int resize_offline(const char *img, int64_t size, struct berth_err *err)
{
        char k[32];
        snprintf(k, sizeof(k), "%lldK", (long long)(size / 1024));
        const char *fsck[] = {"e2fsck", "-f", "-p", img, NULL};
        const char *resize[] = {"resize2fs", img, k, NULL};
        int r = vps_storage_run(fsck, err);
        return r < 0 ? r : vps_storage_run(resize, err);
}

/* Attached (running): online, through the loop device; else offline. */
int vps_image_grow(const char *dir, int64_t size, enum berth_vps_disk_fs fs, struct berth_err *err)
{
        if (fs == BERTH_VPS_DISK_FS_BTRFS)
                return vps_btrfs_image_resize(dir, size, err);
        char img[PATH_MAX], mnt[PATH_MAX], dev[64];
        paths(dir, img, mnt);
        unsigned major, minor;
        int found = vps_image_loop_find(dir, dev, sizeof(dev), &major, &minor);
        if (found < 0)
                return berth_err_sys(err, -found, "find the loop device of %s", img);
        struct stat sb;
        _cleanup_close_ int fd = open(img, O_RDWR | O_CLOEXEC);
        if (fd < 0 || fstat(fd, &sb) < 0)
                return berth_err_sys(err, errno, "open %s", img);
        if (ftruncate(fd, size) < 0)
                return berth_err_sys(err, errno, "grow %s", img);
        _cleanup_close_ int lfd = found ? open(dev, O_RDWR | O_CLOEXEC) : -EBADF;
        int r = 0;
        if (found && (lfd < 0 || ioctl(lfd, LOOP_SET_CAPACITY, 0) < 0))
                r = berth_err_sys(err, errno, "%s: set capacity", dev);
        if (r >= 0)
                r = found ? resize_online(dir, dev, (uint64_t)size / BLOCK, err)
                          : resize_offline(img, size, err);
        /* A failed grow leaves the file as it was (the file system did not grow). */
        if (r < 0 && ftruncate(fd, sb.st_size) == 0 && found)
                ioctl(lfd, LOOP_SET_CAPACITY, 0);
        return r;
}

struct sb {
        uint64_t blocks, free_blocks, inodes, free_inodes, block_size, overhead;
};

/* The numbers the super block keeps (exact after a clean unmount). */
static int read_sb(const char *img, struct sb *s, struct berth_err *err)
{
        unsigned char b[1024];
        _cleanup_close_ int fd = open(img, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_err_sys(err, errno, "open %s", img);
        if (pread(fd, b, sizeof(b), 1024) != (ssize_t)sizeof(b))
                return berth_err_set(err, EIO, "%s: short read", img);
#define LE32(o)                                                                                              \
        ((uint64_t)b[o] | (uint64_t)b[o + 1] << 8 | (uint64_t)b[o + 2] << 16 | (uint64_t)b[o + 3] << 24)
        if (b[56] != 0x53 || b[57] != 0xef)
                return berth_err_set(err, EINVAL, "%s: not an ext4 file system", img);
        bool is64 = LE32(0x60) & 0x80;
        s->inodes = LE32(0);
        s->blocks = LE32(4) | (is64 ? LE32(0x150) << 32 : 0);
        s->free_blocks = LE32(12) | (is64 ? LE32(0x158) << 32 : 0);
        s->free_inodes = LE32(16);
        s->block_size = 1024ull << LE32(24);
        s->overhead = LE32(0x248); /* s_overhead_clusters: mke2fs 1.47 and the kernel keep it */
#undef LE32
        return 0;
}

int vps_image_shrink(const char *dir, int64_t size, enum berth_vps_disk_fs fs, struct berth_err *err)
{
        if (fs == BERTH_VPS_DISK_FS_BTRFS)
                return vps_btrfs_image_resize(dir, size, err);
        char img[PATH_MAX], mnt[PATH_MAX], dev[64];
        paths(dir, img, mnt);
        unsigned major, minor;
        if (vps_image_loop_find(dir, dev, sizeof(dev), &major, &minor) > 0)
                return berth_err_set(err, EBUSY, "--disk: ext4 shrinks only offline: stop the VPS first");
        int r = resize_offline(img, size, err);
        if (r < 0)
                return berth_err_wrap(err, "shrink the disk image");
        if (truncate(img, size) < 0)
                return berth_err_sys(err, errno, "truncate %s", img);
        return 0;
}

int vps_image_usage(const char *dir, pid_t pid, enum berth_vps_disk_fs fs, struct vps_disk_usage *u,
                    struct berth_err *err)
{
        char img[PATH_MAX], mnt[PATH_MAX], root[64];
        paths(dir, img, mnt);
        struct statfs f;
        snprintf(root, sizeof(root), "/proc/%d/root", (int)pid);
        /* An overlay reports its upper file system: the image's. */
        if (pid > 0 && statfs(root, &f) == 0) {
                u->total = (uint64_t)f.f_blocks * (uint64_t)f.f_bsize;
                u->used = (uint64_t)(f.f_blocks - f.f_bfree) * (uint64_t)f.f_bsize;
                u->inodes_total = f.f_files;
                u->inodes_used = f.f_files - f.f_ffree;
                return 0;
        }
        if (fs == BERTH_VPS_DISK_FS_BTRFS)
                return vps_btrfs_usage(img, u, err);
        struct sb s = {0};
        int r = read_sb(img, &s, err);
        if (r < 0)
                return r;
        /* As statfs counts: the file system's own metadata is neither size
         * nor use (0: unknown, counted as used). */
        uint64_t over = s.overhead < s.blocks - s.free_blocks ? s.overhead : 0;
        u->total = (s.blocks - over) * s.block_size;
        u->used = (s.blocks - s.free_blocks - over) * s.block_size;
        u->inodes_total = s.inodes;
        u->inodes_used = s.inodes - s.free_inodes;
        return 0;
}
