// SPDX-License-Identifier: GPL-2.0-or-later
/* How often a VPS ran into its disk or inode limit, counted by its console
 * keeper (the one process a running VPS has on the host; no daemon) into
 * <dir>/disk-hits, which `vps status` reads. What can be counted depends
 * on the backend, and status says which:
 *
 *   project  exact, from the kernel: a write refused at a project quota's
 *            hard limit sends a quota warning (generic netlink family
 *            VFS_DQUOT, QUOTA_NL_BHARDWARN or QUOTA_NL_IHARDWARN with the
 *            project id). The kernel warns once per run into the limit: a
 *            refusal counts again only after the VPS freed something
 *            (fs/quota/dquot.c re-arms the warning when usage drops). So
 *            the count is how often the VPS hit the limit, not how many
 *            writes failed while it stayed there ("quota warnings").
 *   image    ext4 keeps no count of the ENOSPC it returns (its
 *            sra_exceeded_retry_limit counts some refusals but not those
 *            of a disk with no block left),
 *            and the loop-mounted image cannot carry a quota of its own on
 *            a kernel without quota formats (this host's). So the keeper
 *            looks at the image's statfs once a second and counts each
 *            time it finds it full (less than 1 MiB, or no inode, free;
 *            btrfs: less than 1/64 of its size, 1 to 16 MiB, free)
 *            after finding it not full: an episode shorter than a second between two looks is
 *            missed ("full seen").
 *
 * The kernel sends quota warnings only in the initial network namespace
 * (the family is not netns-aware): a `vps start` run in another one (the
 * tests) opens the socket in pid 1's, and only listens there. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/quota.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/vps.h"
#include "runtime/vps/internal.h"

#ifndef PRJQUOTA
#define PRJQUOTA 2
#endif
#define HITS_FILE "disk-hits"
/* The image counts as full below this much room: ext4 refuses a large
 * write with a few hundred KiB still free (measured: 392 KiB left of 64M
 * after dd bs=1M got ENOSPC). */
#define FULL_SLACK (1 << 20)

int vps_disk_hits_read(const char *path, uint64_t n[2], bool full[2])
{
        _cleanup_fclose_ FILE *f = fopen(path, "re");
        if (!f)
                return -errno;
        unsigned long long d, i;
        int fd = 0, fi = 0;
        int k = fscanf(f, "disk %llu inodes %llu full %d %d", &d, &i, &fd, &fi);
        if (k < 2)
                return -EINVAL;
        n[0] = d, n[1] = i;
        if (full)
                full[0] = k == 4 && fd, full[1] = k == 4 && fi;
        return 0;
}

static void hits_save(const struct vps_disk_hits *h)
{
        char tmp[PATH_MAX + 8];
        snprintf(tmp, sizeof(tmp), "%s.new", h->path);
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return;
        /* The image's last look goes with the counts: a VPS restarted with
         * its disk still full has not hit the limit again. */
        if (dprintf(fd, "disk %llu inodes %llu full %d %d\n", (unsigned long long)h->n[0],
                    (unsigned long long)h->n[1], h->full[0], h->full[1]) > 0)
                rename(tmp, h->path);
}

/* A socket in the initial network namespace, in the quota warnings'
 * multicast group (its id is the family's fixed one, GENL_ID_VFS_DQUOT:
 * kernel ABI kept for old listeners). */
static int quota_socket(struct berth_err *err)
{
        _cleanup_close_ int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
        _cleanup_close_ int init = open("/proc/1/ns/net", O_RDONLY | O_CLOEXEC);
        struct stat a, b;
        bool other = self >= 0 && init >= 0 && fstat(self, &a) == 0 && fstat(init, &b) == 0 &&
                     (a.st_ino != b.st_ino || a.st_dev != b.st_dev);
        if (other && setns(init, CLONE_NEWNET) < 0)
                return berth_err_sys(err, errno, "join the initial network namespace for quota warnings");
        int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_GENERIC);
        int e = errno;
        if (other && setns(self, CLONE_NEWNET) < 0) {
                e = errno;
                if (fd >= 0)
                        close(fd);
                return berth_err_sys(err, e, "return to our network namespace");
        }
        if (fd < 0)
                return berth_err_sys(err, e, "netlink socket for quota warnings");
        struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
        int group = GENL_ID_VFS_DQUOT;
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
            setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof(group)) < 0) {
                e = errno;
                close(fd);
                return berth_err_sys(err, e, "join the quota warnings (VFS_DQUOT) group");
        }
        return fd;
}

