/* SPDX-License-Identifier: GPL-2.0-or-later */
/* process.terminal: a pty allocated inside the container (its own devpts),
 * the master handed to the client over --console-socket. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <linux/close_range.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/unix_socket.h"
#include "runtime/container.h"

#ifndef TIOCGPTPEER
#define TIOCGPTPEER _IO('T', 0x41)
#endif

/* /dev/console shows the pty to programs that open it (getty, init). */
static int bind_console(int slave, struct berth_err *err)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", slave);
        int fd = open("/dev/console", O_CREAT | O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd >= 0)
                close(fd);
        else if (errno != EEXIST && errno != ENOENT)
                return berth_err_sys(err, errno, "create /dev/console");
        if (fd >= 0 && mount(path, "/dev/console", NULL, MS_BIND, NULL) < 0)
                return berth_err_sys(err, errno, "bind the pty to /dev/console");
        return 0;
}

/* The process's user owns its terminal, or it could not change its modes
 * (stty) or fchmod it; the group stays devpts's (gid=5, tty), as runc
 * leaves it. EINVAL/EPERM: that uid (or the pty's owner) is not mapped in
 * the container's user namespace; runc leaves the pty as it is then. */
static int own_pty(int slave, uid_t uid, struct berth_err *err)
{
        if (fchown(slave, uid, (gid_t)-1) < 0 && errno != EINVAL && errno != EPERM)
                return berth_err_sys(err, errno, "chown the pty to uid %u", (unsigned)uid);
        return 0;
}

static int make_ctty(int slave, struct berth_err *err)
{
        if (ioctl(slave, TIOCSCTTY, 0) < 0)
                return berth_err_sys(err, errno, "set the controlling terminal");
        for (int fd = 0; fd < 3; fd++) /* no CLOEXEC: the process's stdio */
                if (dup2(slave, fd) < 0)
                        return berth_err_sys(err, errno, "attach the terminal to fd %d", fd);
        return 0;
}

/* A relayed terminal's "\n" reaches berth's stdout as "\n", not "\r\n",
 * as with runc's relay: `x=$(berth run -t ...)` and logs get no "\r" (the
 * caller's own terminal adds it back). Cleared here, before the process
 * can write: the relay gets the master only later. A --console-socket
 * client (containerd, podman) gets the pty as the kernel makes it. */
static int clear_onlcr(int slave, struct berth_err *err)
{
        struct termios t;
        if (tcgetattr(slave, &t) < 0)
                return berth_err_sys(err, errno, "read the pty's modes");
        t.c_oflag &= ~ONLCR;
        return tcsetattr(slave, TCSANOW, &t) < 0 ? berth_err_sys(err, errno, "clear ONLCR on the pty") : 0;
}

/* A kernel.pty.* value, or -1. */
static long pty_sysctl(const char *leaf)
{
        char path[64], buf[32] = "";
        snprintf(path, sizeof(path), "/proc/sys/kernel/pty/%s", leaf);
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;
        return n > 0 ? strtol(buf, NULL, 10) : -1;
}

/* ENOSPC from /dev/ptmx is not a full disk: every pty of every devpts
 * instance but the host's own counts against kernel.pty.max less
 * kernel.pty.reserve (4096 - 1024 by default), so a host runs out at
 * ~3000 containers with a terminal (every VPS has one). */
static int open_ptmx(struct berth_err *err)
{
        int fd = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (fd >= 0 || errno != ENOSPC)
                return fd >= 0 ? fd : berth_err_sys(err, errno, "open /dev/ptmx");
        long max = pty_sysctl("max"), reserve = pty_sysctl("reserve"), nr = pty_sysctl("nr");
        return berth_err_set(err, ENOSPC,
                             "open /dev/ptmx: " BERTH_ERR_NO_PTY
                             ": %ld in use, the host's limit is kernel.pty.max=%ld "
                             "(%ld of them kept for the host's own /dev/pts); raise it, e.g. "
                             "sysctl -w kernel.pty.max=%ld (docs/performance.md, Limits)",
                             nr, max, reserve, max < 0 ? 65536 : max * 4);
}

int terminal_setup(const struct berth_process *p, int console_sock, bool bind_dev_console, bool relayed,
                   struct berth_err *err)
{
        if (!p->terminal)
                return 0;
        _cleanup_close_ int master = open_ptmx(err);
        if (master < 0)
                return master;
        int unlock = 0;
        if (ioctl(master, TIOCSPTLCK, &unlock) < 0)
                return berth_err_sys(err, errno, "unlock pty");
        _cleanup_close_ int slave = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
        if (slave < 0)
                return berth_err_sys(err, errno, "open pty peer");
        if (p->has_console_size) {
                struct winsize ws = {.ws_row = (unsigned short)p->console_size.height,
                                     .ws_col = (unsigned short)p->console_size.width};
                if (ioctl(slave, TIOCSWINSZ, &ws) < 0)
                        return berth_err_sys(err, errno, "set console size");
        }
        int r = own_pty(slave, p->user.uid, err);
        if (r >= 0 && relayed)
                r = clear_onlcr(slave, err);
        if (r < 0)
                return r;
        r = bind_dev_console ? bind_console(slave, err) : 0;
        if (r < 0)
                return r;
        r = berth_send_fd(console_sock, master, "/dev/ptmx", err);
        if (r < 0)
                return r;
        return make_ctty(slave, err);
}

int container_setup_terminal(struct container_setup *s, struct berth_err *err)
{
        return terminal_setup(&s->spec->process, s->console_sock, true, s->console_relayed, err);
}

int fence_fds(unsigned preserve_fds, struct berth_err *err)
{
        unsigned first = 3 + preserve_fds;
        if (syscall(SYS_close_range, first, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
                return berth_err_sys(err, errno, "close_range");
        for (unsigned fd = 3; fd < first; fd++)
                if (fcntl((int)fd, F_SETFD, 0) < 0)
                        return berth_err_sys(err, errno, "preserve fd %u", fd);
        return 0;
}
