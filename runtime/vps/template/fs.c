/* Tree helpers for templates: recursive removal that never crosses a
 * mount point, disk usage, small file read/write relative to a dir fd. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runtime/vps/template/internal.h"

static bool is_dot(const char *n)
{
        return !strcmp(n, ".") || !strcmp(n, "..");
}

/* Opens a child directory for a walk; -EBUSY when it is a mount point: a
 * walk that deletes must never reach into a mounted filesystem (a /dev or
 * /proc left mounted by a failed build would otherwise be emptied). */
static int open_subdir(int dirfd, const char *name)
{
        struct statx stx;
        if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_TYPE, &stx) < 0)
                return -errno;
        if ((stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT) && (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT))
                return -EBUSY;
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd < 0 ? -errno : fd;
}

static int rm_entry(int dirfd, const char *name, bool is_dir)
{
        if (!is_dir)
                return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
        _cleanup_close_ int sub = open_subdir(dirfd, name);
        if (sub < 0)
                return sub;
        int r = tmpl_rm_children(sub, NULL, NULL);
        if (r < 0)
                return r;
        return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -errno : 0;
}

int tmpl_rm_children(int dirfd, bool (*keep)(void *data, const char *name, bool is_dir), void *data)
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
                if (is_dot(de->d_name))
                        continue;
                struct stat st;
                if (fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                        if (errno == ENOENT)
                                continue;
                        return -errno;
                }
                bool is_dir = S_ISDIR(st.st_mode);
                if (keep && keep(data, de->d_name, is_dir))
                        continue;
                int r = rm_entry(dirfd, de->d_name, is_dir);
                if (r < 0)
                        return r;
        }
        return errno ? -errno : 0;
}

int tmpl_rm_rf_at(int dirfd, const char *name)
{
        struct stat st;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : -errno;
        return rm_entry(dirfd, name, S_ISDIR(st.st_mode));
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
                _cleanup_close_ int sub = open_subdir(dirfd, de->d_name);
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

int tmpl_read_fd(int fd, size_t max, char **out, size_t *len)
{
        size_t cap = 4096, n = 0;
        _cleanup_free_ char *buf = malloc(cap + 1);
        for (;;) {
                if (!buf)
                        return -ENOMEM;
                ssize_t r = read(fd, buf + n, cap - n);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r < 0)
                        return -errno;
                if (r == 0)
                        break;
                n += (size_t)r;
                if (n > max)
                        return -EFBIG;
                if (n == cap) {
                        cap *= 2;
                        char *nb = realloc(buf, cap + 1);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                }
        }
        buf[n] = '\0';
        if (len)
                *len = n;
        *out = TAKE_PTR(buf);
        return 0;
}

int tmpl_read_file_at(int dirfd, const char *name, size_t max, char **out, size_t *len)
{
        _cleanup_close_ int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return tmpl_read_fd(fd, max, out, len);
}

int tmpl_write_file_at(int dirfd, const char *name, const char *content, mode_t mode)
{
        _cleanup_close_ int fd =
            openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
        if (fd < 0)
                return -errno;
        size_t len = strlen(content), off = 0;
        while (off < len) {
                ssize_t w = write(fd, content + off, len - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w < 0)
                        return -errno;
                off += (size_t)w;
        }
        /* The umask must not weaken modes such as 1777 or tighten 0644. */
        return fchmod(fd, mode) < 0 ? -errno : 0;
}
