/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Foreground waiting with signal forwarding, and exit waits on pidfds. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "runtime/verbs/stdio_guard.h"
#include "runtime/verbs/wait.h"

static const int forwarded[] = {SIGINT,  SIGTERM,  SIGHUP,  SIGQUIT, SIGUSR1,
                                SIGUSR2, SIGWINCH, SIGCONT, SIGPWR};

static int collect(pid_t pid, int *exit_code, struct berth_err *err)
{
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return berth_err_sys(err, errno, "wait for container init %d", (int)pid);
        *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return 0;
}

int container_wait_forwarding(pid_t pid, int pidfd, struct stdio_guard *g, int *exit_code,
                              struct berth_err *err)
{
        sigset_t set, old;
        sigemptyset(&set);
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(forwarded); i++)
                sigaddset(&set, forwarded[i]);
        sigprocmask(SIG_BLOCK, &set, &old);
        _cleanup_close_ int sfd = signalfd(-1, &set, SFD_CLOEXEC);
        if (sfd < 0) {
                sigprocmask(SIG_SETMASK, &old, NULL);
                return berth_err_sys(err, errno, "signalfd");
        }
        for (;;) {
                struct pollfd p[5] = {{.fd = pidfd, .events = POLLIN}, {.fd = sfd, .events = POLLIN}};
                size_t n = g ? stdio_guard_pollfds(g, p + 2) : 0;
                if (poll(p, 2 + n, -1) < 0 && errno != EINTR)
                        break;
                if (p[0].revents)
                        break;
                struct signalfd_siginfo si;
                if (p[1].revents && read(sfd, &si, sizeof(si)) == sizeof(si))
                        syscall(SYS_pidfd_send_signal, pidfd, (int)si.ssi_signo, NULL, 0);
                if (g)
                        stdio_guard_pump(g, p + 2, n);
        }
        if (g)
                stdio_guard_drain(g);
        int r = collect(pid, exit_code, err);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return r;
}

int container_wait_exit(int pidfd, int timeout_ms, struct berth_err *err)
{
        struct pollfd p = {.fd = pidfd, .events = POLLIN};
        int r;
        do
                r = poll(&p, 1, timeout_ms);
        while (r < 0 && errno == EINTR);
        if (r < 0)
                return berth_err_sys(err, errno, "wait for container exit");
        if (r == 0)
                return berth_err_set(err, ETIMEDOUT, "container did not exit in time");
        return 0;
}
