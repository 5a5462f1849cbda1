/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Terminal stdio of a process without a terminal of its own: replaced by a
 * relayed pipe or /dev/null (why: stdio_guard.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "runtime/verbs/stdio_guard.h"

/* Whether stdin is a terminal berth could read without being stopped:
 * not our controlling terminal, or one of which we are the foreground. */
static bool stdin_readable(void)
{
        pid_t fg = tcgetpgrp(STDIN_FILENO);
        return fg < 0 || fg == getpgrp();
}

/* Same terminal on fds 1 and 2: one pipe keeps the order in which the
 * process interleaved its output and errors. */
static bool same_terminal(int a, int b)
{
        struct stat sa, sb;
        return fstat(a, &sa) == 0 && fstat(b, &sb) == 0 && S_ISCHR(sa.st_mode) && sa.st_rdev == sb.st_rdev;
}

static int open_null(struct stdio_guard *g, int fd, struct berth_err *err)
{
        int null = open("/dev/null", O_RDWR | O_CLOEXEC | O_NOCTTY);
        if (null < 0)
                return berth_err_sys(err, errno, "open /dev/null for fd %d", fd);
        g->child[fd] = g->child_own[fd] = null;
        return 0;
}

static int open_lane(struct stdio_guard *g, int fd, struct berth_err *err)
{
        int p[2];
        if (pipe2(p, O_CLOEXEC) < 0)
                return berth_err_sys(err, errno, "pipe for fd %d", fd);
        bool in = fd == STDIN_FILENO;
        struct stdio_lane *l = &g->lanes[g->n_lanes++];
        l->pipe_fd = in ? p[1] : p[0];
        l->term_fd = fd;
        l->to_process = in;
        l->len = l->off = 0;
        /* Ours only: a full pipe must not block the loop that also waits
         * for the process to exit. The process's end stays blocking. */
        fcntl(l->pipe_fd, F_SETFL, O_NONBLOCK);
        g->child[fd] = g->child_own[fd] = in ? p[0] : p[1];
        return 0;
}

void stdio_guard_clear(struct stdio_guard *g)
{
        memset(g, 0, sizeof(*g));
        for (int fd = 0; fd < 3; fd++) {
                g->child[fd] = fd;
                g->child_own[fd] = g->lanes[fd].pipe_fd = -EBADF;
        }
}

int stdio_guard_init(struct stdio_guard *g, bool detached, struct berth_err *err)
{
        stdio_guard_clear(g);
        for (int fd = 0; fd < 3; fd++) {
                if (!isatty(fd))
                        continue;
                g->replaced |= 1u << fd;
                int r = 0;
                if (detached || (fd == STDIN_FILENO && !stdin_readable()))
                        r = open_null(g, fd, err);
                else if (fd == STDERR_FILENO && g->child_own[1] >= 0 && same_terminal(1, 2))
                        g->child[2] = g->child[1]; /* stdout's lane carries both */
                else
                        r = open_lane(g, fd, err);
                if (r < 0) {
                        stdio_guard_release(g);
                        return r;
                }
        }
        return 0;
}

void stdio_guard_spawned(struct stdio_guard *g)
{
        for (int fd = 0; fd < 3; fd++)
                berth_closep(&g->child_own[fd]);
}

static void lane_close(struct stdio_lane *l)
{
        berth_closep(&l->pipe_fd);
}

size_t stdio_guard_pollfds(const struct stdio_guard *g, struct pollfd *f)
{
        for (size_t i = 0; i < g->n_lanes; i++) {
                const struct stdio_lane *l = &g->lanes[i];
                bool pending = l->off < l->len;
                f[i].revents = 0;
                if (l->pipe_fd < 0)
                        f[i] = (struct pollfd){.fd = -1};
                else if (!l->to_process)
                        f[i] = (struct pollfd){.fd = l->pipe_fd, .events = POLLIN};
                else
                        f[i] = (struct pollfd){.fd = pending ? l->pipe_fd : l->term_fd,
                                               .events = pending ? POLLOUT : POLLIN};
        }
        return g->n_lanes;
}

/* Writes all of buf to a terminal, which may have been left non-blocking
 * by someone else. False when the terminal is gone. */
static bool write_terminal(int fd, const char *buf, size_t len)
{
        while (len) {
                ssize_t w = write(fd, buf, len);
                if (w < 0 && errno == EAGAIN) {
                        struct pollfd p = {.fd = fd, .events = POLLOUT};
                        poll(&p, 1, -1);
                        continue;
                }
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0)
                        return false;
                buf += w;
                len -= (size_t)w;
        }
        return true;
}

