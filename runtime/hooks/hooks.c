/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hook execution: fork + exec with the state on a pipe, bounded by the
 * hook's timeout through a pidfd (no sleep loops). */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "runtime/hooks/hooks.h"

static char *const empty_env[] = {NULL};

__attribute__((noreturn)) static void hook_exec(const struct berth_hook *h, int stdin_fd)
{
        /* dup2 without CLOEXEC on purpose: the hook's stdio. */
        if (dup2(stdin_fd, STDIN_FILENO) < 0)
                _exit(127);
        /* The caller's stdout may be a client's pipe: hooks write to stderr. */
        dup2(STDERR_FILENO, STDOUT_FILENO);
        char *default_args[] = {h->path, NULL};
        execve(h->path, h->args ? h->args : default_args, h->env ? h->env : empty_env);
        _exit(127);
}

/* Writes the state to the hook; a hook may not read it (EPIPE is fine). */
static void feed_state(int fd, const char *state)
{
        berth_write_all(fd, state, strlen(state));
}

static int wait_hook(pid_t pid, const struct berth_hook *h, int *status, struct berth_err *err)
{
        if (h->has_timeout) {
                _cleanup_close_ int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
                if (pidfd < 0)
                        return berth_err_sys(err, errno, "hook %s: pidfd_open", h->path);
                struct pollfd p = {.fd = pidfd, .events = POLLIN};
                int r;
                do
                        r = poll(&p, 1, h->timeout * 1000);
                while (r < 0 && errno == EINTR);
                if (r == 0) {
                        kill(pid, SIGKILL);
                        waitpid(pid, NULL, 0);
                        return berth_err_set(err, ETIMEDOUT, "hook %s: timed out after %d s", h->path,
                                             h->timeout);
                }
        }
        while (waitpid(pid, status, 0) < 0)
                if (errno != EINTR)
                        return berth_err_sys(err, errno, "hook %s: wait", h->path);
        return 0;
}

static int run_one(const struct berth_hook *h, const char *state, struct berth_err *err)
{
        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return berth_err_sys(err, errno, "hook %s: pipe", h->path);
        pid_t pid = fork();
        if (pid < 0) {
                close(pipefd[0]);
                close(pipefd[1]);
                return berth_err_sys(err, errno, "hook %s: fork", h->path);
        }
        if (pid == 0)
                hook_exec(h, pipefd[0]);
        close(pipefd[0]);
        void (*old)(int) = signal(SIGPIPE, SIG_IGN);
        feed_state(pipefd[1], state);
        signal(SIGPIPE, old);
        close(pipefd[1]);
        int status = 0;
        int r = wait_hook(pid, h, &status, err);
        if (r < 0)
                return r;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;
        /* runc's words ("error running hook: signal: bad system call"):
         * its suite and scripts match them. */
        if (WIFEXITED(status))
                return berth_err_set(err, EIO, "hook %s: error running hook: exit status %d", h->path,
                                     WEXITSTATUS(status));
        char sig[64];
        snprintf(sig, sizeof(sig), "%s", strsignal(WTERMSIG(status)));
        sig[0] = (char)tolower((unsigned char)sig[0]);
        return berth_err_set(err, EIO, "hook %s: error running hook: signal: %s (%d)", h->path, sig,
                             WTERMSIG(status));
}

int hooks_run(const struct berth_hooks *hooks, enum berth_hook_kind kind, const char *state_json,
              struct berth_err *err)
{
        for (size_t i = 0; i < hooks->n[kind]; i++) {
                int r = run_one(&hooks->list[kind][i], state_json, err);
                if (r < 0)
                        return berth_err_wrap(err, "%s hook #%zu", berth_hook_kind_name(kind), i);
        }
        return 0;
}

int hooks_run_all(const struct berth_ctx *ctx, const struct berth_hooks *hooks, enum berth_hook_kind kind,
                  const char *state_json)
{
        int failed = 0;
        for (size_t i = 0; i < hooks->n[kind]; i++) {
                struct berth_err err = {0};
                if (run_one(&hooks->list[kind][i], state_json, &err) < 0) {
                        berth_warn(ctx, "%s hook #%zu: %s", berth_hook_kind_name(kind), i, err.msg);
                        failed++;
                }
        }
        return failed;
}
