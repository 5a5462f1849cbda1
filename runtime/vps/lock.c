/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One VPS at a time: every verb that changes a VPS holds an exclusive flock
 * on its directory for the whole change. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/vps.h"
#include "runtime/vps/internal.h"

int vps_lock(const struct berth_vps_ctx *v, const char *name, struct berth_err *err)
{
        char path[PATH_MAX];
        if (berth_vps_path(v, name, NULL, path, sizeof(path)) < 0)
                return berth_err_set(err, ENAMETOOLONG, "VPS %s: path too long", name);
        int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return errno == ENOENT ? berth_err_set(err, ENOENT, "VPS %s does not exist", name)
                                       : berth_err_sys(err, errno, "open %s", path);
        if (flock(fd, LOCK_EX) < 0) {
                int e = errno;
                close(fd);
                return berth_err_sys(err, e, "lock VPS %s", name);
        }
        /* A destroy that held the lock before us renamed the directory
         * away (destroy.c): what we locked is no longer the VPS. */
        struct stat a, b;
        if (fstat(fd, &a) < 0 || stat(path, &b) < 0 || a.st_ino != b.st_ino || a.st_dev != b.st_dev) {
                close(fd);
                return berth_err_set(err, ENOENT, "VPS %s does not exist", name);
        }
        return fd;
}
