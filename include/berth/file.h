/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whole-file reads and complete writes: the one copy of each loop.
 *
 * Return >= 0 or -errno and take no struct berth_err: the callers name
 * the file in their own words ("config.json: read", "write state of x"). */
#ifndef BERTH_FILE_H
#define BERTH_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

/* Reads fd from its offset to end of file into a NUL-terminated malloc'ed
 * buffer (*out; *len its length when len is not NULL). -EFBIG when there
 * is more than max bytes. Works on files that report no size (/proc,
 * cgroupfs, pipes). */
int berth_read_fd(int fd, size_t max, char **out, size_t *len);

/* berth_read_fd of dir_fd/path (dir_fd may be AT_FDCWD), opened
 * O_RDONLY|O_CLOEXEC|O_NOCTTY plus open_flags (e.g. O_NOFOLLOW). */
int berth_read_file_at(int dir_fd, const char *path, int open_flags, size_t max, char **out, size_t *len);

/* Writes all len bytes, retrying on EINTR and short writes. */
int berth_write_all(int fd, const void *buf, size_t len);

/* How berth_write_file_atomic_at writes. */
struct berth_atomic_opts {
        const char *tmp; /* the temp file, in the same directory as name */
        mode_t mode;     /* of the new file, umask applied unless exact_mode */
        bool exact_mode; /* fchmod to mode: 1777 or 0644 whatever our umask */
        bool fsync;      /* on disk before the rename (not for tmpfs state) */
        bool chown;      /* owned by uid:gid (a guest's files) */
        uid_t uid;
        gid_t gid;
};

/* Replaces dir_fd/name (dir_fd may be AT_FDCWD) by the concatenation of
 * iov[0..n): written to o->tmp (whatever was at that name removed first,
 * then created new: never through a symlink, never waiting on a FIFO; a
 * directory there is -EISDIR), then renamed over name, so a reader sees the old file or the
 * new one, never half of one. The temp file is removed on failure. */
int berth_write_file_atomic_at(int dir_fd, const char *name, const struct iovec *iov, size_t n,
                               const struct berth_atomic_opts *o);

#endif
