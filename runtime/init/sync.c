/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Message passing between `berth create` and the container init. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "runtime/init/sync.h"

int sync_send(int sock, enum sync_type type, int32_t value, const char *text)
{
        struct sync_msg m = {.type = type, .value = value};
        size_t len = offsetof(struct sync_msg, text);
        if (text) {
                strncpy(m.text, text, sizeof(m.text) - 1);
                len += strlen(m.text) + 1;
        }
        ssize_t n;
        do
                n = send(sock, &m, len, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        return n < 0 ? -errno : 0;
}

int sync_expect(int sock, enum sync_type type, int32_t *value, struct berth_err *err)
{
        struct sync_msg m;
        memset(&m, 0, sizeof(m));
        /* ECONNRESET: the init has gone with a message of ours unread (it
         * failed while we were still sending). The kernel reports that
         * once, before what the init sent earlier, its error, which is
         * still queued: read again. */
        ssize_t n;
        bool reset = false;
        do {
                n = recv(sock, &m, sizeof(m), 0);
                if (n < 0 && errno == ECONNRESET && !reset) {
                        reset = true;
                        errno = EINTR;
                }
        } while (n < 0 && errno == EINTR);
        if (n < 0)
                return berth_err_sys(err, errno, "read from container init");
        if (n == 0)
                return berth_err_set(err, EPIPE, "container init exited unexpectedly");
        m.text[sizeof(m.text) - 1] = '\0';
        /* Only the init and the exec'd process send errors: runc's words
         * for them, which containerd passes on and its users match. */
        if (m.type == SYNC_ERROR)
                return berth_err_set(err, m.value > 0 ? m.value : EIO,
                                     "unable to start container process: %s", m.text);
        if (m.type != (uint32_t)type)
                return berth_err_set(err, EPROTO, "container init: unexpected message %u (wanted %u)", m.type,
                                     (unsigned)type);
        if (value)
                *value = m.value;
        return 0;
}

void sync_fail(int sock, const struct berth_err *err)
{
        sync_send(sock, SYNC_ERROR, err->code, err->msg);
        _exit(1);
}
