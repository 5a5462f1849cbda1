/* SPDX-License-Identifier: GPL-2.0-or-later */
/* terminal: true with --console-socket: the caller receives the pty master
 * over the socket and the container process sees a tty on its stdio;
 * without one, a foreground run relays the pty to its own stdio. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* Reads from the pty master until the slave side is gone (EIO) or timeout. */
static void read_pty(int master, char *buf, size_t size)
{
        size_t len = 0;
        struct pollfd pfd = {.fd = master, .events = POLLIN};

        while (len < size - 1 && poll(&pfd, 1, 10000) == 1) {
                ssize_t n = read(master, buf + len, size - 1 - len);
                if (n <= 0)
                        break;
                len += n;
        }
        buf[len] = '\0';
}

START_TEST(console_socket)
{
        struct itest_bundle b;
        struct itest_result r;
        const char *sock = itest_path("console.sock");
        char out[8192];
        int ptn = -1;
        int lfd = itest_console_listen(sock);
        json_t *cfg = itest_spec("probe", "tty", NULL);

        ck_assert_msg(lfd >= 0, "listen on %s: %s", sock, strerror(errno));
        itest_set(cfg, "process.terminal", json_true());
        itest_bundle_new(&b, "tty", cfg);
        itest_rt(&r, "create", "--console-socket", sock, "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        int master = itest_console_recv(lfd, 5000);
        ck_assert_msg(master >= 0, "no fd received on the console socket");
        ck_assert_msg(ioctl(master, TIOCGPTN, &ptn) == 0, "received fd is not a pty master: %s",
                      strerror(errno));
        itest_rt(&r, "start", b.id, NULL);
        itest_assert_status(&r, 0);
        read_pty(master, out, sizeof(out));
        itest_assert_kv(out, "tty.0", "1");
        itest_assert_kv(out, "tty.1", "1");
        itest_assert_kv(out, "tty.2", "1");
        ck_assert_msg(!strncmp(itest_kv(out, "ttyname") ?: "", "/dev/pts/", 9), "ttyname: %s", out);
        ck_assert(itest_wait_status(b.id, "stopped", 10000));
        itest_rt(&r, "delete", b.id, NULL);
        itest_assert_status(&r, 0);
        itest_assert_clean(b.id, b.dir);
        close(master);
        close(lfd);
}
END_TEST

/* Without a console socket a detached terminal container has nowhere to
 * send its pty: create must refuse rather than hang. */
START_TEST(terminal_needs_socket)
{
        struct itest_bundle b;
        struct itest_result r;
        json_t *cfg = itest_spec("probe", "tty", NULL);

        itest_set(cfg, "process.terminal", json_true());
        itest_bundle_new(&b, "nosock", cfg);
        itest_rt(&r, "create", "--bundle", b.dir, b.id, NULL);
        ck_assert_msg(r.status != 0, "create with terminal and no --console-socket succeeded");
        itest_assert_clean(b.id, b.dir);
}
END_TEST

/* Accepts one connection and receives one fd with the message's data, as
 * a client such as containerd reads it. Returns the fd, -1 on error. */
static int recv_named(int lfd, char *name, size_t size, ssize_t *name_len)
{
        struct pollfd p = {.fd = lfd, .events = POLLIN};
        if (poll(&p, 1, 5000) != 1)
                return -1;
        int conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (conn < 0)
                return -1;
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct iovec iov = {.iov_base = name, .iov_len = size - 1};
        struct msghdr msg = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
        *name_len = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
        close(conn);
        struct cmsghdr *c = *name_len > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
        if (!c || c->cmsg_type != SCM_RIGHTS)
                return -1;
        name[*name_len] = '\0';
        int fd;
        memcpy(&fd, CMSG_DATA(c), sizeof(int));
        return fd;
}

/* runc sends the master's name, "/dev/ptmx", without a NUL; the pty
 * belongs to the process's user, its group stays devpts's gid=5 (tty). */
START_TEST(console_name_and_owner)
{
        struct itest_bundle b;
        struct itest_result r;
        const char *sock = itest_path("console.sock");
        char out[8192], name[256];
        ssize_t len = 0;
        int lfd = itest_console_listen(sock);
        json_t *cfg = itest_spec("sh", "-c", "echo owner=$(stat -c %u:%g $(tty))", NULL);

        ck_assert_msg(lfd >= 0, "listen on %s: %s", sock, strerror(errno));
        itest_set(cfg, "process.terminal", json_true());
        itest_set(cfg, "process.user", json_pack("{s:i,s:i}", "uid", 1000, "gid", 1000));
        itest_bundle_new(&b, "ttyown", cfg);
        itest_rt(&r, "create", "--console-socket", sock, "--bundle", b.dir, b.id, NULL);
        itest_assert_status(&r, 0);
        int master = recv_named(lfd, name, sizeof(name), &len);
        ck_assert_msg(master >= 0, "no fd received on the console socket");
        ck_assert_msg(len == 9 && !memcmp(name, "/dev/ptmx", 9), "console message: %zd bytes \"%s\"", len,
                      name);
        itest_rt(&r, "start", b.id, NULL);
        itest_assert_status(&r, 0);
        read_pty(master, out, sizeof(out));
        char *cr = strchr(out, '\r');
        if (cr)
                *cr = '\0';
        itest_assert_kv(out, "owner", "1000:5");
        ck_assert(itest_wait_status(b.id, "stopped", 10000));
        itest_rt(&r, "delete", b.id, NULL);
        itest_assert_status(&r, 0);
        itest_assert_clean(b.id, b.dir);
        close(master);
        close(lfd);
}
END_TEST

/* Foreground `run` with a terminal and no console socket: the runtime
 * makes the pty and relays it to its own stdio (runc does; runc's own
 * suite depends on it), with the process's exit code. */
START_TEST(run_foreground_tty)
{
        struct itest_result r;
        json_t *cfg =
            itest_spec("sh", "-c", "echo tty=$(tty); test -t 0 && test -t 1 && echo both=1; exit 7", NULL);

        itest_set(cfg, "process.terminal", json_true());
        itest_run_cfg(&r, "ttyrun", cfg);
        itest_assert_status(&r, 7);
        ck_assert_msg(strstr(r.out, "tty=/dev/pts/"), "no pty in the output: %s\nstderr: %s", r.out, r.err);
        ck_assert_msg(strstr(r.out, "both=1"), "stdin/stdout not the terminal: %s", r.out);
}
END_TEST

static void set_size(int fd, unsigned short rows, unsigned short cols)
{
        struct winsize ws = {.ws_row = rows, .ws_col = cols};
        ck_assert_int_eq(ioctl(fd, TIOCSWINSZ, &ws), 0);
}

/* The window size of the runtime's terminal reaches the container's pty
 * at start and again on SIGWINCH. */
START_TEST(run_foreground_winsize)
{
        struct itest_bundle b;
        struct itest_proc p;
        struct itest_result r;
        int master, slave;
        json_t *cfg = itest_spec("sh", "-c",
                                 "echo size1=$(stty size); echo ready=1; "
                                 "i=0; while [ $i -lt 100 ] && [ \"$(stty size)\" = \"$(echo 33 77)\" ]; "
                                 "do sleep 0.1; i=$((i+1)); done; echo size2=$(stty size)",
                                 NULL);

        ck_assert_int_eq(openpty(&master, &slave, NULL, NULL, NULL), 0);
        set_size(slave, 33, 77);
        itest_set(cfg, "process.terminal", json_true());
        itest_bundle_new(&b, "ttywinch", cfg);
        struct itest_opts o = ITEST_OPTS_DEFAULT;
        o.stdin_fd = slave;
        const char *argv[] = {"run", "--bundle", b.dir, b.id, NULL};
        ck_assert_int_eq(itest_rt_spawn(&p, &o, argv), 0);
        ck_assert_msg(itest_wait_file(p.out_path, "ready=1", 10000), "not ready: %s",
                      itest_read_file(p.err_path) ?: "");
        set_size(slave, 40, 100);
        kill(p.pid, SIGWINCH);
        itest_proc_wait(&p, &r, 15000);
        itest_assert_status(&r, 0);
        ck_assert_msg(strstr(r.out, "size1=33 77"), "initial size not copied: %s", r.out);
        ck_assert_msg(strstr(r.out, "size2=40 100"), "SIGWINCH not propagated: %s", r.out);
        itest_assert_clean(b.id, b.dir);
        close(master);
        close(slave);
}
END_TEST

Suite *test_suite(void)
{
        Suite *s = itest_suite("integration/terminal");

        itest_add(s, "console_socket", console_socket);
        itest_add(s, "terminal_needs_socket", terminal_needs_socket);
        itest_add(s, "console_name_and_owner", console_name_and_owner);
        itest_add(s, "run_foreground_tty", run_foreground_tty);
        itest_add(s, "run_foreground_winsize", run_foreground_winsize);
        return s;
}
