/* --pid-file: clients poll for it, so it must appear complete or not at all. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "runtime/container.h"

int berth_write_pid_file(const char *path, pid_t pid, struct berth_err *err)
{
        if (!path)
                return 0;
        char tmp[PATH_MAX];
        if (snprintf(tmp, sizeof(tmp), "%s.berth-tmp", path) >= (int)sizeof(tmp))
                return berth_err_set(err, ENAMETOOLONG, "pid file path too long: %s", path);
        _cleanup_close_ int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0)
                return berth_err_sys(err, errno, "write pid file %s", path);
        char buf[32];
        int len = snprintf(buf, sizeof(buf), "%d", (int)pid);
        if (write(fd, buf, (size_t)len) != len || rename(tmp, path) < 0) {
                int e = errno;
                unlink(tmp);
                return berth_err_sys(err, e, "write pid file %s", path);
        }
        return 0;
}
