/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Cloning the init and walking it through setup (parent side). */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/idmap.h"
#include "runtime/verbs/create_job.h"
#include "runtime/hooks/hooks.h"
#include "runtime/init/sync.h"

static int run_runtime_hooks(struct create_job *j, struct berth_err *err)
{
        const struct berth_hooks *h = &j->spec->hooks;
        if (!h->n[BERTH_HOOK_PRESTART] && !h->n[BERTH_HOOK_CREATE_RUNTIME])
                return 0;
        /* "created", as the conformance suite (runtime-tools hooks_stdin)
         * and crun have it: the container exists, its process has not run. */
        _cleanup_free_ char *state = container_hook_state(&j->setup, j->pid, "created");
        if (!state)
                return berth_err_set(err, ENOMEM, "hook state");
        berth_trace(j->setup.ctx, "hooks: %zu prestart, %zu createRuntime", h->n[BERTH_HOOK_PRESTART],
                    h->n[BERTH_HOOK_CREATE_RUNTIME]);
        int r = hooks_run(h, BERTH_HOOK_PRESTART, state, err);
        r = r < 0 ? r : hooks_run(h, BERTH_HOOK_CREATE_RUNTIME, state, err);
        if (r >= 0)
                berth_trace(j->setup.ctx, "hooks: done");
        return r;
}

/* A NOTIFY profile: the init loads it before READY and hands us the
 * listener fd, which goes to the agent with the state at this step. */
static int relay_seccomp_fd(struct create_job *j, struct berth_err *err)
{
        if (!j->spec->has_seccomp || !berth_seccomp_has_notify(&j->spec->seccomp))
                return 0;
        _cleanup_free_ char *state = container_hook_state(&j->setup, j->pid, "creating");
        if (!state)
                return berth_err_set(err, ENOMEM, "seccomp listener state");
        int r = sync_relay_seccomp_fd(j->sync_parent, &j->spec->seccomp, state, j->pid, err);
        if (r >= 0)
                berth_trace(j->setup.ctx, "seccomp: listener fd sent to %s", j->spec->seccomp.listener_path);
        return r;
}

/* Two-stage start: the bare clone creates the namespaces itself and asks
 * for id maps; with a new pid namespace it forks the real init. */
static int drive_two_stage(struct create_job *j, struct berth_err *err)
{
        const struct container_setup *s = &j->setup;
        int r = 0;
        if (s->unshare_flags & CLONE_NEWUSER) {
                r = sync_expect(j->sync_parent, SYNC_WRITE_MAPS, NULL, err);
                if (r >= 0)
                        r = container_write_id_maps(j->spec, j->pid, err);
                if (r >= 0)
                        berth_trace(j->setup.ctx, "two-stage: id maps written for %d", (int)j->pid);
                if (r >= 0 && (r = sync_send(j->sync_parent, SYNC_PROCEED, j->pid, NULL)) < 0)
                        berth_err_sys(err, -r, "sync with container init");
        }
        if (r < 0 || !(s->unshare_flags & CLONE_NEWPID))
                return r;
        int32_t init = 0;
        r = sync_expect(j->sync_parent, SYNC_GRANDCHILD_PID, &init, err);
        if (r < 0)
                return r;
        j->intermediate = TAKE_PID(j->pid);
        waitpid(j->intermediate, NULL, 0);
        j->intermediate = 0;
        j->pid = init;
        berth_trace(j->setup.ctx, "two-stage: the init is %d (new pid namespace)", (int)init);
        close(j->pidfd);
        j->pidfd = (int)syscall(SYS_pidfd_open, init, 0);
        return j->pidfd >= 0 ? 0 : berth_err_sys(err, errno, "pidfd_open of the container init");
}

/* Idmapped mounts must be made by a process privileged in the initial user
 * namespace, from the container's user namespace (now that its maps are
 * written): we build them detached and hand them to the init, which
 * attaches them inside its root. Nothing is sent when there are none. */
static int send_idmapped_mounts(struct create_job *j, struct berth_err *err)
{
        if (berth_idmap_count(j->spec) == 0)
                return 0;
        _cleanup_close_ int userns = -EBADF;
        if (j->spec->namespaces[BERTH_NS_USER].present) {
                char path[64];
                snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)j->pid);
                userns = open(path, O_RDONLY | O_CLOEXEC);
                if (userns < 0)
                        return berth_err_sys(err, errno, "open the container's user namespace");
        }
        int *fds = NULL;
        size_t n = 0;
        int r = berth_idmap_prepare(j->spec, j->setup.bundle, userns, &fds, &n, err);
        if (r >= 0)
                r = berth_idmap_send_fds(j->sync_parent, fds, n, err);
        if (r >= 0)
                berth_trace(j->setup.ctx, "idmapped mounts: %zu sent to the init", n);
        berth_idmap_fds_free(fds, n);
        return r;
}

