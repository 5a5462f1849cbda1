/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The container init, from the clone to execve.
 *
 * Every step reports failure to the parent over the sync socket and exits;
 * nothing here prints. The order follows the runtime spec's lifecycle:
 * namespaces, rootfs, createRuntime (parent), createContainer, pivot,
 * terminal, hostname/sysctl, masks, wait for start, startContainer, exec. */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "berth/cleanup.h"
#include "berth/idmap.h"
#include "berth/process.h"
#include "berth/rootfs.h"
#include "runtime/init/steps.h"
#include "runtime/container.h"
#include "runtime/hooks/hooks.h"
#include "runtime/init/sync.h"

static int child_fence_fds(struct container_setup *s, struct berth_err *err)
{
        for (int fd = 0; s->stdio && fd < 3; fd++) /* no CLOEXEC: the process's stdio */
                if (s->stdio[fd] != fd && dup2(s->stdio[fd], fd) < 0)
                        return berth_err_sys(err, errno, "set up fd %d", fd);
        return fence_fds(s->preserve_fds, err);
}

/* Joins the v1 cgroups the parent made, which is cheap for the current
 * thread (see berth_cgroup_attach_self), before anything of the user's
 * runs in them; when late, waits for them first and then creates the
 * cgroup namespace rooted there. Runs once (rootfs calls it too). */
static int child_join_cgroups(void *arg, struct berth_err *err)
{
        struct container_setup *s = arg;
        if (s->cgroups_joined)
                return 0;
        s->cgroups_joined = true;
        if (s->join_cgroups_late && sync_expect(s->sync_fd, SYNC_CGROUPS, NULL, err) < 0)
                return -err->code;
        if (s->cgroup && berth_cgroup_attach_self(s->cgroup, err) < 0)
                return -err->code;
        if (s->join_cgroups_late && (s->unshare_flags & CLONE_NEWCGROUP) && unshare(CLONE_NEWCGROUP) < 0)
                return berth_err_sys(err, errno, "create cgroup namespace");
        return 0;
}

static int child_namespaces(struct container_setup *s, pid_t *host_pid, struct berth_err *err)
{
        int32_t pid = 0;
        int r = child_unshare_early(s, err);
        if (r < 0)
                return r;
        r = sync_expect(s->sync_fd, SYNC_PROCEED, &pid, err);
        if (r < 0)
                return r;
        *host_pid = pid;
        /* Joined before the user namespace, which would not let us. */
        if (!s->join_cgroups_late && child_join_cgroups(s, err) < 0)
                return -err->code;
        r = child_join_namespaces(s, err);
        if (r < 0)
                return r;
        r = child_unshare_namespaces(s, err);
        if (r < 0)
                return r;
        if (s->new_userns) {
                /* Become root of the new user namespace: our host uid is not
                 * mapped in it, and files we create must belong to its root. */
                if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
                        return berth_err_sys(err, errno, "become root in the user namespace");
        }
        if (setsid() < 0)
                return berth_err_sys(err, errno, "setsid");
        return 0;
}

static int child_hooks(struct container_setup *s, enum berth_hook_kind kind, pid_t pid, struct berth_err *err)
{
        if (s->spec->hooks.n[kind] == 0)
                return 0;
        _cleanup_free_ char *state =
            container_hook_state(s, pid, kind == BERTH_HOOK_START_CONTAINER ? "created" : "creating");
        if (!state)
                return berth_err_set(err, ENOMEM, "hook state");
        return hooks_run(&s->spec->hooks, kind, state, err);
}

/* No mount namespace: the mount table is the runtime's, so nothing is
 * mounted (create_bundle.c warns) and no pivot_root, which would move the
 * host's root; the init is only chrooted into the container's root. */
