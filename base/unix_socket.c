/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unix sockets: connecting by path, and passing one fd with SCM_RIGHTS in
 * runc's format (the fd's name as the data), as the console socket and the
 * VPS console keeper use them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/unix_socket.h"

int berth_send_fd(int sock, int fd, const char *name, struct berth_err *err)
{
        char data[256];
        snprintf(data, sizeof(data), "%s", name);
        /* The name without its NUL: runc sends the bare file name, and a
         * client that takes the data as the fd's name gets "/dev/ptmx". */
        struct iovec iov = {.iov_base = data, .iov_len = strlen(data)};
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        memset(&u, 0, sizeof(u));
        struct msghdr msg = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
        struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
        if (sendmsg(sock, &msg, MSG_NOSIGNAL) < 0)
                return berth_err_sys(err, errno, "send fd over the console socket");
        return 0;
}

int berth_recv_fd(int sock, struct berth_err *err)
{
        char data[256];
        struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
        union {
                char buf[CMSG_SPACE(sizeof(int))];
                struct cmsghdr align;
        } u;
        struct msghdr msg = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf, .msg_controllen = sizeof(u.buf)};
        ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
        struct cmsghdr *c = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;
        if (!c || c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
                return berth_err_set(err, EPIPE, "no file descriptor received over the socket");
        int fd;
        memcpy(&fd, CMSG_DATA(c), sizeof(int));
        return fd;
}

int berth_connect_unix(const char *path, struct berth_err *err)
{
        struct sockaddr_un addr = {.sun_family = AF_UNIX};
        if (strlen(path) >= sizeof(addr.sun_path))
                return berth_err_set(err, ENAMETOOLONG, "socket path too long: %s", path);
        strcpy(addr.sun_path, path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
                return berth_err_sys(err, errno, "connect to %s", path);
        return TAKE_FD(fd);
}
