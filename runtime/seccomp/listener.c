/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Hands the seccomp notify fd to the agent at linux.seccomp.listenerPath.
 *
 * The runtime spec fixes the message: one SCM_RIGHTS fd plus the "container
 * process state" JSON whose "fds" array names the fds in order. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "berth/cleanup.h"
#include "berth/seccomp.h"

#define LISTENER_OCI_VERSION "1.2.0"

static char *build_message(const char *metadata, const char *state_json, pid_t pid, struct berth_err *err)
{
        json_error_t jerr;
        _cleanup_json_ json_t *state = json_loads(state_json, 0, &jerr);
        if (!state || !json_is_object(state)) {
                berth_err_set(err, EINVAL, "container state is not a JSON object");
                return NULL;
        }
        _cleanup_json_ json_t *msg =
            json_pack("{s:s, s:[s], s:I, s:s, s:O}", "ociVersion", LISTENER_OCI_VERSION, "fds", "seccompFd",
                      "pid", (json_int_t)pid, "metadata", metadata ? metadata : "", "state", state);
        char *text = msg ? json_dumps(msg, JSON_COMPACT) : NULL;
        if (!text)
                berth_err_sys(err, ENOMEM, "build the seccomp state");
        return text;
}

static int connect_unix(const char *path, struct berth_err *err)
{
        struct sockaddr_un sa = {.sun_family = AF_UNIX};

        if (strlen(path) >= sizeof(sa.sun_path))
                return berth_err_set(err, ENAMETOOLONG, "listenerPath %s: path too long", path);
        strcpy(sa.sun_path, path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return berth_err_sys(err, errno, "socket");
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return berth_err_sys(err, errno, "failed to connect with seccomp agent at listenerPath %s",
                                     path);
        return TAKE_FD(fd);
}

/* One sendmsg carries the fd and the start of the text; the rest (for a
 * huge state) follows with plain sends on the stream. */
static int send_with_fd(int sock, const char *text, int fd, struct berth_err *err)
{
        size_t len = strlen(text), off = 0;
        union {
                struct cmsghdr h;
                char buf[CMSG_SPACE(sizeof(int))];
        } ctrl = {0};
        struct iovec iov = {.iov_base = (void *)text, .iov_len = len};
        struct msghdr mh = {
            .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctrl.buf, .msg_controllen = sizeof(ctrl.buf)};
        struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));

        ssize_t n;
        do
                n = sendmsg(sock, &mh, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return berth_err_sys(err, errno, "send the seccomp fd");
        for (off = (size_t)n; off < len; off += (size_t)n) {
                n = send(sock, text + off, len - off, MSG_NOSIGNAL);
                if (n < 0 && errno == EINTR)
                        n = 0;
                else if (n < 0)
                        return berth_err_sys(err, errno, "send the seccomp state");
        }
        return 0;
}

int berth_seccomp_send_listener(const char *listener_path, const char *metadata, int notify_fd,
                                const char *container_state_json, pid_t pid, struct berth_err *err)
{
        _cleanup_free_ char *text = build_message(metadata, container_state_json, pid, err);
        if (!text)
                return berth_err_wrap(err, "seccomp listener");
        _cleanup_close_ int sock = connect_unix(listener_path, err);
        if (sock < 0)
                return berth_err_wrap(err, "seccomp listener");
        int r = send_with_fd(sock, text, notify_fd, err);
        if (r < 0)
                return berth_err_wrap(err, "seccomp listener %s", listener_path);
        return 0;
}
