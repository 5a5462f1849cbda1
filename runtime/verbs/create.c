/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The create and run verbs. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "runtime/verbs/create_job.h"
#include "runtime/verbs/destroy.h"
#include "runtime/hooks/hooks.h"
#include "runtime/init/sync.h"
#include "runtime/verbs/wait.h"

static void job_init(struct create_job *j, const struct berth_ctx *ctx, const struct berth_create_opts *o,
                     bool run_mode)
{
        memset(j, 0, sizeof(*j));
        j->setup.ctx = ctx;
        j->setup.id = o->id;
        j->setup.preserve_fds = o->preserve_fds;
        j->setup.no_pivot = o->no_pivot;
        j->setup.stdio = o->set_stdio ? o->stdio : NULL;
        j->setup.no_new_keyring = o->no_new_keyring;
        j->setup.sync_fd = j->setup.fifo_fd = j->setup.fifo_write_fd = j->setup.console_sock = -EBADF;
        j->setup.self_fd_dir = -EBADF;
        for (int t = 0; t < BERTH_NS_COUNT; t++)
                j->setup.ns_fds[t] = -EBADF;
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(j->setup.parent_fds); i++)
                j->setup.parent_fds[i] = -EBADF;
        j->root_fd = j->state_fd = j->lock_fd = j->sync_parent = j->pidfd = -EBADF;
        j->run_mode = run_mode;
        stdio_guard_clear(&j->guard);
}

/* The caller's own stdio, unless it is a terminal (stdio_guard.h): a
 * foreground run relays it, a container left behind gets /dev/null. */
static int guard_stdio(struct create_job *j, const struct berth_create_opts *o, struct berth_err *err)
{
        if (o->set_stdio || j->spec->process.terminal)
                return 0;
        bool detached = !j->run_mode || o->detach;
        int r = stdio_guard_init(&j->guard, detached, err);
        if (r < 0 || !stdio_guard_active(&j->guard))
                return r;
        j->setup.stdio = j->guard.child;
        if (detached)
                berth_warn(j->setup.ctx,
                           "the container's process gets /dev/null, not this terminal, as its stdio");
        return 0;
}

/* A full state root is the common case of ENOSPC on create (a state
 * file, the config copy, the seccomp cache): say where, plainly. Other
 * ENOSPC (a v1 cpuset without cpus, a full --pid-file disk, a keyring
 * quota) keep their own message. Asked before job_abort frees space. */
static bool state_root_full(const struct berth_ctx *ctx, const struct berth_err *err)
{
        struct statvfs vfs;
        return err->code == ENOSPC && statvfs(ctx->state_root, &vfs) == 0 &&
               (vfs.f_bavail == 0 || vfs.f_favail == 0);
}

static int no_space(const struct berth_ctx *ctx, const char *id, struct berth_err *err)
{
        char inner[BERTH_ERR_MSG_MAX];
        snprintf(inner, sizeof(inner), "%s", err->msg);
        return berth_err_set(err, ENOSPC,
                             "create container '%s': no space left on %s (%s); nothing was created", id,
                             ctx->state_root, inner);
}

/* Brings the container to "created" (create) or "ready to start" (run). */
static int job_create(struct create_job *j, const struct berth_create_opts *o, struct berth_err *err)
{
        if (!berth_id_valid(o->id))
                return berth_err_set(err, EINVAL, "invalid container id \"%s\"", o->id);
        berth_trace(j->setup.ctx, "%s '%s': begin (bundle %s)", j->run_mode ? "run" : "create", o->id,
                    o->bundle ? o->bundle : ".");
        int r = job_load_bundle(j, o, err);
        if (r >= 0)
                r = job_prepare(j, o, err);
        if (r >= 0)
                r = guard_stdio(j, o, err);
        if (r >= 0)
                r = job_spawn(j, o, err);
        if (r < 0) {
                bool full = state_root_full(j->setup.ctx, err);
                job_abort(j);
                if (full)
                        return no_space(j->setup.ctx, o->id, err);
                return berth_err_wrap(err, "create container '%s'", o->id);
        }
        berth_trace(j->setup.ctx, "create '%s': done", o->id);
        return 0;
}

