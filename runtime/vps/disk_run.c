/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The e2fsprogs tools the image backend needs (mke2fs, e2fsck, resize2fs),
 * run as children: their own last line of stderr says what went wrong. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "runtime/vps/disk.h"

/* In the child: only async-signal-safe calls until exec. */
static void child(const char *const *argv, int errfd)
{
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(errfd, 2) < 0)
                _exit(127);
        static const char *const dirs[] = {"/usr/sbin/", "/sbin/", "/usr/bin/"};
        char path[256];
        for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
                size_t a = strlen(dirs[i]), b = strlen(argv[0]);
                if (a + b >= sizeof(path))
                        continue;
                memcpy(path, dirs[i], a);
                memcpy(path + a, argv[0], b + 1);
                execv(path, (char *const *)argv);
        }
        execvp(argv[0], (char *const *)argv);
        _exit(127);
}

/* The last non-empty line of buf (modified in place). */
static const char *last_line(char *buf)
{
        size_t n = strlen(buf);
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
                buf[--n] = 0;
        char *nl = strrchr(buf, '\n');
        return nl ? nl + 1 : buf;
}

int vps_storage_run(const char *const *argv, struct berth_err *err)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return berth_err_sys(err, errno, "pipe");
        pid_t pid = fork();
        if (pid < 0) {
                int e = errno;
                close(p[0]);
                close(p[1]);
                return berth_err_sys(err, e, "fork");
        }
        if (pid == 0)
                child(argv, p[1]);
        close(p[1]);
        char buf[4096];
        size_t n = 0;
        ssize_t k;
        /* Keep the tail: the reason comes last. */
        while ((k = read(p[0], buf + n, sizeof(buf) - 1 - n)) != 0) {
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        break;
                n += (size_t)k;
                if (n == sizeof(buf) - 1) {
                        memmove(buf, buf + n / 2, n - n / 2);
                        n -= n / 2;
                }
        }
        buf[n] = 0;
        close(p[0]);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return berth_err_sys(err, errno, "wait for %s", argv[0]);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
                return berth_err_set(err, ENOENT, "%s: not found (install e2fsprogs)", argv[0]);
        /* e2fsck: 1 = errors corrected, still a usable file system. */
        if (WIFEXITED(status) &&
            (WEXITSTATUS(status) == 0 || (WEXITSTATUS(status) == 1 && !strcmp(argv[0], "e2fsck"))))
                return 0;
        return berth_err_set(err, EIO, "%s failed (%s %d): %s", argv[0],
                             WIFEXITED(status) ? "exit" : "signal",
                             WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), last_line(buf));
}
