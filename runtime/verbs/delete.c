/* delete: removes a stopped container; --force kills a live one first. */
#include <errno.h>
#include <fcntl.h>
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

int berth_container_delete(const struct berth_ctx *ctx, const char *id, bool force, struct berth_err *err)
{
        struct container_locked c;
        int r = container_open_locked(ctx, id, &c, err);
        if (r == -ENOENT && force) {
                berth_trace(ctx, "delete '%s': not found; --force: nothing to do", id);
                berth_err_clear(err);
                return 0; /* containerd cleans up with delete --force and expects success */
        }
        if (r < 0)
                return r;
        berth_trace(ctx, "delete '%s': found %s, init %d, cgroup %s%s", id, berth_status_name(c.info.status),
                    (int)c.info.st.pid, c.info.st.cgroup ? "recorded" : "none", force ? ", --force" : "");
        if (c.info.status == BERTH_STATUS_CREATING)
                r = force ? berth_state_dir_remove(c.root_fd, id, err)
                          : berth_err_set(err, EBUSY, "container %s is being created", id);
        else
                r = delete_loaded(ctx, c.root_fd, c.state_fd, &c.info, force, err);
        container_close_locked(&c);
        return r;
}
