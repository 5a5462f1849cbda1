/* Whole-file reads and complete writes: the one copy of each loop.
 *
 * Return >= 0 or -errno and take no struct berth_err: the callers name
 * the file in their own words ("config.json: read", "write state of x"). */
#ifndef BERTH_FILE_H
#define BERTH_FILE_H

#include <stddef.h>

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

#endif