static int hits_fd(const struct berth_vps_config *cfg, const char *dir, struct vps_disk_hits *h,
                   struct berth_err *err)
{
        if (cfg->disk.backend == BERTH_VPS_DISK_PROJECT) {
                struct stat st;
                if (stat(dir, &st) < 0)
                        return berth_err_sys(err, errno, "stat %s", dir);
                h->dev = st.st_dev;
                return h->fd = quota_socket(err);
        }
        h->fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        struct itimerspec its = {.it_interval = {1, 0}, .it_value = {1, 0}};
        if (h->fd < 0 || timerfd_settime(h->fd, 0, &its, NULL) < 0)
                return berth_err_sys(err, errno, "timerfd for the disk's looks");
        return 0;
}

int vps_disk_hits_open(const struct berth_vps_ctx *v, const struct berth_vps_config *cfg,
                       struct vps_disk_hits *h, struct berth_err *err)
{
        *h = (struct vps_disk_hits){
            .fd = -EBADF, .backend = cfg->disk.backend, .project_id = cfg->disk.project_id};
        if (cfg->disk.backend == BERTH_VPS_DISK_NONE)
                return 0;
        char dir[PATH_MAX];
        berth_vps_path(v, cfg->name, NULL, dir, sizeof(dir));
        berth_vps_path(v, cfg->name, HITS_FILE, h->path, sizeof(h->path));
        int r = hits_fd(cfg, dir, h, err);
        if (r < 0) {
                /* Counts that stop being kept are not shown as if they were. */
                unlink(h->path);
                return r;
        }
        /* The count goes on from the VPS's earlier runs; a VPS that counts
         * has the file (0 0 at first). */
        if (vps_disk_hits_read(h->path, h->n, h->full) < 0)
                h->n[0] = h->n[1] = 0, h->full[0] = h->full[1] = false;
        hits_save(h);
        return 0;
}

void vps_disk_hits_resume(struct vps_disk_hits *h, const struct berth_vps_ctx *v, const char *name, int fd,
                          enum berth_vps_disk_backend backend, uint32_t project_id, dev_t dev)
{
        *h = (struct vps_disk_hits){.fd = fd, .backend = backend, .project_id = project_id, .dev = dev};
        if (fd < 0)
                return;
        berth_vps_path(v, name, HITS_FILE, h->path, sizeof(h->path));
        if (vps_disk_hits_read(h->path, h->n, h->full) < 0)
                h->n[0] = h->n[1] = 0, h->full[0] = h->full[1] = false;
}

void vps_disk_hits_close(struct vps_disk_hits *h)
{
        berth_closep(&h->fd);
}

/* One quota warning: ours when it is a hard limit of our project on our
 * file system. */
static void quota_message(struct vps_disk_hits *h, const struct nlmsghdr *nh, bool *changed)
{
        if (nh->nlmsg_type != GENL_ID_VFS_DQUOT || nh->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN))
                return;
        uint64_t a[QUOTA_NL_A_MAX + 1] = {0};
        bool seen[QUOTA_NL_A_MAX + 1] = {0};
        const char *p = (const char *)NLMSG_DATA(nh) + GENL_HDRLEN, *end = (const char *)nh + nh->nlmsg_len;
        while (p + NLA_HDRLEN <= end) {
                const struct nlattr *na = (const struct nlattr *)p;
                if (na->nla_len < NLA_HDRLEN || p + na->nla_len > end)
                        break;
                unsigned t = na->nla_type & NLA_TYPE_MASK;
                size_t len = na->nla_len - NLA_HDRLEN;
                if (t <= QUOTA_NL_A_MAX && (len == 4 || len == 8)) {
                        uint64_t x = 0;
                        memcpy(&x, p + NLA_HDRLEN, len); /* little-endian: 4 bytes fill the low half */
                        a[t] = len == 4 ? (uint32_t)x : x;
                        seen[t] = true;
                }
                p += NLA_ALIGN(na->nla_len);
        }
        if (!seen[QUOTA_NL_A_QTYPE] || !seen[QUOTA_NL_A_EXCESS_ID] || !seen[QUOTA_NL_A_WARNING] ||
            a[QUOTA_NL_A_QTYPE] != PRJQUOTA || a[QUOTA_NL_A_EXCESS_ID] != h->project_id ||
            makedev(a[QUOTA_NL_A_DEV_MAJOR], a[QUOTA_NL_A_DEV_MINOR]) != h->dev)
                return;
        if (a[QUOTA_NL_A_WARNING] == QUOTA_NL_BHARDWARN)
                h->n[0]++, *changed = true;
        else if (a[QUOTA_NL_A_WARNING] == QUOTA_NL_IHARDWARN)
                h->n[1]++, *changed = true;
}

