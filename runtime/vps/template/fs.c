/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tree helpers for templates: disk usage that never crosses a mount
 * point, mkdir -p, small file writes relative to a dir fd. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/file.h"
#include "berth/rmtree.h"
#include "runtime/vps/template/internal.h"

static bool is_dot(const char *n)
{
        return !strcmp(n, ".") || !strcmp(n, "..");
}

static int du_walk(int dirfd, struct tmpl_strset *seen, uint64_t *total)
{
        int own_fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (own_fd < 0)
                return -errno;
        _cleanup_closedir_ DIR *d = fdopendir(own_fd);
        if (!d) {
                close(own_fd);
                return -errno;
        }
        struct dirent *de;
        while ((errno = 0, de = readdir(d))) {
                struct stat st;
                if (is_dot(de->d_name) || fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
                        char key[32];
                        snprintf(key, sizeof(key), "%" PRIu64, (uint64_t)st.st_ino);
                        int r = tmpl_strset_add(seen, key);
                        if (r <= 0) {
                                if (r < 0)
                                        return r;
                                continue; /* another link of an inode already counted */
                        }
                }
                *total += (uint64_t)st.st_blocks * 512;
                if (!S_ISDIR(st.st_mode))
                        continue;
                _cleanup_close_ int sub = berth_open_dir_nomount(dirfd, de->d_name);
                if (sub < 0)
                        continue; /* a mount point is not part of the template */
                int r = du_walk(sub, seen, total);
                if (r < 0)
                        return r;
        }
        return errno ? -errno : 0;
}

int tmpl_disk_usage(int dirfd, uint64_t *out)
{
        struct tmpl_strset seen = {0};
        struct stat st;
        *out = fstat(dirfd, &st) == 0 ? (uint64_t)st.st_blocks * 512 : 0;
        int r = du_walk(dirfd, &seen, out);
        tmpl_strset_free(&seen);
        return r;
}

int tmpl_mkdir_p(const char *path, mode_t mode)
{
        char buf[PATH_MAX];
        if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
                return -ENAMETOOLONG;
        for (char *p = buf + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(buf, mode) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(buf, mode) < 0 && errno != EEXIST)
                return -errno;
        struct stat st;
        if (stat(buf, &st) < 0)
                return -errno;
        return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int tmpl_write_file_at(int dirfd, const char *name, const char *content, mode_t mode)
{
        _cleanup_close_ int fd =
            openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        int r = berth_write_all(fd, content, strlen(content));
        if (r < 0)
                return r;
        /* The umask must not weaken modes such as 1777 or tighten 0644. */
        return fchmod(fd, mode) < 0 ? -errno : 0;
}
