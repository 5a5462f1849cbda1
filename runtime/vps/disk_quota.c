/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The project quota backend: where the data file system enforces project
 * quotas (ext4 or XFS mounted with prjquota), the VPS's upper and work
 * directories get a project id of their own with the inherit flag, so that
 * everything the guest writes is charged to it, and the project gets the
 * VPS's limits. The kernel enforces them unless the writer has
 * CAP_SYS_RESOURCE in the initial user namespace: the guest's root has it
 * only in its own, and the overlay that writes for it is made without it
 * (vps_disk_overlay_mount). statfs on a directory with the inherit flag
 * reports the project's limits (ext4, XFS), so df in the guest does too.
 *
 * quotactl_fd(2) (Linux 5.14) addresses the file system by a directory of
 * it: no need to find its block device. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/dqblk_xfs.h>
#include <linux/fs.h>
#include <linux/quota.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "runtime/vps/disk.h"

#ifndef SYS_quotactl_fd
#define SYS_quotactl_fd 443
#endif

static long quotactl_fd(int fd, unsigned cmd, uint32_t id, void *addr)
{
        return syscall(SYS_quotactl_fd, fd, QCMD(cmd, PRJQUOTA), id, addr);
}

bool vps_quota_enforced(const char *dir)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct fs_quota_statv st = {.qs_version = FS_QSTATV_VERSION1};
        return fd >= 0 && quotactl_fd(fd, Q_XGETQSTATV, 0, &st) == 0 && (st.qs_flags & FS_QUOTA_PDQ_ENFD);
}

static int set_project(const char *path, uint32_t id, struct berth_err *err)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        struct fsxattr fa;
        if (fd < 0 || ioctl(fd, FS_IOC_FSGETXATTR, &fa) < 0)
                return berth_err_sys(err, errno, "%s: get attributes", path);
        fa.fsx_projid = id;
        fa.fsx_xflags |= FS_XFLAG_PROJINHERIT;
        if (ioctl(fd, FS_IOC_FSSETXATTR, &fa) < 0)
                return berth_err_sys(err, errno, "%s: set project id %u", path, id);
        return 0;
}

int vps_quota_dir(const char *path, uint32_t id, struct berth_err *err)
{
        return set_project(path, id, err);
}

int vps_quota_limit(const char *dir, uint32_t id, int64_t bytes, int64_t inodes, struct berth_err *err)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return berth_err_sys(err, errno, "open %s", dir);
        struct if_dqblk q = {
            .dqb_bhardlimit = (uint64_t)bytes / QIF_DQBLKSIZE,
            .dqb_bsoftlimit = (uint64_t)bytes / QIF_DQBLKSIZE,
            .dqb_ihardlimit = (uint64_t)inodes,
            .dqb_isoftlimit = (uint64_t)inodes,
            .dqb_valid = QIF_LIMITS,
        };
        if (quotactl_fd(fd, Q_SETQUOTA, id, &q) < 0)
                return berth_err_sys(err, errno, "set the quota of project %u", id);
        return 0;
}

int vps_quota_setup(const char *dir, uint32_t id, int64_t bytes, int64_t inodes, struct berth_err *err)
{
        char p[PATH_MAX];
        static const char *const sub[] = {"upper", "work"};
        /* work too: ext4 refuses (EXDEV) a rename into a directory of
         * another project, and overlay makes files in work/ first. */
        for (size_t i = 0; i < 2; i++) {
                snprintf(p, sizeof(p), "%s/%s", dir, sub[i]);
                int r = set_project(p, id, err);
                if (r < 0)
                        return r;
        }
        return vps_quota_limit(dir, id, bytes, inodes, err);
}

int vps_quota_usage(const char *dir, uint32_t id, struct vps_disk_usage *u, struct berth_err *err)
{
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct if_dqblk q;
        if (fd < 0 || quotactl_fd(fd, Q_GETQUOTA, id, &q) < 0)
                return berth_err_sys(err, errno, "get the quota of project %u", id);
        u->used = q.dqb_curspace;
        u->total = q.dqb_bhardlimit * QIF_DQBLKSIZE;
        u->inodes_used = q.dqb_curinodes;
        u->inodes_total = q.dqb_ihardlimit;
        return 0;
}
