// SPDX-License-Identifier: GPL-2.0-or-later
/* The seccomp notify fd's way out: the process that loaded the filter (the
 * container init, or an exec'd process) hands it to the runtime over the
 * sync socket, and the runtime, on the host, sends it to the agent at
 * linux.seccomp.listenerPath, as runc does. The process cannot: the path is
 * the host's, and the state it must carry is the runtime's. */
#include <errno.h>
#include <stdint.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/seccomp.h"
#include "berth/unix_socket.h"
#include "runtime/init/sync.h"

int sync_send_seccomp_fd(void *sock, int notify_fd, struct berth_err *err)
{
        int fd = (int)(intptr_t)sock;
        int r = sync_send(fd, SYNC_SECCOMP, 0, NULL);
        if (r < 0)
                return berth_err_sys(err, -r, "seccomp: sync with the runtime");
        if ((r = berth_send_fd(fd, notify_fd, "seccompFd", err)) < 0)
                return berth_err_wrap(err, "seccomp: hand the listener fd to the runtime");
        /* Wait: the agent must have the fd before we go on, or a notifying
         * syscall of ours would block with nobody to answer it. */
        return sync_expect(fd, SYNC_SECCOMP_DONE, NULL, err);
}

int sync_relay_seccomp_fd(int sock, const struct berth_seccomp *s, const char *state_json, pid_t pid,
                          struct berth_err *err)
{
        int r = sync_expect(sock, SYNC_SECCOMP, NULL, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = berth_recv_fd(sock, err);
        if (fd < 0)
                return berth_err_wrap(err, "seccomp: the listener fd");
        r = berth_seccomp_send_listener(s->listener_path, s->listener_metadata, fd, state_json, pid, err);
        if (r < 0)
                return r;
        r = sync_send(sock, SYNC_SECCOMP_DONE, 0, NULL);
        return r < 0 ? berth_err_sys(err, -r, "seccomp: sync with the process") : 0;
}
