/* SPDX-License-Identifier: GPL-2.0-or-later */
/* exec: a new process in a running container, placed in its cgroup by the
 * same clone3 that makes it, and in its pid namespace. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "berth/cgroup.h"
#include "berth/cleanup.h"
#include "berth/process.h"
#include "berth/seccomp.h"
#include "runtime/container.h"
#include "runtime/verbs/exec_internal.h"
#include "runtime/init/sync.h"
#include "berth/tty.h"
#include "runtime/verbs/stdio_guard.h"
#include "runtime/verbs/wait.h"

struct exec_job {
        struct berth_container_info info;
        struct berth_spec *spec;
        struct berth_cgroup *cg;
        int init_pidfd, root_fd, sync_parent, console_sock, cgroup_fd, pidfd;
        struct berth_tty_proxy *proxy;
        struct stdio_guard guard;
        pid_t pid;
};

static int check_status(const struct berth_container_info *info, bool ignore_paused, struct berth_err *err)
{
        if (info->status == BERTH_STATUS_UNKNOWN)
                return container_damaged_err(info, "exec in", err);
        if (info->status == BERTH_STATUS_RUNNING || info->status == BERTH_STATUS_CREATED)
                return 0;
        /* --ignore-paused: the process joins the frozen cgroup and runs
         * once the container is resumed (runc's flag). */
        if (info->status == BERTH_STATUS_PAUSED && ignore_paused)
                return 0;
        return berth_err_set(err, EINVAL, "cannot exec in a %s container: %s",
                             berth_status_name(info->status), info->st.id);
}

/* Without a mount namespace of its own the container is only chrooted
 * (create_bundle.c): joining its namespaces does not give the process its
 * root, so the exec'd process takes the init's. Opened after the pidfd, and
 * checked against it, so a recycled pid cannot lend us another root. */
static int open_init_root(struct exec_job *j, struct berth_err *err)
{
        if (j->spec->namespaces[BERTH_NS_MOUNT].present)
                return 0;
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/root", (int)j->info.st.pid);
        j->root_fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (j->root_fd < 0)
                return berth_err_sys(err, errno, "open the container's root %s", path);
        if (syscall(SYS_pidfd_send_signal, j->init_pidfd, 0, NULL, 0) < 0)
                return berth_err_set(err, ESRCH, "container init %d exited", (int)j->info.st.pid);
        return 0;
}

