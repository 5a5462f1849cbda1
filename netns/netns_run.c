/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Running work inside another network namespace on the calling thread.
 *
 * setns(CLONE_NEWNET) is per thread and cheap, so the thread steps into the
 * target namespace, does what must be done there (open a netlink socket,
 * open a /proc/sys/net file) and steps back. Sockets and files opened inside
 * stay bound to the namespace after the thread has left. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>

#include "berth/netns.h"

int berth_netns_open_pid(pid_t pid, struct berth_err *err)
{
        char path[64];
        if (pid <= 0)
                return berth_err_set(err, EINVAL, "open network namespace of pid %d: invalid pid", (int)pid);
        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return berth_err_sys(err, errno, "open network namespace of pid %d", (int)pid);
        return fd;
}

int berth_netns_run(int netns_fd, int (*fn)(void *data, struct berth_err *err), void *data,
                    struct berth_err *err)
{
        _cleanup_close_ int self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
        if (self < 0)
                return berth_err_sys(err, errno, "open own network namespace");
        /* Needs CAP_SYS_ADMIN over the target's user namespace and over ours
         * (to come back); the caller is the privileged runtime. */
        if (setns(netns_fd, CLONE_NEWNET) < 0)
                return berth_err_sys(err, errno, "enter network namespace");
        int r = fn(data, err);
        if (setns(self, CLONE_NEWNET) < 0)
                return berth_err_sys(err, errno, "return to own network namespace");
        return r;
}

struct open_nl_ctx {
        struct berth_nl *nl;
};

static int open_nl_here(void *data, struct berth_err *err)
{
        struct open_nl_ctx *ctx = data;
        ctx->nl = berth_nl_open(err);
        if (ctx->nl)
                return 0;
        return err && err->code ? -err->code : -EIO;
}

struct berth_nl *berth_nl_open_netns(int netns_fd, struct berth_err *err)
{
        struct open_nl_ctx ctx = {NULL};
        if (netns_fd < 0)
                return berth_nl_open(err);
        int r = berth_netns_run(netns_fd, open_nl_here, &ctx, err);
        if (r < 0) {
                berth_nl_close(ctx.nl);
                return NULL;
        }
        return ctx.nl;
}
