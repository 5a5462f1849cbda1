// SPDX-License-Identifier: GPL-2.0-or-later
/* sync(2) in a VPS flushes the VPS's own filesystems, not the host's.
 *
 * The kernel's sync() walks every superblock of the host, and writes back
 * every tenant's dirty data: one guest's sync costs the others their
 * disk's bandwidth, and with thousands of VPS (each a handful of
 * superblocks: proc, sysfs, tmpfs, devpts, mqueue, its root) every call
 * walks tens of thousands of them. A guest that shuts down calls it
 * (busybox init, systemd), so `vps stop --all` of 10,000 spent most of
 * its time there (docs/performance.md). OpenVZ made a container's sync
 * sync only the container's filesystems for the same reasons.
 *
 * So the VPS's seccomp profile sends sync to the console keeper's
 * listener, as sysinfo (sysinfo.c), and a child of the keeper (whose
 * loop must not wait for a disk) answers with syncfs(2) of each
 * filesystem the guest's durable data can be on: its root (the overlay,
 * whose syncfs syncs its upper layer's filesystem, or its own disk
 * image) and any block device the guest mounted (a device the VPS was
 * given). Its tmpfs, proc, sysfs and the like hold nothing to
 * write back. The call returns 0 as sync does. What the keeper cannot
 * look at (the task's root or mounts) continues in the kernel: the host's
 * sync, as before. Without a keeper the kernel fails sync with ENOSYS,
 * which sync()'s callers ignore: a killed keeper makes the guest's sync a
 * no-op, until `vps restart` (docs/vps.md).
 *
 * As with sysinfo, what the guest can do to the keeper stays within its
 * VPS: a mount point below the guest's own FUSE mount, or a root that is
 * one, can stall the keeper's lookup or syncfs until the guest's FUSE
 * daemon answers, which stalls only this VPS's keeper. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "runtime/vps/internal.h"

#define MAX_DEVICES 64

/* mountinfo's octal escapes (\040 for a space) undone in place. */
static void unescape(char *s)
{
        char *out = s;
        for (; *s; s++) {
                if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' && s[3] >= '0' &&
                    s[3] <= '7') {
                        *out++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
                        s += 3;
                } else {
                        *out++ = *s;
                }
        }
        *out = '\0';
}

/* The mount point, relative to the task's root, resolved inside it: a
 * guest's symlink cannot lead the keeper out. */
static void syncfs_at(int root, const char *mount_point)
{
        struct open_how how = {.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
                               .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
        const char *rel = mount_point[1] ? mount_point + 1 : ".";
        _cleanup_close_ int fd = (int)syscall(SYS_openat2, root, rel, &how, sizeof(how));
        if (fd >= 0)
                syncfs(fd);
}

bool vps_sync_mount_wanted(const char *line, char *mount_point, size_t len, dev_t *dev)
{
        unsigned maj, min;
        char mp[4096];
        if (sscanf(line, "%*u %*u %u:%u %*s %4095s", &maj, &min, mp) != 3 || maj == 0)
                return false;
        unescape(mp);
        if (mp[0] != '/' || strlen(mp) >= len)
                return false;
        strcpy(mount_point, mp);
        *dev = makedev(maj, min);
        return true;
}

/* Block-device filesystems the task mounted besides its root, each once. */
static void sync_devices(int root, const char *mountinfo)
{
        dev_t seen[MAX_DEVICES];
        size_t n = 0;
        for (const char *line = mountinfo; line && *line && n < MAX_DEVICES;) {
                char mp[4096];
                dev_t dev;
                if (vps_sync_mount_wanted(line, mp, sizeof(mp), &dev)) {
                        bool again = false;
                        for (size_t i = 0; i < n; i++)
                                again |= seen[i] == dev;
                        if (!again) {
                                seen[n++] = dev;
                                if (strcmp(mp, "/"))
                                        syncfs_at(root, mp);
                        }
                }
                line = strchr(line, '\n');
                line = line ? line + 1 : NULL;
        }
}

int vps_sync_answer(int notify_fd, uint64_t id, pid_t pid)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
        _cleanup_close_ int root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)pid);
        _cleanup_close_ int mounts = open(path, O_RDONLY | O_CLOEXEC);
        /* After the opens: the pid may have been recycled before them. */
        if (ioctl(notify_fd, SECCOMP_IOCTL_NOTIF_ID_VALID, &id) < 0)
                return 1;
        _cleanup_free_ char *text = NULL;
        if (root < 0 || mounts < 0 || berth_read_fd(mounts, 16 << 20, &text, NULL) < 0 || syncfs(root) < 0)
                return -1;
        sync_devices(root, text);
        return 0;
}
