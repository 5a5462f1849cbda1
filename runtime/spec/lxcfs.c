// SPDX-License-Identifier: GPL-2.0-or-later
/* The lxcfs view of a container (berth/lxcfs.h): its files bound over
 * /proc and /sys after every other mount, so that they land on the
 * container's own proc and sysfs. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/lxcfs.h"
#include "runtime/spec/internal.h"

#ifndef FUSE_SUPER_MAGIC
#define FUSE_SUPER_MAGIC 0x65735546
#endif

/* What lxcfs 5 serves, as paths below its mount and in the container. */
static const char *const lxcfs_files[] = {
    "/proc/meminfo", "/proc/cpuinfo", "/proc/stat",      "/proc/uptime",
    "/proc/loadavg", "/proc/swaps",   "/proc/diskstats", "/sys/devices/system/cpu/online",
};

const char *berth_lxcfs_dir(void)
{
        const char *d = getenv(BERTH_LXCFS_ENV);
        return d && *d ? d : BERTH_LXCFS_DEFAULT_DIR;
}

bool berth_lxcfs_running(const char *dir)
{
        struct statfs sf;
        char path[4096];
        struct stat sb;
        if (statfs(dir, &sf) < 0 || sf.f_type != FUSE_SUPER_MAGIC)
                return false;
        snprintf(path, sizeof(path), "%s/proc/meminfo", dir);
        return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

enum berth_lxcfs_want berth_spec_wants_lxcfs(const struct berth_spec *s)
{
        const char *v = berth_spec_annotation(s, BERTH_LXCFS_ANNOTATION);
        return !v                   ? BERTH_LXCFS_OFF
               : !strcmp(v, "true") ? BERTH_LXCFS_ON
               : !strcmp(v, "auto") ? BERTH_LXCFS_AUTO
                                    : BERTH_LXCFS_OFF;
}

/* Read-only: nothing in them is writable, and a guest must not be able to
 * turn the bind into something else. */
static json_t *bind_json(const char *dir, const char *file)
{
        char src[4096];
        snprintf(src, sizeof(src), "%s%s", dir, file);
        return json_pack("{s:s, s:s, s:s, s:[s, s, s, s, s]}", "destination", file, "type", "bind", "source",
                         src, "options", "bind", "ro", "nosuid", "nodev", "noexec");
}

int berth_spec_add_lxcfs(struct berth_spec *s, const char *dir, size_t *added, struct berth_err *err)
{
        *added = 0;
        _cleanup_json_ json_t *arr = json_array();
        if (!arr)
                return spec_oom(err, "lxcfs");
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(lxcfs_files); i++) {
                char src[4096];
                struct stat sb;
                snprintf(src, sizeof(src), "%s%s", dir, lxcfs_files[i]);
                /* An older lxcfs serves fewer files: bind what it has. */
                if (stat(src, &sb) < 0 || !S_ISREG(sb.st_mode))
                        continue;
                if (json_array_append_new(arr, bind_json(dir, lxcfs_files[i])) < 0)
                        return spec_oom(err, "lxcfs");
        }
        int r = spec_append_mounts(arr, "lxcfs", s, err);
        if (r >= 0)
                *added = json_array_size(arr);
        return r;
}