bool vps_disk_hits_datagram(struct vps_disk_hits *h, const void *buf, size_t len)
{
        bool changed = false;
        for (const struct nlmsghdr *nh = buf; NLMSG_OK(nh, len); nh = NLMSG_NEXT(nh, len))
                quota_message(h, nh, &changed);
        return changed;
}

static bool quota_events(struct vps_disk_hits *h)
{
        char buf[4096] __attribute__((aligned(NLMSG_ALIGNTO)));
        bool changed = false;
        ssize_t n;
        while ((n = recv(h->fd, buf, sizeof(buf), 0)) > 0 || (n < 0 && errno == ENOBUFS))
                /* ENOBUFS: warnings were dropped; the count is short by them. */
                if (n > 0 && vps_disk_hits_datagram(h, buf, (size_t)n))
                        changed = true;
        return changed;
}

/* The image's statfs, as the guest's root shows it (the image is mounted
 * in the guest's mount namespace only). */
static bool image_look(struct vps_disk_hits *h, const struct berth_vps_ctx *v, const char *name)
{
        uint64_t ticks;
        if (read(h->fd, &ticks, sizeof(ticks)) < 0)
                return false;
        char root[64];
        struct statfs f;
        snprintf(root, sizeof(root), "/proc/%d/root", (int)h->pid);
        if (h->pid <= 0 || statfs(root, &f) < 0) {
                /* Not known yet (the worker is still starting it), or a new one. */
                struct berth_container_info info;
                struct berth_err e = {0};
                if (vps_container_load(v, name, &info, &e) < 0)
                        return false;
                h->pid = info.status == BERTH_STATUS_RUNNING ? info.st.pid : 0;
                berth_container_info_clear(&info);
                snprintf(root, sizeof(root), "/proc/%d/root", (int)h->pid);
                if (h->pid <= 0 || statfs(root, &f) < 0)
                        return false;
        }
        /* btrfs counts no inodes (f_files 0: the overlay's statfs says
         * overlay, not which file system is below): never full of them, and
         * it refuses a write with more room left than ext4 (measured: 1.6
         * MiB of 256M), its metadata's reserve: 1/64 of it, 1 to 16 MiB. */
        uint64_t size = (uint64_t)f.f_blocks * (uint64_t)f.f_bsize, slack = FULL_SLACK;
        if (!f.f_files)
                slack = size / 64 < FULL_SLACK        ? FULL_SLACK
                        : size / 64 > 16 * FULL_SLACK ? 16 * FULL_SLACK
                                                      : size / 64;
        bool full[2] = {(uint64_t)f.f_bavail * (uint64_t)f.f_bsize < slack, f.f_files && f.f_ffree == 0};
        bool changed = false;
        for (int i = 0; i < 2; i++) {
                if (full[i] != h->full[i])
                        changed = true;
                if (full[i] && !h->full[i])
                        h->n[i]++;
                h->full[i] = full[i];
        }
        return changed;
}

void vps_disk_hits_event(struct vps_disk_hits *h, const struct berth_vps_ctx *v, const char *name)
{
        bool changed = h->backend == BERTH_VPS_DISK_PROJECT ? quota_events(h) : image_look(h, v, name);
        if (changed)
                hits_save(h);
}

const char *vps_disk_hits_kind(enum berth_vps_disk_backend b)
{
        return b == BERTH_VPS_DISK_PROJECT ? "quota warnings" : "full seen";
}
