/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The last steps of the container process: from root in the final rootfs to
 * the user's program with the privileges the spec grants, and no more.
 *
 * The order matters and is the one runc uses:
 *   rlimits, oom_score_adj     need privileges we are about to drop
 *   seccomp (noNewPrivileges false): loading needs CAP_SYS_ADMIN then
 *   keepcaps, bounding set, groups/gid/uid, umask, capability sets
 *   no_new_privs
 *   seccomp (noNewPrivileges true): last, so that our own setup syscalls
 *                                   never meet the user's filter
 *   execve, through the exec trampoline (runtime/trampoline.h), whose
 *   memfd is made first of all, before rlimits can get in its way */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/process.h"
#include "berth/seccomp.h"
#include "runtime/process/trampoline.h"

static void filter_freep(struct berth_seccomp_filter **f)
{
        berth_seccomp_filter_free(*f);
}

static int write_oom_score_adj(int value, struct berth_err *err)
{
        char buf[16];
        int n = snprintf(buf, sizeof(buf), "%d", value);
        _cleanup_close_ int fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);

        if (fd < 0)
                return berth_err_sys(err, errno, "open /proc/self/oom_score_adj");
        /* Lowering the score below the current one needs CAP_SYS_RESOURCE:
         * do it while still root in the container. */
        if (write(fd, buf, (size_t)n) != n)
                return berth_err_sys(err, errno, "set oom_score_adj to %d", value);
        return 0;
}

static int load_filter(const struct berth_exec_ctx *ctx, const struct berth_seccomp_filter *f,
                       struct berth_err *err)
{
        _cleanup_close_ int notify_fd = -EBADF;
        int r = berth_seccomp_filter_load(f, &notify_fd, err);
        /* prepare_filter refuses NOTIFY profiles without a callback. */
        if (r >= 0 && notify_fd >= 0)
                r = ctx->seccomp_notify(ctx->seccomp_notify_arg, notify_fd, err);
        return r;
}

static int drop_privileges(const struct berth_process *p, struct berth_err *err)
{
        int r;

        if (p->caps.present) {
                /* Keep the permitted set across the uid change below; without
                 * this a non-root uid would lose every capability, including
                 * those the spec grants. Cleared again by execve. */
                if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
                        return berth_err_sys(err, errno, "prctl PR_SET_KEEPCAPS");
                /* Before the uid change: dropping needs CAP_SETPCAP. */
                if ((r = berth_caps_drop_bounding(p->caps.bounding, err)) < 0)
                        return r;
        }
        if ((r = berth_user_apply(&p->user, err)) < 0)
                return r;
        if (p->user.has_umask)
                umask(p->user.umask);
        if (p->caps.present) {
                if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
                        return berth_err_sys(err, errno, "prctl PR_SET_KEEPCAPS");
                /* Now reduce permitted/effective/inheritable/ambient to what
                 * the spec lists; the uid change left permitted intact. */
                if ((r = berth_caps_apply(&p->caps, err)) < 0)
                        return r;
        }
        return 0;
}

static int prepare_filter(const struct berth_exec_ctx *ctx, struct berth_seccomp_filter **out,
                          struct berth_err *err)
{
        *out = NULL;
        if (!ctx->seccomp || ctx->seccomp_loaded)
                return 0;
        /* The listener fd has to reach the agent through the runtime; only
         * the caller can do that, through its callback. */
        if (berth_seccomp_has_notify(ctx->seccomp) && !ctx->seccomp_notify)
                return berth_err_set(err, EINVAL,
                                     "seccomp: a profile with SCMP_ACT_NOTIFY must be loaded before exec");
        if (ctx->filter) {
                /* Precompiled by the parent: a copy (a few KiB) that this
                 * function owns like one it compiled. */
                size_t n = 0;
                const struct sock_filter *insns = berth_seccomp_filter_insns(ctx->filter, &n);
                *out = berth_seccomp_filter_new(insns, n, berth_seccomp_filter_flags(ctx->filter),
                                                berth_seccomp_filter_has_notify(ctx->filter), err);
                return *out ? 0 : -err->code;
        }
        /* Compile while nothing has changed yet: a bad profile then fails
         * the container before any privilege is dropped. */
        *out = berth_seccomp_compile(ctx->seccomp, err);
        return *out ? 0 : (err && err->code > 0 ? -err->code : -EINVAL);
}

