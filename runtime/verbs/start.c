/* SPDX-License-Identifier: GPL-2.0-or-later */
/* start: releases a created container through its exec fifo. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/container.h"
#include "runtime/container.h"
#include "runtime/hooks/hooks.h"

/* Opening the fifo for reading lets the init's blocking open() for writing
 * complete; its one byte says it got the go. The init keeps the write end
 * until execve closes it (close-on-exec), so EOF means the process is
 * running -- only then may poststart hooks run -- and any text before EOF
 * is the init's error. The pidfd tells us if it died before opening. */
static int wait_for_byte(int fifo, int pidfd, struct berth_err *err)
{
        struct pollfd p[2] = {{.fd = fifo, .events = POLLIN}, {.fd = pidfd, .events = POLLIN}};
        for (;;) {
                if (poll(p, 2, -1) < 0 && errno != EINTR)
                        return berth_err_sys(err, errno, "wait for container init");
                char c;
                if ((p[0].revents & POLLIN) && read(fifo, &c, 1) == 1)
                        return 0;
                /* A writer came and went without a byte for us: the init
                 * took its go from a start that was killed, and has run
                 * its execve since (which closed the fifo). */
                if (p[0].revents & (POLLHUP | POLLERR))
                        return berth_err_set(err, EALREADY,
                                             "the container was started already (by an interrupted start)");
                if (p[1].revents)
                        return berth_err_set(err, ESRCH, "container init exited before start");
        }
}

static int wait_for_exec(int fifo, struct berth_err *err)
{
        if (fcntl(fifo, F_SETFL, 0) < 0)
                return berth_err_sys(err, errno, "exec fifo");
        char msg[BERTH_ERR_MSG_MAX];
        size_t len = 0;
        ssize_t n;
        while ((n = read(fifo, msg + len, sizeof(msg) - 1 - len)) > 0 || (n < 0 && errno == EINTR))
                len += n > 0 ? (size_t)n : 0;
        msg[len] = '\0';
        return len ? berth_err_set(err, EIO, "%s", msg) : 0;
}

/* The pidfd comes first: opening the fifo is what lets the init go, and a
 * short-lived process can run, end and be reaped (by a subreaper such as
 * conmon) before a pidfd opened afterwards could find it. */
static int release_init(const struct berth_ctx *ctx, int state_fd, const struct berth_state *st,
                        struct berth_err *err)
{
        _cleanup_close_ int pidfd = container_open_init(st, err);
        if (pidfd < 0)
                return berth_err_wrap(err, "container init %d", (int)st->pid);
        _cleanup_close_ int fifo = openat(state_fd, "exec.fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
        if (fifo < 0)
                return berth_err_sys(err, errno, "open exec fifo");
        berth_trace(ctx, "start '%s': exec.fifo opened (the init %d may go)", st->id, (int)st->pid);
        int r = wait_for_byte(fifo, pidfd, err);
        if (r == -EALREADY)
                unlinkat(state_fd, "exec.fifo", 0); /* it is running: say so from now on */
        if (r < 0)
                return r;
        berth_trace(ctx, "start '%s': the init took the go", st->id);
        /* From here on the container counts as started, whatever happens. */
        if (unlinkat(state_fd, "exec.fifo", 0) < 0)
                return berth_err_sys(err, errno, "remove exec fifo");
        r = wait_for_exec(fifo, err);
        if (r >= 0)
                berth_trace(ctx, "start '%s': the process runs (execve done: exec.fifo at EOF)", st->id);
        return r;
}

static void run_poststart(const struct berth_ctx *ctx, int state_fd, const struct berth_state *st)
{
        struct berth_err err = {0};
        struct berth_spec *spec = berth_spec_load(state_fd, &err);
        if (spec && spec->hooks.n[BERTH_HOOK_POSTSTART]) {
                berth_trace(ctx, "hooks: %zu poststart", spec->hooks.n[BERTH_HOOK_POSTSTART]);
                _cleanup_free_ char *state = berth_oci_state_format(st, BERTH_STATUS_RUNNING, false, false);
                if (state)
                        hooks_run_all(ctx, &spec->hooks, BERTH_HOOK_POSTSTART, state);
        } else if (!spec) {
                berth_warn(ctx, "poststart hooks skipped: %s", err.msg);
        }
        berth_spec_free(spec);
}

int berth_container_start(const struct berth_ctx *ctx, const char *id, struct berth_err *err)
{
        struct container_locked c;
        berth_trace(ctx, "start '%s': begin", id);
        int r = container_open_locked(ctx, id, &c, err);
        if (r < 0)
                return r;
        berth_trace(ctx, "start '%s': locked, %s, init %d", id, berth_status_name(c.info.status),
                    (int)c.info.st.pid);
        if (c.info.status == BERTH_STATUS_UNKNOWN) {
                r = container_damaged_err(&c.info, "start", err);
        } else if (c.info.status != BERTH_STATUS_CREATED) {
                r = berth_err_set(err, EINVAL, "cannot start container %s: it is %s, not created", id,
                                  berth_status_name(c.info.status));
        } else {
                r = release_init(ctx, c.state_fd, &c.info.st, err);
                if (r >= 0)
                        run_poststart(ctx, c.state_fd, &c.info.st);
        }
        container_close_locked(&c);
        return r;
}