static int load_container(struct exec_job *j, const struct berth_ctx *ctx, const struct berth_exec_opts *o,
                          struct berth_err *err)
{
        int r = berth_container_load(ctx, o->id, &j->info, err);
        if (r < 0 || (r = check_status(&j->info, o->ignore_paused, err)) < 0)
                return r;
        _cleanup_close_ int root_fd = open(ctx->state_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_close_ int state_fd = root_fd >= 0 ? berth_state_dir_open(root_fd, o->id, err) : -ENOENT;
        if (state_fd < 0)
                return berth_err_set(err, ENOENT, "container does not exist: %s", o->id);
        j->spec = berth_spec_load(state_fd, err);
        if (!j->spec)
                return -err->code;
        r = exec_build_process(j->spec, o, err);
        if (r < 0 || (r = berth_lsm_check(&j->spec->process, NULL, err)) < 0)
                return r;
        j->init_pidfd = container_open_init(&j->info.st, err);
        if (j->init_pidfd < 0)
                return j->init_pidfd;
        return open_init_root(j, err);
}

/* Where the terminal's master goes: the client's socket, or (foreground
 * without one) our own proxy that relays it to our stdio. */
static int setup_console(struct exec_job *j, const struct berth_exec_opts *o, struct berth_err *err)
{
        if (!j->spec->process.terminal)
                return 0;
        if (o->console_socket) {
                j->console_sock = berth_connect_unix(o->console_socket, err);
                return j->console_sock < 0 ? j->console_sock : 0;
        }
        if (o->detach)
                return berth_err_set(err, EINVAL, "exec --tty --detach needs --console-socket");
        j->proxy = berth_tty_proxy_new(&j->console_sock, err);
        berth_tty_proxy_initial_size(&j->spec->process);
        return j->proxy ? 0 : -err->code;
}

/* Without a terminal of its own the process gets our stdio, except our
 * terminal (stdio_guard.h: a guest could type into the admin's shell). */
static int setup_stdio(struct exec_job *j, const struct berth_ctx *ctx, const struct berth_exec_opts *o,
                       struct berth_err *err)
{
        if (j->spec->process.terminal)
                return 0;
        int r = stdio_guard_init(&j->guard, o->detach, err);
        if (r >= 0 && o->detach && stdio_guard_active(&j->guard))
                berth_warn(ctx, "exec --detach: the process gets /dev/null, not this terminal, as its stdio");
        return r;
}

static int setup_cgroup(struct exec_job *j, const struct berth_exec_opts *o, struct berth_err *err)
{
        if (!j->info.st.cgroup)
                return o->n_cgroups ? berth_err_set(err, EINVAL, "exec --cgroup: the container has no cgroup")
                                    : 0;
        j->cg = berth_cgroup_restore(j->info.st.cgroup, err);
        if (!j->cg)
                return -err->code;
        bool unified = berth_cgroup_layout(j->cg) == BERTH_CG_UNIFIED;
        int r = exec_cgroup_check(o, unified, err);
        if (r < 0)
                return r;
        r = exec_cgroup_open_unified(o, berth_cgroup_clone_fd(j->cg), unified, err);
        if (r < 0 && r != -EBADF)
                return r;
        j->cgroup_fd = r;
        return 0;
}

/* The container's cgroup refused a process: its guest (systemd) enabled
 * controllers for the cgroups below it, so only leaves take processes.
 * Join the init's cgroup instead, as runc does. errno as clone3_pidfd's. */
static pid_t clone_into_init_cgroup(struct exec_job *j)
{
        struct berth_err ignore = {0};
        j->cgroup_fd = berth_cgroup_open_pid_dir(j->cg, j->info.st.pid, &ignore);
        if (j->cgroup_fd < 0) {
                j->cgroup_fd = -EBADF;
                errno = EBUSY;
                return -1;
        }
        return clone3_pidfd(0, j->cgroup_fd, &j->pidfd);
}

static pid_t clone_into(struct exec_job *j, int sync_child, const struct berth_exec_opts *o,
                        struct berth_err *err)
{
        struct exec_child c = {.spec = j->spec,
                               .init_pidfd = j->init_pidfd,
                               .root_fd = j->root_fd,
                               .sync_fd = sync_child,
                               .console_sock = j->console_sock,
                               .console_relayed = j->proxy != NULL,
                               .stdio = stdio_guard_active(&j->guard) ? j->guard.child : NULL,
                               .preserve_fds = o->preserve_fds};
        _cleanup_close_ int own_pidns = -EBADF;
        if (j->spec->namespaces[BERTH_NS_PID].present) {
                own_pidns = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
                if (own_pidns < 0 || setns(j->init_pidfd, CLONE_NEWPID) < 0)
                        return berth_err_sys(err, errno, "enter the container's pid namespace");
        }
        /* Non-dumpable before the clone, so that the child is never visible
         * in the container's pid namespace as a dumpable copy of berth. */
        prctl(PR_SET_DUMPABLE, 0);
        int cgfd = j->cgroup_fd >= 0 ? j->cgroup_fd : (j->cg ? berth_cgroup_clone_fd(j->cg) : -1);
        pid_t pid = clone3_pidfd(0, cgfd, &j->pidfd);
        if (pid < 0 && errno == EBUSY && cgfd >= 0 && j->cgroup_fd < 0)
                pid = clone_into_init_cgroup(j);
        if (pid == 0)
                exec_child_main(&c);
        int e = errno;
        if (own_pidns >= 0 && setns(own_pidns, CLONE_NEWPID) < 0 && pid > 0) {
                berth_kill_and_reap(&pid);
                return berth_err_sys(err, errno, "return to own pid namespace");
        }
        return pid >= 0 ? pid : berth_err_sys(err, e, "clone exec process");
}

/* A NOTIFY profile: the process loads it and hands us the listener fd for
 * the agent, with the container's state (runc sends the same). */
static int relay_seccomp_fd(struct exec_job *j, struct berth_err *err)
{
        if (!j->spec->has_seccomp || !berth_seccomp_has_notify(&j->spec->seccomp))
                return 0;
        _cleanup_free_ char *state = berth_oci_state_format(&j->info.st, j->info.status, false, false);
        if (!state)
                return berth_err_set(err, ENOMEM, "seccomp listener state");
        return sync_relay_seccomp_fd(j->sync_parent, &j->spec->seccomp, state, j->pid, err);
}

/* Drives the child: v1 cgroups, then go; EOF on the sync socket means the
 * execve happened (the socket is close-on-exec), a message means it failed. */
static int spawn(struct exec_job *j, const struct berth_exec_opts *o, struct berth_err *err)
{
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0)
                return berth_err_sys(err, errno, "socketpair");
        j->sync_parent = sv[0];
        pid_t pid = clone_into(j, sv[1], o, err);
        close(sv[1]);
        stdio_guard_spawned(&j->guard);
        if (pid < 0)
                return pid;
        j->pid = pid;
        int r = j->cg ? berth_cgroup_attach(j->cg, pid, err) : 0;
        if (r >= 0 && j->cg)
                r = exec_cgroup_attach_v1(o, j->cg, pid, err);
        if (r >= 0 && (r = sync_send(j->sync_parent, SYNC_PROCEED, 0, NULL)) < 0)
                berth_err_sys(err, -r, "sync with exec process");
        if (r >= 0)
                r = relay_seccomp_fd(j, err);
        struct berth_err child_err = {0};
        if (r >= 0 && sync_expect(j->sync_parent, SYNC_READY, NULL, &child_err) < 0 &&
            child_err.code != EPIPE) {
                *err = child_err;
                r = -err->code;
        }
        if (r < 0)
                berth_kill_and_reap(&j->pid);
        return r;
}