void berth_exec_late_clear(struct berth_exec_late *late)
{
        berth_seccomp_filter_free(late->filter);
        late->filter = NULL;
        berth_closep(&late->trampoline_fd);
        late->trampoline_fd = -EBADF;
        free(late->argv);
        late->argv = NULL;
}

/* The trampoline first: writing it into a memfd needs file size and an fd
 * that the spec's rlimits may take away. */
static int prepare_trampoline(const struct berth_exec_ctx *ctx, struct berth_exec_late *late,
                              struct berth_err *err)
{
        late->trampoline_fd = trampoline_create(err);
        if (late->trampoline_fd < 0)
                return late->trampoline_fd;
        late->argv = trampoline_argv(ctx->exe, ctx->process->args, err);
        return late->argv ? 0 : -ENOMEM;
}

static int prepare_steps(const struct berth_exec_ctx *ctx, struct berth_exec_late *late,
                         struct berth_err *err)
{
        const struct berth_process *p = ctx->process;
        _cleanup_(filter_freep) struct berth_seccomp_filter *filter = NULL;
        int r;

        if ((r = prepare_filter(ctx, &filter, err)) < 0)
                return r;
        if ((r = prepare_trampoline(ctx, late, err)) < 0)
                return r;
        if ((r = berth_rlimits_apply(p->rlimits, p->n_rlimits, err)) < 0)
                return r;
        if (p->has_oom_score_adj && (r = write_oom_score_adj(p->oom_score_adj, err)) < 0)
                return r;
        /* Labels for the execve, while we may still write our attrs. */
        if ((r = berth_lsm_apply_exec(p, err)) < 0)
                return r;
        /* Without no_new_privs the kernel only lets a task holding
         * CAP_SYS_ADMIN install a filter: load it while we still have it. */
        if (filter && !p->no_new_privileges && (r = load_filter(ctx, filter, err)) < 0)
                return r;
        if ((r = drop_privileges(p, err)) < 0)
                return r;
        /* no_new_privs: execve can no longer grant privileges (setuid bits,
         * file capabilities), so the limits set above are final. */
        if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
                return berth_err_sys(err, errno, "prctl PR_SET_NO_NEW_PRIVS");
        /* A notifying filter is loaded now, before the wait for start, so
         * that the listener has its fd once the container is created (runc
         * does the same); any other is loaded last, in finish. */
        if (filter && p->no_new_privileges && berth_seccomp_filter_has_notify(filter))
                return load_filter(ctx, filter, err);
        if (filter && p->no_new_privileges)
                late->filter = TAKE_PTR(filter);
        return 0;
}

int berth_process_prepare(const struct berth_exec_ctx *ctx, struct berth_exec_late *late,
                          struct berth_err *err)
{
        *late = (struct berth_exec_late){.trampoline_fd = -EBADF};
        int r = prepare_steps(ctx, late, err);
        if (r < 0)
                berth_exec_late_clear(late);
        return r;
}

int berth_process_load_late_filter(const struct berth_exec_ctx *ctx, struct berth_exec_late *late,
                                   struct berth_err *err)
{
        if (!late->filter)
                return 0;
        int r = load_filter(ctx, late->filter, err);
        berth_seccomp_filter_free(late->filter);
        late->filter = NULL;
        return r;
}

int berth_process_finish(const struct berth_exec_ctx *ctx, struct berth_exec_late *late,
                         struct berth_err *err)
{
        static char *const empty_env[] = {NULL};
        const struct berth_process *p = ctx->process;
        int r = late->filter ? load_filter(ctx, late->filter, err) : 0;
        /* Never execve directly: that would start the container's program
         * while /proc/self/exe is the host's berth binary (CVE-2019-5736). */
        if (r >= 0)
                r = trampoline_exec(late->trampoline_fd, late->argv, p->env ? p->env : empty_env, ctx->report,
                                    ctx->report_fd, err);
        berth_exec_late_clear(late);
        return r;
}

int berth_process_exec(const struct berth_exec_ctx *ctx, struct berth_err *err)
{
        struct berth_exec_late late;
        int r = berth_process_prepare(ctx, &late, err);
        return r < 0 ? r : berth_process_finish(ctx, &late, err);
}
