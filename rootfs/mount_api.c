/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Thin helpers over the new mount API (fsopen/fsmount, mount_setattr,
 * move_mount).
 *
 * Why the new API: a mount is built detached, gets its attributes (ro,
 * nosuid, ...) before anyone can see it, and is then attached to an fd that
 * was resolved inside the root. No path string is looked up twice, so there
 * is no window for a swapped symlink, and no remount pass is needed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/rootfs.h"

/* Superblock flags have no MOUNT_ATTR_*; fsconfig takes them by name. */
static const struct {
        unsigned long ms;
        const char *name;
} sb_flags[] = {
    {MS_SYNCHRONOUS, "sync"},
    {MS_DIRSYNC, "dirsync"},
    {MS_LAZYTIME, "lazytime"},
    {MS_SILENT, "silent"},
};

/* Each comma-separated option becomes one fsconfig call: "key=value" a
 * string parameter, "key" a flag. */
static int fs_config_data(int fsfd, const char *data)
{
        _cleanup_free_ char *copy = strdup(data);
        if (!copy)
                return -ENOMEM;
        char *save = NULL;
        for (char *opt = strtok_r(copy, ",", &save); opt; opt = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(opt, '=');
                int r;
                if (eq) {
                        *eq = '\0';
                        r = fsconfig(fsfd, FSCONFIG_SET_STRING, opt, eq + 1, 0);
                } else {
                        r = fsconfig(fsfd, FSCONFIG_SET_FLAG, opt, NULL, 0);
                }
                if (r < 0)
                        return -errno;
        }
        return 0;
}

static int fs_configure(int fsfd, const char *source, unsigned long flags, const char *data)
{
        if (source && fsconfig(fsfd, FSCONFIG_SET_STRING, "source", source, 0) < 0)
                return -errno;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(sb_flags); i++)
                if ((flags & sb_flags[i].ms) &&
                    fsconfig(fsfd, FSCONFIG_SET_FLAG, sb_flags[i].name, NULL, 0) < 0)
                        return -errno;
        if (data && *data) {
                int r = fs_config_data(fsfd, data);
                if (r < 0)
                        return r;
        }
        if (fsconfig(fsfd, FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0)
                return -errno;
        return 0;
}

/* The filesystem explains a rejected option in the context's log ("e tmpfs:
 * Bad value for 'size'"); keep the first error line for the message. */
static int fs_error(int fsfd, int code, struct berth_err *err)
{
        char log[256];
        for (int i = 0; i < 8; i++) {
                ssize_t n = read(fsfd, log, sizeof(log) - 1);
                if (n <= 0)
                        break;
                log[n] = '\0';
                if (log[0] == 'e' && log[1] == ' ')
                        return berth_err_set(err, code, "%s (%s)", strerror(code), log + 2);
        }
        return berth_err_set(err, code, "%s", strerror(code));
}

int berth_fs_mount_new(const char *type, const char *source, unsigned long flags, const char *data,
                       struct berth_err *err)
{
        _cleanup_close_ int fsfd = fsopen(type, FSOPEN_CLOEXEC);
        if (fsfd < 0) {
                int code = errno;
                if (code == ENODEV)
                        return berth_err_set(err, code, "unknown filesystem type \"%s\"", type);
                return berth_err_set(err, code, "%s", strerror(code));
        }
        int r = fs_configure(fsfd, source, flags, data);
        if (r < 0)
                return fs_error(fsfd, -r, err);
        int mfd = fsmount(fsfd, FSMOUNT_CLOEXEC, (unsigned)berth_ms_to_mount_attr(flags, NULL));
        if (mfd < 0)
                return fs_error(fsfd, errno, err);
        return mfd;
}

#ifndef ST_NOSYMFOLLOW
#define ST_NOSYMFOLLOW 0x2000 /* <linux/statfs.h>, missing from older glibc */
#endif

static uint64_t statvfs_to_attr(unsigned long f)
{
        uint64_t a = 0;
        a |= (f & ST_RDONLY) ? MOUNT_ATTR_RDONLY : 0;
        a |= (f & ST_NOSUID) ? MOUNT_ATTR_NOSUID : 0;
        a |= (f & ST_NODEV) ? MOUNT_ATTR_NODEV : 0;
        a |= (f & ST_NOEXEC) ? MOUNT_ATTR_NOEXEC : 0;
        a |= (f & ST_NODIRATIME) ? MOUNT_ATTR_NODIRATIME : 0;
        a |= (f & ST_NOSYMFOLLOW) ? MOUNT_ATTR_NOSYMFOLLOW : 0;
        return a;
}

int berth_mount_set_attrs(int mntfd, bool recursive, uint64_t set, uint64_t clr, bool atime_set)
{
        if (!set && !clr && !atime_set)
                return 0;
        unsigned flags = AT_EMPTY_PATH | (recursive ? AT_RECURSIVE : 0);
        struct mount_attr a = {.attr_set = set, .attr_clr = clr};
        if (atime_set)
                a.attr_clr |= MOUNT_ATTR__ATIME;
        if (mount_setattr(mntfd, "", flags, &a, sizeof(a)) == 0)
                return 0;
        if (errno != EPERM)
                return -errno;
        /* In a user namespace the flags a mount had when the namespace was
         * made are locked: keep those the mount already has instead of
         * clearing them, and leave a (possibly locked) atime mode alone. */
        struct statvfs sv;
        if (fstatvfs(mntfd, &sv) < 0)
                return -EPERM;
        a.attr_set = set & ~(uint64_t)MOUNT_ATTR__ATIME;
        a.attr_clr = clr & ~statvfs_to_attr(sv.f_flag) & ~(uint64_t)MOUNT_ATTR__ATIME;
        if (mount_setattr(mntfd, "", flags, &a, sizeof(a)) < 0)
                return -errno;
        return 0;
}

int berth_mount_set_propagation(int mntfd, unsigned long prop_ms)
{
        if (!prop_ms)
                return 0;
        struct mount_attr a = {.propagation = prop_ms & ~(unsigned long)MS_REC};
        unsigned flags = AT_EMPTY_PATH | ((prop_ms & MS_REC) ? AT_RECURSIVE : 0);
        if (mount_setattr(mntfd, "", flags, &a, sizeof(a)) < 0)
                return -errno;
        return 0;
}

int berth_mount_attach(int mntfd, int targetfd)
{
        if (move_mount(mntfd, "", targetfd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0)
                return -errno;
        return 0;
}
