// SPDX-License-Identifier: GPL-2.0-or-later
/* vps clone: a backup of the source piped into a restore under the new
 * name, so that a clone is made by exactly the code that makes backups
 * and restores (ids through the guest's view into a range of its own,
 * xattrs, capabilities, ACLs, sparse files, hard links, the source frozen
 * while it is read). A child writes the uncompressed archive into a pipe;
 * we restore from its other end. The clone is a new machine: a new MAC,
 * no addresses but those given, and without the source's machine-id and
 * SSH host keys, which its first start makes anew (identity.c). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/vps.h"
#include "runtime/vps/backup.h"
#include "runtime/vps/internal.h"

/* The child: the source's archive on fd, its error on errfd. */
_Noreturn static void writer(const struct berth_vps_ctx *v, const char *src, int fd, int errfd)
{
        /* A reader that gave up must not kill us while the source is
         * frozen: the write fails instead, and the source is thawed. */
        signal(SIGPIPE, SIG_IGN);
        struct berth_vps_backup_opts o = {0};
        struct berth_vps_archive_result res;
        struct berth_err err = {0};
        int r = vps_backup_fd(v, src, fd, &o, false, &res, &err);
        close(fd);
        char msg[sizeof(err.msg) + 16];
        int n = snprintf(msg, sizeof(msg), "%d:%s", err.code, err.msg);
        if (r < 0 && write(errfd, msg, (size_t)n) < 0)
                _exit(2);
        _exit(r < 0 ? 1 : 0);
}

static int wait_writer(pid_t pid, int errfd, struct berth_err *werr)
{
        char msg[sizeof(werr->msg) + 16];
        ssize_t n = read(errfd, msg, sizeof(msg) - 1);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return berth_err_sys(werr, errno, "wait for the copy of the source");
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        msg[n > 0 ? n : 0] = '\0';
        char *text = strchr(msg, ':');
        int code = text ? atoi(msg) : 0;
        return berth_err_set(werr, code > 0 ? code : EIO, "%s",
                             text ? text + 1 : "the copy of the source failed");
}

int berth_vps_clone(const struct berth_vps_ctx *v, const char *src, const char *dst, const char *const *ips,
                    struct berth_vps_archive_result *res, struct berth_err *err)
{
        memset(res, 0, sizeof(*res));
        if (!berth_vps_name_valid(src) || !berth_vps_name_valid(dst))
                return berth_err_set(err, EINVAL, "clone: invalid VPS name \"%s\"",
                                     berth_vps_name_valid(src) ? dst : src);
        if (!strcmp(src, dst))
                return berth_err_set(err, EEXIST, "clone: VPS %s already exists", dst);
        int data[2], errp[2];
        if (pipe2(data, O_CLOEXEC) < 0)
                return berth_err_sys(err, errno, "clone: pipe");
        if (pipe2(errp, O_CLOEXEC) < 0) {
                close(data[0]), close(data[1]);
                return berth_err_sys(err, errno, "clone: pipe");
        }
        pid_t pid = fork();
        if (pid == 0) {
                close(data[0]);
                close(errp[0]);
                writer(v, src, data[1], errp[1]);
        }
        close(data[1]);
        close(errp[1]);
        _cleanup_close_ int rfd = data[0], efd = errp[0];
        if (pid < 0)
                return berth_err_sys(err, errno, "clone: fork");
        struct berth_vps_restore_opts o = {.name = dst, .ips = ips};
        int r = vps_restore_fd(v, rfd, &o, true, res, err);
        /* A restore that failed early leaves the writer blocked: closing
         * our end ends its write with EPIPE, and it thaws the source. */
        close(TAKE_FD(rfd));
        struct berth_err werr = {0};
        int w = wait_writer(pid, efd, &werr);
        /* The source's own failure says more than the truncated stream. */
        if (w < 0 && (r >= 0 || err->code == EBADMSG))
                r = berth_err_set(err, werr.code, "%s", werr.msg);
        return r < 0 ? berth_err_wrap(err, "clone VPS %s to %s", src, dst) : 0;
}
