/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Puts the exec trampoline into a sealed memfd and runs it (see
 * runtime/trampoline.h for why). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "runtime/process/trampoline.h"

#ifndef MFD_EXEC
#define MFD_EXEC 0x0010U
#endif

static int trampoline_memfd(struct berth_err *err)
{
        /* MFD_EXEC: where vm.memfd_noexec=1 makes memfds non-executable by
         * default. Kernels before 6.3 do not know the flag (EINVAL). */
        int fd = memfd_create("berth-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_EXEC);
        if (fd < 0 && errno == EINVAL)
                fd = memfd_create("berth-exec", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0 && errno == EACCES)
                return berth_err_set(err, EACCES,
                                     "exec trampoline: the kernel refuses executable memfds "
                                     "(vm.memfd_noexec=2); berth will not exec from its own binary "
                                     "inside a container");
        if (fd < 0)
                return berth_err_sys(err, errno, "exec trampoline: memfd_create");
        return fd;
}

int trampoline_create(struct berth_err *err)
{
        _cleanup_close_ int fd = trampoline_memfd(err);
        if (fd < 0)
                return fd;
        int r = berth_write_all(fd, trampoline_image, trampoline_image_size);
        if (r < 0)
                return berth_err_sys(err, -r, "exec trampoline: write memfd");
        /* Execute-only: a non-root container user who execs it cannot read
         * it, so the kernel keeps the short-lived trampoline non-dumpable. */
        if (fchmod(fd, 0111) < 0)
                return berth_err_sys(err, errno, "exec trampoline: chmod memfd");
        /* Sealed: nobody who gets hold of it (/proc/<pid>/exe while it
         * runs) can change what a later process execs. */
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
                return berth_err_sys(err, errno, "exec trampoline: seal memfd");
        return TAKE_FD(fd);
}

char **trampoline_argv(const char *exe, char *const args[], struct berth_err *err)
{
        size_t n = 0;
        while (args && args[n])
                n++;
        char **argv = calloc(n + 3, sizeof(char *));
        if (!argv) {
                berth_err_set(err, ENOMEM, "exec trampoline: argv");
                return NULL;
        }
        argv[0] = (char *)exe;
        for (size_t i = 0; i < n; i++)
                argv[i + 2] = args[i];
        return argv;
}

static int set_report(char *buf, size_t len, enum berth_exec_report report, int report_fd,
                      struct berth_err *err)
{
        if (report == BERTH_EXEC_REPORT_STDERR || report_fd < 0) {
                snprintf(buf, len, "-");
                return 0;
        }
        snprintf(buf, len, "%c%d", report == BERTH_EXEC_REPORT_TEXT ? 't' : 's', report_fd);
        /* The trampoline reports a failing execve on this fd and sets it
         * close-on-exec again, so its EOF still means "execve done". */
        if (fcntl(report_fd, F_SETFD, 0) < 0)
                return berth_err_sys(err, errno, "exec trampoline: report fd %d", report_fd);
        return 0;
}

int trampoline_exec(int fd, char **argv, char *const env[], enum berth_exec_report report, int report_fd,
                    struct berth_err *err)
{
        char report_arg[16];
        int r = set_report(report_arg, sizeof(report_arg), report, report_fd, err);
        if (r < 0)
                return r;
        argv[1] = report_arg;
        syscall(SYS_execveat, fd, "", argv, env, AT_EMPTY_PATH);
        int e = errno;
        if (e != EPERM && e != EACCES && e != ENOSYS)
                return berth_err_sys(err, e, "exec %s", argv[0]); /* E2BIG, ENOMEM...: as execve would */
        char path[32];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
        execve(path, argv, env);
        int e2 = errno;
        /* Falling back to a plain execve from here would run the container's
         * program while /proc/self/exe is the host's berth binary: fail. */
        return berth_err_set(err, e2,
                             "exec %s: cannot run berth's exec trampoline (execveat: %s; execve %s: %s); "
                             "the seccomp profile must allow execveat, or execve with /proc mounted",
                             argv[0], strerror(e), path, strerror(e2));
}