int berth_container_create(const struct berth_ctx *ctx, const struct berth_create_opts *o,
                           struct berth_err *err)
{
        struct create_job j;
        job_init(&j, ctx, o, false);
        int r = job_create(&j, o, err);
        job_release(&j);
        return r;
}

/* Run mode skips the fifo: the init waits on the sync socket for START,
 * which job_spawn sent. The socket then reaches EOF when execve succeeds
 * (it is close-on-exec) or carries the error when it does not. */
static int job_start_now(struct create_job *j, struct berth_err *err)
{
        struct berth_err child_err = {0};
        int r = sync_expect(j->sync_parent, SYNC_READY, NULL, &child_err);
        if (r < 0 && child_err.code != EPIPE) {
                *err = child_err;
                return berth_err_wrap(err, "start container '%s'", j->setup.id);
        }
        berth_trace(j->setup.ctx, "start '%s': the process runs (execve done: sync socket at EOF)",
                    j->setup.id);
        if (j->spec->hooks.n[BERTH_HOOK_POSTSTART]) {
                berth_trace(j->setup.ctx, "hooks: %zu poststart", j->spec->hooks.n[BERTH_HOOK_POSTSTART]);
                _cleanup_free_ char *state = container_hook_state(&j->setup, j->pid, "running");
                if (state)
                        hooks_run_all(j->setup.ctx, &j->spec->hooks, BERTH_HOOK_POSTSTART, state);
        }
        return 0;
}

/* After a foreground run: unless someone already deleted the container
 * (delete --force from another process), remove it, under its lock. */
static int destroy_unless_deleted(struct create_job *j, struct berth_err *err)
{
        struct berth_err lock_err = {0};
        _cleanup_close_ int lock = berth_state_lock(j->state_fd, &lock_err);
        if (lock < 0 && lock != -ENOENT) {
                *err = lock_err;
                return lock;
        }
        if (lock < 0 || faccessat(j->state_fd, "state.json", F_OK, 0) < 0)
                return 0;
        return container_destroy(j->setup.ctx, j->root_fd, j->setup.id, j->cgroup, j->spec, &j->st, err);
}

int berth_container_run(const struct berth_ctx *ctx, const struct berth_create_opts *o, int *exit_code,
                        struct berth_err *err)
{
        struct create_job j;
        job_init(&j, ctx, o, true);
        /* A two-stage init is our grandchild: be its reaper to wait for it. */
        if (!o->detach)
                prctl(PR_SET_CHILD_SUBREAPER, 1);
        int r = job_create(&j, o, err);
        if (r < 0) {
                job_release(&j);
                return r;
        }
        r = job_start_now(&j, err);
        if (r < 0) {
                job_abort(&j);
                job_release(&j);
                return r;
        }
        if (!o->detach) {
                berth_trace(ctx, "run '%s': waiting for %d (signals forwarded%s)", o->id, (int)j.pid,
                            j.proxy ? ", pty relayed" : "");
                berth_closep(&j.setup.console_sock); /* the init's end: EOF if it died */
                r = j.proxy ? berth_tty_proxy_run(j.proxy, j.pid, j.pidfd, exit_code, err)
                            : container_wait_forwarding(j.pid, j.pidfd, &j.guard, exit_code, err);
                if (r >= 0)
                        berth_trace(ctx, "run '%s': exited with %d; deleting", o->id, *exit_code);
                struct berth_err del_err = {0};
                int dr = o->keep ? 0 : destroy_unless_deleted(&j, &del_err);
                if (dr < 0 && r >= 0) {
                        *err = del_err;
                        r = -del_err.code;
                } else if (dr < 0) { /* the wait's error is reported; this one must not vanish */
                        berth_warn(ctx, "container '%s': could not delete it after the run: %s", o->id,
                                   del_err.msg);
                }
        }
        job_release(&j);
        return r;
}
