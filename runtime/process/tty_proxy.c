/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Relaying a container's pty to berth's own terminal. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/file.h"
#include "runtime/container.h"
#include "berth/tty.h"

struct berth_tty_proxy {
        int sock;   /* our end of the socketpair */
        int master; /* received pty master */
        bool raw;
        struct termios saved;
};

struct berth_tty_proxy *berth_tty_proxy_new(int *console_sock, struct berth_err *err)
{
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
                berth_err_sys(err, errno, "terminal socketpair");
                return NULL;
        }
        struct berth_tty_proxy *p = calloc(1, sizeof(*p));
        if (!p) {
                close(sv[0]);
                close(sv[1]);
                berth_err_sys(err, ENOMEM, "terminal proxy");
                return NULL;
        }
        p->sock = sv[0];
        p->master = -EBADF;
        *console_sock = sv[1];
        return p;
}

static void copy_winsize(int master)
{
        struct winsize ws;
        if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
                ioctl(master, TIOCSWINSZ, &ws);
}

void berth_tty_proxy_initial_size(struct berth_process *p)
{
        struct winsize ws;
        if (p->has_console_size || ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0)
                return;
        p->has_console_size = true;
        p->console_size.height = ws.ws_row;
        p->console_size.width = ws.ws_col;
}

/* Whether we may read stdin and change its modes without being stopped
 * (SIGTTIN, SIGTTOU): it is no terminal, not our controlling terminal, or
 * one of which we are the foreground (`timeout berth run` is not). */
static bool stdin_ours(void)
{
        pid_t fg = tcgetpgrp(STDIN_FILENO);
        return fg < 0 || fg == getpgrp();
}

static void make_raw(struct berth_tty_proxy *p)
{
        if (!isatty(STDIN_FILENO) || !stdin_ours() || tcgetattr(STDIN_FILENO, &p->saved) < 0)
                return;
        struct termios raw = p->saved;
        cfmakeraw(&raw);
        raw.c_oflag |= OPOST;
        p->raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
}

/* Copies what is available; false on EOF or error. */
static bool pump(int from, int to)
{
        char buf[8192];
        ssize_t n = read(from, buf, sizeof(buf));
        if (n <= 0)
                return n < 0 && errno == EINTR;
        return berth_write_all(to, buf, (size_t)n) >= 0;
}

/* What a foreground runtime passes on to the process, as runc does; a
 * window change is copied to the pty instead (the kernel then sends the
 * process its SIGWINCH). */
static const int forwarded[] = {SIGWINCH, SIGINT,  SIGTERM, SIGHUP, SIGQUIT,
                                SIGUSR1,  SIGUSR2, SIGCONT, SIGPWR};

static void forward(int master, int pidfd, int sig)
{
        if (sig == SIGWINCH)
                copy_winsize(master);
        else
                syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0);
}

static void relay(struct berth_tty_proxy *p, int pidfd, int sigfd)
{
        bool stdin_open = stdin_ours();
        for (;;) {
                struct pollfd f[4] = {{.fd = p->master, .events = POLLIN},
                                      {.fd = pidfd, .events = POLLIN},
                                      {.fd = sigfd, .events = POLLIN},
                                      {.fd = stdin_open ? STDIN_FILENO : -1, .events = POLLIN}};
                if (poll(f, 4, -1) < 0 && errno != EINTR)
                        return;
                if ((f[0].revents & (POLLIN | POLLHUP)) && !pump(p->master, STDOUT_FILENO))
                        return;
                if (f[1].revents) {
                        while (poll(f, 1, 0) == 1 && (f[0].revents & POLLIN) &&
                               pump(p->master, STDOUT_FILENO))
                                ;
                        return;
                }
                struct signalfd_siginfo si;
                if (f[2].revents && read(sigfd, &si, sizeof(si)) == sizeof(si))
                        forward(p->master, pidfd, (int)si.ssi_signo);
                if (f[3].revents && !pump(STDIN_FILENO, p->master))
                        stdin_open = false;
        }
}

int berth_tty_proxy_run(struct berth_tty_proxy *p, pid_t pid, int pidfd, int *exit_code,
                        struct berth_err *err)
{
        p->master = berth_recv_fd(p->sock, err);
        if (p->master < 0) {
                berth_kill_and_reap(&pid);
                return p->master;
        }
        copy_winsize(p->master);
        sigset_t set, old;
        sigemptyset(&set);
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(forwarded); i++)
                sigaddset(&set, forwarded[i]);
        sigprocmask(SIG_BLOCK, &set, &old);
        _cleanup_close_ int sigfd = signalfd(-1, &set, SFD_CLOEXEC);
        make_raw(p);
        relay(p, pidfd, sigfd);
        if (p->raw)
                tcsetattr(STDIN_FILENO, TCSANOW, &p->saved);
        sigprocmask(SIG_SETMASK, &old, NULL);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return berth_err_sys(err, errno, "wait for process %d", (int)pid);
        *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        return 0;
}

/* One step of the attach relay; false when the session ends. Ctrl-]
 * typed on our terminal detaches (as telnet's escape does). */
static bool attach_step(int sock, int master, int sigfd)
{
        struct pollfd f[3] = {{.fd = sock, .events = POLLIN},
                              {.fd = sigfd, .events = POLLIN},
                              {.fd = STDIN_FILENO, .events = POLLIN}};
        if (poll(f, 3, -1) < 0)
                return errno == EINTR;
        if (f[0].revents && !pump(sock, STDOUT_FILENO))
                return false;
        struct signalfd_siginfo si;
        if (f[1].revents && read(sigfd, &si, sizeof(si)) == sizeof(si))
                copy_winsize(master);
        if (!f[2].revents)
                return true;
        char buf[4096];
        ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));
        if (n <= 0)
                return n < 0 && errno == EINTR; /* end of our input: detach */
        char *esc = memchr(buf, BERTH_TTY_DETACH_KEY, (size_t)n);
        size_t len = esc ? (size_t)(esc - buf) : (size_t)n;
        if (len && write(sock, buf, len) < 0)
                return false;
        return !esc;
}

int berth_tty_proxy_attach(int sock, struct berth_err *err)
{
        /* The keeper sends the terminal first, for window sizes only. */
        _cleanup_close_ int master = berth_recv_fd(sock, err);
        if (master < 0)
                return master;
        copy_winsize(master);
        sigset_t set, old;
        sigemptyset(&set);
        sigaddset(&set, SIGWINCH);
        sigprocmask(SIG_BLOCK, &set, &old);
        _cleanup_close_ int sigfd = signalfd(-1, &set, SFD_CLOEXEC);
        struct berth_tty_proxy p = {.sock = -EBADF, .master = -EBADF};
        make_raw(&p);
        while (attach_step(sock, master, sigfd))
                ;
        if (p.raw)
                tcsetattr(STDIN_FILENO, TCSANOW, &p.saved);
        sigprocmask(SIG_SETMASK, &old, NULL);
        return 0;
}

void berth_tty_proxy_free(struct berth_tty_proxy *p)
{
        if (!p)
                return;
        berth_closep(&p->sock);
        berth_closep(&p->master);
        free(p);
}
