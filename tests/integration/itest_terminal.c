/* SPDX-License-Identifier: GPL-2.0-or-later */
/* terminal: true with --console-socket: the caller receives the pty master
 * over the socket and the container process sees a tty on its stdio. */
#include "harness.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
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

Suite *test_suite(void)
{
        Suite *s = itest_suite("integration/terminal");

        itest_add(s, "console_socket", console_socket);
        itest_add(s, "terminal_needs_socket", terminal_needs_socket);
        return s;
}