static int child_chroot(struct container_setup *s, struct berth_err *err)
{
        /* The root may have no /proc: keep the way to reopen exec.fifo. */
        if (s->fifo_fd >= 0 && (s->self_fd_dir = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
                return berth_err_sys(err, errno, "open /proc/self/fd");
        if (chroot(s->rootfs) < 0 || chdir("/") < 0)
                return berth_err_sys(err, errno, "chroot into %s", s->rootfs);
        return 0;
}

static int child_rootfs(struct container_setup *s, pid_t pid, struct berth_err *err)
{
        /* A mount namespace joined by path is the container's too: the
         * root is set up there as in a new one (runc and crun do). */
        bool own_mounts = s->spec->namespaces[BERTH_NS_MOUNT].present;
        struct berth_rootfs_opts o = {
            .spec = s->spec,
            .bundle = s->bundle,
            .rootfs = s->rootfs,
            .no_pivot = s->no_pivot,
            .in_userns = s->new_userns || s->ns_fds[BERTH_NS_USER] >= 0,
            .new_cgroupns = s->spec->namespaces[BERTH_NS_CGROUP].present,
            .dev_tmpfs_shared = !strcmp(berth_spec_annotation(s->spec, BERTH_DEV_TMPFS_ANNOTATION) ?: "",
                                        BERTH_DEV_TMPFS_SHARED),
            .cgroup_mounts = s->cgroup_mounts,
            .n_cgroup_mounts = s->n_cgroup_mounts,
            .join_cgroups = child_join_cgroups,
            .join_cgroups_arg = s,
        };
        int *idmap_fds = NULL;
        size_t n_idmap = berth_idmap_count(s->spec);
        int r = n_idmap ? berth_idmap_recv_fds(s->sync_fd, n_idmap, &idmap_fds, err) : 0;
        if (r < 0)
                return r;
        o.idmap_fds = idmap_fds;
        o.n_idmap_fds = n_idmap;
        r = own_mounts ? berth_rootfs_prepare(&o, err) : 0;
        berth_idmap_fds_free(idmap_fds, n_idmap);
        if (r < 0 || (r = child_join_cgroups(s, err)) < 0)
                return r;
        r = sync_send(s->sync_fd, SYNC_RUNTIME_HOOKS, 0, NULL);
        if (r < 0)
                return berth_err_sys(err, -r, "sync with parent");
        r = sync_expect(s->sync_fd, SYNC_HOOKS_DONE, NULL, err);
        if (r < 0)
                return r;
        /* createContainer hooks run in the rootfs, as runc's do (before
         * pivot_root, its cwd is the rootfs): hooks written for runc use
         * paths relative to it ("mount --bind X ./lib/Y"). */
        if (s->spec->hooks.n[BERTH_HOOK_CREATE_CONTAINER] && chdir(s->rootfs) < 0)
                return berth_err_sys(err, errno, "chdir %s for the createContainer hooks", s->rootfs);
        r = child_hooks(s, BERTH_HOOK_CREATE_CONTAINER, pid, err);
        if (r < 0)
                return r;
        r = own_mounts ? berth_rootfs_enter(&o, err) : child_chroot(s, err);
        if (r < 0)
                return r;
        r = container_setup_terminal(s, err);
        if (r < 0)
                return r;
        r = child_set_names_and_sysctls(s, err);
        if (r < 0)
                return r;
        return own_mounts ? berth_rootfs_finalize(&o, err) : 0;
}

/* Blocks until `start` (the exec fifo) or `run` (the sync socket) says go.
 * The fifo's write end stays open (close-on-exec): `start` reads until
 * EOF, so it knows the execve happened before it runs poststart hooks,
 * and it reads our error text if something fails after this point. */
static int child_wait_start(struct container_setup *s, struct berth_err *err)
{
        if (s->fifo_fd < 0)
                return sync_expect(s->sync_fd, SYNC_START, NULL, err);
        char path[64];
        snprintf(path, sizeof(path), "/proc/self/fd/%d", s->fifo_fd);
        if (s->self_fd_dir >= 0) {
                /* A host procfs fd: closed before anything of the user's runs. */
                s->fifo_write_fd =
                    openat(s->self_fd_dir, path + strlen("/proc/self/fd/"), O_WRONLY | O_CLOEXEC);
                berth_closep(&s->self_fd_dir);
        } else {
                s->fifo_write_fd = open(path, O_WRONLY | O_CLOEXEC);
        }
        if (s->fifo_write_fd < 0)
                return berth_err_sys(err, errno, "open exec fifo");
        if (write(s->fifo_write_fd, "0", 1) != 1)
                return berth_err_sys(err, errno, "write exec fifo");
        return 0;
}

/* Where the trampoline reports a failing execve: `start` reads the fifo,
 * `run` still listens on the sync socket (as in child_fail_late). */
static void child_set_report(struct container_setup *s, struct berth_exec_ctx *x)
{
        x->report = s->fifo_write_fd >= 0 ? BERTH_EXEC_REPORT_TEXT : BERTH_EXEC_REPORT_SYNC;
        x->report_fd = s->fifo_write_fd >= 0 ? s->fifo_write_fd : s->sync_fd;
}

void container_child_main(struct container_setup *s)
{
        struct berth_err err = {0};
        pid_t pid = 0;
        char exe[PATH_MAX];
        struct berth_exec_late late;
        struct berth_exec_ctx x = {.process = &s->spec->process,
                                   .seccomp = s->spec->has_seccomp ? &s->spec->seccomp : NULL,
                                   .exe = exe,
                                   .filter = s->seccomp_filter,
                                   .seccomp_notify = sync_send_seccomp_fd,
                                   .seccomp_notify_arg = (void *)(intptr_t)s->sync_fd};
        /* Die with the parent while it sets us up; once set up, the
         * container outlives `create` (the flag is cleared below). */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        /* Until execve replaces it, this process is the host's berth binary:
         * non-dumpable, so nothing in the container can open its
         * /proc/<pid>/exe, mem or fds (CVE-2019-5736). Our final exec is of
         * the trampoline's sealed memfd, never of this binary. */
        prctl(PR_SET_DUMPABLE, 0);
        for (size_t i = 0; i < BERTH_ARRAY_SIZE(s->parent_fds); i++)
                if (s->parent_fds[i] >= 0)
                        close(s->parent_fds[i]);
        /* Everything that can fail happens before READY, so that `create`
         * reports it (as runc does), including the privilege drop. */
        if (child_fence_fds(s, &err) < 0 || child_namespaces(s, &pid, &err) < 0 ||
            child_rootfs(s, pid, &err) < 0 || child_join_keyring(s, &err) < 0 ||
            child_chdir_and_lookup(s, exe, sizeof(exe), &err) < 0 ||
            berth_process_prepare(&x, &late, &err) < 0)
                sync_fail(s->sync_fd, &err);
        prctl(PR_SET_PDEATHSIG, 0);
        if (sync_send(s->sync_fd, SYNC_READY, 0, NULL) < 0)
                _exit(1);
        if (child_wait_start(s, &err) < 0 || berth_process_load_late_filter(&x, &late, &err) < 0 ||
            child_hooks(s, BERTH_HOOK_START_CONTAINER, pid, &err) < 0)
                child_fail_late(s, &err);
        child_set_report(s, &x);
        berth_process_finish(&x, &late, &err);
        child_fail_late(s, &err);
}