static void job_free(struct exec_job *j)
{
        int *fds[] = {&j->init_pidfd,   &j->root_fd,   &j->sync_parent,
                      &j->console_sock, &j->cgroup_fd, &j->pidfd};
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(fds); i++)
                berth_closep(fds[i]);
        berth_tty_proxy_free(j->proxy);
        stdio_guard_release(&j->guard);
        berth_cgroup_free(j->cg);
        berth_spec_free(j->spec);
        berth_container_info_clear(&j->info);
}

static int exec_wait(struct exec_job *j, const struct berth_exec_opts *o, int *exit_code,
                     struct berth_err *err)
{
        if (o->detach)
                return write_pid_file(o->pid_file, j->pid, err);
        int r = write_pid_file(o->pid_file, j->pid, err);
        if (r < 0)
                return r;
        if (j->proxy) {
                berth_closep(&j->console_sock); /* the child's end: EOF if it dies */
                return berth_tty_proxy_run(j->proxy, j->pid, j->pidfd, exit_code, err);
        }
        return container_wait_forwarding(j->pid, j->pidfd, &j->guard, exit_code, err);
}

/* What exec is about to do, for --debug. */
static void trace_plan(const struct berth_ctx *ctx, const struct exec_job *j, const struct berth_exec_opts *o)
{
        if (!ctx->log.debug)
                return;
        char joins[64];
        unsigned long flags = 0;
        for (int t = 0; t < BERTH_NS_COUNT; t++)
                if (j->spec->namespaces[t].present)
                        flags |= container_ns_flag(t);
        const struct berth_process *p = &j->spec->process;
        berth_trace(ctx, "exec '%s': %s, init %d; joins namespaces %s; cgroup %s%s%s; stdio: %s; process %s",
                    o->id, berth_status_name(j->info.status), (int)j->info.st.pid,
                    container_ns_names(flags, joins, sizeof(joins)),
                    j->info.st.cgroup ? "the container's" : "none", o->n_cgroups ? " + sub-cgroup " : "",
                    o->n_cgroups ? o->cgroups[0] : "",
                    !p->terminal        ? "the caller's (pipes or files; a terminal is relayed through pipes)"
                    : o->console_socket ? "terminal, master to --console-socket"
                                        : "terminal, relayed by our own proxy",
                    p->n_args ? p->args[0] : "-");
}

int berth_container_exec(const struct berth_ctx *ctx, const struct berth_exec_opts *o, int *exit_code,
                         struct berth_err *err)
{
        struct exec_job j = {.init_pidfd = -EBADF,
                             .root_fd = -EBADF,
                             .sync_parent = -EBADF,
                             .console_sock = -EBADF,
                             .cgroup_fd = -EBADF,
                             .pidfd = -EBADF};
        berth_trace(ctx, "exec '%s': begin", o->id);
        stdio_guard_clear(&j.guard);
        int r = load_container(&j, ctx, o, err);
        if (r >= 0)
                trace_plan(ctx, &j, o);
        if (r >= 0)
                r = setup_console(&j, o, err);
        if (r >= 0)
                r = setup_stdio(&j, ctx, o, err);
        if (r >= 0)
                r = setup_cgroup(&j, o, err);
        if (r >= 0)
                r = spawn(&j, o, err);
        if (r >= 0)
                berth_trace(ctx, "exec '%s': process %d runs (execve done: sync socket at EOF)%s", o->id,
                            (int)j.pid, o->detach ? ", detached" : "; waiting");
        if (r >= 0)
                r = exec_wait(&j, o, exit_code, err);
        if (r >= 0 && !o->detach)
                berth_trace(ctx, "exec '%s': exited with %d", o->id, *exit_code);
        job_free(&j);
        /* "exec failed: ...", as runc says it: containerd passes it on
         * ("OCI runtime exec failed: exec failed: ...") and callers of
         * `docker exec` match it. */
        return r < 0 ? berth_err_wrap(err, "exec failed") : 0;
}
