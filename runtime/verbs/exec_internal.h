/* SPDX-License-Identifier: GPL-2.0-or-later */
/* exec: the pieces shared by the parent (exec.c) and child (exec_child.c). */
#ifndef BERTH_RUNTIME_EXEC_INTERNAL_H
#define BERTH_RUNTIME_EXEC_INTERNAL_H

#include "berth/container.h"
#include "berth/spec.h"

struct exec_child {
        const struct berth_spec *spec; /* the container's, with the exec'd process in spec->process */
        int init_pidfd;                /* the container init: its namespaces are joined */
        int root_fd;                   /* the init's root when it has no mount namespace, else -1 */
        int sync_fd;
        int console_sock;
        bool console_relayed; /* console_sock is our own relay's */
        const int *stdio;     /* replacement fds 0-2 (stdio_guard.h), or NULL */
        unsigned preserve_fds;
};

/* Replaces spec->process with the process exec runs. */
int exec_build_process(struct berth_spec *spec, const struct berth_exec_opts *o, struct berth_err *err);

/* exec --cgroup (exec_cgroup.c): checks the arguments (".." refused, the
 * controller form on v1 only); opens the sub-cgroup in the v2 hierarchy
 * (-EBADF: none asked, or on hybrid none there; an error when required);
 * moves pid into the v1 sub-cgroups once it joined the container's. */
int exec_cgroup_check(const struct berth_exec_opts *o, bool unified, struct berth_err *err);
int exec_cgroup_open_unified(const struct berth_exec_opts *o, int base, bool required, struct berth_err *err);
struct berth_cgroup;
int exec_cgroup_attach_v1(const struct berth_exec_opts *o, struct berth_cgroup *cg, pid_t pid,
                          struct berth_err *err);

__attribute__((noreturn)) void exec_child_main(struct exec_child *c);

#endif
