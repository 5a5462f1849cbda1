// SPDX-License-Identifier: GPL-2.0-or-later
/* The image backend's loop device and mount (disk_image.c says when they
 * happen): find the loop device an image is attached to, attach one,
 * release it (detached with its last user), mount it; and whether the
 * kernel can mount a file system at all. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/mount.h>

#include "berth/cleanup.h"
#include "runtime/vps/disk.h"
#include "runtime/vps/internal.h"

/* fsopen() loads the file system's module as a mount would, and mounts
 * nothing: /proc/filesystems lists a module's type only once loaded. */
int vps_kernel_fs_open(const char *type)
{
        int fd = (int)syscall(SYS_fsopen, type, FSOPEN_CLOEXEC);
        if (fd < 0)
                return -errno;
        close(fd);
        return 0;
}

static void paths(const char *dir, char *img, char *mnt)
{
        snprintf(img, PATH_MAX, "%s/" VPS_DISK_IMAGE, dir);
        snprintf(mnt, PATH_MAX, "%s/" VPS_DISK_MOUNT, dir);
}

static int read_dev(const char *sysdir, unsigned *major, unsigned *minor)
{
        char p[PATH_MAX], buf[32];
        snprintf(p, sizeof(p), "%s/dev", sysdir);
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return -ENOENT;
        buf[n] = 0;
        return sscanf(buf, "%u:%u", major, minor) == 2 ? 0 : -EINVAL;
}

/* Whether /dev/<name> is a loop device backed by the file real. */
static bool loop_backs(const char *name, const char *real, unsigned *major, unsigned *minor)
{
        char p[PATH_MAX], back[PATH_MAX];
        snprintf(p, sizeof(p), "/sys/block/%s/loop/backing_file", name);
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, back, sizeof(back) - 1);
        if (n <= 0)
                return false;
        back[n] = 0;
        if (back[n - 1] == '\n')
                back[n - 1] = 0;
        if (strcmp(back, real))
                return false;
        snprintf(p, sizeof(p), "/sys/block/%s", name);
        return read_dev(p, major, minor) == 0;
}

/* The name of the loop device last attached to the image, kept in
 * <dir>/disk.loop: a start looks there first and reads one backing file
 * rather than every loop device's (thousands on a host of disk VPS). It is
 * only a hint, checked each time: stale after a reboot or a copy of the
 * directory, it costs the scan. */
static bool hint_read(const char *dir, char *name, size_t len)
{
        return vps_hint_read(dir, VPS_DISK_LOOP_HINT, name, len) && strncmp(name, "loop", 4) == 0 &&
               !strchr(name, '/');
}

int vps_image_loop_find(const char *dir, char *dev, size_t len, unsigned *major, unsigned *minor)
{
        char img[PATH_MAX], mnt[PATH_MAX], real[PATH_MAX], name[32];
        paths(dir, img, mnt);
        if (!realpath(img, real))
                return -errno;
        if (hint_read(dir, name, sizeof(name)) && loop_backs(name, real, major, minor)) {
                snprintf(dev, len, "/dev/%s", name);
                return 1;
        }
        _cleanup_closedir_ DIR *d = opendir("/sys/block");
        if (!d)
                return -errno;
        struct dirent *e;
        while ((e = readdir(d))) {
                if (strncmp(e->d_name, "loop", 4) || !loop_backs(e->d_name, real, major, minor))
                        continue;
                snprintf(dev, len, "/dev/%s", e->d_name);
                return 1;
        }
        return 0;
}

/* A free loop device can be taken by someone else between GET_FREE and
 * CONFIGURE: try the next one. */
static int attach(const char *img, char *dev, size_t len, struct berth_err *err)
{
        _cleanup_close_ int fd = open(img, O_RDWR | O_CLOEXEC);
        if (fd < 0)
                return berth_err_sys(err, errno, "open %s", img);
        _cleanup_close_ int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
        if (ctl < 0)
                return berth_err_sys(err, errno, "open /dev/loop-control");
        for (int tries = 0; tries < 16; tries++) {
                int n = ioctl(ctl, LOOP_CTL_GET_FREE);
                if (n < 0)
                        return berth_err_sys(err, errno, "no free loop device");
                snprintf(dev, len, "/dev/loop%d", n);
                _cleanup_close_ int lfd = open(dev, O_RDWR | O_CLOEXEC);
                if (lfd < 0)
                        return berth_err_sys(err, errno, "open %s", dev);
                struct loop_config c = {.fd = (unsigned)fd};
                snprintf((char *)c.info.lo_file_name, sizeof(c.info.lo_file_name), "%s", img);
                if (ioctl(lfd, LOOP_CONFIGURE, &c) == 0)
                        return 0;
                if (errno != EBUSY)
                        return berth_err_sys(err, errno, "attach %s to %s", img, dev);
        }
        return berth_err_set(err, EBUSY, "attach %s: every free loop device was taken", img);
}

int vps_image_loop_attach(const char *dir, char *dev, size_t len, unsigned *major, unsigned *minor,
                          struct berth_err *err)
{
        int r = vps_image_loop_find(dir, dev, len, major, minor);
        if (r != 0)
                return r < 0 ? berth_err_sys(err, -r, "find the loop device of %s/" VPS_DISK_IMAGE, dir) : 0;
        char img[PATH_MAX], mnt[PATH_MAX], sys[PATH_MAX];
        paths(dir, img, mnt);
        if ((r = attach(img, dev, len, err)) < 0)
                return r;
        snprintf(sys, sizeof(sys), "/sys/block/%s", dev + 5);
        if (read_dev(sys, major, minor) < 0) {
                vps_image_loop_release(dev);
                return berth_err_set(err, ENODEV, "%s: no device number", dev);
        }
        vps_hint_write(dir, VPS_DISK_LOOP_HINT, dev + 5);
        return 0;
}

void vps_image_loop_release(const char *dev)
{
        /* A busy device gets LO_FLAGS_AUTOCLEAR instead: it goes with its
         * last user. */
        _cleanup_close_ int fd = open(dev, O_RDWR | O_CLOEXEC);
        if (fd >= 0)
                ioctl(fd, LOOP_CLR_FD, 0);
}

static const char *fs_type(enum berth_vps_disk_fs fs)
{
        return fs == BERTH_VPS_DISK_FS_BTRFS ? "btrfs" : "ext4";
}

int vps_image_mount(const char *dir, const char *dev, enum berth_vps_disk_fs fs, struct berth_err *err)
{
        char img[PATH_MAX], mnt[PATH_MAX];
        paths(dir, img, mnt);
        if (mkdir(mnt, 0700) < 0 && errno != EEXIST)
                return berth_err_sys(err, errno, "mkdir %s", mnt);
        /* btrfs: a second mount of a mounted device shares its super block,
         * as ext4's does. */
        if (mount(dev, mnt, fs_type(fs), MS_NOATIME, NULL) < 0)
                return berth_err_sys(err, errno, "mount %s (%s) on %s", img, dev, mnt);
        return 0;
}
