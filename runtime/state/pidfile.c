/* SPDX-License-Identifier: GPL-2.0-or-later */
/* --pid-file: clients poll for it, so it must appear complete or not at all. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "runtime/container.h"

int write_pid_file(const char *path, pid_t pid, struct berth_err *err)
{
        if (!path)
                return 0;
        char tmp[PATH_MAX];
        if (snprintf(tmp, sizeof(tmp), "%s.berth-tmp", path) >= (int)sizeof(tmp))
                return berth_err_set(err, ENAMETOOLONG, "pid file path too long: %s", path);
        char buf[32];
        struct iovec iov = {buf, (size_t)snprintf(buf, sizeof(buf), "%d", (int)pid)};
        int r = berth_write_file_atomic_at(AT_FDCWD, path, &iov, 1,
                                           &(struct berth_atomic_opts){.tmp = tmp, .mode = 0644});
        return r < 0 ? berth_err_sys(err, -r, "write pid file %s", path) : 0;
}