static int finish_cgroup(struct create_job *j, struct berth_err *err)
{
        if (!j->cgroup)
                return 0;
        int r = berth_cgroup_create_v1(j->cgroup, err);
        if (r < 0 || (r = job_check_not_frozen(j, err)) < 0)
                return r;
        if (berth_cgroup_layout(j->cgroup) == BERTH_CG_LEGACY)
                job_warn_not_empty(j);
        berth_trace(j->setup.ctx, "cgroup: v1 hierarchies ready");
        const char *warnings = berth_cgroup_warnings(j->cgroup);
        if (warnings)
                berth_warn(j->setup.ctx, "%s", warnings);
        return 0;
}

/* Late join: the v1 cgroups are made while the init mounts. A failed send
 * means the init failed first: its error is next on the socket. */
static int finish_cgroup_late(struct create_job *j, struct berth_err *err)
{
        int r = finish_cgroup(j, err);
        if (r >= 0)
                sync_send(j->sync_parent, SYNC_CGROUPS, 0, NULL);
        if (r >= 0)
                berth_trace(j->setup.ctx,
                            "sync: CGROUPS sent (the init joins before its first cgroup mount)");
        return r;
}

int job_start_unit(struct create_job *j, struct berth_err *err)
{
        const struct berth_ctx *ctx = j->setup.ctx;
        char description[128];
        snprintf(description, sizeof(description), "berth container %s", j->setup.id);
        int r = ctx->systemd->start(&j->unit, description, j->pid,
                                    j->spec->has_resources ? &j->spec->resources : NULL, err);
        if (r < 0)
                return r;
        j->unit_started = true;
        berth_trace(ctx, "cgroup: systemd started %s with %d in it", j->unit.name, (int)j->pid);
        /* The unit's directory exists now: create() leaves it to systemd
         * (never removes it) and writes every limit, as runc does after
         * its unit properties; attach() puts the init where systemd did
         * not (a slice unit, v1 hierarchies on a hybrid host). */
        r = berth_cgroup_create(j->cgroup, err);
        if (r >= 0)
                r = berth_cgroup_attach(j->cgroup, j->pid, err);
        if (r >= 0)
                r = job_check_not_frozen(j, err);
        if (r < 0)
                return r;
        const char *warnings = berth_cgroup_warnings(j->cgroup);
        if (warnings)
                berth_warn(ctx, "%s", warnings);
        return 0;
}

static int proceed_after_clone(struct create_job *j, struct berth_err *err)
{
        /* The init joins the v1 cgroups at PROCEED, or at SYNC_CGROUPS;
         * with systemd, we put it there before PROCEED (its cgroup
         * namespace, made after, is rooted in the unit). */
        bool late = j->setup.join_cgroups_late;
        int r = j->systemd ? job_start_unit(j, err) : late ? 0 : finish_cgroup(j, err);
        if (r >= 0 && j->setup.new_userns && !j->setup.two_stage) {
                r = container_write_id_maps(j->spec, j->pid, err);
                if (r >= 0)
                        berth_trace(j->setup.ctx, "user namespace: id maps written");
        }
        if (r >= 0 && j->cgroup && j->setup.two_stage && !j->systemd) {
                r = berth_cgroup_attach(j->cgroup, j->pid, err);
                if (r >= 0)
                        berth_trace(j->setup.ctx, "cgroup: attached %d (two-stage)", (int)j->pid);
        }
        if (r < 0)
                return r;
        r = sync_send(j->sync_parent, SYNC_PROCEED, j->pid, NULL);
        if (r < 0)
                return berth_err_sys(err, -r, "sync with container init");
        berth_trace(j->setup.ctx, "sync: PROCEED sent (v1 cgroups joined %s)", late ? "late" : "at PROCEED");
        r = j->setup.two_stage ? drive_two_stage(j, err) : 0;
        if (r >= 0)
                r = send_idmapped_mounts(j, err); /* the init takes them before it mounts */
        return r >= 0 && late ? finish_cgroup_late(j, err) : r;
}

