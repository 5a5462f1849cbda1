/* SPDX-License-Identifier: GPL-2.0-or-later */
/* delete: removes a stopped container; --force kills a live one first. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/cgroup.h"
#include "berth/cleanup.h"
#include "berth/container.h"
#include "runtime/container.h"
#include "runtime/verbs/destroy.h"
#include "runtime/verbs/wait.h"

/* SIGKILL for everything in the container, then wait for the init to be
 * gone: cgroup.kill and a pidfd make this a few syscalls, not a poll loop. */
static int kill_and_wait(const struct berth_ctx *ctx, const struct berth_state *st, struct berth_cgroup *cg,
                         struct berth_err *err)
{
        struct berth_err gone = {0};
        _cleanup_close_ int pidfd = container_open_init(st, &gone);
        if (pidfd < 0) {
                berth_trace(ctx, "delete '%s': the init has exited meanwhile", st->id);
                return 0;
        }
        int r = cg ? berth_cgroup_kill(cg, SIGKILL, err) : 0;
        if (r < 0) {
                berth_warn(ctx, "container '%s': cgroup kill failed, killing the init only: %s", st->id,
                           err->msg);
                berth_err_clear(err);
        }
        if (!cg || r < 0)
                syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
        berth_trace(ctx, "delete '%s': SIGKILL sent to %s; waiting", st->id,
                    cg && r >= 0 ? "every process (cgroup)" : "the init");
        r = container_wait_exit(pidfd, 10000, err);
        if (r >= 0)
                berth_trace(ctx, "delete '%s': the init is gone", st->id);
        return r;
}

static int delete_loaded(const struct berth_ctx *ctx, int root_fd, int state_fd,
                         const struct berth_container_info *info, bool force, struct berth_err *err)
{
        const char *id = info->st.id;
        if (info->status != BERTH_STATUS_STOPPED && !force)
                return berth_err_set(err, EBUSY, "cannot delete container %s that is not stopped: %s", id,
                                     berth_status_name(info->status));
        struct berth_cgroup *cg = NULL;
        if (info->st.cgroup && !(cg = berth_cgroup_restore(info->st.cgroup, err)))
                return berth_err_wrap(err, "delete container '%s'", id);
        int r = 0;
        if (info->status != BERTH_STATUS_STOPPED)
                r = kill_and_wait(ctx, &info->st, cg, err);
        struct berth_err spec_err = {0};
        struct berth_spec *spec = berth_spec_load(state_fd, &spec_err);
        if (!spec && r >= 0)
                berth_warn(ctx, "container '%s': poststop hooks skipped: %s", id, spec_err.msg);
        if (r >= 0)
                r = container_destroy(ctx, root_fd, id, cg, spec, &info->st, err);
        berth_spec_free(spec);
        berth_cgroup_free(cg);
        return r;
}

/* The cgroup of a damaged container: from state.json when it parsed,
 * else from the record create wrote before making any cgroup directory.
 * NULL (err clear) when there is none: create died before it. */
static struct berth_cgroup *damaged_cgroup(int state_fd, const struct berth_state *st, struct berth_err *err)
{
        if (st->cgroup)
                return berth_cgroup_restore(st->cgroup, err);
        _cleanup_close_ int fd = openat(state_fd, BERTH_STATE_CGROUP_FILE, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT)
                return NULL;
        if (fd < 0) {
                berth_err_sys(err, errno, "read %s", BERTH_STATE_CGROUP_FILE);
                return NULL;
        }
        char buf[65536];
        ssize_t n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0) {
                berth_err_sys(err, errno, "read %s", BERTH_STATE_CGROUP_FILE);
                return NULL;
        }
        buf[n] = '\0';
        /* Written in place before the first cgroup directory: a record cut
         * short by a crash means there is no cgroup. */
        struct berth_cgroup *cg = berth_cgroup_restore(buf, err);
        if (!cg && err->code == EINVAL)
                berth_err_clear(err);
        return cg;
}

/* delete --force of a damaged container: whatever state.json says, the
 * cgroup record and the directory are the truth. Everything in the
 * cgroup dies (an init left blocked on its exec fifo included), the
 * cgroups and the state directory go, and a warning says what was done. */
static int delete_damaged(const struct berth_ctx *ctx, const struct container_locked *c, const char *id,
                          struct berth_err *err)
{
        struct berth_cgroup *cg = damaged_cgroup(c->state_fd, &c->info.st, err);
        if (!cg && err->code)
                return berth_err_wrap(err, "delete container '%s': its cgroup record", id);
        int killed = 0, removed = 0, r = 0;
        if (cg)
                r = berth_cgroup_salvage(cg, &killed, &removed, err);
        char what[PATH_MAX + 64] = "no cgroup recorded";
        if (cg)
                snprintf(what, sizeof(what), "killed %d process%s, removed cgroup %s in %d hierarch%s",
                         killed, killed == 1 ? "" : "es", berth_cgroup_path(cg), removed,
                         removed == 1 ? "y" : "ies");
        berth_cgroup_free(cg);
        if (r < 0)
                return berth_err_wrap(err, "delete container '%s'", id);
        berth_warn(ctx, "container '%s': repaired: %s; %s; the state directory goes", id, c->info.damage,
                   what);
        /* The poststop hooks still run when the config copy is intact:
         * they may be what frees the container's network. */
        struct berth_err spec_err = {0};
        struct berth_spec *spec = berth_spec_load(c->state_fd, &spec_err);
        if (!spec)
                berth_trace(ctx, "delete '%s': no poststop hooks: %s", id, spec_err.msg);
        r = container_destroy(ctx, c->root_fd, id, NULL, spec, &c->info.st, err);
        berth_spec_free(spec);
        berth_state_sweep_new(c->root_fd, id);
        return r;
}

/* delete --force of an id with no state directory: a create killed before
 * its rename may have left an empty .new.<id>.<pid> directory. */
static void sweep_new(const struct berth_ctx *ctx, const char *id)
{
        _cleanup_close_ int root_fd = open(ctx->state_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (root_fd >= 0 && berth_state_sweep_new(root_fd, id) > 0)
                berth_warn(ctx,
                           "container '%s': repaired: removed the temporary state directory of an "
                           "interrupted create",
                           id);
}

int berth_container_delete(const struct berth_ctx *ctx, const char *id, bool force, struct berth_err *err)
{
        struct container_locked c;
        int r = container_open_locked(ctx, id, &c, err);
        if (r == -ENOENT && force) {
                berth_trace(ctx, "delete '%s': not found; --force: nothing to do", id);
                berth_err_clear(err);
                if (berth_id_valid(id))
                        sweep_new(ctx, id);
                return 0; /* containerd cleans up with delete --force and expects success */
        }
        if (r < 0)
                return r;
        berth_trace(ctx, "delete '%s': found %s, init %d, cgroup %s%s", id, berth_status_name(c.info.status),
                    (int)c.info.st.pid, c.info.st.cgroup ? "recorded" : "none", force ? ", --force" : "");
        if (c.info.status == BERTH_STATUS_UNKNOWN)
                r = force ? delete_damaged(ctx, &c, id, err) : container_damaged_err(&c.info, "delete", err);
        else
                r = delete_loaded(ctx, c.root_fd, c.state_fd, &c.info, force, err);
        container_close_locked(&c);
        return r;
}
