/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What `create` hands to the container init it clones. The child gets a
 * copy of the parent's memory, so the parsed spec travels for free. */
#ifndef BERTH_RUNTIME_CONTAINER_H
#define BERTH_RUNTIME_CONTAINER_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "berth/cgroup.h"
#include "berth/container.h"
#include "berth/spec.h"
#include "berth/state.h"
#include "berth/unix_socket.h"

struct container_setup {
        const struct berth_ctx *ctx;
        const struct berth_spec *spec;
        const char *id;
        char bundle[PATH_MAX];
        char rootfs[PATH_MAX];
        int sync_fd;          /* child's end of the socketpair */
        int fifo_fd;          /* O_PATH of exec.fifo (create), -EBADF for run */
        int fifo_write_fd;    /* the init's open write end, once start came */
        int self_fd_dir;      /* chrooted init only: /proc/self/fd opened before, -EBADF */
        int console_sock;     /* connected --console-socket, or -EBADF */
        bool console_relayed; /* console_sock is our own relay's (foreground run) */
        int parent_fds[4];    /* the creator's own fds: the init closes them first */
        unsigned preserve_fds;
        const int *stdio; /* replacement fds 0-2, or NULL */
        bool no_pivot;
        bool no_new_keyring;
        unsigned long clone_flags;   /* namespaces the clone itself creates */
        unsigned long unshare_flags; /* namespaces the child creates itself */
        bool two_stage;              /* user ns joined by path: fork once more */
        int ns_fds[BERTH_NS_COUNT];  /* namespaces to join (setns), or -EBADF */
        bool new_userns;
        /* Namespaces the child creates at once, before PROCEED, while the
         * parent finishes the cgroups (unshare_flags wait for the join). */
        unsigned long early_unshare_flags;
        const struct berth_seccomp_filter *seccomp_filter; /* compiled before clone, or NULL */
        struct berth_cgroup *cgroup;                       /* v1 hierarchies the init joins itself, or NULL */
        /* No user namespace and v1 hierarchies to join: the parent makes
         * them after PROCEED and says SYNC_CGROUPS, while the init already
         * mounts; the init joins (and creates its cgroup namespace) right
         * before its first cgroup mount. */
        bool join_cgroups_late;
        bool cgroups_joined; /* the init's own progress */
        /* The hierarchies as the init sees them once joined, or NULL. */
        const struct berth_cgroup_mount *cgroup_mounts;
        size_t n_cgroup_mounts;
};

/* CLONE_NEW* bit of a namespace type. */
unsigned long container_ns_flag(enum berth_ns_type t);

/* "pid,net,mnt" for the CLONE_NEW* bits in flags ("none"), in buf; for
 * the trace. */
const char *container_ns_names(unsigned long flags, char *buf, size_t len);

/* Opens the namespaces given by path, checking their type, and works out
 * which flags clone3 and the child use. */
int container_plan_namespaces(struct container_setup *s, struct berth_err *err);
void container_close_ns_fds(struct container_setup *s);
/* Leaves the new net, ipc, uts and mount namespaces to the child, which
 * then creates them while the parent still works (v1 cgroups); the pid
 * namespace stays with the clone. No-op with a user namespace. */
void container_defer_namespaces(struct container_setup *s);

/* clone3 with a pidfd, into cgroup_fd when >= 0 (CLONE_INTO_CGROUP).
 * Returns 0 in the child, like fork. */
pid_t clone3_pidfd(uint64_t flags, int cgroup_fd, int *pidfd);

/* Clones the container init with s->clone_flags into `cgroup_fd` (or no
 * cgroup when < 0). Returns the pid in the parent; never returns in the child. */
pid_t container_clone(struct container_setup *s, int cgroup_fd, int *pidfd, struct berth_err *err);

/* The container init: everything from namespaces to execve. */
__attribute__((noreturn)) void container_child_main(struct container_setup *s);

/* Terminal: opens a pty inside the container, sends the master over the
 * console socket and makes the slave the process's controlling tty/stdio. */
int container_setup_terminal(struct container_setup *s, struct berth_err *err);
/* The same for any process (exec): bind_dev_console only for the init;
 * relayed: the master goes to berth's own relay (foreground run or exec
 * with a terminal and no --console-socket), whose output has no ONLCR. */
int terminal_setup(const struct berth_process *p, int console_sock, bool bind_dev_console, bool relayed,
                   struct berth_err *err);

/* Writes uid_map/gid_map of `pid` from the spec (parent side). */
int container_write_id_maps(const struct berth_spec *spec, pid_t pid, struct berth_err *err);

/* Builds the OCI state JSON for hooks at a given status. */
char *container_hook_state(const struct container_setup *s, pid_t pid, const char *status);

/* Writes the pid file atomically (tmp + rename); no-op for a NULL path. */
int write_pid_file(const char *path, pid_t pid, struct berth_err *err);

/* Opens a pidfd for a recorded init and checks, after opening, that the
 * pid still belongs to that very process (not a recycled pid). */
int container_open_init(const struct berth_state *st, struct berth_err *err);

/* chdir to a process cwd resolved inside the current root, never through
 * a magic link (CVE-2024-21626). */
int chdir_in_root(const char *cwd, struct berth_err *err);

/* Only fds 0-2 and the preserved ones may reach the container
 * (CVE-2024-21626): everything else the caller gave us becomes
 * close-on-exec (ours already are and stay usable until execve), and the
 * preserved ones lose close-on-exec. */
int fence_fds(unsigned preserve_fds, struct berth_err *err);

/* A container opened for a state-changing verb: its state root and
 * directory, its lock held, and its state loaded. -ENOENT (err set) when it
 * does not exist. container_close_locked releases everything. */
struct container_locked {
        int root_fd, state_fd, lock_fd;
        struct berth_container_info info;
};
int container_open_locked(const struct berth_ctx *ctx, const char *id, struct container_locked *c,
                          struct berth_err *err);
void container_close_locked(struct container_locked *c);

/* For a container whose status is BERTH_STATUS_UNKNOWN: the error every
 * verb but `delete --force` gives, naming the damage and the repair. */
int container_damaged_err(const struct berth_container_info *info, const char *verb, struct berth_err *err);

#endif
