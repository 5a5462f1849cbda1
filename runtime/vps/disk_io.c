/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The block device I/O limits apply to, and the I/O done on it. Throttling
 * takes whole disks (cgroup v2 refuses partitions), so a partition is
 * traced to its disk through sysfs. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "runtime/vps/disk.h"

static int read_dev_file(const char *path, unsigned *major, unsigned *minor)
{
        char buf[32];
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
        if (n <= 0)
                return -ENOENT;
        buf[n] = 0;
        return sscanf(buf, "%u:%u", major, minor) == 2 ? 0 : -EINVAL;
}

int vps_io_dev_of(const char *path, unsigned *major, unsigned *minor)
{
        struct stat sb;
        if (stat(path, &sb) < 0)
                return -errno;
        *major = major(sb.st_dev);
        *minor = minor(sb.st_dev);
        char p[PATH_MAX];
        snprintf(p, sizeof(p), "/sys/dev/block/%u:%u", *major, *minor);
        if (*major == 0 || access(p, F_OK) < 0)
                return 0; /* tmpfs, overlayfs, a btrfs subvolume: no device of its own */
        snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/partition", *major, *minor);
        if (access(p, F_OK) == 0) {
                snprintf(p, sizeof(p), "/sys/dev/block/%u:%u/../dev", *major, *minor);
                if (read_dev_file(p, major, minor) < 0)
                        return 0;
        }
        return 1;
}

/* The cgroup directory of pid for v1 controller ctl, or the unified one
 * when ctl is NULL. */
static int cgroup_dir(pid_t pid, const char *ctl, char *out, size_t len)
{
        char p[64], line[1024];
        snprintf(p, sizeof(p), "/proc/%d/cgroup", (int)pid);
        _cleanup_fclose_ FILE *f = fopen(p, "re");
        if (!f)
                return -errno;
        while (fgets(line, sizeof(line), f)) {
                line[strcspn(line, "\n")] = 0;
                char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
                if (!c2)
                        continue;
                *c2 = 0;
                const char *ctls = c1 + 1, *path = c2 + 1;
                if (ctl && strstr(ctls, ctl)) {
                        snprintf(out, len, "/sys/fs/cgroup/%s%s", ctl, path);
                        return 0;
                }
                if (!ctl && !*ctls) {
                        snprintf(out, len, "/sys/fs/cgroup%s", path);
                        return 0;
                }
        }
        return -ENOENT;
}

/* v1: "M:m Read N" lines of blkio.throttle.io_service_bytes/io_serviced. */
static int v1_stat(const char *dir, const char *file, unsigned major, unsigned minor, uint64_t *rd,
                   uint64_t *wr)
{
        char p[PATH_MAX], line[256], key[32];
        snprintf(p, sizeof(p), "%s/%s", dir, file);
        _cleanup_fclose_ FILE *f = fopen(p, "re");
        if (!f)
                return -errno;
        snprintf(key, sizeof(key), "%u:%u ", major, minor);
        *rd = *wr = 0;
        while (fgets(line, sizeof(line), f)) {
                if (strncmp(line, key, strlen(key)))
                        continue;
                char op[16];
                uint64_t v;
                if (sscanf(line + strlen(key), "%15s %" SCNu64, op, &v) != 2)
                        continue;
                if (!strcmp(op, "Read"))
                        *rd = v;
                else if (!strcmp(op, "Write"))
                        *wr = v;
        }
        return 0;
}

/* v2: "M:m rbytes=.. wbytes=.. rios=.. wios=.." in io.stat. */
static int v2_stat(const char *dir, unsigned major, unsigned minor, uint64_t out[4])
{
        char p[PATH_MAX], line[1024], key[32];
        snprintf(p, sizeof(p), "%s/io.stat", dir);
        _cleanup_fclose_ FILE *f = fopen(p, "re");
        if (!f)
                return -errno;
        snprintf(key, sizeof(key), "%u:%u ", major, minor);
        memset(out, 0, 4 * sizeof(*out));
        static const char *const names[] = {"rbytes=", "wbytes=", "rios=", "wios="};
        while (fgets(line, sizeof(line), f)) {
                if (strncmp(line, key, strlen(key)))
                        continue;
                for (int i = 0; i < 4; i++) {
                        char *at = strstr(line, names[i]);
                        if (at)
                                out[i] = strtoull(at + strlen(names[i]), NULL, 10);
                }
        }
        return 0;
}

int vps_io_stats(pid_t pid, unsigned major, unsigned minor, uint64_t out[4])
{
        char dir[PATH_MAX];
        if (cgroup_dir(pid, "blkio", dir, sizeof(dir)) == 0) {
                int r = v1_stat(dir, "blkio.throttle.io_service_bytes", major, minor, &out[0], &out[1]);
                return r < 0 ? r : v1_stat(dir, "blkio.throttle.io_serviced", major, minor, &out[2], &out[3]);
        }
        int r = cgroup_dir(pid, NULL, dir, sizeof(dir));
        return r < 0 ? r : v2_stat(dir, major, minor, out);
}