/* Process -> terminal: what is in the pipe now. False at EOF or when the
 * terminal is gone; then the process's writes fail as they would on a
 * hung-up terminal. */
static bool pump_out(struct stdio_lane *l)
{
        char buf[16384];
        ssize_t n = read(l->pipe_fd, buf, sizeof(buf));
        if (n < 0)
                return errno == EAGAIN || errno == EINTR;
        return n > 0 && write_terminal(l->term_fd, buf, (size_t)n);
}

/* Terminal -> process: read when the buffer is empty, then write what the
 * pipe takes. EOF (^D) or a hangup closes the pipe: the process sees EOF;
 * so does a process that closed its stdin (EPIPE). */
static bool pump_in(struct stdio_lane *l)
{
        if (l->off == l->len) {
                ssize_t n = read(l->term_fd, l->buf, sizeof(l->buf));
                if (n < 0)
                        return errno == EAGAIN || errno == EINTR;
                if (n == 0)
                        return false;
                l->len = (size_t)n;
                l->off = 0;
        }
        ssize_t w = write(l->pipe_fd, l->buf + l->off, l->len - l->off);
        if (w < 0)
                return errno == EAGAIN || errno == EINTR;
        l->off += (size_t)w;
        return true;
}

/* A write to a pipe whose reader is gone raises SIGPIPE, which would kill
 * berth while its process runs on: take it as EPIPE instead. */
static bool pump_no_sigpipe(struct stdio_lane *l)
{
        sigset_t set, old;
        sigemptyset(&set);
        sigaddset(&set, SIGPIPE);
        sigprocmask(SIG_BLOCK, &set, &old);
        bool ok = pump_in(l);
        const struct timespec zero = {0};
        while (sigtimedwait(&set, NULL, &zero) == SIGPIPE)
                ;
        sigprocmask(SIG_SETMASK, &old, NULL);
        return ok;
}

void stdio_guard_pump(struct stdio_guard *g, const struct pollfd *f, size_t n)
{
        for (size_t i = 0; i < n && i < g->n_lanes; i++) {
                struct stdio_lane *l = &g->lanes[i];
                if (l->pipe_fd < 0 || !f[i].revents)
                        continue;
                bool ok = l->to_process ? pump_no_sigpipe(l) : pump_out(l);
                if (!ok)
                        lane_close(l);
        }
}

void stdio_guard_drain(struct stdio_guard *g)
{
        for (size_t i = 0; i < g->n_lanes; i++) {
                struct stdio_lane *l = &g->lanes[i];
                /* Output the process left behind, up to what is there now
                 * (at most a pipe's capacity): children it left running
                 * may hold the pipe open and go on writing. */
                int left = 0;
                if (l->to_process || l->pipe_fd < 0 || ioctl(l->pipe_fd, FIONREAD, &left) < 0)
                        continue;
                char buf[16384];
                while (left > 0) {
                        ssize_t n =
                            read(l->pipe_fd, buf, (size_t)left < sizeof(buf) ? (size_t)left : sizeof(buf));
                        if (n <= 0 || !write_terminal(l->term_fd, buf, (size_t)n))
                                break;
                        left -= (int)n;
                }
        }
}

void stdio_guard_release(struct stdio_guard *g)
{
        stdio_guard_spawned(g);
        for (size_t i = 0; i < g->n_lanes; i++)
                lane_close(&g->lanes[i]);
        g->n_lanes = 0;
}
