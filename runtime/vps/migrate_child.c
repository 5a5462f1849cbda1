// SPDX-License-Identifier: GPL-2.0-or-later
/* The programs `vps migrate` runs (the OpenSSH client, rsync): started
 * with pipes, tied to migrate's life by PR_SET_PDEATHSIG so that a
 * migrate killed with -9 takes its connections down with it and the
 * destination's `vps receive` sees the end of its input. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "runtime/vps/migrate.h"

static void child_exec(char *const *argv, const int in[2], const int out[2], pid_t parent)
{
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(127);
        if (in[0] >= 0 && dup2(in[0], STDIN_FILENO) < 0)
                _exit(127);
        if (out[1] >= 0 && dup2(out[1], STDOUT_FILENO) < 0)
                _exit(127);
        signal(SIGPIPE, SIG_DFL);
        execvp(argv[0], argv);
        _exit(127);
}

int vps_child_spawn(char *const *argv, bool pipe_in, bool pipe_out, struct vps_child *c,
                    struct berth_err *err)
{
        int in[2] = {-EBADF, -EBADF}, out[2] = {-EBADF, -EBADF};
        c->pid = -1;
        c->in = c->out = -EBADF;
        if ((pipe_in && pipe2(in, O_CLOEXEC) < 0) || (pipe_out && pipe2(out, O_CLOEXEC) < 0)) {
                int e = errno;
                for (int i = 0; i < 2; i++) {
                        if (in[i] >= 0)
                                close(in[i]);
                        if (out[i] >= 0)
                                close(out[i]);
                }
                return berth_err_sys(err, e, "pipe");
        }
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid == 0)
                child_exec(argv, in, out, parent);
        int e = errno;
        if (in[0] >= 0)
                close(in[0]);
        if (out[1] >= 0)
                close(out[1]);
        if (pid < 0) {
                if (in[1] >= 0)
                        close(in[1]);
                if (out[0] >= 0)
                        close(out[0]);
                return berth_err_sys(err, e, "fork for %s", argv[0]);
        }
        c->pid = pid;
        c->in = in[1];
        c->out = out[0];
        return 0;
}

int vps_child_wait(struct vps_child *c)
{
        if (c->in >= 0)
                close(c->in);
        if (c->out >= 0)
                close(c->out);
        c->in = c->out = -EBADF;
        if (c->pid <= 0)
                return 0;
        int status;
        while (waitpid(c->pid, &status, 0) < 0)
                if (errno != EINTR)
                        return -errno;
        c->pid = -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
