/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reading and writing cgroupfs files relative to a directory fd.
 *
 * Every write error names the OCI resource and the file, because "Invalid
 * argument" alone does not tell the user which of twenty limits is wrong. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "cgroups/internal.h"

int cg_write(int dfd, const char *file, const char *value, const char *what, struct berth_err *err)
{
        _cleanup_close_ int fd = openat(dfd, file, O_WRONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_err_sys(err, errno, "%s: open %s", what, file);
        size_t len = strlen(value);
        /* cgroupfs takes one write per value; a short write is an error. */
        ssize_t w = write(fd, value, len);
        if (w < 0)
                return berth_err_sys(err, errno, "%s: write '%s' to %s", what, value, file);
        if ((size_t)w != len)
                return berth_err_set(err, EIO, "%s: short write to %s", what, file);
        return 0;
}

int cg_writef(int dfd, const char *file, const char *what, struct berth_err *err, const char *fmt, ...)
{
        char buf[512];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, sizeof(buf), fmt, ap);
        va_end(ap);
        if (n < 0 || (size_t)n >= sizeof(buf))
                return berth_err_set(err, EINVAL, "%s: value for %s too long", what, file);
        return cg_write(dfd, file, buf, what, err);
}

int cg_read(int dfd, const char *file, char **out, struct berth_err *err)
{
        /* No real bound: cgroup.procs of a big cgroup is long. */
        int r = berth_read_file_at(dfd, file, 0, 256 << 20, out, NULL);
        if (r < 0)
                return berth_err_sys(err, -r, "%s %s", r == -ENOENT || r == -EACCES ? "open" : "read", file);
        return 0;
}

bool cg_exists(int dfd, const char *file)
{
        return faccessat(dfd, file, F_OK, 0) == 0;
}

int cg_read_u64(int dfd, const char *file, uint64_t *v, struct berth_err *err)
{
        _cleanup_free_ char *s = NULL;
        int r = cg_read(dfd, file, &s, err);
        if (r < 0)
                return r;
        if (strncmp(s, "max", 3) == 0) {
                *v = BERTH_CG_UNLIMITED;
                return 0;
        }
        char *end;
        errno = 0;
        unsigned long long x = strtoull(s, &end, 10);
        if (errno || end == s)
                return berth_err_set(err, EINVAL, "%s: not a number: %.32s", file, s);
        *v = x;
        return 0;
}
