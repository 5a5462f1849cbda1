/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whole-file reads and complete writes (berth/file.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"

/* A regular file's size is a good first guess; /proc and cgroupfs files
 * say 0 and grow the buffer instead. */
static size_t first_capacity(int fd, size_t max)
{
        struct stat st;
        if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0)
                return (uint64_t)st.st_size < max ? (size_t)st.st_size + 1 : max + 1;
        return max < 4096 ? max + 1 : 4096;
}

int berth_read_fd(int fd, size_t max, char **out, size_t *len)
{
        size_t cap = first_capacity(fd, max), n = 0;
        _cleanup_free_ char *buf = malloc(cap + 1);
        if (!buf)
                return -ENOMEM;
        for (;;) {
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
                        size_t bigger = cap > max / 2 ? max + 1 : cap * 2;
                        char *nb = realloc(buf, bigger + 1);
                        if (!nb)
                                return -ENOMEM;
                        buf = nb;
                        cap = bigger;
                }
        }
        buf[n] = '\0';
        if (len)
                *len = n;
        *out = TAKE_PTR(buf);
        return 0;
}

int berth_read_file_at(int dir_fd, const char *path, int open_flags, size_t max, char **out, size_t *len)
{
        _cleanup_close_ int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | open_flags);
        if (fd < 0)
                return -errno;
        return berth_read_fd(fd, max, out, len);
}

int berth_write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;
        while (len > 0) {
                ssize_t n = write(fd, p, len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0)
                        return -errno;
                if (n == 0)
                        return -EIO; /* would loop forever */
                p += n;
                len -= (size_t)n;
        }
        return 0;
}

static int write_tmp(int fd, const struct iovec *iov, size_t n, const struct berth_atomic_opts *o)
{
        for (size_t i = 0; i < n; i++) {
                int r = berth_write_all(fd, iov[i].iov_base, iov[i].iov_len);
                if (r < 0)
                        return r;
        }
        if (o->chown && fchown(fd, o->uid, o->gid) < 0)
                return -errno;
        if (o->exact_mode && fchmod(fd, o->mode) < 0)
                return -errno;
        if (o->fsync && fsync(fd) < 0)
                return -errno;
        return 0;
}

int berth_write_file_atomic_at(int dir_fd, const char *name, const struct iovec *iov, size_t n,
                               const struct berth_atomic_opts *o)
{
        /* The temp name is ours: whatever is there (a leftover, or a FIFO
         * or symlink someone planted, which would block the open or lead
         * elsewhere) goes first, and the file is created new, so that the
         * open never follows or waits. A directory there is -EISDIR. */
        if (unlinkat(dir_fd, o->tmp, 0) < 0 && errno != ENOENT)
                return errno == EPERM ? -EISDIR : -errno;
        _cleanup_close_ int fd = openat(
            dir_fd, o->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, o->mode);
        if (fd < 0)
                return -errno;
        int r = write_tmp(fd, iov, n, o);
        if (r >= 0 && renameat(dir_fd, o->tmp, dir_fd, name) < 0)
                r = -errno;
        if (r < 0)
                unlinkat(dir_fd, o->tmp, 0);
        return r;
}