int job_spawn(struct create_job *j, const struct berth_create_opts *o, struct berth_err *err)
{
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return berth_err_sys(err, errno, "socketpair");
        j->sync_parent = sv[0];
        j->setup.sync_fd = sv[1];
        /* systemd: no cgroup yet, the parent moves the init (job_start_unit). */
        int cgroup_fd = j->cgroup && !j->systemd ? berth_cgroup_clone_fd(j->cgroup) : -1;
        j->setup.cgroup = j->setup.two_stage || j->systemd ? NULL : j->cgroup;
        j->setup.join_cgroups_late =
            j->setup.cgroup && !j->setup.new_userns && berth_cgroup_layout(j->cgroup) != BERTH_CG_UNIFIED;
        if (j->cgroup)
                j->setup.cgroup_mounts = berth_cgroup_mounts(j->cgroup, &j->setup.n_cgroup_mounts);
        /* The init must not keep the creator's end of the sync socket (a
         * dead creator then means EOF, not a wait forever), nor the state
         * lock (delete --force would block on it while the init waits for
         * start), nor the state directories. */
        int parent_only[] = {j->sync_parent, j->lock_fd, j->state_fd, j->root_fd};
        _Static_assert(sizeof(parent_only) == sizeof(j->setup.parent_fds), "parent_fds size");
        memcpy(j->setup.parent_fds, parent_only, sizeof(parent_only));
        pid_t pid = container_clone(&j->setup, cgroup_fd, &j->pidfd, err);
        close(sv[1]);
        stdio_guard_spawned(&j->guard);
        j->setup.sync_fd = -EBADF;
        if (pid < 0)
                return pid;
        j->pid = pid;
        berth_trace(j->setup.ctx, "clone: init %d%s", (int)pid,
                    cgroup_fd >= 0 && !j->setup.two_stage ? " (into its cgroup)" : "");
        int r = proceed_after_clone(j, err);
        if (r >= 0)
                r = job_record(j, err);
        if (r >= 0)
                r = sync_expect(j->sync_parent, SYNC_RUNTIME_HOOKS, NULL, err);
        if (r >= 0)
                berth_trace(
                    j->setup.ctx,
                    "sync: the init reached RUNTIME_HOOKS (namespaces made, rootfs mounted, cgroups joined)");
        if (r >= 0)
                r = run_runtime_hooks(j, err);
        if (r >= 0 && (r = sync_send(j->sync_parent, SYNC_HOOKS_DONE, 0, NULL)) < 0)
                berth_err_sys(err, -r, "sync with container init");
        if (r >= 0)
                r = relay_seccomp_fd(j, err);
        if (r >= 0)
                r = sync_expect(j->sync_parent, SYNC_READY, NULL, err);
        if (r >= 0)
                berth_trace(j->setup.ctx,
                            "sync: the init is READY (root entered, process prepared, waiting for start)");
        /* run: the init goes on to its execve while we write the state; a
         * failure below kills it (job_abort) as before. */
        if (r >= 0 && j->run_mode && (r = sync_send(j->sync_parent, SYNC_START, 0, NULL)) < 0)
                berth_err_sys(err, -r, "start container '%s'", j->setup.id);
        if (r < 0)
                return r;
        j->st.pid = j->pid;
        j->st.pid_start_time = berth_proc_start_time(j->pid);
        if (j->cgroup)
                j->st.cgroup = berth_cgroup_dump(j->cgroup);
        r = berth_state_write(j->state_fd, &j->st, err);
        if (r >= 0)
                berth_trace(j->setup.ctx, "state written: created, pid %d", (int)j->pid);
        if (r >= 0) /* the container is complete: other verbs may take it */
                berth_closep(&j->lock_fd);
        return r < 0 ? r : write_pid_file(o->pid_file, j->pid, err);
}

void job_abort(struct create_job *j)
{
        const struct berth_ctx *ctx = j->setup.ctx;
        struct berth_err undo = {0};
        berth_trace(ctx, "abort: undo (init %d, cgroup %s, state dir %s)", (int)j->pid,
                    j->cgroup ? "yes" : "no", j->state_fd >= 0 ? "yes" : "no");
        if (j->pidfd >= 0)
                syscall(SYS_pidfd_send_signal, j->pidfd, SIGKILL, NULL, 0);
        berth_kill_and_reap(&j->intermediate);
        /* The init is our child except after a two-stage start. */
        if (j->pid > 0 && waitpid(j->pid, NULL, WNOHANG) == 0)
                berth_kill_and_reap(&j->pid);
        /* A unit that did not start made no cgroup: its path may be
         * another container's unit (a name taken), not ours to kill. */
        bool made = j->cgroup && (!j->systemd || j->unit_started);
        if (made && berth_cgroup_destroy(j->cgroup, &undo) < 0) {
                /* The state directory holds the cgroup record: keep it, so
                 * that delete --force can finish what we could not. */
                berth_warn(ctx,
                           "container '%s': could not remove its cgroup: %s; its state directory stays "
                           "for `berth delete --force %s`",
                           j->setup.id, undo.msg, j->setup.id);
                return;
        }
        if (j->unit_started && j->setup.ctx->systemd->stop(j->unit.name, &undo) < 0)
                berth_warn(ctx, "container '%s': %s", j->setup.id, undo.msg);
        if (j->state_fd >= 0 && berth_state_dir_remove(j->root_fd, j->setup.id, &undo) < 0)
                berth_warn(ctx, "container '%s': could not remove its state directory: %s", j->setup.id,
                           undo.msg);
}

void job_release(struct create_job *j)
{
        container_close_ns_fds(&j->setup);
        int *fds[] = {&j->root_fd, &j->state_fd,      &j->lock_fd,           &j->sync_parent,
                      &j->pidfd,   &j->setup.fifo_fd, &j->setup.console_sock};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(fds); i++)
                berth_closep(fds[i]);
        if (j->cgroup)
                berth_cgroup_free(j->cgroup);
        j->st.annotations = NULL; /* borrowed from the spec */
        j->st.n_annotations = 0;
        berth_state_clear(&j->st);
        berth_seccomp_filter_free(j->seccomp_filter);
        stdio_guard_release(&j->guard);
        berth_tty_proxy_free(j->proxy);
        berth_spec_free(j->spec);
        free(j->config_text);
}
