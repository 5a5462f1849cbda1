/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Safe path resolution inside a container root.
 *
 * A container image is untrusted: any component of a mount destination may
 * be a symlink to "/" or "../../etc" of the host, and it may be swapped while
 * we work (CVE-2021-30465). Everything here resolves with openat2 and
 * RESOLVE_IN_ROOT from an O_PATH fd of the root, so the kernel treats that fd
 * as "/" for absolute symlinks and "..": the result is always inside the root.
 * Callers then attach mounts to the returned fd, never to a path string. */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/rootfs.h"

/* openat2 returns EAGAIN when a rename raced with ".." resolution; that is
 * rare and harmless to retry a few times. */
#define OPENAT2_RETRIES 32

int berth_in_root_open(int rootfd, const char *path, int flags)
{
        struct open_how how = {
            .flags = (uint64_t)(flags | O_CLOEXEC),
            .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        while (*path == '/')
                path++;
        if (*path == '\0')
                path = ".";
        for (int i = 0; i < OPENAT2_RETRIES; i++) {
                int fd = (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
                if (fd >= 0)
                        return fd;
                if (errno != EAGAIN)
                        return -errno;
        }
        return -EAGAIN;
}

static bool is_dot_or_dotdot(const char *name)
{
        return strcmp(name, ".") == 0 || strcmp(name, "..") == 0;
}

/* Walks `buf` (a writable copy of the path) one component at a time: every
 * prefix is resolved from the root again, so a symlinked component is
 * followed inside the root, and a missing one is created in the directory
 * its parent resolved to. */
static int mkdir_walk(int rootfd, char *buf, mode_t mode)
{
        _cleanup_close_ int cur = -EBADF;
        char *p = buf;
        while (*p == '/')
                p++;
        while (*p) {
                char *name = p;
                char *end = strchrnul(p, '/');
                char saved = *end;
                *end = '\0';
                int parent = cur >= 0 ? cur : rootfd;
                int fd = berth_in_root_open(rootfd, buf, O_PATH | O_DIRECTORY);
                if (fd == -ENOENT && !is_dot_or_dotdot(name)) {
                        if (mkdirat(parent, name, mode) < 0 && errno != EEXIST)
                                return -errno;
                        fd = berth_in_root_open(rootfd, buf, O_PATH | O_DIRECTORY);
                }
                if (fd < 0)
                        return fd;
                berth_closep(&cur);
                cur = fd;
                *end = saved;
                p = end;
                while (*p == '/')
                        p++;
        }
        if (cur < 0)
                return berth_in_root_open(rootfd, ".", O_PATH | O_DIRECTORY);
        return TAKE_FD(cur);
}

int berth_in_root_mkdir_p(int rootfd, const char *path, mode_t mode)
{
        int fd = berth_in_root_open(rootfd, path, O_PATH | O_DIRECTORY);
        if (fd != -ENOENT)
                return fd;
        _cleanup_free_ char *buf = strdup(path);
        if (!buf)
                return -ENOMEM;
        return mkdir_walk(rootfd, buf, mode);
}

/* Creates an empty regular file `path` inside the root. O_EXCL|O_NOFOLLOW:
 * if the name is (or became) a symlink, nothing is created through it. */
static int create_file(int rootfd, const char *path)
{
        _cleanup_free_ char *buf = strdup(path);
        if (!buf)
                return -ENOMEM;
        size_t len = strlen(buf);
        while (len > 1 && buf[len - 1] == '/')
                buf[--len] = '\0';
        char *slash = strrchr(buf, '/');
        const char *name = slash ? slash + 1 : buf;
        if (*name == '\0' || is_dot_or_dotdot(name))
                return -EINVAL;
        _cleanup_close_ int pfd = -EBADF;
        if (slash) {
                *slash = '\0';
                pfd = berth_in_root_mkdir_p(rootfd, *buf ? buf : "/", 0755);
        } else {
                pfd = berth_in_root_open(rootfd, ".", O_PATH | O_DIRECTORY);
        }
        if (pfd < 0)
                return pfd;
        int fd = openat(pfd, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0 && errno != EEXIST)
                return -errno;
        if (fd >= 0)
                close(fd);
        return 0;
}

int berth_in_root_mount_target(int rootfd, const char *path, bool want_dir)
{
        int fd = berth_in_root_open(rootfd, path, O_PATH);
        if (fd != -ENOENT)
                return fd;
        if (want_dir)
                return berth_in_root_mkdir_p(rootfd, path, 0755);
        int r = create_file(rootfd, path);
        if (r < 0)
                return r;
        return berth_in_root_open(rootfd, path, O_PATH);
}
